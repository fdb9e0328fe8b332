import { describe, expect, it, vi } from 'vitest';
import { createCacheManager } from '../../src/cache/manager.js';
import { join } from 'node:path';
import { manualClock } from '../helpers/clock.js';
import { scratchDir } from '../persistence/helpers.js';

// Seed 004's five cache types, as configuration alone.
const SEED_004 = {
  url: { maxEntries: 5000, ttl: '1h' },
  user: { maxEntries: 1000, ttl: '30m' },
  analytics: { maxEntries: 500, ttl: '15m' },
  session: { maxEntries: 2000, ttl: '5m' },
  general: { maxEntries: 1000, ttl: '10m' },
};

// Seed 000's four resource kinds.
const SEED_000 = {
  plans: { ttl: '1h' },
  images: { ttl: '1h' },
  marketplace: { ttl: '6h' },
  regions: { ttl: '24h' },
};

describe('createCacheManager', () => {
  it('expresses seed 004 as config: names, bounds and TTLs', async () => {
    const clock = manualClock();
    const caches = createCacheManager({ defaults: { policy: 'lru' }, caches: SEED_004, clock: clock.now });
    expect(caches.names()).toEqual(['url', 'user', 'analytics', 'session', 'general']);
    const expected = {
      url: [5000, 3_600_000],
      user: [1000, 1_800_000],
      analytics: [500, 900_000],
      session: [2000, 300_000],
      general: [1000, 600_000],
    };
    for (const [name, [maxEntries, ttl]] of Object.entries(expected)) {
      expect(caches.get(name).stats()).toMatchObject({ name, maxEntries, ttl, policy: 'lru' });
    }
    await caches.get('session').set('s1', 'x');
    expect(await caches.get('session').ttlRemaining('s1')).toBe(300_000);
    await caches.close();
  });

  it('expresses seed 000 as config; per-kind configure and invalidation by provider tag', async () => {
    const clock = manualClock();
    const caches = createCacheManager({ defaults: { maxEntries: 100 }, caches: SEED_000, clock: clock.now });
    for (const kind of caches.names()) {
      await caches.get(kind).set(`provider:uuid-1`, [kind], { tags: ['provider:uuid-1'] });
      await caches.get(kind).set(`provider:uuid-2`, [kind], { tags: ['provider:uuid-2'] });
    }
    expect(await caches.get('regions').ttlRemaining('provider:uuid-1')).toBe(86_400_000);
    caches.get('plans').configure({ ttl: '2h' });
    expect(caches.get('plans').stats().ttl).toBe(7_200_000);
    // invalidateProvider(uuid-1): every kind drops that provider only.
    const counts = await Promise.all(
      caches.names().map((k) => caches.get(k).invalidateTags(['provider:uuid-1'])),
    );
    expect(counts).toEqual([1, 1, 1, 1]);
    expect(
      caches
        .get('images')
        .entries()
        .map((e) => e.key),
    ).toEqual(['provider:uuid-2']);
    await caches.clear('images');
    expect(caches.get('images').stats().size).toBe(0);
    expect(caches.get('plans').stats().size).toBe(1);
    await caches.clear();
    expect(caches.stats().overall.size).toBe(0);
  });

  it('aggregates stats: counters summed, hit rate recomputed, per-cache kept', async () => {
    const caches = createCacheManager({ caches: { a: { maxEntries: 10 }, b: { maxEntries: 20 } } });
    const a = caches.get<number>('a');
    const b = caches.get<number>('b');
    await a.getOrSet('x', () => 1);
    await a.getOrSet('x', () => 1);
    await a.getOrSet('x', () => 1);
    await b.getOrSet('y', () => 2);
    const { overall, caches: per } = caches.stats();
    expect(per.a).toMatchObject({ hits: 2, misses: 1, hitRate: 66.67 });
    expect(per.b).toMatchObject({ hits: 0, misses: 1, hitRate: 0 });
    expect(overall).toMatchObject({
      hits: 2,
      misses: 2,
      totalRequests: 4,
      hitRate: 50,
      size: 2,
      loads: 2,
      maxEntries: 30,
    });
    expect(overall.loadTime.count).toBe(2);
    expect(caches.health()).toEqual({ status: 'ok' });
  });

  it('get() of an unknown name throws a clear error; create() adds one from defaults; duplicates are refused', () => {
    const caches = createCacheManager({ defaults: { ttl: '10m' }, caches: { url: {} } });
    expect(() => caches.get('urll')).toThrow(/unknown cache "urll"; configured caches: url/);
    expect(caches.has('extra')).toBe(false);
    const extra = caches.create('extra', { maxEntries: 5 });
    expect(caches.get('extra')).toBe(extra);
    expect(extra.stats()).toMatchObject({ ttl: 600_000, maxEntries: 5 });
    expect(() => caches.create('extra')).toThrow(/already exists/);
    expect(() => caches.create('')).toThrow(/name/);
  });

  it('lists a cache named "__proto__" in stats() and restore() like any other', async () => {
    const scratch = scratchDir();
    try {
      const path = join(scratch.dir, 'caches.snap');
      const manager = createCacheManager({ caches: { other: {} } });
      manager.create('__proto__', { ttl: '1h' });
      await manager.get('__proto__').set('k', 'v');
      await manager.get('__proto__').get('k');
      const stats = manager.stats();
      expect(Object.keys(stats.caches).sort()).toEqual(['__proto__', 'other']);
      expect(Object.getPrototypeOf(stats.caches)).toBe(Object.prototype);
      expect([stats.overall.sets, stats.overall.hits]).toEqual([1, 1]);
      await manager.backup(path);
      const restored = await manager.restore(path);
      expect(Object.keys(restored.caches).sort()).toEqual(['__proto__', 'other']);
      expect(Object.getOwnPropertyDescriptor(restored.caches, '__proto__')?.value).toMatchObject({
        loaded: 1,
      });
      await manager.close();
    } finally {
      scratch.remove();
    }
  });

  it('names the cache whose options are bad', () => {
    expect(() => createCacheManager({ caches: { good: {}, bad: { ttl: -1 } } })).toThrow(/cache "bad": ttl/);
    expect(() => createCacheManager({ caches: 5 as any })).toThrow(/caches/);
  });

  it('close() closes every cache; health reports the closed one', async () => {
    const caches = createCacheManager({ caches: { a: {}, b: {}, c: {} } });
    for (const name of caches.names()) await caches.get(name).set('k', 'cached');
    await caches.close();
    expect(caches.health()).toMatchObject({ status: 'degraded', reason: 'a: closed' });
    for (const name of caches.names()) {
      const cache = caches.get(name);
      expect(cache.health(), name).toEqual({ status: 'degraded', reason: 'closed' });
      // A closed cache keeps nothing and calls the loader on every read.
      expect(await cache.get('k'), name).toBeUndefined();
      const loader = vi.fn(async () => 'loaded');
      expect(await cache.getOrSet('k', loader), name).toBe('loaded');
      expect(await cache.getOrSet('k', loader), name).toBe('loaded');
      expect(loader, name).toHaveBeenCalledTimes(2);
    }
  });
});
