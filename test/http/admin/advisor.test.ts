// GET advisor on the admin API: each cache's advice in snake_case (null where the advisor is off),
// one cache with ?cache=, 404 for an unknown cache, 401 without the key.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCacheManager } from '../../../src/cache/manager.js';
import type { CacheManager } from '../../../src/cache/types.js';
import { createAdmin, type AdminHandler } from '../../../src/http/admin/admin.js';
import { listen, type TestServer } from '../helpers/server.js';

const KEY = 'a'.repeat(32);
let manager: CacheManager;
let admin: AdminHandler;
let server: TestServer;

beforeEach(async () => {
  manager = createCacheManager({
    caches: { url: { maxEntries: 50, advisor: true }, user: { maxEntries: 10 } },
  });
  const url = manager.get('url');
  for (let i = 0; i < 2_000; i++) await url.getOrSet(`/p/${i % 80}`, () => i);
  admin = createAdmin({ caches: manager, apiKey: KEY, prefix: '/api/cache' });
  server = await listen((req, res) => void admin(req, res));
});
afterEach(async () => {
  admin.close();
  await server.close();
  await manager.close();
});

const get = (path: string, key: string | null = KEY) =>
  fetch(`${server.url}/api/cache/${path}`, { headers: key === null ? {} : { 'x-api-key': key } });

describe('GET advisor', () => {
  it('serves every cache’s advice in snake_case, null where the advisor is off', async () => {
    const response = await get('advisor');
    expect(response.status).toBe(200);
    const body = (await response.json()) as { caches: Record<string, any> };
    expect(body.caches.user).toBeNull();
    const url = body.caches.url;
    expect(url).toMatchObject({ cache: 'url', policy: 'tinylfu', sampled_requests: 2_000, sample_rate: 1 });
    expect(url.current).toEqual({ capacity: 50, hit_ratio: manager.get('url').stats().hitRate });
    expect(url.curve.map((p: { multiplier: number }) => p.multiplier)).toEqual([0.25, 0.5, 1, 2, 4]);
    expect(url.curve[3]).toMatchObject({ capacity: 100 });
    expect(url.curve[3].lru).toBeGreaterThan(90);
    expect(url.recommendation).toMatch(/^Doubling url from 50 to 100 entries/);
  });

  it('narrows to one cache, refuses an unknown one and a missing key', async () => {
    const one = (await (await get('advisor?cache=user')).json()) as { caches: Record<string, unknown> };
    expect(one).toEqual({ caches: { user: null } });
    expect((await get('advisor?cache=nope')).status).toBe(404);
    expect((await get('advisor', null)).status).toBe(401);
  });
});
