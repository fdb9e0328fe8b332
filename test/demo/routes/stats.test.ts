import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDemo, type TestDemo } from '../helpers.js';

describe('seed 001 endpoints', () => {
  let t: TestDemo;
  beforeAll(async () => {
    t = await startTestDemo();
  });
  afterAll(() => t.demo.close());
  const calls = (op: string) => t.demo.upstreams.docker.calls.get(op);
  const get = async (path: string) => (await t.call(path)).json();

  it('caches /engines/stats/total 3 s, /orchestrator/status 2 s and /vpn/status 3 s', async () => {
    await Promise.all([1, 2, 3].map(() => t.call('/engines/stats/total')));
    await get('/orchestrator/status');
    await get('/vpn/status');
    expect([calls('docker.stats'), calls('orchestrator.aggregate'), calls('vpn.health')]).toEqual([1, 1, 1]);
    t.clock.advance(2001);
    await get('/engines/stats/total');
    await get('/orchestrator/status');
    await get('/vpn/status');
    expect([calls('docker.stats'), calls('orchestrator.aggregate'), calls('vpn.health')]).toEqual([1, 2, 1]);
    t.clock.advance(1000);
    await get('/engines/stats/total');
    await get('/vpn/status');
    expect([calls('docker.stats'), calls('vpn.health')]).toEqual([2, 2]);
  });

  it('invalidates stats and orchestrator (not vpn) when an engine is provisioned or deleted', async () => {
    const before = (await get('/engines/stats/total')) as { engines: number };
    await get('/orchestrator/status');
    await get('/vpn/status');
    const counts = () => [calls('docker.stats'), calls('orchestrator.aggregate'), calls('vpn.health')];
    const start = counts();

    const created = await t.call('/engines', { method: 'POST', json: { name: 'engine-test' } });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    expect(((await get('/engines/stats/total')) as { engines: number }).engines).toBe(before.engines + 1);
    await get('/orchestrator/status');
    await get('/vpn/status');
    expect(counts()).toEqual([start[0]! + 1, start[1]! + 1, start[2]]);

    expect(((await get('/engines')) as Array<{ id: string }>).map((e) => e.id)).toContain(id);
    expect((await t.call(`/engines/${id}`, { method: 'DELETE' })).status).toBe(200);
    expect(((await get('/engines/stats/total')) as { engines: number }).engines).toBe(before.engines);
    expect((await t.call(`/engines/${id}`, { method: 'DELETE' })).status).toBe(404);
  });

  it('answers GET /cache/stats in the seed shape without a key, and the admin stats with one', async () => {
    await get('/vpn/status');
    const seed = (await get('/cache/stats')) as Record<string, unknown>;
    expect(Object.keys(seed).sort()).toEqual(['entries', 'hit_rate', 'hits', 'misses', 'size']);
    expect(seed.entries).toContainEqual({
      key: 'vpn:status',
      age: expect.any(Number),
      ttl_remaining: expect.any(Number),
    });
    const stats = t.demo.caches.stats!.stats();
    expect(seed).toMatchObject({ hits: stats.hits, misses: stats.misses, hit_rate: stats.hitRate });

    const admin = (await (await t.call('/cache/stats', { key: true })).json()) as {
      caches: Record<string, unknown>;
    };
    expect(Object.keys(admin.caches)).toHaveLength(12);
    expect((await t.call('/cache/stats', { headers: { 'x-api-key': 'wrong-key-000' } })).status).toBe(401);
  });

  it('clears the cache on POST /cache/clear only with X-API-KEY', async () => {
    await get('/vpn/status');
    expect((await t.call('/cache/clear', { method: 'POST' })).status).toBe(401);
    expect(t.demo.seeds.stats.stats().size).toBeGreaterThan(0);
    const res = await t.call('/cache/clear', {
      method: 'POST',
      headers: { 'X-API-KEY': 'test-admin-key-123' },
    });
    expect(res.status).toBe(200);
    expect(t.demo.seeds.stats.stats().size).toBe(0);
  });
});
