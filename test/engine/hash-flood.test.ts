// The hash-flood workload of issue 13, scaled down: crafted keys longer than 64 characters that all
// shared one hash under the old sampling hash must not get a frequency advantage in the sketch, so
// they cost the legitimate requests no more than the same volume of ordinary one-off keys does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryCache } from '../../src/engine/memory-cache.js';
import { setHashSeed } from '../../src/engine/hash.js';
import { floodTrace, type FloodTrace } from '../../bench/sim/workloads.js';
import { createRandom } from '../../bench/lib/prng.js';

let saved = 0;
beforeAll(() => {
  saved = setHashSeed(0x7f4a_7c15);
});
afterAll(() => {
  setHashSeed(saved);
});

const CAPACITY = 1000;

/** Hit ratio (%) of the legitimate requests; also the mean frequency of resident flood and other keys. */
function replay(trace: FloodTrace): { legit: number; floodFreq: number; legitFreq: number } {
  const cache = new MemoryCache<string, number>({ maxEntries: CAPACITY, policy: 'tinylfu' });
  let hits = 0;
  let counted = 0;
  trace.keys.forEach((key, i) => {
    const hit = cache.get(key) !== undefined;
    if (!hit) cache.set(key, 1);
    if (trace.flood[i] === 1) return;
    counted++;
    if (hit) hits++;
  });
  const freq = { flood: 0, floodN: 0, legit: 0, legitN: 0 };
  for (const e of cache.hottest()) {
    if (e.key.length > 64) {
      freq.flood += e.frequency;
      freq.floodN++;
    } else {
      freq.legit += e.frequency;
      freq.legitN++;
    }
  }
  return {
    legit: (100 * hits) / counted,
    floodFreq: freq.floodN === 0 ? 0 : freq.flood / freq.floodN,
    legitFreq: freq.legitN === 0 ? 0 : freq.legit / freq.legitN,
  };
}

describe('a flood of crafted long keys', () => {
  const options = {
    legitimate: 100_000,
    universe: 100_000,
    skew: 0.99,
    floodPerRequest: 1,
    floodKeys: 5_000,
  };

  it('costs the legitimate requests no more than a flood of ordinary keys', () => {
    const crafted = replay(floodTrace(options, createRandom(5)));
    const ordinary = replay(floodTrace({ ...options, crafted: false }, createRandom(5)));
    // With the old hash every crafted key read the one shared counter, saturated at 15: they looked
    // hot, won every admission duel and took the cache from the legitimate keys.
    expect(crafted.floodFreq).toBeLessThan(crafted.legitFreq + 0.5);
    expect(Math.abs(crafted.legit - ordinary.legit)).toBeLessThan(1.5);
  });
});
