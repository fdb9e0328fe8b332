// The small stats body a polled `GET /cache/stats` answers (seed 001's shape): how many entries are
// live, hits, misses, the hit rate in percent, and each live entry's age and remaining TTL in seconds.
// A pure function of one cache's `stats()` and `entries()`, so any route or framework can serve it.

/** The figures {@link cacheStatsBody} reads from a cache: `createCache(...)` and every namespace have them. */
export interface StatsBodySource {
  stats(): { hits: number; misses: number; coalesced: number; hitRate: number };
  entries(): ReadonlyArray<{
    key: string;
    ageMs: number;
    ttlRemainingMs: number | undefined;
    stale: boolean;
  }>;
}

/** One live entry: its age and remaining TTL in seconds (two decimals; `null` when it never expires). */
export interface StatsBodyEntry {
  key: string;
  age: number;
  ttl_remaining: number | null;
}

/** The body of a polled `GET /cache/stats`. */
export interface StatsBody {
  /** Live (fresh) entries. */
  size: number;
  /** Requests that cost no upstream call: hits, plus callers that joined a load already running. */
  hits: number;
  /** Requests that started a load. */
  misses: number;
  /** `hits / (hits + misses)` in percent, two decimals; 0 before the first request. */
  hit_rate: number;
  entries: StatsBodyEntry[];
}

/** Options of {@link cacheStatsBody}. */
export interface StatsBodyOptions {
  /** At most this many entries (default: all). `size` still counts every live entry. */
  limit?: number;
}

const seconds = (ms: number): number => Math.round(ms / 10) / 100;

/**
 * `{ size, hits, misses, hit_rate, entries: [{ key, age, ttl_remaining }] }` for one cache, as a polled
 * stats endpoint answers it: `res.end(JSON.stringify(cacheStatsBody(cache)))`. Entries past their TTL
 * (held only for fail-safe grace) are left out. A caller that joined a load in flight counts as a hit,
 * so `hit_rate` is exactly `hits / (hits + misses)` and equals `cache.stats().hitRate`.
 */
export function cacheStatsBody(cache: StatsBodySource, options: StatsBodyOptions = {}): StatsBody {
  if (
    typeof cache !== 'object' ||
    cache === null ||
    typeof cache.stats !== 'function' ||
    typeof cache.entries !== 'function'
  ) {
    throw new TypeError('cacheStatsBody(cache) needs a cache with stats() and entries()');
  }
  const limit = options.limit ?? Infinity;
  if (typeof limit !== 'number' || !(limit >= 0) || (limit !== Infinity && !Number.isInteger(limit))) {
    throw new RangeError(`limit must be a non-negative integer, got ${String(limit)}`);
  }
  const stats = cache.stats();
  const live: Array<StatsBodySourceEntry> = [];
  let size = 0;
  for (const e of cache.entries()) {
    if (e.stale) continue;
    size++;
    if (live.length < limit) live.push(e);
  }
  return statsBodyOf(stats, size, live);
}

type StatsBodySourceEntry = ReturnType<StatsBodySource['entries']>[number];

/**
 * The body {@link cacheStatsBody} answers, from a cache's `stats()`, its count of live entries and
 * the live entries to list (the admin API counts them in slices, then builds the same body).
 */
export function statsBodyOf(
  stats: ReturnType<StatsBodySource['stats']>,
  size: number,
  live: Iterable<StatsBodySourceEntry>,
): StatsBody {
  const entries: StatsBodyEntry[] = [];
  for (const e of live) {
    entries.push({
      key: e.key,
      age: seconds(e.ageMs),
      ttl_remaining: e.ttlRemainingMs === undefined ? null : seconds(e.ttlRemainingMs),
    });
  }
  return {
    size,
    hits: stats.hits + stats.coalesced,
    misses: stats.misses,
    hit_rate: stats.hitRate,
    entries,
  };
}
