// Zipf-distributed access traces for the read-through benchmark: rank r (0-based) is drawn with
// probability proportional to 1 / (r + 1)^s, the skew that web and key-value caches typically see.

import { randomInt, shuffle, type Random } from './prng.js';

/**
 * Samples ranks in [0, n) from Zipf(s) by inverting the exact cumulative distribution
 * (binary search over a precomputed table). Exact rather than approximate because the hit ratios
 * we report depend on the tail; the table costs 8 bytes per rank, built once.
 */
export function createZipf(n: number, s: number, random: Random): () => number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, got ${n}`);
  if (!(s >= 0) || !Number.isFinite(s)) throw new RangeError(`s must be a finite number >= 0, got ${s}`);
  const cdf = new Float64Array(n);
  let total = 0;
  for (let r = 0; r < n; r++) {
    total += 1 / Math.pow(r + 1, s);
    cdf[r] = total;
  }
  return () => {
    const u = random() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! <= u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/**
 * A trace of `length` key indices in [0, n) drawn from Zipf(s). Ranks are mapped to indices through a
 * random permutation so that popularity is not correlated with key creation order.
 */
export function zipfTrace(length: number, n: number, s: number, random: Random): Uint32Array {
  const sample = createZipf(n, s, random);
  const perm = shuffle(
    random,
    Array.from({ length: n }, (_, i) => i),
  );
  const trace = new Uint32Array(length);
  for (let i = 0; i < length; i++) trace[i] = perm[sample()]!;
  return trace;
}

/** A trace of `length` indices drawn uniformly from [0, n). */
export function uniformTrace(length: number, n: number, random: Random): Uint32Array {
  const trace = new Uint32Array(length);
  for (let i = 0; i < length; i++) trace[i] = randomInt(random, n);
  return trace;
}
