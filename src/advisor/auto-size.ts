// Adaptive sizing (issue 13, seed 004): with `autoSize: { min, max, memoryBudget }` a cache lets its
// sizing advisor move its entry bound within [min, max] when the advisor's curve says the change
// pays, and never to a size whose estimated memory exceeds the budget. This file decides; the facade
// (src/cache/advise.ts) applies the decision with MemoryCache.resize and logs it as RESIZE.
import { assertKnownOptions, assertPositiveInteger, optionNames } from '../util/validate.js';
import type { EvictionPolicy } from '../engine/types.js';
import type { Advice } from './types.js';
import { MIN_SAMPLED_REQUESTS, NEGLIGIBLE_POINTS, WORTHWHILE_POINTS } from './recommendation.js';

/** The `autoSize` option: bounds the advisor may move the cache's entry bound within. */
export interface AutoSizeOptions {
  /** Smallest entry bound (positive integer). */
  min: number;
  /** Largest entry bound (positive integer, at least `min`). */
  max: number;
  /**
   * Bytes the cache's entries may use at most (positive integer); a size is priced at the mean entry
   * size. Over budget, the cache shrinks to what the budget affords, but never below `min`.
   */
  memoryBudget: number;
}

const AUTO_SIZE_OPTIONS = optionNames<AutoSizeOptions>({
  min: true,
  max: true,
  memoryBudget: true,
});

/** Checks the `autoSize` option against the cache's starting bound; throws a TypeError/RangeError. */
export function resolveAutoSize(option: unknown, maxEntries: number | undefined): AutoSizeOptions {
  if (typeof option !== 'object' || option === null)
    throw new TypeError('autoSize must be an object like { min, max, memoryBudget }');
  assertKnownOptions(option, AUTO_SIZE_OPTIONS, 'autoSize');
  const o = option as Partial<AutoSizeOptions>;
  const min = assertPositiveInteger(o.min, 'autoSize.min');
  const max = assertPositiveInteger(o.max, 'autoSize.max');
  const memoryBudget = assertPositiveInteger(o.memoryBudget, 'autoSize.memoryBudget');
  if (max < min) throw new RangeError(`autoSize.max (${max}) must be at least autoSize.min (${min})`);
  if (maxEntries === undefined)
    throw new TypeError(
      'autoSize needs maxEntries: it moves an entry bound, and this cache has only maxBytes',
    );
  const bounds = { min, max, memoryBudget };
  assertWithinAutoSize(maxEntries, bounds);
  return bounds;
}

/**
 * Throws a RangeError when an entry bound (the cache's `maxEntries`, at creation or by configure())
 * lies outside autoSize's [min, max]: below `min`, no size the advisor simulates would be a candidate,
 * and adaptive sizing could never bring the cache back.
 */
export function assertWithinAutoSize(maxEntries: number, bounds: AutoSizeOptions): void {
  if (maxEntries < bounds.min || maxEntries > bounds.max)
    throw new RangeError(
      `maxEntries (${maxEntries}) must lie within autoSize [${bounds.min}, ${bounds.max}]`,
    );
}

/**
 * The entry bound the cache should move to, or undefined to stay. Candidates are the curve's
 * capacities within [min, max] whose price (mean entry size x capacity) fits the budget. It grows to the smallest candidate
 * that gains at least WORTHWHILE_POINTS over the current size (taking the best-gaining one's level
 * minus a negligible point as enough), and otherwise shrinks to the smallest candidate that loses
 * less than NEGLIGIBLE_POINTS; it also shrinks when the current size is over the budget. Nothing
 * moves before the advisor has sampled MIN_SAMPLED_REQUESTS requests.
 */
export function chooseSize(
  advice: Advice,
  bounds: AutoSizeOptions,
  policy: EvictionPolicy,
): number | undefined {
  const current = advice.current.capacity;
  const price = advice.bytesPerEntry;
  // No entry to price (an empty cache) says nothing about what a larger one would cost: no growth.
  const affordable = price > 0 ? Math.floor(bounds.memoryBudget / price) : current;
  const ceiling = Math.max(bounds.min, Math.min(bounds.max, affordable));
  if (current > ceiling) return ceiling;
  if (advice.sampledRequests < MIN_SAMPLED_REQUESTS) return undefined;
  const here = advice.curve.find((p) => p.multiplier === 1)?.[policy];
  if (here === undefined) return undefined;
  // Only simulated sizes are candidates: a clamped size would borrow another size's prediction.
  const points = advice.curve
    .map((p) => ({ capacity: p.capacity, hit: p[policy] }))
    .filter((p) => p.capacity !== current && p.capacity >= bounds.min && p.capacity <= ceiling);
  const larger = points.filter((p) => p.capacity > current);
  const best = larger.reduce((a, p) => Math.max(a, p.hit), -Infinity);
  if (best - here >= WORTHWHILE_POINTS) {
    const enough = larger
      .filter((p) => p.hit >= best - NEGLIGIBLE_POINTS)
      .sort((a, b) => a.capacity - b.capacity)[0];
    return enough?.capacity;
  }
  const smaller = points
    .filter((p) => p.capacity < current && here - p.hit < NEGLIGIBLE_POINTS)
    .sort((a, b) => a.capacity - b.capacity)[0];
  return smaller?.capacity;
}
