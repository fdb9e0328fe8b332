// createCache: validates the options, builds the L1 engine (holding envelopes) inside a TierStack, the
// SharedCacheState and the root CacheView, and starts warmOnStart. The one place a cache is assembled.
import { coarseNow } from '../util/clock.js';
import { assertKnownOptions, optionNames } from '../util/validate.js';
import { MemoryCache } from '../engine/memory-cache.js';
import type { CacheKey } from '../engine/types.js';
import { LogSink } from '../observability/log-sink.js';
import { CacheView } from './cache.js';
import { SharedCacheState } from './shared-state.js';
import type { TierBinding } from '../tiers/shared-tier.js';
import type { Envelope } from './envelope.js';
import { resolveCacheSettings } from './options.js';
import { bindRemoteTier, TierStack } from './tier-stack.js';
import { checkWarmSource } from './warm.js';
import type { Cache, CacheOptions } from './types.js';
import { attachAutoSize, createCacheAdvisor } from './advise.js';
import { resolveAutoSize, type AutoSizeOptions } from '../advisor/auto-size.js';
import { attachPersistence } from './snapshots.js';
import { resolvePersist } from '../persistence/schedule.js';

/** Default cache name in logs, stats and metrics. */
export const DEFAULT_CACHE_NAME = 'default';

/**
 * The names of createCache's options, held to CacheOptions both ways by the compiler (optionNames), so
 * a new option cannot be forgotten here. The tests check the engine's createCache hint against them.
 */
export const CACHE_OPTION_NAMES = optionNames<CacheOptions>({
  name: true,
  maxEntries: true,
  maxBytes: true,
  sizeOf: true,
  policy: true,
  cleanupInterval: true,
  enabled: true,
  retry: true,
  timeout: true,
  refreshAhead: true,
  l2: true,
  logger: true,
  loggerStyle: true,
  clock: true,
  warmOnStart: true,
  failSafeBackoff: true,
  persist: true,
  advisor: true,
  autoSize: true,
  traceKeys: true,
  validate: true,
  slowLoad: true,
  adaptiveTtl: true,
  ttl: true,
  grace: true,
  jitter: true,
});

/** Creates an async cache (L1 in memory; `l2` is the seam for a shared tier). */
export function createCache<V = unknown>(options: CacheOptions<V> = {}): Cache<V> {
  try {
    return buildCache(options);
  } catch (error) {
    // An inline `l2: redisTier(…)` that no cache took would keep its connection, and the process, alive.
    const l2 = typeof options === 'object' && options !== null ? options.l2 : undefined;
    if (typeof l2?.abandon === 'function') l2.abandon();
    throw error;
  }
}

/** createCache returning the concrete view (the manager and tests use its extra members). */
export function buildCache<V = unknown>(options: CacheOptions<V> = {}): CacheView<V> {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('createCache options must be an object');
  // A misspelt option (`maxEntrys`) or one of the bare engine's (`onEvict`) is refused, not ignored:
  // ignored, it would leave a default in force without a word.
  assertKnownOptions(options, CACHE_OPTION_NAMES, 'createCache');
  const name = options.name ?? DEFAULT_CACHE_NAME;
  if (typeof name !== 'string' || name === '') throw new TypeError('name must be a non-empty string');
  if (options.clock !== undefined && typeof options.clock !== 'function') {
    throw new TypeError('clock must be a function returning milliseconds');
  }
  if (options.sizeOf !== undefined && typeof options.sizeOf !== 'function') {
    throw new TypeError('sizeOf must be a function');
  }
  if (options.traceKeys !== undefined && typeof options.traceKeys !== 'boolean') {
    throw new TypeError('traceKeys must be a boolean');
  }
  const traceKeys = options.traceKeys === true;
  if (options.warmOnStart !== undefined) checkWarmSource(options.warmOnStart, 'warmOnStart');
  const config = resolveCacheSettings(options as CacheOptions<unknown>);
  const persist = resolvePersist(options.persist);
  const log = new LogSink(options.logger, options.loggerStyle);
  const clock = options.clock ?? coarseNow;
  const userSizeOf = options.sizeOf;
  // The engine needs its eviction hook before the state that handles it exists.
  let state: SharedCacheState | undefined = undefined;
  const engine = new MemoryCache<CacheKey, Envelope>({
    maxEntries: options.maxEntries,
    maxBytes: options.maxBytes,
    // The engine holds envelopes; a user's sizeOf measures the value inside.
    sizeOf: userSizeOf === undefined ? undefined : (envelope, key) => userSizeOf(envelope.value as V, key),
    policy: options.policy,
    cleanupInterval: options.cleanupInterval,
    onEvict: (key, envelope, reason) => state?.onEvict(key, envelope, reason),
    clock,
    logger: options.logger,
    name,
  });
  let remote;
  let advisor;
  let autoSize: AutoSizeOptions | undefined;
  try {
    const maxEntries = engine.stats().maxEntries;
    if (options.autoSize !== undefined) {
      autoSize = resolveAutoSize(options.autoSize, maxEntries);
      if (options.advisor === false) throw new TypeError('autoSize needs the advisor: drop advisor: false');
    }
    // Adaptive sizing runs on the advisor's curve, so it turns the advisor on.
    advisor = createCacheAdvisor(options.advisor ?? (autoSize === undefined ? undefined : true), maxEntries);
    remote = bindRemoteTier(options.l2, name);
  } catch (error) {
    engine.close();
    throw error;
  }
  const random = Math.random;
  const tiers = new TierStack(engine, clock, remote, random);
  tiers.traceKeys = traceKeys;
  const shared = new SharedCacheState({ name, tiers, clock, log, random, advisor, traceKeys, autoSize });
  state = shared;
  if (autoSize !== undefined && advisor !== undefined) attachAutoSize(advisor, autoSize, shared, name);
  if (remote !== undefined) connectRemote(shared, remote);
  const cache = new CacheView<V>(shared, name, '', config);
  // Restores synchronously, so the snapshot's entries are there before the first request.
  if (persist !== undefined)
    shared.attachPersistence(attachPersistence(persist, cache, clock, () => shared.log, remote));
  if (options.warmOnStart !== undefined) {
    const source = options.warmOnStart;
    const warmed = cache.warm(source).then(
      () => undefined,
      (error: unknown) => shared.reportError(name, undefined, 'warmOnStart', error),
    );
    // A snapshot warm-up (persist.warm) may already have set `ready`: wait for both.
    const before = cache.ready;
    cache.ready = before === undefined ? warmed : Promise.all([before, warmed]).then(() => undefined);
  }
  return cache;
}

/**
 * Routes what the shared tier reports into the shared state (remote invalidations detach the loads they
 * reach, L2 errors are reported) and lends the tier the cache's log sink for its outage lines.
 */
function connectRemote(state: SharedCacheState, remote: TierBinding): void {
  remote.offerLog(() => state.log);
  state.tiers.onRemoteInvalidation((keys) => {
    // A bulk invalidation (tags, pattern, clear, resync) does not say which keys it reached, and a
    // load's final tags are unknown until it returns: every load is detached, as a local one would be.
    if (keys === undefined) state.flights.detachWhere(undefined);
    else for (const key of keys) state.flights.detach(key);
  });
  remote.onError((error, key) => state.reportError(state.name, key, 'l2', error));
}
