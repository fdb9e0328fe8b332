// Spatially hashed sampling (SHARDS: Waldspurger, Park, Garthwaite & Ahmad, FAST 2015). A key is in the
// sample when its 32-bit hash is below a threshold, so a sampled key is followed on every request and
// its reuse pattern is kept intact, at rate R = threshold / 2^32. The per-request test is one compare.
//
// Rate: a miniature cache of capacity C·R behaves like a cache of capacity C only when it is not tiny
// (W-TinyLFU's 1 % window and SLRU segments need room). So by default the rate is chosen per cache,
// R = min(1, minSampledEntries / (C · smallest multiplier)): a large cache is sampled sparsely (constant
// advisor memory: the miniatures hold about 62 x minSampledEntries entries in all), a small one densely.

/** Default minimum capacity of the smallest miniature cache. */
export const DEFAULT_MIN_SAMPLED_ENTRIES = 512;

const TWO_32 = 2 ** 32;

/** Chooses the sampling rate for a cache of `capacity` entries; `rate` forces one. Returns a fraction in (0, 1]. */
export function chooseRate(
  capacity: number,
  smallestMultiplier: number,
  minSampledEntries: number,
  rate?: number,
): number {
  if (rate !== undefined) return rate;
  return Math.min(1, minSampledEntries / (capacity * smallestMultiplier));
}

/** The hash threshold for `rate`: a hash `h` (as an unsigned 32-bit number) is sampled when `h < threshold`. */
export function thresholdFor(rate: number): number {
  // At rate 1 every hash must pass, including 2^32 - 1.
  return rate >= 1 ? TWO_32 : Math.max(1, Math.floor(rate * TWO_32));
}

/** The exact rate a threshold samples at. */
export function rateOf(threshold: number): number {
  return threshold / TWO_32;
}
