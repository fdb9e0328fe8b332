// LatencyRecorder: bounded loader-latency bookkeeping. A ring of the most recent samples gives p50/p99
// (exact over the window), a running count and sum give the all-time mean. Memory is fixed: the ring
// holds at most WINDOW samples however many loads happen.
import { round2 } from './numbers.js';

/** Loader latency distribution, ms. */
export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p99: number;
}

/**
 * Bucket bounds of the loader-latency histograms, in seconds (1 ms … 10 s): the Prometheus histogram's
 * default and the OpenTelemetry histogram's advice, so both read alike.
 */
export const LOAD_DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);

/** Samples kept for percentiles; 1024 keeps p99 meaningful (≈10 samples above it) at 8 KiB per cache. */
export const LATENCY_WINDOW = 1024;

/** Records durations in ms and summarises them. */
export class LatencyRecorder {
  readonly #ring = new Float64Array(LATENCY_WINDOW);
  #next = 0;
  #filled = 0;
  #count = 0;
  #sum = 0;

  /** Adds one sample (ms). */
  record(ms: number): void {
    this.#ring[this.#next] = ms;
    this.#next = (this.#next + 1) % LATENCY_WINDOW;
    if (this.#filled < LATENCY_WINDOW) this.#filled++;
    this.#count++;
    this.#sum += ms;
  }

  /** Forgets every sample. */
  reset(): void {
    this.#next = 0;
    this.#filled = 0;
    this.#count = 0;
    this.#sum = 0;
  }

  /** The samples in the window (a copy). */
  samples(): Float64Array {
    return this.#ring.slice(0, this.#filled);
  }

  /** Count, mean, p50 and p99 in ms (zeros when nothing was recorded). */
  summary(): LatencySummary {
    return summarizeLatency([this]);
  }

  /** All-time count. */
  get count(): number {
    return this.#count;
  }

  /** All-time sum, ms. */
  get sum(): number {
    return this.#sum;
  }
}

/** One summary over several recorders (the manager's aggregate): percentiles over the union of windows. */
export function summarizeLatency(recorders: readonly LatencyRecorder[]): LatencySummary {
  let count = 0;
  let sum = 0;
  const parts: Float64Array[] = [];
  for (const r of recorders) {
    count += r.count;
    sum += r.sum;
    parts.push(r.samples());
  }
  if (count === 0) return { count: 0, mean: 0, p50: 0, p99: 0 };
  const all = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    all.set(p, offset);
    offset += p.length;
  }
  all.sort();
  return {
    count,
    mean: round2(sum / count),
    p50: round2(quantile(all, 0.5)),
    p99: round2(quantile(all, 0.99)),
  };
}

// Nearest-rank quantile: the smallest sample with at least q of the samples at or below it.
function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1]!;
}
