// configure({ maxEntries }) on a cache with autoSize is held to autoSize's [min, max], as createCache's
// maxEntries is: a bound below min was taken, and adaptive sizing, whose candidates are the simulated
// sizes within [min, max] around the bound, could never bring the cache back into its range.
import { describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';

describe('configure({ maxEntries }) with autoSize', () => {
  it('refuses a bound outside [min, max] with a RangeError naming both, and changes nothing', async () => {
    const cache = createCache<string>({
      maxEntries: 100,
      autoSize: { min: 50, max: 200, memoryBudget: 1e6 },
      cleanupInterval: 0,
    });
    for (let i = 0; i < 100; i++) await cache.set(`k${i}`, 'v');
    expect(() => cache.configure({ maxEntries: 5 })).toThrow(
      new RangeError('maxEntries (5) must lie within autoSize [50, 200]'),
    );
    expect(() => cache.configure({ maxEntries: 201 })).toThrow(RangeError);
    expect(cache.stats()).toMatchObject({ maxEntries: 100, size: 100 });

    cache.configure({ maxEntries: 50 });
    expect(cache.stats()).toMatchObject({ maxEntries: 50, size: 50 });
    await cache.close();
  });

  it('leaves a cache without autoSize free to take any bound', async () => {
    const cache = createCache<string>({ maxEntries: 100, cleanupInterval: 0 });
    cache.configure({ maxEntries: 5 });
    expect(cache.stats().maxEntries).toBe(5);
    await cache.close();
  });
});
