// The synthetic workloads of bench:hit-ratio that carry a flag per request.
import { describe, expect, it } from 'vitest';
import { createRandom } from '../../bench/lib/prng.js';
import { oneOffTrace } from '../../bench/sim/workloads.js';

describe('oneOffTrace', () => {
  const options = { legitimate: 2_000, universe: 500, skew: 0.8, perRequest: 2 };

  it('puts perRequest never-repeated, flagged keys after each legitimate request', () => {
    const { keys, flood } = oneOffTrace(options, createRandom(3));
    expect(keys).toHaveLength(6_000);
    expect(flood).toHaveLength(6_000);
    const once = keys.filter((_, i) => flood[i] === 1);
    expect(once).toHaveLength(4_000);
    expect(new Set(once).size).toBe(4_000);
    for (let i = 0; i < keys.length; i += 3) {
      expect(flood[i]).toBe(0);
      expect(keys[i]).toMatch(/^item:/);
    }
    // The legitimate keys repeat (Zipf over 500 keys) and never meet a one-off key's name.
    const legit = keys.filter((_, i) => flood[i] === 0);
    expect(new Set(legit).size).toBeLessThan(500);
    expect(legit.some((k) => once.includes(k))).toBe(false);
  });

  it('draws the same legitimate stream whatever the number of one-off keys', () => {
    const alone = oneOffTrace({ ...options, perRequest: 0 }, createRandom(3));
    const mixed = oneOffTrace(options, createRandom(3));
    expect(mixed.keys.filter((_, i) => mixed.flood[i] === 0)).toEqual(alone.keys);
  });

  it('refuses a count of one-off keys that is not a whole number', () => {
    expect(() => oneOffTrace({ ...options, perRequest: 1.5 }, createRandom(3))).toThrow(RangeError);
    expect(() => oneOffTrace({ ...options, perRequest: -1 }, createRandom(3))).toThrow(/perRequest/);
  });
});
