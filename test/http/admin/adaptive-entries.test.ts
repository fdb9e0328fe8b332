// The admin API's entries report and the dashboard's key table show each key's adaptive TTL and
// whether its next load can be a conditional request (issue 15: "the dashboard shows adaptive TTLs").
import { afterEach, describe, expect, it } from 'vitest';
import { createCacheManager } from '../../../src/cache/manager.js';
import type { CacheManager } from '../../../src/cache/types.js';
import { createAdmin, type AdminHandler } from '../../../src/http/admin/admin.js';
import { dashboardAsset } from '../../../src/http/dashboard/index.js';
import { listen, type TestServer } from '../helpers/server.js';
import { manualClock } from '../../helpers/clock.js';

const KEY = 'k'.repeat(32);
let manager: CacheManager | undefined;
let admin: AdminHandler | undefined;
let server: TestServer | undefined;

afterEach(async () => {
  admin?.close();
  await server?.close();
  await manager?.close();
});

describe('adaptive TTL in the admin API and dashboard', () => {
  it('reports adaptive_ttl (seconds) and revalidatable per entry, only where they apply', async () => {
    const clock = manualClock();
    manager = createCacheManager({
      clock: clock.now,
      caches: {
        feeds: { ttl: '10s', adaptiveTtl: { min: '5s', max: '5m' } },
        plain: { ttl: '10s' },
      },
    });
    const feeds = manager.get('feeds');
    await feeds.getOrSet('a', (ctx) => {
      ctx.setValidators({ etag: '"1"' });
      return 'same';
    });
    clock.advance(10_000);
    await feeds.getOrSet('a', (ctx) => ctx.notModified());
    await manager.get('plain').set('p', 1);
    admin = createAdmin({ caches: manager, apiKey: KEY, prefix: '/api/cache' });
    const handler = admin;
    server = await listen((req, res) => {
      void handler(req, res, () => {
        res.statusCode = 404;
        res.end();
      });
    });
    const res = await fetch(`${server.url}/api/cache/stats`, { headers: { 'x-api-key': KEY } });
    const body = (await res.json()) as {
      caches: Record<string, { entries: Array<Record<string, unknown>> }>;
    };
    expect(body.caches.feeds!.entries).toEqual([
      expect.objectContaining({ key: 'a', adaptive_ttl: 20, revalidatable: true, ttl_remaining: 20 }),
    ]);
    const plain = body.caches.plain!.entries[0]!;
    expect(plain).not.toHaveProperty('adaptive_ttl');
    expect(plain).not.toHaveProperty('revalidatable');
  });

  it('the dashboard has an Adaptive TTL column fed from the report', () => {
    const html = String(dashboardAsset('')!.body);
    expect(html).toMatch(/<th class="num"[^>]*>Adaptive TTL<\/th>/);
    expect(html).toContain("ms(e, 'adaptive_ttl')");
    expect(html).toContain('fmt.duration(e.adaptiveTtlMs)');
  });
});
