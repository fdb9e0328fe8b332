// The root surface of the `larder` package. Optional layers (Redis, HTTP, Prometheus, the driver
// test suite) are subpath exports; see package.json "exports".

export { parseDuration } from './util/duration.js';
export type { Duration } from './util/duration.js';
export { CacheError, CacheErrorType } from './errors.js';
export type { Logger, LogLevel } from './observability/logger.js';
export { MemoryCache } from './engine/memory-cache.js';
export type * from './engine/types.js';
export type * from './cache/types.js';
export { createCache } from './cache/create-cache.js';
export { createCacheManager } from './cache/manager.js';
export { memoize, memoizeMethod } from './cache/memoize.js';
export type { MemoizeOptions } from './cache/memoize.js';
export { stableKey } from './cache/stable-key.js';
export { isRetryableError } from './cache/retry.js';
export type { LoggerStyle } from './observability/log-sink.js';
export {
  bracketedLogger,
  colonLogger,
  formatBracketed,
  formatColon,
  formattedLogger,
} from './observability/log-format.js';
export { snakeCaseStats } from './observability/stats-format.js';
export type { SnakeCaseStats, StatsCounters } from './observability/stats-format.js';
export { cacheStatsBody } from './observability/stats-body.js';
export type {
  StatsBody,
  StatsBodyEntry,
  StatsBodyOptions,
  StatsBodySource,
} from './observability/stats-body.js';
export { formatLogLine, sentenceLogger } from './observability/sentence-log.js';
export { LogSink } from './observability/log-sink.js';
export type { SentenceLogOptions } from './observability/sentence-log.js';
export { syncView } from './cache/sync-view.js';
export type { SyncCacheView } from './cache/sync-view.js';
export { LOADER_CHANNEL, TRACE_CHANNELS } from './observability/tracing.js';
export type {
  BusTraceContext,
  InvalidateTraceContext,
  L2TraceContext,
  LarderTraceContext,
  LoaderTraceContext,
  OperationTraceContext,
  TraceOutcome,
  TraceTier,
} from './observability/tracing.js';
export { SnapshotRefusedError } from './persistence/format.js';
export type { SnapshotWarmOptions, WarmLoaderContext } from './persistence/types.js';
export type { RefusalReason } from './persistence/format.js';
export type { L2Tier } from './tiers/types.js';
