// Counters since a cache was created, across resetStats(): what a monotonic export (Prometheus
// counters, larder-cache/prometheus) reads. resetStats() zeroes what stats() shows; before it does,
// the view adds the counters it is about to zero to its shared state's running totals here, so
// `stats()[field] + resetTotals(cache)[field]` is the count since creation. Not part of the public API.
import type { CacheStats } from './types.js';

/** The counter fields of CacheStats (every one that only goes up between resets). */
export const COUNTER_FIELDS = [
  'hits',
  'misses',
  'coalesced',
  'staleHits',
  'sets',
  'deletes',
  'invalidations',
  'evictions',
  'expirations',
  'rejections',
  'loads',
  'loadErrors',
  'refreshes',
  'totalRequests',
] as const satisfies ReadonlyArray<keyof CacheStats>;

/** One of {@link COUNTER_FIELDS}. */
export type CounterField = (typeof COUNTER_FIELDS)[number];

/** Counts per counter field. */
export type CounterTotals = Record<CounterField, number>;

/** The door a cache view opens for {@link resetTotals}: `view[RESET_TOTALS]()`. */
export const RESET_TOTALS: unique symbol = Symbol('larder.resetTotals');

type Door = { [RESET_TOTALS]?: () => Readonly<CounterTotals> };

/** Zero for every counter field. */
export function zeroTotals(): CounterTotals {
  return Object.fromEntries(COUNTER_FIELDS.map((field) => [field, 0])) as CounterTotals;
}

/** Adds the counters of `stats` (about to be zeroed by a reset) to `totals`. */
export function addToTotals(totals: CounterTotals, stats: CacheStats): void {
  for (const field of COUNTER_FIELDS) totals[field] += stats[field];
}

/**
 * What `cache`'s resetStats() calls have zeroed, per counter field (all zero for a cache that was
 * never reset, or one that is not Larder's own and so does not say).
 */
export function resetTotals(cache: object): Readonly<CounterTotals> | undefined {
  const door = (cache as Door)[RESET_TOTALS];
  return typeof door === 'function' ? door.call(cache) : undefined;
}
