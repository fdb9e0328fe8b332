// Public types of the synchronous L1 engine (MemoryCache). The class lives in memory-cache.ts;
// these shapes are the public contract, shared by the facade, the admin API and tests.
import type { Duration } from '../util/duration.js';
import type { Logger } from '../observability/logger.js';

/** Keys are strings or finite numbers; anything else is rejected with a TypeError. */
export type { CacheKey } from '../util/key.js';
import type { CacheKey } from '../util/key.js';

/** Why an entry left the cache. */
export type EvictionReason = 'capacity' | 'expired' | 'deleted' | 'invalidated' | 'cleared';

/** Eviction policies the engine offers. */
export type EvictionPolicy = 'tinylfu' | 'lru';

/** Options of {@link MemoryCache}. */
export interface MemoryCacheOptions<K extends CacheKey = CacheKey, V = unknown> {
  /** Upper bound on the number of entries (positive integer). Default 10,000 when neither bound is set. */
  maxEntries?: number;
  /** Upper bound on the sum of entry sizes in bytes (positive integer). */
  maxBytes?: number;
  /** Measures an entry in bytes; default: a fast estimate of the value's heap size. */
  sizeOf?: (value: V, key: K) => number;
  /** Default time to live; `0` or absent means no expiry. */
  ttl?: Duration;
  /** Eviction policy; `'tinylfu'` (default) or `'lru'`. */
  policy?: EvictionPolicy;
  /** Spread expiries by ± this fraction of the TTL, in [0, 1). Default 0. */
  jitter?: number;
  /** Period of the incremental background sweep of expired entries (default 60 s; 0 disables). Never keeps the process alive. */
  cleanupInterval?: Duration;
  /** Called once for every entry that leaves the cache, with the reason. */
  onEvict?: (key: K, value: V, reason: EvictionReason) => void;
  /** Time source in milliseconds; default `coarseNow` (util/clock.ts: Date.now, read at most about once per ms). Inject one in tests. */
  clock?: () => number;
  /** Where refused entries and sweep failures are logged; nothing by default. */
  logger?: Logger;
  /** Name used in log lines. */
  name?: string;
}

/** New bounds for {@link MemoryCache.resize}; a bound left out is kept. */
export interface MemoryCacheBounds {
  /** Upper bound on the number of entries (positive integer). */
  maxEntries?: number;
  /** Upper bound on the sum of entry sizes in bytes (positive integer); only for a cache created with `maxBytes`. */
  maxBytes?: number;
}

/** Per-entry options of {@link MemoryCache.set}. */
export interface MemorySetOptions {
  /** Time to live for this entry; `0` means no expiry. Default: the cache's `ttl`. */
  ttl?: Duration;
  /** Tags for {@link MemoryCache.invalidateTags}. */
  tags?: readonly string[];
  /** Size in bytes, overriding `sizeOf`. */
  size?: number;
  /**
   * What it costs to load this value again if it is evicted, in milliseconds (finite, >= 0; default
   * 0). The read-through layer passes its loader's measured duration. Under `tinylfu`, an expensive
   * entry is kept over a cheap one of about equal frequency (see tinylfu.ts, "Cost"); `lru` ignores it.
   */
  cost?: number;
}

/** One live entry as reported by {@link MemoryCache.entries}. */
export interface EntryInfo<K extends CacheKey = CacheKey, V = unknown> {
  key: K;
  value: V;
  /**
   * Milliseconds since the entry was set. A cache that uses no TTL reads the clock on set only once
   * entries() has been called; an entry set before that reports the cache's age (an upper bound).
   */
  ageMs: number;
  /** Milliseconds until expiry, or `undefined` for an entry that never expires. */
  ttlRemainingMs: number | undefined;
  /** Size in bytes as accounted. */
  size: number;
  /** Tags given at set time. */
  tags: readonly string[];
}

/** An {@link EntryInfo} with the eviction policy's frequency estimate, as `MemoryCache.hottest()` lists it. */
export interface RankedEntryInfo<K extends CacheKey = CacheKey, V = unknown> extends EntryInfo<K, V> {
  /** Estimated use count, 0..15 (the sketch's 4-bit counters); 0 under LRU. */
  frequency: number;
}

/** Counters and gauges of the engine (see README "Stats"). */
export interface EngineStats {
  hits: number;
  misses: number;
  sets: number;
  deletes: number;
  invalidations: number;
  evictions: number;
  expirations: number;
  /** Entries refused because they were larger than the byte budget. */
  rejections: number;
  totalRequests: number;
  /** Percent with two decimals, e.g. 89.29; 0 when there were no requests. */
  hitRate: number;
  size: number;
  bytes: number;
  maxEntries: number | undefined;
  maxBytes: number | undefined;
  active: number;
  expired: number;
  uptimeMs: number;
  policy: EvictionPolicy;
}
