// Seed 001, stats caching, on Larder: 2-3 s caches in front of the expensive endpoints a UI polls,
// invalidated when an engine is provisioned or deleted, and `/cache/stats` in the seed's shape.
// Concurrent polls of a cold key share one expensive call; if the cache fails, the call runs directly.
import {
  cacheStatsBody,
  createCache,
  type Cache,
  type CacheOptions,
  type Duration,
  type StatsBody,
} from 'larder-cache';

/** The seed's cache keys (`<prefix>:<function_name>`) and their TTLs. */
export const STATS_TTLS = {
  'stats:total': '3s',
  'orchestrator:status': '2s',
  'vpn:status': '3s',
} as const satisfies Record<string, Duration>;

/** One of the seed's cache keys. */
export type StatsKey = keyof typeof STATS_TTLS;

/** The keys an engine provision or deletion invalidates. */
export const ENGINE_CHANGE_KEYS: readonly StatsKey[] = ['orchestrator:status', 'stats:total'];

/** `GET /cache/stats` as seed 001 shows it (Larder's `cacheStatsBody`); ages and TTLs in seconds. */
export type SeedStatsResponse = StatsBody;

/**
 * Shared settings and warm restarts; `ttl` replaces all three TTLs (e.g. for a demo with slower polling),
 * `keyTtl` sets single keys' TTLs and wins over `ttl` (the demo reads it from `LARDER_TTL_STATS_TOTAL`,
 * `LARDER_TTL_ORCHESTRATOR_STATUS` and `LARDER_TTL_VPN_STATUS`: seed 001's first enhancement).
 */
export interface StatsCacheOptions extends Pick<CacheOptions, 'l2' | 'logger' | 'clock' | 'persist'> {
  ttl?: Duration;
  keyTtl?: Partial<Record<StatsKey, Duration>>;
}

/** The stats cache of seed 001. */
export interface StatsCache {
  readonly cache: Cache;
  /** The value of `key`: cached for its TTL, else computed once for every concurrent caller. */
  cached<T>(key: StatsKey, compute: () => Promise<T>): Promise<T>;
  /** Engine provisioned or deleted: drop the keys that summarise engines. */
  onEngineChange(): Promise<void>;
  /** The seed's `/cache/stats` answer. */
  stats(): SeedStatsResponse;
  /** `POST /cache/clear`. */
  clear(): Promise<void>;
}

/** Builds the stats cache. */
export function createStatsCache(options: StatsCacheOptions = {}): StatsCache {
  const { ttl, keyTtl = {}, ...shared } = options;
  const cache = createCache({
    ...shared,
    name: 'stats',
    ttl: ttl ?? '3s',
    maxEntries: 100,
    maxBytes: 2 ** 20,
  });
  return {
    cache,
    cached: <T>(key: StatsKey, compute: () => Promise<T>) =>
      cache.getOrSet<T>(key, compute, { ttl: keyTtl[key] ?? ttl ?? STATS_TTLS[key] }),
    async onEngineChange() {
      await Promise.all(ENGINE_CHANGE_KEYS.map((key) => cache.delete(key)));
    },
    stats: () => cacheStatsBody(cache),
    clear: () => cache.clear(),
  };
}
