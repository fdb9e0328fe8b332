// cache.configure({ maxEntries, maxBytes }): the in-memory tier is resized at run time (issue 13).
import { describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';

describe('configure resizes the in-memory tier', () => {
  it('shrinks by evicting (capacity evictions) and grows without a rebuild', async () => {
    const evicted: string[] = [];
    const cache = createCache<number>({ maxEntries: 100 });
    cache.on('cache:evict', (event: { key: unknown; reason: string }) => {
      if (event.reason === 'capacity') evicted.push(String(event.key));
    });
    for (let i = 0; i < 100; i++) await cache.set(`k${i}`, i);
    cache.configure({ maxEntries: 10 });
    const stats = cache.stats();
    expect(stats.size).toBe(10);
    expect(stats.maxEntries).toBe(10);
    expect(stats.evictions).toBe(90);
    expect(evicted).toHaveLength(90);
    cache.configure({ maxEntries: 1000 });
    for (let i = 0; i < 500; i++) await cache.set(`n${i}`, i);
    expect(cache.stats().size).toBe(510);
    expect(cache.stats().maxEntries).toBe(1000);
  });

  it('resizes a byte budget', async () => {
    const cache = createCache<string>({ maxBytes: 10_000, sizeOf: (v) => v.length });
    for (let i = 0; i < 50; i++) await cache.set(`k${i}`, 'x'.repeat(100));
    cache.configure({ maxBytes: 1_000 });
    expect(cache.stats().bytes).toBeLessThanOrEqual(1_000);
    expect(cache.stats().maxBytes).toBe(1_000);
  });

  it('validates bounds before changing anything, and only on the root', async () => {
    const cache = createCache<number>({ maxEntries: 20, ttl: '1h' });
    for (let i = 0; i < 20; i++) await cache.set(`k${i}`, i);
    expect(() => cache.configure({ maxEntries: 0, ttl: '2h' })).toThrow(RangeError);
    expect(() => cache.configure({ maxEntries: 1.5 })).toThrow(/maxEntries/);
    expect(() => cache.configure({ maxBytes: 100 })).toThrow(/maxBytes/);
    expect(() => cache.namespace('a').configure({ maxEntries: 5 })).toThrow(/root/);
    expect(cache.stats()).toMatchObject({ size: 20, maxEntries: 20, ttl: 3_600_000 });
  });
});
