// Statistics across caches: the manager's `overall` figures and the admin API's totals are built by
// one function, so both sum the same counters and recompute the hit rate the same way.
import type { summarizeLatency } from '../observability/latency.js';
import { hitRatePercent } from '../observability/numbers.js';
import type { CacheStats, ManagerStats } from './types.js';
import { COUNTER_FIELDS } from './stats-totals.js';

// Counters summed across caches for the manager's `overall` stats: every counter, and the bounds.
const SUMMED = [...COUNTER_FIELDS, 'size', 'bytes', 'active', 'expired'] as const;

/** Aggregates per-cache stats: counters summed, bounds summed, hit rate recomputed, load time merged. */
export function aggregateStats(
  stats: readonly CacheStats[],
  latency: ReturnType<typeof summarizeLatency>,
): ManagerStats['overall'] {
  const overall = {} as ManagerStats['overall'];
  for (const field of SUMMED) overall[field] = stats.reduce((sum, s) => sum + s[field], 0);
  // As per cache: the share of requests that cost no upstream call (CacheStats.hitRate).
  overall.hitRate = hitRatePercent(overall.hits + overall.coalesced, overall.totalRequests);
  overall.maxEntries = sumDefined(stats.map((s) => s.maxEntries));
  overall.maxBytes = sumDefined(stats.map((s) => s.maxBytes));
  overall.uptimeMs = stats.reduce((max, s) => Math.max(max, s.uptimeMs), 0);
  overall.loadTime = latency;
  return overall;
}

function sumDefined(values: readonly (number | undefined)[]): number | undefined {
  let sum: number | undefined;
  for (const v of values) if (v !== undefined && Number.isFinite(v)) sum = (sum ?? 0) + v;
  return sum;
}
