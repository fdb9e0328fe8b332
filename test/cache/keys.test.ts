// Keys the facade refuses: NaN and ±Infinity cannot round-trip through a snapshot or the shared tier,
// so every entry point refuses them with a TypeError that names the method, and nothing is stored.
import { describe, expect, it } from 'vitest';
import { createCache } from '../../src/index.js';

describe('non-finite keys', () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    it(`refuses ${String(bad)} in every method and stores nothing`, async () => {
      const cache = createCache<string>({ name: 'keys' });
      let loads = 0;
      await expect(cache.set(bad, 'v')).rejects.toThrow(/set: key must be a string or a finite number/);
      await expect(
        cache.getOrSet(bad, () => {
          loads++;
          return 'v';
        }),
      ).rejects.toThrow(/getOrSet: key must be a string or a finite number/);
      await expect(cache.get(bad)).rejects.toThrow(TypeError);
      await expect(cache.delete(bad)).rejects.toThrow(TypeError);
      await expect(cache.has(bad)).rejects.toThrow(TypeError);
      await expect(cache.warm([[bad, 'v']])).rejects.toThrow(/warm source item 0: key must be/);
      expect(loads).toBe(0);
      expect(cache.stats().size).toBe(0);
      expect(cache.dump()).toEqual([]);
      await cache.close();
    });
  }

  it('still takes finite numbers and strings', async () => {
    const cache = createCache<string>({ name: 'keys' });
    await cache.set(123, 'n');
    await cache.set('123', 's');
    expect(await cache.get(123)).toBe('n');
    expect(await cache.getOrSet(-0.5, () => 'f')).toBe('f');
    await cache.close();
  });
});
