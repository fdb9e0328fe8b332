// ARC mode (tinylfu.ts, "ARC mode"; miniature.ts): when the miniature ARC out-hits every miniature
// W-TinyLFU, the policy runs its window as ARC's T1 and its main space as T2, and it returns to
// W-TinyLFU once a window share leads again.
import { describe, expect, it } from 'vitest';
import { WindowTuner } from '../../src/engine/miniature.js';
import { hashKey } from '../../src/engine/hash.js';
import { MemoryCache, engineInternals } from '../../src/engine/memory-cache.js';
import { evictionLog, seededRandom } from './helpers.js';

const CAPACITY = 200;

/**
 * Power-law popularity over 20 x `capacity` keys whose hot set moves to fresh keys every
 * 20 x `capacity` requests: the workload where ARC leads W-TinyLFU at every window share.
 */
function drift(capacity: number, requests: number, seed: number): number[] {
  const rand = seededRandom(seed);
  const every = 20 * capacity;
  return Array.from({ length: requests }, (_, i) => {
    const rank = Math.floor(Math.pow(20 * capacity, rand()));
    return 1_000_000 + Math.floor(i / every) * 100 * capacity + rank;
  });
}

/** A loop over 1.5 x `capacity` keys: ARC and LRU hit nothing, a 1 % window most of the loop. */
function loop(capacity: number, requests: number): number[] {
  return Array.from({ length: requests }, (_, i) => i % Math.floor(capacity * 1.5));
}

/** Replays `keys` read-through (get, set on a miss) and returns the hit ratio. */
function replay(cache: MemoryCache<number, number>, keys: readonly number[]): number {
  let hits = 0;
  for (const key of keys)
    if (cache.get(key) !== undefined) hits++;
    else cache.set(key, key);
  return hits / keys.length;
}

function policyState(cache: MemoryCache<number, number>): Record<string, number> {
  return cache[engineInternals]().policy;
}

describe('WindowTuner and ARC', () => {
  it('chooses ARC while it leads every window share, and leaves it when a share leads', () => {
    const tuner = new WindowTuner(CAPACITY);
    const feed = (keys: number[]): boolean[] => {
      const decisions: boolean[] = [];
      for (const key of keys) {
        const hash = hashKey(key);
        if ((hash & tuner.mask) === 0 && tuner.access(hash)) decisions.push(tuner.arc);
      }
      return decisions;
    };
    const onDrift = feed(drift(CAPACITY, 40_000, 1));
    expect(onDrift.filter(Boolean).length).toBeGreaterThan(onDrift.length / 2);
    expect(tuner.arc).toBe(true);
    expect(tuner.share).toBeGreaterThanOrEqual(0);
    expect(tuner.share).toBeLessThanOrEqual(1);
    feed(loop(CAPACITY, 20_000));
    expect(tuner.arc).toBe(false);
    expect(tuner.share).toBe(0.01);
  });
});

describe('TinyLfuPolicy in ARC mode', () => {
  it('enters ARC mode on a drifting workload, hits more than LRU there, and regains the loop after', () => {
    const cache = new MemoryCache<number, number>({ maxEntries: CAPACITY });
    const lru = new MemoryCache<number, number>({ maxEntries: CAPACITY, policy: 'lru' });
    const keys = drift(CAPACITY, 40_000, 2);
    const tuned = replay(cache, keys);
    expect(policyState(cache).arc).toBe(1);
    expect(tuned).toBeGreaterThan(replay(lru, keys) + 0.01);
    // T1's budget is the miniature ARC's target p, scaled to the cache.
    const state = policyState(cache);
    expect(state.windowMax).toBe(Math.round(state.tunerShare! * CAPACITY));
    // A loop: ARC would hit nothing; the tuner goes back to a 1 % window, which keeps most of it.
    const onLoop = replay(cache, loop(CAPACITY, 40_000));
    expect(policyState(cache).arc).toBe(0);
    expect(onLoop).toBeGreaterThan(0.5);
    expect(policyState(cache).windowWeight).toBeLessThanOrEqual(policyState(cache).windowMax!);
  });

  it('keeps every invariant under random operations in ARC mode', () => {
    const log = evictionLog<number, number>();
    const cache = new MemoryCache<number, number>({ maxEntries: CAPACITY, onEvict: log.onEvict });
    replay(cache, drift(CAPACITY, 40_000, 3));
    expect(policyState(cache).arc).toBe(1);
    const model = new Map<number, number>();
    for (const entry of cache.entries()) model.set(entry.key, entry.value);
    log.calls.length = 0;
    const rand = seededRandom(4);
    let stepsInArc = 0;
    for (let step = 0; step < 20_000; step++) {
      const key = 1_000_000 + Math.floor(rand() * CAPACITY * 3);
      const op = rand();
      if (op < 0.5) {
        const got = cache.get(key);
        if (got !== undefined) expect(got).toBe(model.get(key));
      } else if (op < 0.9) {
        cache.set(key, step);
        model.set(key, step);
      } else {
        const had = model.has(key);
        cache.delete(key);
        model.delete(key);
        // A delete is reported as such, and only for a key that was there.
        const deletes = log.calls.filter((call) => call[2] === 'deleted');
        expect(deletes.map((call) => call[0])).toEqual(had ? [key] : []);
        log.calls.length = 0;
      }
      // Every eviction is reported with its reason, and an evicted key is no longer served.
      for (const [evicted, value, reason] of log.calls) {
        expect(reason).toBe('capacity');
        expect(model.get(evicted)).toBe(value);
        model.delete(evicted);
        expect(cache.peek(evicted)).toBeUndefined();
      }
      log.calls.length = 0;
      expect(cache.size).toBeLessThanOrEqual(CAPACITY);
      expect(cache.size).toBe(model.size);
      if (policyState(cache).arc === 1) stepsInArc++;
    }
    // The operations above ran in ARC mode, not after a quick return to W-TinyLFU.
    expect(stepsInArc).toBeGreaterThan(10_000);
    const state = policyState(cache);
    expect(state.totalWeight).toBe(cache.size);
    expect(state.windowWeight! + state.protectedWeight!).toBeLessThanOrEqual(state.totalWeight!);
    expect(state.windowWeight).toBeGreaterThanOrEqual(0);
    for (const [key, value] of model) expect(cache.peek(key)).toBe(value);
  });

  it('leaves ARC mode on resize and stays within the new bound', () => {
    const cache = new MemoryCache<number, number>({ maxEntries: CAPACITY });
    replay(cache, drift(CAPACITY, 40_000, 5));
    expect(policyState(cache).arc).toBe(1);
    cache.resize({ maxEntries: CAPACITY / 2 });
    const state = policyState(cache);
    expect(state.arc).toBe(0);
    expect(cache.size).toBeLessThanOrEqual(CAPACITY / 2);
    expect(state.windowWeight).toBeLessThanOrEqual(state.windowMax!);
    expect(state.protectedWeight).toBeLessThanOrEqual(state.protectedMax!);
    replay(cache, drift(CAPACITY / 2, 10_000, 6));
    expect(cache.size).toBeLessThanOrEqual(CAPACITY / 2);
  });
});
