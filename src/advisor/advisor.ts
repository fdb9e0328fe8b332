// SizingAdvisor: a small sampled model of one cache's access stream that predicts the hit ratio the
// cache would have at other capacities, with either policy. Requests are sampled spatially (sampler.ts)
// and replayed through miniature caches (miniature.ts); `advise()` turns the curve into a
// recommendation (recommendation.ts). The per-request cost of an unsampled key is one hash compare.
import { assertKnownOptions, assertPositiveInteger, optionNames } from '../util/validate.js';
import type { CacheKey, EvictionPolicy } from '../engine/types.js';
import { MiniatureSet, SIMULATED_POLICIES } from './miniature.js';
import { buildRecommendation } from './recommendation.js';
import { chooseRate, DEFAULT_MIN_SAMPLED_ENTRIES, rateOf, samplingHash, thresholdFor } from './sampler.js';
import type { Advice, AdviceCurvePoint, AdvisorOptions } from './types.js';

// An entry's sampling hash (sampler.ts), kept on the object the cache stores for it (the facade's
// envelope) the first time the entry is hit. A symbol key is invisible to JSON and to the msgpack
// serializer.
const SAMPLED: unique symbol = Symbol('larder.advisor.sampled');

/** Capacities simulated by default, relative to the current one. */
export const DEFAULT_MULTIPLIERS: readonly number[] = [0.25, 0.5, 1, 2, 4];
/** Sampled requests between two calls of {@link SizingAdvisor.onPeriod}. */
export const PERIOD_REQUESTS = 2000;

/** What the owner of the cache tells the advisor when asking for advice. */
export interface AdviseInput {
  /** The cache's name, for the answer and the recommendation text. */
  cache: string;
  /** The policy the cache runs. */
  policy: EvictionPolicy;
  /** The cache's measured hit ratio in percent; when absent the simulated one at 1x is reported. */
  hitRatio?: number;
  /** Mean bytes per entry, to price a size change; 0 or absent when unknown. */
  bytesPerEntry?: number;
}

const ADVISOR_OPTIONS = optionNames<AdvisorOptions>({
  rate: true,
  minSampledEntries: true,
  multipliers: true,
});

/** Predicts hit ratios at other capacities from a spatially sampled replay (see the file comment). */
export class SizingAdvisor {
  /** The entry bound of the advised cache. */
  capacity: number;
  /** The sampling rate in use (fraction of keys followed). */
  rate: number;
  /** The simulated multipliers, ascending. */
  readonly multipliers: readonly number[];
  #threshold: number;
  #minis: MiniatureSet;
  readonly #minSampledEntries: number;
  readonly #fixedRate: number | undefined;
  /**
   * Called after every {@link PERIOD_REQUESTS} sampled requests (adaptive sizing uses it to revisit
   * the cache's size); undefined by default.
   */
  onPeriod: (() => void) | undefined = undefined;
  #sinceHook = 0;

  /** Creates an advisor for a cache bounded to `capacity` entries; throws a RangeError naming a bad option. */
  constructor(capacity: number, options: AdvisorOptions = {}) {
    assertPositiveInteger(capacity, 'advisor capacity');
    if (typeof options !== 'object' || options === null)
      throw new TypeError('advisor options must be an object');
    assertKnownOptions(options, ADVISOR_OPTIONS, 'advisor');
    const { rate, minSampledEntries = DEFAULT_MIN_SAMPLED_ENTRIES } = options;
    if (rate !== undefined && (typeof rate !== 'number' || !(rate > 0 && rate <= 1))) {
      throw new RangeError(`advisor.rate must be a number in (0, 1], got ${String(rate)}`);
    }
    assertPositiveInteger(minSampledEntries, 'advisor.minSampledEntries');
    this.multipliers = checkMultipliers(options.multipliers ?? DEFAULT_MULTIPLIERS);
    this.capacity = capacity;
    this.#minSampledEntries = minSampledEntries;
    this.#fixedRate = rate;
    this.#threshold = thresholdFor(chooseRate(capacity, this.multipliers[0]!, minSampledEntries, rate));
    this.rate = rateOf(this.#threshold);
    this.#minis = new MiniatureSet(capacity, this.rate, this.multipliers);
  }

  /**
   * Re-centres the model on a cache now bounded to `capacity` entries (after a resize): the curve is
   * rebuilt around the new size, so the model starts over.
   */
  rebase(capacity: number): void {
    assertPositiveInteger(capacity, 'advisor capacity');
    this.capacity = capacity;
    const rate = chooseRate(capacity, this.multipliers[0]!, this.#minSampledEntries, this.#fixedRate);
    this.#threshold = thresholdFor(rate);
    this.rate = rateOf(this.#threshold);
    this.#minis = new MiniatureSet(capacity, this.rate, this.multipliers);
    this.#sinceHook = 0;
  }

  #sampled(key: CacheKey): void {
    this.#minis.access(key);
    if (this.onPeriod !== undefined && ++this.#sinceHook >= PERIOD_REQUESTS) {
      this.#sinceHook = 0;
      this.onPeriod();
    }
  }

  /** Sampled requests simulated so far. */
  get sampledRequests(): number {
    return this.#minis.requests;
  }

  /** Entries held by the miniature caches (the advisor's memory is about 100 bytes per entry). */
  get simulatedEntries(): number {
    return this.#minis.entries;
  }

  /** Records one request for `key` (hit or miss alike). */
  record(key: CacheKey): void {
    if (samplingHash(key) < this.#threshold) this.#sampled(key);
  }

  /**
   * Records a hit on `key`, whose cached object is `holder`. The sampling decision is computed once per
   * holder and remembered on it, so a hit costs one property read and a compare instead of hashing the
   * key (string hashing in JavaScript costs more than the rest of a hit).
   */
  recordHit(key: CacheKey, holder: object): void {
    // The sampling hash is remembered (not the decision), so a rebase's new threshold applies at once.
    let hash = (holder as { [SAMPLED]?: number })[SAMPLED];
    if (hash === undefined) {
      hash = samplingHash(key);
      // A frozen holder cannot remember; its key is simply hashed again next time.
      Reflect.set(holder, SAMPLED, hash);
    }
    if (hash < this.#threshold) this.#sampled(key);
  }

  /** Predicted hit ratio (percent, two decimals) at every simulated capacity, with both policies. */
  curve(): AdviceCurvePoint[] {
    return this.multipliers.map((multiplier) => {
      const point: AdviceCurvePoint = {
        capacity: Math.max(1, Math.round(this.capacity * multiplier)),
        multiplier,
        lru: 0,
        tinylfu: 0,
      };
      for (const policy of SIMULATED_POLICIES)
        point[policy] = percent(this.#minis.hitRatio(policy, multiplier));
      return point;
    });
  }

  /** The curve, the current point and a plain-language recommendation. */
  advise(input: AdviseInput): Advice {
    const curve = this.curve();
    const here = curve.find((p) => p.multiplier === 1)!;
    const hitRatio = input.hitRatio ?? here[input.policy];
    const bytesPerEntry = Math.max(0, input.bytesPerEntry ?? 0);
    const advice: Advice = {
      cache: input.cache,
      policy: input.policy,
      current: { capacity: this.capacity, hitRatio },
      curve,
      recommendation: '',
      sampledRequests: this.sampledRequests,
      sampleRate: this.rate,
      bytesPerEntry,
    };
    advice.recommendation = buildRecommendation(advice);
    return advice;
  }

  /** Forgets the model (e.g. after the workload changed); sampling continues. */
  reset(): void {
    this.#minis.reset();
  }
}

function percent(fraction: number): number {
  return Number.isNaN(fraction) ? 0 : Math.round(fraction * 10_000) / 100;
}

// Sorted, distinct, positive, and always containing 1 (the current size anchors the recommendation).
function checkMultipliers(multipliers: readonly number[]): number[] {
  if (!Array.isArray(multipliers) || multipliers.length === 0) {
    throw new TypeError('advisor.multipliers must be a non-empty array of positive numbers');
  }
  for (const m of multipliers) {
    if (typeof m !== 'number' || !(m > 0) || !Number.isFinite(m)) {
      throw new RangeError(`advisor.multipliers must hold positive numbers, got ${String(m)}`);
    }
  }
  return [...new Set([...multipliers, 1])].sort((a, b) => a - b);
}
