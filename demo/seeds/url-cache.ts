// Seed 004, the URL shortener's cache system, on Larder: a manager of five named caches with the
// seed's sizes and TTLs, `getCache(type)`, and the seed's CACHE_RULES and invalidation rules for
// the response-caching middleware.
import {
  createCacheManager,
  type Cache,
  type CacheManager,
  type CacheOptions,
  type CacheManagerOptions,
  type Duration,
} from 'larder-cache';

/** The seed's cache types. */
export type CacheType = 'url' | 'user' | 'analytics' | 'session' | 'general';

/**
 * Size and TTL of each cache type as the seed lists them: entry counts only, as the seed configures
 * them. Their memory figures (`memory_usage_mb`, `total_cache_memory_mb`) are estimated from a sample
 * of entries, since no byte budget makes the engine measure every one.
 */
export const CACHE_TYPES: Readonly<Record<CacheType, { maxEntries: number; ttl: Duration }>> = {
  url: { maxEntries: 5000, ttl: '1h' }, // URL redirects
  user: { maxEntries: 1000, ttl: '30m' }, // user profiles
  analytics: { maxEntries: 500, ttl: '15m' }, // statistics and charts
  session: { maxEntries: 2000, ttl: '5m' }, // temporary data
  general: { maxEntries: 1000, ttl: '10m' }, // miscellaneous
};

/**
 * How the seed's performance report names each cache type in `cache_instances`: `url_cache` for the
 * `url` type (give it to `createAdmin` as `instanceKey`). The management endpoints' `{cache_type}`
 * stays the type (`POST /api/cache/clear/url/`).
 */
export const instanceKey = (type: string): string => `${type}_cache`;

/**
 * The seed's CACHE_RULES as its settings file has them (numbers are seconds), plus a rule of the
 * demo's own for link details, shared by all users since a link's details do not depend on who asks.
 * The per-user answers go out `Cache-Control: private` (kept from shared caches downstream), which
 * `store_private` lets this cache store, one per user.
 */
export const CACHE_RULES = {
  '^/api/urls/$': {
    cache_type: 'url',
    ttl: 300,
    vary_by_user: true,
    vary_by_method: false,
    store_private: true,
  },
  '^/api/urls/stats/$': {
    cache_type: 'analytics',
    ttl: 900,
    vary_by_user: true,
    vary_by_method: false,
    store_private: true,
  },
  '^/api/urls/(?<id>\\d+)/?$': { cache_type: 'general', ttl: 600, shared: true, tags: ['url:{id}'] },
};

/**
 * The seed's user-specific invalidation, as rules: after a user's successful write, that user's
 * cached list and analytics go (and only theirs). Per-user answers are stored under
 * `GET <path>[?query] host=<host> user=<id>` (README "HTTP caching"); `{user}` is the writer's `user()`.
 */
const FORGET_WRITER = {
  patterns: ['GET /api/urls/* user={user}'],
  cache: ['url', 'analytics'],
};

/**
 * Write rules: a successful change of a link drops its shared details and the writer's own answers
 * before the answer goes out; a creation drops the writer's answers.
 */
export const INVALIDATION_RULES = [
  // The shared details live in `general`, so the link's tag is invalidated there too.
  {
    method: ['PUT', 'DELETE'],
    path: '/api/urls/:id',
    tags: ['url:{id}'],
    ...FORGET_WRITER,
    cache: [...FORGET_WRITER.cache, 'general'],
  },
  { method: 'POST', path: '/api/urls/', ...FORGET_WRITER },
];

/** Shared settings, warm restarts of all five caches (one file), per-type TTL overrides and advisor. */
export interface UrlCacheOptions extends Pick<CacheManagerOptions, 'l2' | 'logger' | 'clock' | 'persist'> {
  ttl?: Partial<Record<CacheType, Duration>>;
  /** The sizing advisor per cache type. */
  advisor?: Partial<Record<CacheType, CacheOptions['advisor']>>;
}

/** Builds the cache manager; `getCache('url')` returns one of its caches. */
export function createUrlCaches(options: UrlCacheOptions = {}): {
  cacheManager: CacheManager;
  getCache: <V = unknown>(type: CacheType) => Cache<V>;
} {
  const { ttl = {}, advisor = {}, ...shared } = options;
  const caches = Object.fromEntries(
    Object.entries(CACHE_TYPES).map(([type, settings]) => [
      type,
      { ...settings, ttl: ttl[type as CacheType] ?? settings.ttl, advisor: advisor[type as CacheType] },
    ]),
  );
  const cacheManager = createCacheManager({ ...shared, caches });
  return { cacheManager, getCache: <V>(type: CacheType) => cacheManager.get<V>(type) };
}
