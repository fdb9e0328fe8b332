import { describe, expect, it } from 'vitest';
import { CACHE_TYPES, createUrlCaches } from '../../../demo/seeds/url-cache.js';

describe('seed 004: url cache types', () => {
  it('builds the five named caches with the seed sizes and TTLs, overridable per type', async () => {
    const { cacheManager, getCache } = createUrlCaches({ ttl: { session: '1m' } });
    expect(cacheManager.names().sort()).toEqual(['analytics', 'general', 'session', 'url', 'user']);
    const sizes = Object.fromEntries(
      cacheManager.names().map((n) => [n, getCache(n as never).stats().maxEntries]),
    );
    expect(sizes).toEqual({ url: 5000, user: 1000, analytics: 500, session: 2000, general: 1000 });
    expect(getCache('url').stats().ttl).toBe(3_600_000);
    expect(getCache('user').stats().ttl).toBe(1_800_000);
    expect(getCache('analytics').stats().ttl).toBe(900_000);
    expect(getCache('general').stats().ttl).toBe(600_000);
    expect(getCache('session').stats().ttl).toBe(60_000);
    expect(CACHE_TYPES.session.ttl).toBe('5m');
    await getCache('url').set('key', 'value');
    expect(await getCache('url').get('key')).toBe('value');
    expect(await getCache('user').get('key')).toBeUndefined();
    await cacheManager.close();
  });
});
