// Spatially hashed sampling (SHARDS: Waldspurger, Park, Garthwaite & Ahmad, FAST 2015). A key is in the
// sample when its 32-bit sampling hash is below a threshold, so a sampled key is followed on every
// request and its reuse pattern is kept intact, at rate R = threshold / 2^32. The per-request test is
// one compare.
//
// The sampling hash is the engine's key hash mixed once more, not that hash itself. The miniatures are
// real MemoryCaches, and they read the engine hash of each key they get: its top bits pick the key's
// home in the key index and its block in W-TinyLFU's frequency sketch. Sampled by the engine hash's own
// top bits, every key a miniature saw had those bits zero at R = 1/64: all of them homed in the first
// 64th of the index (one probe run spanning the table, so a miniature lookup walked half of it) and
// shared the first 64th of the sketch's counters (frequencies inflated 64-fold, so admission let in
// what the full cache keeps out). On P3 that put W-TinyLFU predictions up to 4.6 points low. Mixed
// again, the sample is independent of every bit the engine reads.
//
// Rate: a miniature cache of capacity C·R behaves like a cache of capacity C only when it is not tiny
// (W-TinyLFU's 1 % window and SLRU segments need room). So by default the rate is chosen per cache,
// R = min(1, minSampledEntries / (C · smallest multiplier)): a large cache is sampled sparsely (constant
// advisor memory: the miniatures hold about 62 x minSampledEntries entries in all), a small one densely.

import { hashKey, mix32 } from '../engine/hash.js';
import type { CacheKey } from '../engine/types.js';

/** Default minimum capacity of the smallest miniature cache. */
export const DEFAULT_MIN_SAMPLED_ENTRIES = 512;

const TWO_32 = 2 ** 32;
/** XORed into the engine hash before the remix, so a key's sampling hash is not its engine hash's image. */
const SAMPLING_SALT = 0x9e3779b9;

/** The unsigned 32-bit hash that decides whether `key` is sampled (see the file comment). */
export function samplingHash(key: CacheKey): number {
  return mix32(hashKey(key) ^ SAMPLING_SALT) >>> 0;
}

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
