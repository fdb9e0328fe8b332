// cacheStatsBody: the polled `GET /cache/stats` body of one cache (seed 001's shape).
import { describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import { cacheStatsBody } from '../../src/observability/stats-body.js';
import { manualClock } from '../helpers/clock.js';
import { deferred } from '../helpers/deferred.js';

describe('cacheStatsBody', () => {
  it('answers size, hits, misses, hit_rate and live entries with age and ttl_remaining in seconds', async () => {
    const clock = manualClock();
    const cache = createCache<number>({ ttl: '3s', grace: '10s', clock: clock.now });
    await cache.getOrSet('stats:total', async () => 1);
    await cache.getOrSet('orchestrator:status', async () => 2, { ttl: '2s' });
    await cache.set('forever', 3, { ttl: 0 });
    clock.advance(1500);
    await cache.getOrSet('stats:total', async () => 1);
    expect(cacheStatsBody(cache)).toEqual({
      size: 3,
      hits: 1,
      misses: 2,
      hit_rate: 33.33,
      entries: [
        { key: 'stats:total', age: 1.5, ttl_remaining: 1.5 },
        { key: 'orchestrator:status', age: 1.5, ttl_remaining: 0.5 },
        { key: 'forever', age: 1.5, ttl_remaining: null },
      ],
    });
    // Past its TTL, an entry held for grace is not live.
    clock.advance(600);
    const later = cacheStatsBody(cache);
    expect(later.size).toBe(2);
    expect(later.entries.map((e) => e.key)).toEqual(['stats:total', 'forever']);
    expect(cacheStatsBody(cache, { limit: 1 })).toMatchObject({ size: 2, entries: [{ key: 'stats:total' }] });
    await cache.close();
  });

  it('counts a caller that joined a load as a hit, so hit_rate is hits / (hits + misses)', async () => {
    const cache = createCache<number>({ ttl: '3s' });
    const load = deferred<number>();
    const polls = [1, 2, 3, 4].map(() => cache.getOrSet('k', () => load.promise));
    load.resolve(7);
    await Promise.all(polls);
    const body = cacheStatsBody(cache);
    expect(body).toMatchObject({ hits: 3, misses: 1, hit_rate: 75 });
    expect(body.hit_rate).toBe(cache.stats().hitRate);
    await cache.close();
  });

  it('refuses what is not a cache, and a bad limit', () => {
    expect(() => cacheStatsBody({} as never)).toThrow(/cacheStatsBody\(cache\) needs a cache/);
    const cache = createCache();
    expect(() => cacheStatsBody(cache, { limit: -1 })).toThrow(/limit must be a non-negative integer/);
    expect(() => cacheStatsBody(cache, { limit: 1.5 })).toThrow(RangeError);
  });
});
