import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDemo, type TestDemo } from '../helpers.js';

describe('seed 000 endpoints', () => {
  let t: TestDemo;
  beforeAll(async () => {
    t = await startTestDemo();
  });
  afterAll(() => t.demo.close());
  const calls = (op: string) => t.demo.upstreams.providers.calls.get(op);

  it('serves each resource kind from its cache after the first call', async () => {
    for (const kind of ['plans', 'images', 'regions']) {
      const first = await t.call(`/api/providers/prov-1/${kind}`);
      expect(first.status).toBe(200);
      const body = (await first.json()) as Array<{ providerId: string }>;
      expect(body.length).toBeGreaterThan(0);
      expect(body[0]!.providerId).toBe('prov-1');
      await t.call(`/api/providers/prov-1/${kind}`);
      expect(calls(`linode.${kind}`)).toBe(1);
    }
    expect((await t.call('/api/providers/prov-2/marketplace')).status).toBe(200);
    expect((await t.call('/api/providers/prov-1/marketplace')).status).toBe(404);
    expect((await t.call('/api/providers/nope/plans')).status).toBe(404);
  });

  it('keeps a burst under the provider rate limit', async () => {
    const answers = await Promise.all(
      Array.from({ length: 40 }, () => t.call('/api/providers/prov-2/regions')),
    );
    expect(answers.map((r) => r.status)).toEqual(Array(40).fill(200));
    expect(calls('digitalocean.regions')).toBe(1);
  });

  it('guards the admin endpoints with the API key', async () => {
    const res = await t.call('/api/admin/providers/prov-1', { method: 'PUT', json: { name: 'x' } });
    expect(res.status).toBe(401);
    expect(t.demo.upstreams.providers.get('prov-1')!.name).not.toBe('x');
  });

  it('invalidates that provider on PUT and DELETE, and serves fresh data afterwards', async () => {
    await t.call('/api/providers/prov-2/plans');
    const before = calls('digitalocean.plans');
    const put = await t.call('/api/admin/providers/prov-2', {
      method: 'PUT',
      key: true,
      json: { name: 'DO (prod)' },
    });
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ revision: 2, invalidated: 3 }); // plans, marketplace, regions
    const fresh = (await (await t.call('/api/providers/prov-2/plans')).json()) as Array<{ revision: number }>;
    expect(fresh[0]!.revision).toBe(2);
    expect(calls('digitalocean.plans')).toBe(before + 1);
    expect(t.demo.seeds.providers.getStats().plans.providers).toEqual(
      expect.arrayContaining(['prov-1', 'prov-2']),
    );

    const created = await t.call('/api/admin/providers', {
      method: 'POST',
      key: true,
      json: { name: 'New', kind: 'linode' },
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    expect((await t.call(`/api/providers/${id}/plans`)).status).toBe(200);
    const del = await t.call(`/api/admin/providers/${id}`, { method: 'DELETE', key: true });
    expect(await del.json()).toMatchObject({ deleted: true, invalidated: 1 });
    expect((await t.call(`/api/providers/${id}/plans`)).status).toBe(404);
    expect(t.demo.seeds.providers.getStats().plans.providers).not.toContain(id);
  });

  it('lists providers, and reports getStats() to the admin', async () => {
    const providers = (await (await t.call('/api/providers')).json()) as Array<{ id: string; kind: string }>;
    expect(providers.map((p) => p.kind)).toEqual(expect.arrayContaining(['linode', 'digitalocean']));
    await t.call('/api/providers/prov-1/regions');
    expect((await t.call('/api/admin/providers/cache')).status).toBe(401);
    const stats = (await (await t.call('/api/admin/providers/cache', { key: true })).json()) as Record<
      string,
      { size: number; providers: string[] }
    >;
    expect(Object.keys(stats).sort()).toEqual(['images', 'marketplace', 'plans', 'regions']);
    expect(stats.regions!.providers).toContain('prov-1');
    expect(stats.regions!.size).toBe(stats.regions!.providers.length);
  });

  it('rejects bad admin input with a message naming the field', async () => {
    const res = await t.call('/api/admin/providers', {
      method: 'POST',
      key: true,
      json: { name: 'x', kind: 'aws' },
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: expect.stringMatching(/^kind must be one of/) });
  });

  it('changes a TTL and switches a kind off through the admin API', async () => {
    const ttl = await t.call('/cache/config/plans', { method: 'POST', key: true, json: { ttl: '2h' } });
    expect(await ttl.json()).toMatchObject({ cache: 'plans', ttl: 7_200_000 });
    await t.call('/cache/config/images', { method: 'POST', key: true, json: { enabled: false } });
    const before = calls('linode.images');
    await t.call('/api/providers/prov-1/images');
    await t.call('/api/providers/prov-1/images');
    expect(calls('linode.images')).toBe(before + 2);
    await t.call('/cache/config/images', { method: 'POST', key: true, json: { enabled: true } });
    expect(t.demo.caches.images!.enabled).toBe(true);
  });
});
