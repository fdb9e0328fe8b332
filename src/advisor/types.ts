// Public shapes of the sizing advisor: its options and what `advise()` answers. The advisor itself lives
// in advisor.ts; the facade's `cache.advise()` and the admin API serve these objects as they are.
import type { EvictionPolicy } from '../engine/types.js';

/** Options of {@link SizingAdvisor} (and of the facade's `advisor` option). */
export interface AdvisorOptions {
  /**
   * Fixed sampling rate in (0, 1]. Default: adaptive — the smallest simulated cache gets at least
   * `minSampledEntries` entries, so small caches are sampled densely and large ones sparsely.
   */
  rate?: number;
  /** Entries the smallest miniature cache must hold when the rate is adaptive (default 512). */
  minSampledEntries?: number;
  /** Capacity multipliers to simulate (default 0.25, 0.5, 1, 2, 4; 1 is always included). */
  multipliers?: readonly number[];
}

/** The predicted hit ratio at one simulated capacity, for both policies (percent, two decimals). */
export interface AdviceCurvePoint {
  /** Simulated capacity in entries. */
  capacity: number;
  /** Capacity relative to the current one (0.25 … 4). */
  multiplier: number;
  /** Predicted hit ratio with LRU, percent. */
  lru: number;
  /** Predicted hit ratio with W-TinyLFU, percent. */
  tinylfu: number;
}

/** What `cache.advise()` returns: the hit-ratio curve around the current size and a plain recommendation. */
export interface Advice {
  /** The cache's name. */
  cache: string;
  /** The policy the cache runs. */
  policy: EvictionPolicy;
  /** Where the cache is now: its entry bound and its measured hit ratio (percent). */
  current: { capacity: number; hitRatio: number };
  /** Predicted hit ratios at each simulated capacity, smallest first. */
  curve: AdviceCurvePoint[];
  /** One or two sentences an operator can act on. */
  recommendation: string;
  /** Requests that fell in the sample and were simulated. */
  sampledRequests: number;
  /** The spatial sampling rate in use (fraction of keys simulated). */
  sampleRate: number;
  /** Mean bytes per entry used to price a size change (0 when unknown). */
  bytesPerEntry: number;
}
