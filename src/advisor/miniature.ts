// Miniature simulations (Waldspurger, Park, Garthwaite & Ahmad, "Cache Modeling and Optimization using
// Miniature Simulations", USENIX ATC 2017): the sampled request stream is replayed through real
// MemoryCache instances scaled down by the sampling rate, one per simulated capacity and policy. Using
// the engine itself (not a textbook LRU/TinyLFU) means the prediction includes every detail of Larder's
// policies: the adaptive window, the sketch's reset period (it scales with the miniature's capacity,
// exactly as the sample scales the request count), the hash-flooding guard.
import { MemoryCache } from '../engine/memory-cache.js';
import type { CacheKey, EvictionPolicy } from '../engine/types.js';

/** The policies every capacity is simulated with. */
export const SIMULATED_POLICIES: readonly EvictionPolicy[] = ['lru', 'tinylfu'];

/** One miniature cache and its hit count. */
interface Miniature {
  readonly policy: EvictionPolicy;
  readonly multiplier: number;
  readonly cache: MemoryCache<CacheKey, number>;
  hits: number;
}

/** A set of miniature caches fed with the same sampled keys. */
export class MiniatureSet {
  readonly #minis: Miniature[] = [];
  #requests = 0;

  /**
   * @param capacity the real cache's entry bound.
   * @param rate the sampling rate; each miniature holds capacity x multiplier x rate entries (at least 1).
   * @param multipliers the capacities to simulate, relative to `capacity`.
   */
  constructor(capacity: number, rate: number, multipliers: readonly number[]) {
    for (const multiplier of multipliers) {
      const maxEntries = Math.max(1, Math.round(capacity * multiplier * rate));
      for (const policy of SIMULATED_POLICIES) {
        // No TTL and no sweep: a miniature never starts a timer. A W-TinyLFU miniature's tuner may take
        // the ARC or S3-FIFO mode, as the real cache's does.
        const cache = new MemoryCache<CacheKey, number>({ maxEntries, policy, cleanupInterval: 0 });
        this.#minis.push({ policy, multiplier, cache, hits: 0 });
      }
    }
  }

  /** Sampled requests replayed so far. */
  get requests(): number {
    return this.#requests;
  }

  /**
   * Replays one sampled request (read; on a miss, insert) through every miniature. The miniatures are
   * keyed by the real key, so they hash it exactly as the real cache does: at rate 1 a miniature is the
   * real cache, and W-TinyLFU's sketch collisions are the same ones.
   */
  access(key: CacheKey): void {
    this.#requests++;
    const minis = this.#minis;
    for (let i = 0; i < minis.length; i++) {
      const mini = minis[i]!;
      if (mini.cache.get(key) === undefined) mini.cache.set(key, 1);
      else mini.hits++;
    }
  }

  /** Hit ratio (fraction) of the miniature for `policy` at `multiplier`; NaN before any request. */
  hitRatio(policy: EvictionPolicy, multiplier: number): number {
    const mini = this.#minis.find((m) => m.policy === policy && m.multiplier === multiplier);
    if (mini === undefined) throw new RangeError(`multiplier ${multiplier} is not simulated`);
    return this.#requests === 0 ? Number.NaN : mini.hits / this.#requests;
  }

  /** Entries held by all miniatures together (their memory is proportional to this). */
  get entries(): number {
    let n = 0;
    for (const mini of this.#minis) n += mini.cache.size;
    return n;
  }

  /** Empties every miniature and zeroes the counts. */
  reset(): void {
    this.#requests = 0;
    for (const mini of this.#minis) {
      mini.cache.clear();
      mini.hits = 0;
    }
  }
}
