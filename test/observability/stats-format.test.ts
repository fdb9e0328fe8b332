import { describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import { snakeCaseStats } from '../../src/index.js';
import { manualClock } from '../helpers/clock.js';

describe('snakeCaseStats', () => {
  it("reports a cache's counters under seed 003's names with its exact figures", async () => {
    const clock = manualClock();
    const cache = createCache({ name: 'plans', ttl: '5m', clock: clock.now });
    await cache.getOrSet('a', async () => 1);
    await cache.getOrSet('a', async () => 1);
    await cache.getOrSet('a', async () => 1);
    await cache.getOrSet('b', async () => 2);
    await cache.set('c', 3);
    await cache.invalidatePattern('c*');
    expect(snakeCaseStats(cache.stats())).toEqual({
      hits: 2,
      misses: 2,
      sets: 3,
      invalidations: 1,
      total_requests: 4,
      hit_rate_pct: 50,
      cache_size: 2,
    });
    await cache.close();
  });

  it('rounds nothing itself: hit_rate_pct is the cache figure (two decimals)', () => {
    const s = { hits: 2, misses: 1, sets: 1, invalidations: 0, totalRequests: 3, hitRate: 66.67, size: 1 };
    expect(snakeCaseStats(s)).toMatchObject({ hit_rate_pct: 66.67, total_requests: 3, cache_size: 1 });
  });
});
