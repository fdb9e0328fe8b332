// Snake-case stats: a cache's counters under the names Python-style services report them
// (`total_requests`, `hit_rate_pct`, `cache_size`, as seed 003's `get_stats()` has it), so a port can
// keep its stats endpoint and dashboards without a hand-written mapping.

/** The counters {@link snakeCaseStats} reads: any `CacheStats` (from `cache.stats()`) has them all. */
export interface StatsCounters {
  hits: number;
  misses: number;
  sets: number;
  invalidations: number;
  totalRequests: number;
  /** Percent, two decimals. */
  hitRate: number;
  /** Entries held. */
  size: number;
}

/** A cache's counters under snake-case names. */
export interface SnakeCaseStats {
  hits: number;
  misses: number;
  sets: number;
  invalidations: number;
  /** Every request counted: hits + misses + coalesced. */
  total_requests: number;
  /** Percent of requests that cost no upstream call, two decimals (0–100). */
  hit_rate_pct: number;
  /** Entries held. */
  cache_size: number;
}

/**
 * Renames a cache's counters to snake case: `snakeCaseStats(cache.stats())` answers
 * `{ hits, misses, sets, invalidations, total_requests, hit_rate_pct, cache_size }`. The figures are
 * Larder's own: `hit_rate_pct` counts coalesced requests as served (see `CacheStats.hitRate`).
 */
export function snakeCaseStats(stats: StatsCounters): SnakeCaseStats {
  return {
    hits: stats.hits,
    misses: stats.misses,
    sets: stats.sets,
    invalidations: stats.invalidations,
    total_requests: stats.totalRequests,
    hit_rate_pct: stats.hitRate,
    cache_size: stats.size,
  };
}
