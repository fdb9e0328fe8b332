// Seed 004, the URL shortener's in-memory cache system: one test per row of
// docs/seeds/004-url-shortener.md, run against the demo's module (demo/seeds/url-cache.ts), the demo
// over HTTP and the library. User-specific invalidation rules ({user}) are in
// test/seeds/004-user-invalidation.test.ts.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readConfig } from '../../demo/config.js';
import {
  CACHE_RULES,
  CACHE_TYPES,
  createUrlCaches,
  instanceKey,
  type CacheType,
} from '../../demo/seeds/url-cache.js';
import { createAdmin } from '../../src/entries/http.js';
import { BYTE_SAMPLE, MAX_BYTE_SAMPLE, estimateSize } from '../../src/engine/size-of.js';
import { MemoryCache, createCache, memoize, memoizeMethod } from '../../src/index.js';
import { manualClock } from '../helpers/clock.js';
import { listen, type TestServer } from '../http/helpers/server.js';
import { API_KEY, startTestDemo, type TestDemo } from '../demo/helpers.js';

const MB = 2 ** 20;

describe('seed 004: the cache manager and its cache types', () => {
  it('has the five types with the seed’s sizes and TTLs, configured by entry count only', async () => {
    const { cacheManager, getCache } = createUrlCaches();
    const types = Object.keys(CACHE_TYPES) as CacheType[];
    expect(types).toEqual(['url', 'user', 'analytics', 'session', 'general']);
    expect(
      types.map((t) => getCache(t).stats()).map((s) => [s.maxEntries, s.ttl / 60_000, s.maxBytes]),
    ).toEqual([
      [5000, 60, undefined],
      [1000, 30, undefined],
      [500, 15, undefined],
      [2000, 5, undefined],
      [1000, 10, undefined],
    ]);
    expect(cacheManager.names().sort()).toEqual([...types].sort());
    await cacheManager.close();
  });

  it('get_cache(type): set with a TTL, get with a default, exists, delete', async () => {
    const clock = manualClock();
    const { cacheManager, getCache } = createUrlCaches({ clock: clock.now });
    const urlCache = getCache<string>('url');
    await urlCache.set('key', 'value', { ttl: 3600 * 1000 });
    expect((await urlCache.get('key')) ?? 'default_value').toBe('value');
    expect((await urlCache.get('missing')) ?? 'default_value').toBe('default_value');
    expect(await urlCache.has('key')).toBe(true);
    expect(await urlCache.delete('key')).toBe(true);
    expect(await urlCache.has('key')).toBe(false);
    await cacheManager.close();
  });

  it('evicts when full (the seed’s LRU; Larder’s W-TinyLFU by default, `policy: "lru"` on request)', () => {
    const lru = new MemoryCache<string, number>({ maxEntries: 3, policy: 'lru' });
    for (const key of ['a', 'b', 'c']) lru.set(key, 1);
    lru.get('a');
    lru.set('d', 1);
    expect([...lru.keys()].sort()).toEqual(['a', 'c', 'd']);
    expect(lru.stats().evictions).toBe(1);
  });

  it('expires entries by TTL and sweeps expired ones in the background (cleanupInterval)', async () => {
    vi.useFakeTimers();
    try {
      let now = 0;
      const cache = new MemoryCache<string, number>({ ttl: 1000, cleanupInterval: 500, clock: () => now });
      cache.set('a', 1);
      now = 1500;
      await vi.advanceTimersByTimeAsync(10_000);
      expect(cache.size).toBe(0);
      expect(cache.stats().expirations).toBe(1);
      cache.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('reports hit/miss ratios, memory, evictions, expirations and uptime per cache', async () => {
    const clock = manualClock();
    const { cacheManager, getCache } = createUrlCaches({ clock: clock.now });
    const analytics = getCache('analytics');
    await analytics.getOrSet('a', async () => ({ clicks: 1 }));
    await analytics.getOrSet('a', async () => ({ clicks: 1 }));
    clock.advance(16 * 60_000);
    analytics.prune();
    const stats = analytics.stats();
    expect(stats).toMatchObject({ hits: 1, misses: 1, hitRate: 50, expirations: 1, evictions: 0 });
    expect(stats.uptimeMs).toBe(16 * 60_000);
    // get_all_stats(): every cache and the overall figures at once.
    const all = cacheManager.stats();
    expect(Object.keys(all.caches).sort()).toEqual(['analytics', 'general', 'session', 'url', 'user']);
    expect(all.overall).toMatchObject({ hits: 1, misses: 1 });
    await cacheManager.close();
  });
});

describe('seed 004: memory figures for caches bounded by entry count only', () => {
  /** About 1 KB per value: a URL record with a long target and a few fields. */
  const record = (i: number) => ({
    id: i,
    code: `c${i.toString(36)}`,
    url: `https://example.com/${'x'.repeat(400 + (i % 200))}`,
    owner: `user-${i % 50}`,
  });

  it('estimates the bytes held from a sample, within 10 % of measuring every entry', async () => {
    const sampled = new MemoryCache<string, object>({ maxEntries: 5000 });
    const measured = new MemoryCache<string, object>({ maxEntries: 5000, sizeOf: estimateSize });
    for (let i = 0; i < 3000; i++) {
      sampled.set(`code_${i}`, record(i));
      measured.set(`code_${i}`, record(i));
    }
    const estimate = sampled.stats().bytes;
    const exact = measured.stats().bytes;
    expect(Math.abs(estimate - exact) / exact).toBeLessThan(0.1);
    // Through a cache, the figure also counts each entry's envelope (write time, expiry, tags).
    const cache = createCache({ name: 'url', maxEntries: 5000 });
    for (let i = 0; i < 3000; i++) await cache.set(`code_${i}`, record(i));
    expect(cache.stats().bytes).toBeGreaterThan(exact);
    expect(cache.stats().bytes).toBeLessThan(1.5 * exact);
    await cache.close();
  });

  it('reads at most a bounded sample of values per stats() call, whatever the cache’s size', () => {
    let reads = 0;
    const cache = new MemoryCache<number, object>({ maxEntries: 100_000 });
    for (let i = 0; i < 50_000; i++) {
      cache.set(i, {
        get payload() {
          reads++;
          return 'p'.repeat(100);
        },
      });
    }
    const bytes = cache.stats().bytes;
    expect(bytes).toBeGreaterThan(50_000 * 100);
    expect(reads).toBe(BYTE_SAMPLE); // sizes alike: the first sample is enough
    expect(new MemoryCache().stats().bytes).toBe(0);
    // After most entries are deleted the slot range is mostly free; the survivors are still measured.
    const sparse = new MemoryCache<number, string>({ maxEntries: 10_000 });
    for (let i = 0; i < 10_000; i++) sparse.set(i, 'v'.repeat(100));
    for (let i = 0; i < 10_000; i++) if (i % 1000 !== 7) sparse.delete(i);
    expect(sparse.stats().bytes).toBe(10 * estimateSize('v'.repeat(100), 7));
  });

  it('reads more entries, up to a bound, when sizes vary: every 10th value 10x larger stays within 20 %', () => {
    let reads = 0;
    const sampled = new MemoryCache<number, object>({ maxEntries: 10_000 });
    const measured = new MemoryCache<number, object>({ maxEntries: 10_000, sizeOf: estimateSize });
    for (let i = 0; i < 5000; i++) {
      const value = { list: Array.from({ length: i % 10 === 0 ? 200 : 20 }, (_, j) => ({ j })) };
      sampled.set(i, value);
      measured.set(i, value);
    }
    const exact = measured.stats().bytes;
    const estimate = sampled.stats().bytes;
    expect(Math.abs(estimate - exact) / exact).toBeLessThan(0.2);
    const counting = new MemoryCache<number, object>({ maxEntries: 10_000 });
    for (let i = 0; i < 5000; i++) {
      const size = i % 10 === 0 ? 2000 : 20;
      counting.set(i, {
        get payload() {
          reads++;
          return 'p'.repeat(size);
        },
      });
    }
    counting.stats();
    expect(reads).toBeGreaterThan(BYTE_SAMPLE);
    expect(reads).toBeLessThanOrEqual(MAX_BYTE_SAMPLE);
  });

  it('answers memory_usage_mb per instance (keyed url_cache, …) and total_cache_memory_mb, non-zero', async () => {
    const { cacheManager, getCache } = createUrlCaches();
    const admin = createAdmin({ caches: cacheManager, apiKey: API_KEY, prefix: '/api/cache', instanceKey });
    const server: TestServer = await listen((req, res) => void admin(req, res));
    try {
      for (let i = 0; i < 2000; i++) await getCache('url').set(`code_${i}`, record(i));
      await getCache('analytics').set('stats_user-1', { clicks: Array.from({ length: 500 }, (_, i) => i) });
      const res = await fetch(`${server.url}/api/cache/performance/`, { headers: { 'x-api-key': API_KEY } });
      const body = (await res.json()) as {
        overall_performance: Record<string, number>;
        system_info: Record<string, number>;
        cache_instances: Record<string, Record<string, number>>;
      };
      expect(Object.keys(body.cache_instances).sort()).toEqual([
        'analytics_cache',
        'general_cache',
        'session_cache',
        'url_cache',
        'user_cache',
      ]);
      expect(body.cache_instances.url_cache).toMatchObject({
        current_size: 2000,
        max_size: 5000,
        hits: 0,
        misses: 0,
        hit_rate: 0,
      });
      expect(body.cache_instances.url_cache!.memory_usage_mb).toBeGreaterThan(1);
      expect(body.cache_instances.analytics_cache!.memory_usage_mb).toBeGreaterThan(0);
      expect(body.overall_performance.total_cache_memory_mb).toBeGreaterThanOrEqual(
        body.cache_instances.url_cache!.memory_usage_mb!,
      );
      expect(Object.keys(body.overall_performance).sort()).toEqual(
        ['overall_hit_rate', 'total_cache_memory_mb', 'total_hits', 'total_misses', 'total_requests'].sort(),
      );
      expect(Object.keys(body.system_info).sort()).toEqual(
        [
          'process_memory_mb',
          'system_memory_available_gb',
          'system_memory_percent_used',
          'system_memory_total_gb',
        ].sort(),
      );
      expect(body.cache_instances.url_cache!.memory_usage_mb).toBeCloseTo(
        getCache('url').stats().bytes / MB,
        1,
      );
    } finally {
      admin.close();
      await server.close();
      await cacheManager.close();
    }
  });
});

describe('seed 004: decorators', () => {
  it('@cache_result(ttl, cache_type): memoize on a cache type', async () => {
    const { cacheManager, getCache } = createUrlCaches();
    const calculate = vi.fn(async (userId: string) => ({ userId, score: 42 }));
    const expensive = memoize(calculate, { cache: getCache('analytics'), ttl: '5m' });
    await expensive('u1');
    expect(await expensive('u1')).toEqual({ userId: 'u1', score: 42 });
    expect(calculate).toHaveBeenCalledTimes(1);
    expect(getCache('analytics').stats().size).toBe(1);
    await cacheManager.close();
  });

  it('@cache_method_result(ttl, cache_type): memoizeMethod on a class method', async () => {
    const { cacheManager, getCache } = createUrlCaches();
    const load = vi.fn(async (userId: string) => ({ userId, links: 3 }));
    class Stats {
      @memoizeMethod({ cache: getCache('user'), ttl: '5m' })
      getUserStats(userId: string) {
        return load(userId);
      }
    }
    const stats = new Stats();
    await stats.getUserStats('u1');
    await stats.getUserStats('u1');
    expect(load).toHaveBeenCalledTimes(1);
    await cacheManager.close();
  });
});

describe('seed 004: configuration', () => {
  it('CACHE_RULES keep the seed’s settings form (regex path, cache_type, ttl in s, vary_by_user, vary_by_method)', () => {
    expect(CACHE_RULES['^/api/urls/$']).toEqual({
      cache_type: 'url',
      ttl: 300,
      vary_by_user: true,
      vary_by_method: false,
      // The demo's addition: its per-user answers are marked private, and stored per user all the same.
      store_private: true,
    });
    expect(CACHE_RULES['^/api/urls/stats/$']).toMatchObject({
      cache_type: 'analytics',
      ttl: 900,
      vary_by_user: true,
      store_private: true,
    });
  });

  it('CACHE_LOGGING = True turns the demo’s cache logging on', () => {
    for (const value of ['True', 'true', '1', 'on']) {
      expect(readConfig({ CACHE_LOGGING: value }).logCacheOps).toBe(true);
    }
    expect(readConfig({ CACHE_LOGGING: 'False' }).logCacheOps).toBe(false);
    expect(readConfig({}).logCacheOps).toBe(false);
    expect(() => readConfig({ CACHE_LOGGING: 'sometimes' })).toThrow(/CACHE_LOGGING/);
  });
});

describe('seed 004: the demo over HTTP', () => {
  let t: TestDemo;
  beforeAll(async () => {
    t = await startTestDemo();
  });
  afterAll(() => t.demo.close());
  const list = async (user: string) => (await t.call('/api/urls/', { user })).headers.get('x-cache');

  it('CacheMiddleware: GET answers cached per URL rule and per user (@cache_view)', async () => {
    expect([await list('user-1'), await list('user-1'), await list('user-2')]).toEqual([
      'MISS',
      'HIT',
      'MISS',
    ]);
    const stats = [
      await t.call('/api/urls/stats/', { user: 'user-1' }),
      await t.call('/api/urls/stats/', { user: 'user-1' }),
    ];
    expect(stats.map((r) => r.headers.get('x-cache'))).toEqual(['MISS', 'HIT']);
    expect(t.demo.caches.analytics!.stats().size).toBeGreaterThanOrEqual(1);
  });

  it('a user’s list and analytics go out Cache-Control: private, fresh or cached, so no shared cache downstream hands them to another user', async () => {
    for (const path of ['/api/urls/', '/api/urls/stats/']) {
      const answers = [await t.call(path, { user: 'user-8' }), await t.call(path, { user: 'user-8' })];
      expect(answers.map((r) => r.headers.get('x-cache'))).toEqual(['MISS', 'HIT']);
      for (const r of answers) expect(r.headers.get('cache-control')).toBe('private');
    }
    // A link's details are the same for everyone, and stay unmarked.
    expect((await t.call('/api/urls/1', { user: 'user-8' })).headers.get('cache-control')).toBeNull();
  });

  it('CacheInvalidationMiddleware: a user’s POST drops that user’s cached answers only', async () => {
    await list('user-3');
    await list('user-4');
    const res = await t.call('/api/urls/', {
      method: 'POST',
      user: 'user-3',
      json: { url: 'https://a.example/' },
    });
    expect(res.status).toBe(201);
    expect([await list('user-3'), await list('user-4')]).toEqual(['MISS', 'HIT']);
  });

  it('invalidates a profile with user_cache.delete("user_profile_<id>")', async () => {
    await list('user-5');
    const users = t.demo.seeds.urls.getCache('user');
    expect(await users.has('user_profile_user-5')).toBe(true);
    expect(await users.delete('user_profile_user-5')).toBe(true);
    expect(await users.has('user_profile_user-5')).toBe(false);
  });

  it('GET /api/cache/stats/, /health/ and /performance/ answer for the five caches', async () => {
    const stats = (await (await t.call('/api/cache/stats/', { key: true })).json()) as {
      caches: Record<string, Record<string, unknown>>;
    };
    expect(Object.keys(stats.caches).sort()).toEqual(['analytics', 'general', 'session', 'url', 'user']);
    expect(stats.caches.url).toMatchObject({ hits: expect.any(Number), evictions: 0, expirations: 0 });
    expect(await (await t.call('/api/cache/health/', { key: true })).json()).toMatchObject({ status: 'ok' });
    const perf = (await (await t.call('/api/cache/performance/', { key: true })).json()) as {
      overall_performance: Record<string, number>;
      cache_instances: Record<string, Record<string, number>>;
    };
    // The demo's url cache holds per-user list answers by now: its memory figure is non-zero.
    const url = Object.entries(perf.cache_instances).find(([name]) => name.startsWith('url'))![1];
    expect(url.memory_usage_mb).toBeGreaterThan(0);
    expect(perf.overall_performance.total_cache_memory_mb).toBeGreaterThan(0);
  });

  it('the dashboard shows memory per cache, estimated (≈) where a cache has no byte budget', async () => {
    await list('user-7');
    const stats = (await (await t.call('/cache/stats?limit=0', { key: true })).json()) as {
      caches: Record<string, { bytes: number; max_bytes: number | null }>;
    };
    expect(stats.caches.url).toMatchObject({ bytes: expect.any(Number), max_bytes: null });
    expect(stats.caches.url!.bytes).toBeGreaterThan(0);
    expect(stats.caches.user!.bytes).toBeGreaterThan(0);
    const page = await (await t.call('/cache/dashboard', { key: true })).text();
    expect(page).toContain('>Memory</th>');
    expect(page).toContain('`≈ ${fmt.bytes(c.bytes)}`');
  });

  it('POST /api/cache/invalidate/, /clear/{cache_type}/ and /clear/', async () => {
    await list('user-6');
    const inv = await t.call('/api/cache/invalidate/', {
      method: 'POST',
      key: true,
      json: { patterns: ['GET /api/urls/ * user=*'] },
    });
    expect(((await inv.json()) as { invalidated: number }).invalidated).toBeGreaterThanOrEqual(1);
    expect(await list('user-6')).toBe('MISS');
    expect((await t.call('/api/cache/clear/url/', { method: 'POST', key: true })).status).toBe(200);
    expect(t.demo.caches.url!.stats().size).toBe(0);
    expect(t.demo.caches.user!.stats().size).toBeGreaterThan(0);
    expect((await t.call('/api/cache/clear/', { method: 'POST', key: true })).status).toBe(200);
    expect(t.demo.caches.user!.stats().size).toBe(0);
  });
});
