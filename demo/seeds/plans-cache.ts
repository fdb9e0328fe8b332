// Seed 003, subscription plan caching, on Larder: the three endpoint caches keyed by org and
// provider (at most 5 min, spread below it so entries written together do not expire together;
// concurrent misses share one query), the invalidation sets that every write applies, invalidateOrgCache /
// invalidateProviderCache returning counts, the seed's get_stats() shape and its debug lines
// (`Cache HIT: <key>`, `Invalidated cache for org … provider …`).
import {
  colonLogger,
  createCache,
  snakeCaseStats,
  type Cache,
  type CacheOptions,
  type Duration,
  type SnakeCaseStats,
  LogSink,
} from 'larder-cache';

/** The seed's TTL: 5 minutes. */
export const PLANS_CACHE_TTL: Duration = '5m';

/**
 * The spread that keeps entries written together from expiring together (the seed's advice against
 * a stampede), taken below the TTL only: an entry lives between about 95 % and 100 % of the TTL, so
 * a list is never served longer than the 5 minutes the seed states. (A ±10 % spread kept some for
 * 5.5 minutes.)
 */
export const TTL_SPREAD = 0.025;

/**
 * The per-write TTL options that spread expiry below `ttl` (ms): the written TTL is `ttl / (1 + s)`,
 * jittered by ±s, which stays within [`ttl` (1 - s) / (1 + s), `ttl`]. No expiry stays no expiry.
 */
export function spreadBelow(ttl: number): { ttl: number; jitter: number } | undefined {
  return ttl > 0 ? { ttl: Math.floor(ttl / (1 + TTL_SPREAD)), jitter: TTL_SPREAD } : undefined;
}

/** The seed's slow-query threshold: a query (a loader) slower than 2 s is logged at warn. */
export const SLOW_QUERY: Duration = '2s';

/**
 * The seed's line for an invalidation: `Invalidated cache for org acme provider slack`, or
 * `Invalidated cache for org acme` for a whole org.
 */
export function invalidatedLine(org: string, provider?: string): string {
  return provider === undefined
    ? `Invalidated cache for org ${org}`
    : `Invalidated cache for org ${org} provider ${provider}`;
}

/** The seed's cache keys: `providers_list_acme`, `plans_list_acme_slack_true`, `all_plans_acme_false`. */
export const planKeys = {
  providersList: (org: string) => `providers_list_${org}`,
  plansList: (org: string, provider: string, includeDisabled: boolean) =>
    `plans_list_${org}_${provider}_${includeDisabled}`,
  allPlans: (org: string, enabledOnly: boolean) => `all_plans_${org}_${enabledOnly}`,
};

/**
 * What every plan write invalidates (create, update, delete, enable, disable, toggle), as key
 * patterns with `{org}` and `{provider}` placeholders; the HTTP write rules use the same list.
 */
export const PROVIDER_INVALIDATION: readonly string[] = [
  'plans_list_{org}_{provider}_*',
  'all_plans_{org}_*',
  'providers_list_{org}',
];

/** What `invalidateOrgCache` removes. */
export const ORG_INVALIDATION: readonly string[] = [
  'providers_list_{org}',
  'plans_list_{org}_*',
  'all_plans_{org}_*',
];

/** Org and provider slugs: no `_`, so a pattern such as `plans_list_acme_*` cannot reach another org. */
export const SLUG_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** The seed's `get_stats()` answer (the library's snake-case stats). */
export type PlansCacheStats = SnakeCaseStats;

/**
 * The glob `invalidatePattern` runs for the seed's `invalidate_pattern(pattern)`: a pattern without
 * `*` or `?` is a key prefix (`org_acme_` removes every key starting with it); one with a wildcard is
 * used as written.
 */
export function seedPattern(pattern: string): string {
  if (typeof pattern !== 'string' || pattern === '') {
    throw new TypeError('invalidatePattern(pattern) must be a non-empty string');
  }
  return /[*?]/.test(pattern) ? pattern : `${pattern}*`;
}

/** Shared settings, warm restarts, the sizing advisor and the TTL (default 5 min). */
export interface PlansCacheOptions extends Pick<
  CacheOptions,
  'l2' | 'logger' | 'clock' | 'persist' | 'advisor'
> {
  ttl?: Duration;
}

/** Builds the plans cache and the seed's functions over it. */
export function createPlansCache(options: PlansCacheOptions = {}) {
  const { ttl = PLANS_CACHE_TTL, logger, ...shared } = options;
  const cache: Cache = createCache({
    ...shared,
    // The seed's own debug lines: `Cache HIT: providers_list_acme` (formatColon).
    logger: logger === undefined ? undefined : colonLogger(logger),
    name: 'subscriptions',
    ttl,
    slowLoad: SLOW_QUERY,
    maxEntries: 10_000,
    maxBytes: 16 * 2 ** 20,
  });
  const log = new LogSink(logger);

  const invalidate = async (templates: readonly string[], params: Record<string, string>) => {
    for (const [name, value] of Object.entries(params)) {
      if (!SLUG_RE.test(value))
        throw new TypeError(`${name} must be a slug like "acme", got ${JSON.stringify(value)}`);
    }
    const patterns = templates.map((t) => t.replace(/\{(\w+)\}/g, (_, name: string) => params[name]!));
    const counts = await Promise.all(patterns.map((p) => cache.invalidatePattern(p)));
    const count = counts.reduce((a, b) => a + b, 0);
    if (log.debugOn) log.debug(invalidatedLine(params.org!, params.provider), { ...params, count });
    return count;
  };

  return {
    cache,
    /** The cached answer for `key`, or `query()`'s, run once for all concurrent callers. */
    cached: <T>(key: string, query: () => Promise<T>) =>
      cache.getOrSet<T>(key, query, spreadBelow(cache.ttl)),
    /** Removes everything cached for an org; resolves with the count removed. */
    invalidateOrgCache: (org: string) => invalidate(ORG_INVALIDATION, { org }),
    /** Removes an org's provider lists, that provider's plan lists and the org's all-plans data. */
    invalidateProviderCache: (org: string, provider: string) =>
      invalidate(PROVIDER_INVALIDATION, { org, provider }),
    /**
     * The seed's `invalidate_pattern`: a plain string is a key prefix (see {@link seedPattern}), a
     * string with `*`/`?` a glob; resolves with the count removed.
     */
    invalidatePattern: (pattern: string) => cache.invalidatePattern(seedPattern(pattern)),
    /** The seed's statistics. */
    getStats: (): PlansCacheStats => snakeCaseStats(cache.stats()),
    /** The seed's `clear()`: empties the cache (all orgs, all endpoints). */
    clear: () => cache.clear(),
    /** The seed's `cleanup_expired()`: removes expired entries now; returns how many. */
    cleanupExpired: () => cache.prune(),
  };
}
