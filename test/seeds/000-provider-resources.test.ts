// Seed 000, provider resource caching: one test per row of docs/seeds/000-provider-resources.md, run
// against the demo's module (demo/seeds/provider-resource-cache.ts), the demo over HTTP, and the
// library where a row is one of the seed's enhancements.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createProviderResourceCache,
  RESOURCE_TTLS,
  type ResourceKind,
} from '../../demo/seeds/provider-resource-cache.js';
import { bracketedLogger, createCache, parseDuration } from '../../src/index.js';
import { manualClock } from '../helpers/clock.js';
import { consoleLogger } from '../helpers/logger.js';
import { startTestDemo, type TestDemo } from '../demo/helpers.js';

const HOUR = 3_600_000;
const KINDS: readonly ResourceKind[] = ['plans', 'images', 'marketplace', 'regions'];

describe('seed 000: the ProviderResourceCache API', () => {
  const clock = manualClock();
  const cache = createProviderResourceCache({ clock: clock.now });
  afterEach(async () => {
    await cache.clearAll();
    for (const kind of KINDS) {
      cache.configureTTL(kind, RESOURCE_TTLS[kind]);
      cache.setCacheEnabled(kind, true);
    }
  });
  afterAll(() => Promise.all(KINDS.map((kind) => cache.caches[kind].close())));

  /** A provider API that answers `[kind@provider#call]`, counting calls. */
  const api = () => {
    let calls = 0;
    const fetch = vi.fn(async () => [`call-${++calls}`]);
    return fetch;
  };

  it('caches each resource kind per provider ID with the seed TTLs (plans 1 h, images 1 h, marketplace 6 h, regions 24 h)', async () => {
    expect(KINDS.map((k) => parseDuration(RESOURCE_TTLS[k]))).toEqual([HOUR, HOUR, 6 * HOUR, 24 * HOUR]);
    const fetch = api();
    for (const kind of KINDS) {
      await cache.get('uuid-1', kind, fetch);
      await cache.get('uuid-2', kind, fetch);
      await cache.get('uuid-1', kind, fetch);
      expect(await cache.caches[kind].ttlRemaining('uuid-1')).toBe(parseDuration(RESOURCE_TTLS[kind]));
    }
    // One call per provider and kind; the repeated uuid-1 reads were answered by the cache.
    expect(fetch).toHaveBeenCalledTimes(8);
  });

  it('misses automatically once an entry is older than its kind’s TTL', async () => {
    const fetch = api();
    await cache.get('uuid-1', 'plans', fetch);
    await cache.get('uuid-1', 'marketplace', fetch);
    clock.advance(HOUR);
    expect(await cache.get('uuid-1', 'plans', fetch)).toEqual(['call-3']);
    expect(await cache.get('uuid-1', 'marketplace', fetch)).toEqual(['call-2']);
    clock.advance(5 * HOUR);
    expect(await cache.get('uuid-1', 'marketplace', fetch)).toEqual(['call-4']);
  });

  it('keeps each entry’s data, the time it was cached and its provider', async () => {
    await cache.get('uuid-1', 'regions', async () => ['us-east']);
    clock.advance(90_000);
    const [entry] = cache.caches.regions.entries();
    expect(entry).toMatchObject({ key: 'uuid-1', ageMs: 90_000, tags: ['provider:uuid-1'] });
    expect(await cache.caches.regions.get('uuid-1')).toEqual(['us-east']);
  });

  it('invalidateProvider drops every kind of one provider and returns the count', async () => {
    const fetch = api();
    for (const kind of KINDS) for (const id of ['uuid-1', 'uuid-2']) await cache.get(id, kind, fetch);
    expect(await cache.invalidateProvider('uuid-1')).toBe(4);
    expect(Object.values(cache.getStats()).map((s) => s.providers)).toEqual(KINDS.map(() => ['uuid-2']));
  });

  it('invalidateResource drops one kind of one provider', async () => {
    const fetch = api();
    await cache.get('uuid-1', 'plans', fetch);
    await cache.get('uuid-1', 'images', fetch);
    expect(await cache.invalidateResource('uuid-1', 'plans')).toBe(1);
    expect(await cache.invalidateResource('uuid-1', 'plans')).toBe(0);
    expect(cache.getStats()).toMatchObject({ plans: { size: 0 }, images: { size: 1 } });
  });

  it('clearAll empties every kind', async () => {
    const fetch = api();
    for (const kind of KINDS) await cache.get('uuid-1', kind, fetch);
    await cache.clearAll();
    expect(KINDS.map((k) => cache.getStats()[k].size)).toEqual([0, 0, 0, 0]);
  });

  it('configureTTL shortens the life of entries already cached', async () => {
    const fetch = api();
    await cache.get('uuid-1', 'plans', fetch);
    clock.advance(20 * 60_000);
    await cache.get('uuid-2', 'plans', fetch);
    // 15 min: uuid-1 (cached 20 min ago) is past it, uuid-2 (just cached) has 15 min left.
    cache.configureTTL('plans', 15 * 60_000);
    expect(await cache.caches.plans.has('uuid-1')).toBe(false);
    expect(await cache.caches.plans.ttlRemaining('uuid-2')).toBe(15 * 60_000);
    expect(await cache.get('uuid-1', 'plans', fetch)).toEqual(['call-3']);
    // Other kinds keep their TTL.
    await cache.get('uuid-1', 'images', fetch);
    expect(await cache.caches.images.ttlRemaining('uuid-1')).toBe(HOUR);
  });

  it('configureTTL lengthens the life of entries already cached', async () => {
    const fetch = api();
    await cache.get('uuid-1', 'plans', fetch);
    clock.advance(50 * 60_000);
    cache.configureTTL('plans', 2 * 60 * 60 * 1000);
    expect(await cache.caches.plans.ttlRemaining('uuid-1')).toBe(70 * 60_000);
    // 100 minutes in: past the old hour, before the new TTL's refresh-ahead point (108 minutes).
    clock.advance(50 * 60_000);
    expect(await cache.get('uuid-1', 'plans', fetch)).toEqual(['call-1']);
    expect(fetch).toHaveBeenCalledTimes(1);
  });

  it('setCacheEnabled(kind, false) sends every call to the provider API until re-enabled', async () => {
    const fetch = api();
    await cache.get('uuid-1', 'plans', fetch);
    cache.setCacheEnabled('plans', false);
    await cache.get('uuid-1', 'plans', fetch);
    await cache.get('uuid-1', 'plans', fetch);
    expect(fetch).toHaveBeenCalledTimes(3);
    cache.setCacheEnabled('plans', true);
    await cache.get('uuid-1', 'plans', fetch);
    expect(fetch).toHaveBeenCalledTimes(3);
  });

  it('getStats() answers size and providers per kind', async () => {
    const fetch = api();
    for (const kind of ['plans', 'images', 'regions'] as const) {
      for (const id of ['uuid-1', 'uuid-2']) await cache.get(id, kind, fetch);
    }
    await cache.get('uuid-2', 'marketplace', fetch);
    const stats = cache.getStats();
    for (const kind of KINDS) stats[kind].providers.sort();
    expect(stats).toEqual({
      plans: { size: 2, providers: ['uuid-1', 'uuid-2'] },
      images: { size: 2, providers: ['uuid-1', 'uuid-2'] },
      marketplace: { size: 1, providers: ['uuid-2'] },
      regions: { size: 2, providers: ['uuid-1', 'uuid-2'] },
    });
  });
});

describe('seed 000: log lines', () => {
  it('logs [Cache HIT], [Cache MISS], [Cache SET], [Cache INVALIDATE], [Cache CLEAR] and [Cache CONFIG]', async () => {
    const { logger, lines } = consoleLogger();
    const cache = createProviderResourceCache({ clock: () => 0, logger: bracketedLogger(logger) });
    const load = async () => ['g6-nanode-1'];
    await cache.get('uuid-1', 'plans', load);
    await cache.get('uuid-1', 'plans', load);
    await cache.invalidateProvider('uuid-1');
    cache.configureTTL('marketplace', '12h');
    await cache.clearAll();
    const messages = lines.map((l) => l.message);
    expect(messages).toEqual(
      expect.arrayContaining([
        '[Cache MISS] plans uuid-1',
        '[Cache SET] plans uuid-1',
        '[Cache HIT] plans uuid-1',
        '[Cache INVALIDATE] plans tags=provider:uuid-1 count=1',
        '[Cache CONFIG] marketplace ttl=12h',
        '[Cache CLEAR] plans',
      ]),
    );
    // A provider's invalidation is an INVALIDATE, never a DELETE.
    expect(messages.filter((m) => m.includes('DELETE'))).toEqual([]);
    await Promise.all(KINDS.map((kind) => cache.caches[kind].close()));
  });
});

describe('seed 000: the demo’s endpoints over HTTP', () => {
  let t: TestDemo;
  beforeAll(async () => {
    t = await startTestDemo();
  });
  afterAll(() => t.demo.close());
  const calls = (op: string) => t.demo.upstreams.providers.calls.get(op) ?? 0;

  it('provider services read through the cache: one API call per provider and kind', async () => {
    for (let i = 0; i < 3; i++) expect((await t.call('/api/providers/prov-1/plans')).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await t.call('/api/providers/prov-2/images')).status).toBe(200);
    expect([calls('linode.plans'), calls('digitalocean.images')]).toEqual([1, 1]);
  });

  it('POST /api/admin/providers creates a provider and invalidates its caches', async () => {
    const res = await t.call('/api/admin/providers', {
      method: 'POST',
      key: true,
      json: { name: 'Linode (eu)', kind: 'linode' },
    });
    expect(res.status).toBe(201);
    const { id, invalidated } = (await res.json()) as { id: string; invalidated: number };
    expect(invalidated).toBe(0);
    expect((await t.call(`/api/providers/${id}/regions`)).status).toBe(200);
    expect(t.demo.seeds.providers.getStats().regions.providers).toContain(id);
  });

  it('PUT /api/admin/providers/:id invalidates that provider and the next read is fresh', async () => {
    await t.call('/api/providers/prov-2/plans');
    await t.call('/api/providers/prov-1/plans');
    const before = calls('digitalocean.plans');
    const put = await t.call('/api/admin/providers/prov-2', {
      method: 'PUT',
      key: true,
      json: { name: 'DigitalOcean (prod)' },
    });
    expect(put.status).toBe(200);
    expect(((await put.json()) as { invalidated: number }).invalidated).toBeGreaterThanOrEqual(1);
    const plans = (await (await t.call('/api/providers/prov-2/plans')).json()) as Array<{ revision: number }>;
    expect(plans[0]!.revision).toBe(2);
    expect(calls('digitalocean.plans')).toBe(before + 1);
    // The other provider's entry was not touched.
    expect(t.demo.seeds.providers.getStats().plans.providers).toContain('prov-1');
  });

  it('DELETE /api/admin/providers/:id invalidates that provider', async () => {
    const created = (await (
      await t.call('/api/admin/providers', { method: 'POST', key: true, json: { name: 'x', kind: 'linode' } })
    ).json()) as { id: string };
    await t.call(`/api/providers/${created.id}/plans`);
    await t.call(`/api/providers/${created.id}/images`);
    const del = await t.call(`/api/admin/providers/${created.id}`, { method: 'DELETE', key: true });
    expect(await del.json()).toMatchObject({ deleted: true, invalidated: 2 });
    const stats = t.demo.seeds.providers.getStats();
    expect([...stats.plans.providers, ...stats.images.providers]).not.toContain(created.id);
  });
});

describe('seed 000: the enhancements it lists', () => {
  it('metrics: hit and miss counts and the hit rate per kind', async () => {
    const cache = createProviderResourceCache({ clock: () => 0 });
    const load = async () => ['x'];
    await cache.get('uuid-1', 'regions', load);
    await cache.get('uuid-1', 'regions', load);
    await cache.get('uuid-1', 'regions', load);
    await cache.get('uuid-2', 'regions', load);
    expect(cache.caches.regions.stats()).toMatchObject({ hits: 2, misses: 2, hitRate: 50 });
    await Promise.all(KINDS.map((kind) => cache.caches[kind].close()));
  });

  it('background refresh: refreshAhead reloads before expiry, so reads never wait on the API', async () => {
    const clock = manualClock();
    const plans = createCache<string[]>({ name: 'plans', ttl: '1h', refreshAhead: 0.9, clock: clock.now });
    const fetch = vi.fn(async () => [`rev-${fetch.mock.calls.length}`]);
    await plans.getOrSet('uuid-1', fetch);
    clock.advance(55 * 60_000); // past 90 % of the hour
    expect(await plans.getOrSet('uuid-1', fetch)).toEqual(['rev-1']); // answered at once…
    await vi.waitFor(() => expect(fetch).toHaveBeenCalledTimes(2)); // …while the refresh runs
    clock.advance(10 * 60_000); // the original hour is over; the refreshed entry is not
    expect(await plans.getOrSet('uuid-1', fetch)).toEqual(['rev-2']);
    expect(plans.stats().misses).toBe(1);
    await plans.close();
  });

  it('background refresh in the demo: a read late in the hour renews the plans with a 304, so the read after the hour does not wait on the API', async () => {
    const t = await startTestDemo();
    try {
      const transfer = () => t.demo.upstreams.providers.transfer;
      expect((await t.call('/api/providers/prov-1/plans')).status).toBe(200);
      t.clock.advance(57 * 60_000); // past 90 % of the plans' hour
      expect((await t.call('/api/providers/prov-1/plans')).status).toBe(200);
      // The refresh runs behind the answer, revalidating with the entry's ETag.
      await vi.waitFor(() => expect(transfer()).toMatchObject({ requests: 2, notModified: 1 }));
      t.clock.advance(5 * 60_000); // the first hour is over; the renewed entry is not
      expect((await t.call('/api/providers/prov-1/plans')).status).toBe(200);
      expect(transfer().requests).toBe(2);
      expect(t.demo.seeds.providers.caches.plans.stats().misses).toBe(1);
    } finally {
      await t.demo.close();
    }
  });

  it('cache warming: warm() fills a kind before the first request', async () => {
    const cache = createProviderResourceCache({ clock: () => 0 });
    expect(
      await cache.caches.regions.warm([
        ['uuid-1', ['us-east']],
        ['uuid-2', ['nyc1']],
      ]),
    ).toBe(2);
    const fetch = vi.fn(async () => ['never']);
    expect(await cache.get('uuid-2', 'regions', fetch)).toEqual(['nyc1']);
    expect(fetch).not.toHaveBeenCalled();
    await Promise.all(KINDS.map((kind) => cache.caches[kind].close()));
  });
});
