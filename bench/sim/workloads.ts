// Synthetic workloads of the hit-ratio benchmark beyond the plain Zipf row (issue 13):
// - a hash flood: a legitimate Zipf stream interleaved with crafted keys longer than 64 characters
//   that all collided under the sampling string hash Larder used before (src/engine/hash.ts read only
//   48 characters of such keys), so one shared sketch counter made every one of them look hot;
// - one-off keys: a Zipf stream with keys after each request that never come again;
// - drifting popularity: Zipf streams whose popular set moves over time, gradually or in jumps,
//   where recency matters more than long-run frequency.
import { createZipf } from '../lib/zipf.js';
import { shuffle, type Random } from '../lib/prng.js';

/** Keys up to this length were hashed in full by the old sampling hash; longer ones were sampled. */
const OLD_FULL_HASH_LENGTH = 64;
/** Characters the old hash read of a longer key: 32 spread over it, then the last 16. */
const OLD_SAMPLED_CHARS = 48;
const OLD_TAIL_CHARS = 16;

/**
 * The character positions the old sampling hash read in a key of `length` (> 64) characters: every
 * other position could change without changing the hash.
 */
export function oldSampledPositions(length: number): Set<number> {
  if (length <= OLD_FULL_HASH_LENGTH) return new Set(Array.from({ length }, (_, i) => i));
  const head = OLD_SAMPLED_CHARS - OLD_TAIL_CHARS;
  const step = (length - OLD_TAIL_CHARS) / head;
  const out = new Set<number>();
  for (let i = 0; i < head; i++) out.add((i * step) | 0);
  for (let i = length - OLD_TAIL_CHARS; i < length; i++) out.add(i);
  return out;
}

/**
 * `count` distinct keys of `length` characters that the old sampling hash mapped to one value: they
 * agree on every sampled position and spell their index (base 36) in positions it skipped.
 */
export function collidingLongKeys(count: number, length = 200): string[] {
  const sampled = oldSampledPositions(length);
  const free: number[] = [];
  for (let i = 0; i < length; i++) if (!sampled.has(i)) free.push(i);
  const digits = Math.max(1, Math.ceil(Math.log(Math.max(2, count)) / Math.log(36)));
  if (digits > free.length)
    throw new RangeError(`only ${free.length} free positions in a ${length}-char key`);
  const base = 'flood/'.padEnd(length, 'x').split('');
  const keys: string[] = [];
  for (let k = 0; k < count; k++) {
    const chars = base.slice();
    const id = k.toString(36).padStart(digits, '0');
    for (let d = 0; d < digits; d++) chars[free[d]!] = id[d]!;
    keys.push(chars.join(''));
  }
  return keys;
}

/**
 * `count` distinct keys of `length` characters that differ in their last characters, which every hash
 * (the old sampling one included) reads: the control for {@link collidingLongKeys}.
 */
export function ordinaryLongKeys(count: number, length = 200): string[] {
  return Array.from({ length: count }, (_, k) => `other/${k.toString(36)}`.padStart(length, 'x'));
}

/** A request stream whose requests are tagged legitimate or not. */
export interface FloodTrace {
  keys: string[];
  /** 1 where the request is part of the flood. */
  flood: Uint8Array;
}

/** Shape of the flood workload. */
export interface FloodOptions {
  /** Legitimate requests (Zipf). */
  legitimate: number;
  /** Distinct legitimate keys. */
  universe: number;
  skew: number;
  /** Flood requests per legitimate request (0 for the no-flood baseline). */
  floodPerRequest: number;
  /** Distinct flood keys, requested round-robin. */
  floodKeys: number;
  /** Flood keys crafted to collide under the old hash (default), or ordinary ones (the control). */
  crafted?: boolean;
}

/**
 * A Zipf(`skew`) stream of short keys (`item:<n>`), with `floodPerRequest` long flood keys after each
 * legitimate request. The legitimate stream does not depend on the flood, so runs with and without it
 * see the same legitimate requests.
 */
export function floodTrace(options: FloodOptions, random: Random): FloodTrace {
  const { legitimate, universe, skew, floodPerRequest, floodKeys, crafted = true } = options;
  const sample = createZipf(universe, skew, random);
  const names = shuffle(
    random,
    Array.from({ length: universe }, (_, i) => i),
  );
  const pool =
    floodPerRequest === 0 ? [] : crafted ? collidingLongKeys(floodKeys) : ordinaryLongKeys(floodKeys);
  const keys: string[] = [];
  const flood: number[] = [];
  let next = 0;
  for (let i = 0; i < legitimate; i++) {
    keys.push(`item:${names[sample()]!.toString(36)}`);
    flood.push(0);
    for (let f = 0; f < floodPerRequest; f++) {
      keys.push(pool[next]!);
      flood.push(1);
      if (++next === pool.length) next = 0;
    }
  }
  return { keys, flood: Uint8Array.from(flood) };
}

/** Shape of the one-off workload. */
export interface OneOffOptions {
  /** Legitimate requests (Zipf). */
  legitimate: number;
  /** Distinct legitimate keys. */
  universe: number;
  skew: number;
  /** Never-repeated keys requested after each legitimate request. */
  perRequest: number;
}

/**
 * A Zipf(`skew`) stream of short keys (`item:<n>`) with `perRequest` keys after each request that are
 * never requested again (`once:<n>`): a crawler or a scan of unique ids beside the real traffic. Unlike
 * {@link floodTrace}'s flood keys, which come round again, these can never be hit; what they cost is
 * what they displace and what they do to the frequency history.
 */
export function oneOffTrace(options: OneOffOptions, random: Random): FloodTrace {
  const { legitimate, universe, skew, perRequest } = options;
  if (!Number.isInteger(perRequest) || perRequest < 0)
    throw new RangeError(`perRequest must be an integer >= 0, got ${perRequest}`);
  const sample = createZipf(universe, skew, random);
  const keys = new Array<string>(legitimate * (1 + perRequest));
  const flood = new Uint8Array(keys.length);
  let at = 0;
  let next = 0;
  for (let i = 0; i < legitimate; i++) {
    keys[at++] = `item:${sample().toString(36)}`;
    for (let f = 0; f < perRequest; f++) {
      flood[at] = 1;
      keys[at++] = `once:${(next++).toString(36)}`;
    }
  }
  return { keys, flood };
}

/** Shape of a drifting-popularity workload. */
export interface DriftOptions {
  requests: number;
  /** Distinct keys. */
  universe: number;
  skew: number;
  /**
   * 'gradual': the popular set slides by one key every `every` requests; 'phases': every `every`
   * requests the popular set jumps to keys not popular in any earlier phase.
   */
  mode: 'gradual' | 'phases';
  every: number;
}

/**
 * Zipf(`skew`) over ranks, mapped to keys through an offset that moves with time (see
 * {@link DriftOptions.mode}); keys are scattered by a fixed random permutation.
 */
export function driftTrace(options: DriftOptions, random: Random): Int32Array {
  const { requests, universe, skew, mode, every } = options;
  const sample = createZipf(universe, skew, random);
  const perm = shuffle(
    random,
    Array.from({ length: universe }, (_, i) => i),
  );
  const out = new Int32Array(requests);
  // Jumps split the universe evenly between the phases, so each phase's hot set is new.
  const jump = Math.max(1, Math.floor(universe / Math.ceil(requests / every)));
  for (let i = 0; i < requests; i++) {
    const step = Math.floor(i / every);
    const offset = mode === 'gradual' ? step : step * jump;
    out[i] = perm[(sample() + offset) % universe]!;
  }
  return out;
}
