// cache.advise() through the facade: off by default, fed by getOrSet and get (hits and misses), and
// anchored on the cache's own measured hit ratio with a priced recommendation.
import { describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';

describe('cache.advise()', () => {
  it('is undefined while the advisor is off (the default)', async () => {
    const cache = createCache({ maxEntries: 10, cleanupInterval: 0 });
    expect(cache.advise()).toBeUndefined();
    await cache.close();
  });

  it('models the read stream of getOrSet and get', async () => {
    const cache = createCache<string>({ name: 'url', maxEntries: 100, advisor: true, cleanupInterval: 0 });
    for (let round = 0; round < 30; round++) {
      for (let k = 0; k < 150; k++) await cache.getOrSet(`/page/${k % 120}`, () => `body of ${k}`);
    }
    await cache.get('/page/1');
    await cache.get('/missing');
    const advice = cache.advise()!;
    expect(advice.cache).toBe('url');
    expect(advice.policy).toBe('tinylfu');
    expect(advice.sampleRate).toBe(1);
    expect(advice.sampledRequests).toBe(30 * 150 + 2);
    expect(advice.current).toEqual({ capacity: 100, hitRatio: cache.stats().hitRate });
    // 120 distinct keys: a cache of 200 or 400 entries holds them all after the first round.
    const at = (m: number) => advice.curve.find((p) => p.multiplier === m)!;
    expect(at(2).lru).toBeGreaterThan(95);
    expect(at(4).tinylfu).toBeGreaterThan(95);
    expect(at(1).lru).toBeLessThan(at(2).lru);
    expect(advice.bytesPerEntry).toBeGreaterThan(0);
    expect(advice.recommendation).toMatch(/^Doubling url from 100 to 200 entries would raise its hit ratio/);
    await cache.close();
  });

  it('names a bad advisor option', () => {
    expect(() => createCache({ maxBytes: 1_000_000, advisor: true })).toThrow(/advisor needs maxEntries/);
    expect(() => createCache({ advisor: 'yes' as never })).toThrow(/advisor must be a boolean or an object/);
    expect(() => createCache({ advisor: { rate: 3 } })).toThrow(/advisor.rate/);
  });
});
