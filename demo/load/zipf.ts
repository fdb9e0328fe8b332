// A Zipf sampler: item i (0-based) is drawn with probability proportional to 1 / (i + 1)^s, the
// skew of real URL popularity. The CDF is built once; each draw is a binary search.

/** Returns a function drawing indexes in [0, n) Zipf-distributed with exponent `s`. */
export function zipfSampler(n: number, s = 1, random: () => number = Math.random): () => number {
  if (!Number.isInteger(n) || n <= 0) throw new RangeError(`n must be a positive integer, got ${n}`);
  if (!(s >= 0)) throw new RangeError(`s must be >= 0, got ${s}`);
  const cdf = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) cdf[i] = total += 1 / Math.pow(i + 1, s);
  return () => {
    const target = random() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}
