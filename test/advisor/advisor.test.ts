// The sizing advisor: options are checked, the sampling rate adapts to the cache's size, and on
// workloads whose LRU hit ratio is known in closed form the predicted curve lands on the answer.
import { describe, expect, it } from 'vitest';
import { SizingAdvisor } from '../../src/advisor/advisor.js';
import { MemoryCache, engineInternals } from '../../src/engine/memory-cache.js';
import { MODE_WTINYLFU } from '../../src/engine/miniature.js';
import { chooseRate, rateOf, samplingHash, thresholdFor } from '../../src/advisor/sampler.js';
import { hashKey } from '../../src/engine/hash.js';
import { replay } from '../../bench/sim/replay.js';
// A seeded generator (mulberry32), so the workloads are the same on every run.
import { seededRandom as random } from '../engine/helpers.js';

describe('SizingAdvisor options', () => {
  it('names the bad option', () => {
    expect(() => new SizingAdvisor(0)).toThrow(/capacity must be a positive integer/);
    expect(() => new SizingAdvisor(1.5)).toThrow(RangeError);
    expect(() => new SizingAdvisor(10, { rate: 0 })).toThrow(/advisor.rate/);
    expect(() => new SizingAdvisor(10, { rate: 2 })).toThrow(/advisor.rate/);
    expect(() => new SizingAdvisor(10, { minSampledEntries: -1 })).toThrow(/advisor.minSampledEntries/);
    expect(() => new SizingAdvisor(10, { multipliers: [] })).toThrow(/advisor.multipliers/);
    expect(() => new SizingAdvisor(10, { multipliers: [0.5, -2] })).toThrow(/advisor.multipliers/);
  });

  it('always simulates the current size, sorted, without duplicates', () => {
    expect(new SizingAdvisor(100, { multipliers: [4, 0.5, 4] }).multipliers).toEqual([0.5, 1, 4]);
  });

  it('samples small caches fully and large ones sparsely, keeping the smallest miniature useful', () => {
    expect(new SizingAdvisor(1_000).rate).toBe(1);
    const large = new SizingAdvisor(1_000_000, { minSampledEntries: 500 });
    // The 0.25x miniature holds about 500 entries.
    expect(large.rate * 250_000).toBeCloseTo(500, 0);
    expect(new SizingAdvisor(1_000_000, { rate: 0.01 }).rate).toBeCloseTo(0.01, 6);
    expect(chooseRate(100, 0.25, 512)).toBe(1);
    expect(rateOf(thresholdFor(1))).toBe(1);
    expect(rateOf(thresholdFor(0.125))).toBe(0.125);
  });
});

describe('SizingAdvisor predictions', () => {
  it('predicts LRU on a uniform workload: hit ratio = capacity / distinct keys after a warm pass', () => {
    const keys = 50_000;
    const capacity = 10_000;
    const uniform = 300_000;
    const advisor = new SizingAdvisor(capacity);
    expect(advisor.rate).toBeLessThan(0.5); // this test exercises sampling, not a full simulation
    // One pass over every key, then uniform requests: from then on an LRU cache of C entries always
    // holds C distinct keys, so each request hits with probability C / keys exactly.
    for (let k = 0; k < keys; k++) advisor.record(`item:${k}`);
    const next = random(7);
    for (let i = 0; i < uniform; i++) advisor.record(`item:${Math.floor(next() * keys)}`);
    const curve = advisor.curve();
    expect(curve.map((p) => p.capacity)).toEqual([2_500, 5_000, 10_000, 20_000, 40_000]);
    for (const point of curve) {
      const expected = (100 * uniform * Math.min(1, point.capacity / keys)) / (keys + uniform);
      expect(Math.abs(point.lru - expected)).toBeLessThan(2);
      // Without frequency skew W-TinyLFU cannot beat holding any `capacity` keys either.
      expect(Math.abs(point.tinylfu - expected)).toBeLessThan(3);
    }
    expect(advisor.sampledRequests / (keys + uniform)).toBeCloseTo(advisor.rate, 1);
  });

  it('predicts a small cache exactly, W-TinyLFU included when its tuner takes the ARC or S3-FIFO mode', () => {
    const capacity = 200;
    const advisor = new SizingAdvisor(capacity);
    expect(advisor.rate).toBe(1);
    const cache = new MemoryCache<string, number>({ maxEntries: capacity });
    // Power-law popularity whose hot set moves to fresh keys every 4,000 requests.
    const next = random(5);
    let hits = 0;
    let modeSeen = false;
    const requests = 40_000;
    for (let i = 0; i < requests; i++) {
      const key = `k:${Math.floor(i / 4_000)}:${Math.floor(Math.pow(4_000, next()))}`;
      advisor.record(key);
      if (cache.get(key) === undefined) cache.set(key, i);
      else hits++;
      if (cache[engineInternals]().policy.mode !== MODE_WTINYLFU) modeSeen = true;
    }
    expect(modeSeen).toBe(true);
    const here = advisor.curve().find((point) => point.multiplier === 1)!;
    // The curve is rounded to hundredths of a point.
    expect(Math.abs(here.tinylfu - (100 * hits) / requests)).toBeLessThanOrEqual(0.005 + 1e-9);
  });

  it('predicts LRU on a loop: nothing below the loop length, everything but the first pass above', () => {
    const loop = 30_000;
    const passes = 10;
    const advisor = new SizingAdvisor(20_000);
    expect(advisor.rate).toBeLessThan(1);
    for (let pass = 0; pass < passes; pass++) for (let k = 0; k < loop; k++) advisor.record(k);
    const byMultiplier = new Map(advisor.curve().map((p) => [p.multiplier, p]));
    for (const m of [0.25, 0.5, 1]) expect(byMultiplier.get(m)!.lru).toBe(0);
    const warm = (100 * (passes - 1)) / passes;
    for (const m of [2, 4]) expect(Math.abs(byMultiplier.get(m)!.lru - warm)).toBeLessThan(2);
    // W-TinyLFU keeps part of the loop resident where LRU keeps none of it.
    expect(byMultiplier.get(1)!.tinylfu).toBeGreaterThan(20);
  });

  it('predicts a sampled W-TinyLFU within the 2-point target: the sample leaves the engine hash even', () => {
    // Half the requests are one-hit wonders that frequency admission keeps out; the other half favour
    // low-numbered keys. Numeric keys hash the same in every process, so the sample is fixed. When the
    // advisor sampled by the engine hash's own top bits, its miniatures saw keys that all shared their
    // sketch blocks and index positions, and predicted 0.5x 7.7 points low (within 0.5 now).
    const capacity = 20_000;
    const advisor = new SizingAdvisor(capacity);
    expect(advisor.rate).toBeLessThan(0.2);
    const next = random(11);
    const keys: number[] = [];
    for (let i = 0; i < 400_000; i++)
      keys.push(next() < 0.5 ? 1_000_000 + i : Math.floor(next() * next() * 60_000));
    for (const key of keys) advisor.record(key);
    for (const point of advisor.curve()) {
      const cache = new MemoryCache<number, number>({ maxEntries: point.capacity, cleanupInterval: 0 });
      expect(Math.abs(point.tinylfu - replay(keys, cache))).toBeLessThan(2);
    }
    // The sampled keys' engine hashes cover the top bits evenly, as the real cache's keys do.
    const threshold = thresholdFor(advisor.rate);
    const homes = new Set<number>();
    for (let k = 0; k < 60_000; k++)
      if (samplingHash(`hot:${k}`) < threshold) homes.add(hashKey(`hot:${k}`) >>> 26);
    expect(homes.size).toBeGreaterThan(60);
  });

  it('recordHit samples exactly like record, remembering the decision on the holder', () => {
    const a = new SizingAdvisor(400, { rate: 0.5 });
    const b = new SizingAdvisor(400, { rate: 0.5 });
    const holders = new Map<string, object>();
    const next = random(3);
    for (let i = 0; i < 20_000; i++) {
      const key = `k${Math.floor(next() * 1_000)}`;
      a.record(key);
      let holder = holders.get(key);
      if (holder === undefined) holders.set(key, (holder = i % 2 === 0 ? {} : Object.freeze({})));
      b.recordHit(key, holder);
    }
    expect(b.sampledRequests).toBe(a.sampledRequests);
    expect(b.curve()).toEqual(a.curve());
    // The remembered decision is not an enumerable field: JSON and serializers do not see it.
    expect(JSON.stringify([...holders.values()][0])).toBe('{}');
  });

  it('reset forgets the model', () => {
    const advisor = new SizingAdvisor(10);
    for (let i = 0; i < 100; i++) advisor.record(i % 5);
    expect(advisor.sampledRequests).toBe(100);
    expect(advisor.simulatedEntries).toBeGreaterThan(0);
    advisor.reset();
    expect(advisor.sampledRequests).toBe(0);
    expect(advisor.simulatedEntries).toBe(0);
    expect(advisor.curve().every((p) => p.lru === 0 && p.tinylfu === 0)).toBe(true);
  });
});

describe('SizingAdvisor.advise', () => {
  it('answers the curve, the current point and a priced recommendation', () => {
    const keys = 50_000;
    const advisor = new SizingAdvisor(10_000);
    for (let k = 0; k < keys; k++) advisor.record(k);
    const next = random(11);
    for (let i = 0; i < 250_000; i++) advisor.record(Math.floor(next() * keys));
    const advice = advisor.advise({ cache: 'url', policy: 'tinylfu', hitRatio: 20, bytesPerEntry: 300 });
    expect(advice).toMatchObject({
      cache: 'url',
      policy: 'tinylfu',
      current: { capacity: 10_000, hitRatio: 20 },
      sampleRate: advisor.rate,
      sampledRequests: advisor.sampledRequests,
      bytesPerEntry: 300,
    });
    expect(advice.curve).toHaveLength(5);
    // Doubling adds C / keys = 20 % of the uniform requests' hits, i.e. about 16.7 points here.
    const [one, two] = [1, 2].map((m) => advice.curve.find((p) => p.multiplier === m)!.tinylfu);
    const predicted = Number((20 + two! - one!).toFixed(1));
    expect(Math.abs(predicted - (20 + 50 / 3))).toBeLessThan(2);
    expect(advice.recommendation).toBe(
      `Doubling url from 10,000 to 20,000 entries would raise its hit ratio from 20% to ${predicted}% for about 3 MB more. ` +
        `At 40,000 entries it would reach ${Number((20 + advice.curve[4]!.tinylfu - one!).toFixed(1))}%.`,
    );
  });

  it('reports the simulated current hit ratio when the cache does not give one', () => {
    const advisor = new SizingAdvisor(10);
    for (let i = 0; i < 2_000; i++) advisor.record(i % 5);
    const advice = advisor.advise({ cache: 'c', policy: 'lru' });
    expect(advice.current.hitRatio).toBe(advice.curve.find((p) => p.multiplier === 1)!.lru);
    expect(advice.current.hitRatio).toBeGreaterThan(99);
  });
});
