// Shared helpers for the engine tests: a controllable clock, an onEvict recorder and a seeded PRNG.
import type { EvictionReason } from '../../src/engine/types.js';

/** A clock the test moves by hand. */
export function manualClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

/** Records onEvict calls as [key, value, reason] triples. */
export function evictionLog<K, V>(): {
  onEvict: (k: K, v: V, r: EvictionReason) => void;
  calls: [K, V, EvictionReason][];
} {
  const calls: [K, V, EvictionReason][] = [];
  return { onEvict: (k, v, r) => void calls.push([k, v, r]), calls };
}

export { seededRandom } from '../helpers/random.js';
