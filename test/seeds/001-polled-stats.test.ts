// Seed 001 (polled stats), row by row as docs/seeds/001-polled-stats.md maps it: the three cached
// endpoints and their TTLs, invalidation on engine changes, `GET /cache/stats` in the document's shape
// (from the library, not only the demo's route), `POST /cache/clear`, per-key TTLs from environment
// variables, and the implementation details and enhancements the document lists. Endpoint rows go
// through real HTTP against the demo; time moves on the demo's injected clock.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { readConfig } from '../../demo/config.js';
import { createStatsCache, STATS_TTLS } from '../../demo/seeds/stats-cache.js';
import { cacheStatsBody } from '../../src/index.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { SharedTier } from '../../src/tiers/shared-tier.js';
import { manualClock } from '../helpers/clock.js';
import { deferred } from '../helpers/deferred.js';
import { consoleLogger } from '../helpers/logger.js';
import { startTestDemo, API_KEY, type TestDemo } from '../demo/helpers.js';
import { ChaosDriver } from '../tiers/chaos-driver.js';

/** The docker upstream's call counter of each cached endpoint. */
const ENDPOINTS = [
  { path: '/engines/stats/total', key: 'stats:total', op: 'docker.stats', ttl: 3000 },
  { path: '/orchestrator/status', key: 'orchestrator:status', op: 'orchestrator.aggregate', ttl: 2000 },
  { path: '/vpn/status', key: 'vpn:status', op: 'vpn.health', ttl: 3000 },
] as const;

describe('seed 001 › cached endpoints (HTTP)', () => {
  let t: TestDemo;
  beforeAll(async () => {
    t = await startTestDemo();
  });
  afterAll(() => t.demo.close());

  for (const endpoint of ENDPOINTS) {
    it(`GET ${endpoint.path}: one expensive call per ${endpoint.ttl / 1000} s window`, async () => {
      const calls = () => t.demo.upstreams.docker.calls.get(endpoint.op);
      const before = calls();
      const first = await (await t.call(endpoint.path)).json();
      expect(calls()).toBe(before + 1);
      // Within the window (to its last millisecond) the stored answer comes back, with no call.
      t.clock.advance(endpoint.ttl - 1);
      expect(await (await t.call(endpoint.path)).json()).toEqual(first);
      expect(calls()).toBe(before + 1);
      // At the TTL it has expired: the next request is a miss and calls again.
      t.clock.advance(1);
      await t.call(endpoint.path);
      expect(calls()).toBe(before + 2);
      t.clock.advance(endpoint.ttl);
    });
  }
});

describe('seed 001 › invalidation (HTTP)', () => {
  let t: TestDemo;
  beforeAll(async () => {
    t = await startTestDemo();
  });
  afterAll(() => t.demo.close());
  const counts = () => ENDPOINTS.map((e) => t.demo.upstreams.docker.calls.get(e.op));
  const pollAll = () => Promise.all(ENDPOINTS.map((e) => t.call(e.path)));

  it('an engine provision drops stats:total and orchestrator:status, not vpn:status', async () => {
    await pollAll();
    const start = counts();
    const created = await t.call('/engines', { method: 'POST', json: { name: 'seed-001' } });
    expect(created.status).toBe(201);
    expect(t.demo.seeds.stats.stats().entries.map((e) => e.key)).toEqual(['vpn:status']);
    await pollAll();
    expect(counts()).toEqual([start[0]! + 1, start[1]! + 1, start[2]]);
  });

  it('an engine deletion drops stats:total and orchestrator:status, not vpn:status', async () => {
    const created = (await (await t.call('/engines', { method: 'POST', json: { name: 'x' } })).json()) as {
      id: string;
    };
    await pollAll();
    const start = counts();
    const engines = ((await (await t.call('/engines/stats/total')).json()) as { engines: number }).engines;
    expect((await t.call(`/engines/${created.id}`, { method: 'DELETE' })).status).toBe(200);
    expect(t.demo.seeds.stats.stats().entries.map((e) => e.key)).toEqual(['vpn:status']);
    expect(((await (await t.call('/engines/stats/total')).json()) as { engines: number }).engines).toBe(
      engines - 1,
    );
    await t.call('/orchestrator/status');
    await t.call('/vpn/status');
    expect(counts()).toEqual([start[0]! + 1, start[1]! + 1, start[2]]);
  });

  it('vpn:status is never invalidated: it expires after its 3 s', async () => {
    await t.call('/vpn/status');
    await t.call('/engines', { method: 'POST', json: { name: 'y' } });
    expect(t.demo.seeds.stats.stats().entries.map((e) => e.key)).toContain('vpn:status');
    t.clock.advance(3000);
    expect(t.demo.seeds.stats.stats().entries).toEqual([]);
  });
});

describe('seed 001 › monitoring (HTTP)', () => {
  let t: TestDemo;
  beforeAll(async () => {
    t = await startTestDemo();
  });
  afterAll(() => t.demo.close());

  it('GET /cache/stats answers size, hits, misses, hit_rate and entries with age and ttl_remaining', async () => {
    t.demo.caches.stats!.resetStats();
    await t.call('/engines/stats/total');
    await t.call('/orchestrator/status');
    await t.call('/vpn/status');
    t.clock.advance(1500);
    for (let i = 0; i < 4; i++) await t.call('/engines/stats/total');
    const res = await t.call('/cache/stats');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      size: 3,
      hits: 4,
      misses: 3,
      hit_rate: 57.14,
      entries: [
        { key: 'stats:total', age: 1.5, ttl_remaining: 1.5 },
        { key: 'orchestrator:status', age: 1.5, ttl_remaining: 0.5 },
        { key: 'vpn:status', age: 1.5, ttl_remaining: 1.5 },
      ],
    });
  });

  it("the same body comes from the library: cacheStatsBody and the admin API's ?format=compact", async () => {
    await t.call('/vpn/status');
    const route = await (await t.call('/cache/stats')).json();
    expect(cacheStatsBody(t.demo.caches.stats!)).toEqual(route);
    const admin = await t.call('/cache/stats?cache=stats&format=compact', { key: true });
    expect(await admin.json()).toEqual(route);
  });

  it('POST /cache/clear empties the cache with X-API-KEY, and refuses without it', async () => {
    await t.call('/vpn/status');
    expect((await t.call('/cache/clear', { method: 'POST' })).status).toBe(401);
    expect(t.demo.seeds.stats.stats().size).toBeGreaterThan(0);
    const res = await t.call('/cache/clear', { method: 'POST', headers: { 'X-API-KEY': API_KEY } });
    expect(res.status).toBe(200);
    expect(((await (await t.call('/cache/stats')).json()) as { size: number }).size).toBe(0);
  });

  it('pattern invalidation: POST /cache/invalidate with a pattern drops the matching keys', async () => {
    await Promise.all(ENDPOINTS.map((e) => t.call(e.path)));
    const res = await t.call('/cache/invalidate', {
      method: 'POST',
      key: true,
      json: { cache: 'stats', patterns: ['*:status'] },
    });
    expect(await res.json()).toMatchObject({ invalidated: 2 });
    expect(t.demo.seeds.stats.stats().entries.map((e) => e.key)).toEqual(['stats:total']);
  });

  it('metrics export: GET /cache/metrics serves the stats cache to Prometheus', async () => {
    await t.call('/vpn/status');
    const text = await (await t.call('/cache/metrics', { key: true })).text();
    expect(text).toMatch(/^larder_cache_hits_total\{cache="stats"\} \d+$/m);
    expect(text).toMatch(/^larder_cache_misses_total\{cache="stats"\} [1-9]\d*$/m);
  });
});

describe('seed 001 › load and timeline (HTTP)', () => {
  const running: TestDemo[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((t) => t.demo.close()));
  });

  it('three pollers a second apart cost one expensive call per 3 s window (67 % fewer calls)', async () => {
    const t = await startTestDemo();
    running.push(t);
    const calls = () => t.demo.upstreams.docker.calls.get('docker.stats');
    let polls = 0;
    // Three UI tabs poll every 3 s, a second apart: 18 polls over 18 s.
    for (let second = 0; second < 18; second++) {
      await t.call('/engines/stats/total');
      polls++;
      t.clock.advance(1000);
    }
    expect(polls).toBe(18);
    expect(calls()).toBe(6);
    expect(1 - calls() / polls).toBeCloseTo(0.667, 2);
  });

  it("the document's timeline (miss, hit, hit, miss at 0/5/10/15 s) with a 12 s TTL from LARDER_TTL_STATS_TOTAL", async () => {
    const { statsKeyTtl } = readConfig({ LARDER_TTL_STATS_TOTAL: '12s' });
    const t = await startTestDemo({ statsKeyTtl });
    running.push(t);
    const seen: string[] = [];
    for (let poll = 0; poll < 4; poll++) {
      const before = t.demo.upstreams.docker.calls.get('docker.stats');
      await t.call('/engines/stats/total');
      seen.push(t.demo.upstreams.docker.calls.get('docker.stats') > before ? 'MISS' : 'HIT');
      t.clock.advance(5000);
    }
    expect(seen).toEqual(['MISS', 'HIT', 'HIT', 'MISS']);
  });

  it('TTLs default to 3 s / 2 s / 3 s and each is set by its own environment variable', async () => {
    expect(STATS_TTLS).toEqual({ 'stats:total': '3s', 'orchestrator:status': '2s', 'vpn:status': '3s' });
    const config = readConfig({
      LARDER_TTL_STATS_TOTAL: '5s',
      LARDER_TTL_ORCHESTRATOR_STATUS: '1s',
      LARDER_TTL_VPN_STATUS: '4s',
    });
    const t = await startTestDemo({ statsKeyTtl: config.statsKeyTtl });
    running.push(t);
    await Promise.all(ENDPOINTS.map((e) => t.call(e.path)));
    const body = (await (await t.call('/cache/stats')).json()) as {
      entries: Array<{ key: string; ttl_remaining: number }>;
    };
    expect(Object.fromEntries(body.entries.map((e) => [e.key, e.ttl_remaining]))).toEqual({
      'stats:total': 5,
      'orchestrator:status': 1,
      'vpn:status': 4,
    });
  });
});

describe('seed 001 › implementation details', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('concurrent requests for a cold key share one expensive call', async () => {
    const cache = createStatsCache();
    const gate = deferred<{ cpu: number }>();
    const compute = vi.fn(() => gate.promise);
    const polls = [1, 2, 3, 4, 5].map(() => cache.cached('stats:total', compute));
    gate.resolve({ cpu: 1 });
    expect(await Promise.all(polls)).toEqual(Array(5).fill({ cpu: 1 }));
    expect(compute).toHaveBeenCalledTimes(1);
    await cache.cache.close();
  });

  it('expired entries are removed by the background sweep (every 60 s) or at once by prune()', async () => {
    vi.useFakeTimers();
    const clock = manualClock();
    const swept = createStatsCache({ clock: clock.now });
    const pruned = createStatsCache({ clock: clock.now });
    for (const c of [swept, pruned]) {
      for (const e of ENDPOINTS) await c.cached(e.key, async () => e.op);
    }
    clock.advance(3000);
    expect([swept.cache.stats().size, pruned.cache.stats().size]).toEqual([3, 3]);
    expect(pruned.cache.prune()).toBe(3);
    vi.advanceTimersByTime(59_000);
    expect(swept.cache.stats().size).toBe(3);
    vi.advanceTimersByTime(1_000);
    expect(swept.cache.stats().size).toBe(0);
    await Promise.all([swept.cache.close(), pruned.cache.close()]);
  });

  it('keys follow <prefix>:<function_name>', async () => {
    const cache = createStatsCache();
    for (const e of ENDPOINTS) await cache.cached(e.key, async () => 1);
    expect(cache.stats().entries.map((e) => e.key)).toEqual([
      'stats:total',
      'orchestrator:status',
      'vpn:status',
    ]);
    await cache.cache.close();
  });

  it('if the cache fails, the expensive call answers directly', async () => {
    // The shared tier down: requests are answered from the loader, then from memory.
    const chaos = new ChaosDriver(new MemoryDriver());
    const cache = createStatsCache({ l2: new SharedTier({ driver: chaos }) });
    chaos.mode = 'fail';
    const compute = vi.fn(async () => ({ engines: 2 }));
    expect(await cache.cached('stats:total', compute)).toEqual({ engines: 2 });
    expect(await cache.cached('stats:total', compute)).toEqual({ engines: 2 });
    expect(compute).toHaveBeenCalledTimes(1);
    // No cache at all (closed): every request runs the expensive call itself, and none fails.
    await cache.cache.close();
    expect(await cache.cached('stats:total', compute)).toEqual({ engines: 2 });
    expect(await cache.cached('stats:total', compute)).toEqual({ engines: 2 });
    expect(compute).toHaveBeenCalledTimes(3);
  });

  it('debug logging writes Cache HIT, MISS, SET and DELETE', async () => {
    const { logger, lines } = consoleLogger();
    const cache = createStatsCache({ logger });
    await cache.cached('stats:total', async () => 1);
    await cache.cached('stats:total', async () => 1);
    await cache.onEngineChange();
    const debug = lines.filter((l) => l.level === 'debug').map((l) => `${l.message} ${l.fields.key ?? ''}`);
    expect(debug).toEqual(
      expect.arrayContaining([
        'Cache MISS stats:total',
        'Cache SET stats:total',
        'Cache HIT stats:total',
        'Cache DELETE stats:total',
        'Cache DELETE orchestrator:status',
      ]),
    );
    await cache.cache.close();
  });

  it('cache warming: warmed keys answer the first poll without the expensive call', async () => {
    const cache = createStatsCache();
    const compute = vi.fn(async () => ({ engines: 0 }));
    await cache.cache.warm([['stats:total', { engines: 3 }, { ttl: STATS_TTLS['stats:total'] }]]);
    expect(await cache.cached('stats:total', compute)).toEqual({ engines: 3 });
    expect(compute).not.toHaveBeenCalled();
    await cache.cache.close();
  });
});
