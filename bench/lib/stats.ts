// Summaries of repeated measurements: the benchmarks report the median of several rounds because
// the machine is shared and a single round can be hit by someone else's build.

/** The median of `values` (mean of the middle two for an even count). Throws on an empty list. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of an empty list');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The nearest-rank percentile `p` (0-100] of `values`. Throws on an empty list or a bad `p`. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError('percentile of an empty list');
  if (!(p > 0 && p <= 100)) throw new RangeError(`p must be in (0, 100], got ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[rank - 1]!;
}

/** Spread of the rounds around their median, as a fraction (max-min)/median; shows how noisy a row is. */
export function spread(values: readonly number[]): number {
  const m = median(values);
  if (m === 0) return 0;
  return (Math.max(...values) - Math.min(...values)) / m;
}

/**
 * The median of per-round ratios a[i] / b[i]. Rounds of different libraries that share an index ran
 * back to back, so pairing them cancels most of the drift in the machine's load that separate medians
 * would keep.
 */
export function pairedRatio(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length)
    throw new RangeError(`pairedRatio needs equal lengths, got ${a.length} and ${b.length}`);
  return median(a.map((x, i) => x / b[i]!));
}
