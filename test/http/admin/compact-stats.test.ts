// `GET stats?format=compact`: one cache's polled-stats body (seed 001's shape) from the admin API.
import { afterEach, describe, expect, it } from 'vitest';
import { createCache } from '../../../src/cache/create-cache.js';
import type { Cache } from '../../../src/cache/types.js';
import { createAdmin, type AdminHandler } from '../../../src/http/admin/admin.js';
import { cacheStatsBody } from '../../../src/observability/stats-body.js';
import { manualClock } from '../../helpers/clock.js';
import { listen, type TestServer } from '../helpers/server.js';

const KEY = 'k'.repeat(32);
let admin: AdminHandler;
let server: TestServer;
let caches: Cache[];

async function start(source: Record<string, Cache> | Cache, publicStats = false): Promise<void> {
  admin = createAdmin({ caches: source, apiKey: KEY, prefix: '/cache', publicStats });
  server = await listen((req, res) => void admin(req, res));
}

const get = async (path: string, key: string | null = KEY) => {
  const res = await fetch(`${server.url}/cache/${path}`, {
    headers: key === null ? {} : { 'x-api-key': key },
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};

afterEach(async () => {
  await server.close();
  admin.close();
  await Promise.all(caches.map((c) => c.close()));
});

describe('admin GET stats?format=compact', () => {
  it("answers the named cache's body, as cacheStatsBody gives it", async () => {
    const clock = manualClock();
    const stats = createCache({ name: 'stats', ttl: '3s', clock: clock.now });
    const other = createCache({ name: 'other', ttl: '1m' });
    caches = [stats, other];
    await stats.getOrSet('vpn:status', async () => 1);
    await stats.getOrSet('vpn:status', async () => 1);
    await start({ stats, other });
    clock.advance(500);
    const { status, body } = await get('stats?cache=stats&format=compact');
    expect(status).toBe(200);
    expect(body).toEqual(cacheStatsBody(stats));
    expect(body).toEqual({
      size: 1,
      hits: 1,
      misses: 1,
      hit_rate: 50,
      entries: [{ key: 'vpn:status', age: 0.5, ttl_remaining: 2.5 }],
    });
    expect((await get('stats?format=compact&cache=stats&limit=0')).body.entries).toEqual([]);
  });

  it('needs ?cache= when there is more than one cache, not when there is one', async () => {
    const a = createCache({ name: 'a' });
    const b = createCache({ name: 'b' });
    caches = [a, b];
    await start({ a, b });
    expect(await get('stats?format=compact')).toMatchObject({ status: 400 });
    expect(await get('stats?format=compact&cache=nope')).toMatchObject({ status: 404 });
    await server.close();
    admin.close();
    await start(a);
    expect(await get('stats?format=compact')).toMatchObject({ status: 200, body: { size: 0 } });
  });

  it('shows no key names to a keyless caller of publicStats', async () => {
    const stats = createCache({ name: 'stats', ttl: '3s' });
    caches = [stats];
    await stats.set('secret:key', 1);
    await start({ stats }, true);
    const { status, body } = await get('stats?cache=stats&format=compact', null);
    expect(status).toBe(200);
    expect(body).toEqual({ size: 1, hits: 0, misses: 0, hit_rate: 0, entries: [] });
    expect((await get('stats?cache=stats&format=compact')).body.entries).toHaveLength(1);
  });
});
