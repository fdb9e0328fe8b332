// Seed 000's conditional requests in the demo: the provider APIs answer If-None-Match with 304, the
// provider resource caches revalidate an expired entry with its ETag instead of refetching the body,
// and /api/admin/providers/transfer reports the bytes sent and saved.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProviderResourceCache } from '../../demo/seeds/provider-resource-cache.js';
import { ProviderUpstream } from '../../demo/upstreams/providers.js';
import { createSimulation } from '../../demo/upstreams/simulate.js';
import { startTestDemo, type TestDemo } from './helpers.js';

const HOUR = 3_600_000;

describe('provider upstream: If-None-Match', () => {
  it('answers 304 without a body to the current ETag, and 200 with a new ETag after a change', async () => {
    const upstream = new ProviderUpstream(createSimulation({ latencyScale: 0 }));
    const first = await upstream.fetchResourcesIfChanged('prov-1', 'plans', undefined);
    expect(first.status).toBe(200);
    const again = await upstream.fetchResourcesIfChanged('prov-1', 'plans', first.etag);
    expect(again).toEqual({ status: 304, etag: first.etag });
    upstream.update('prov-1', { name: 'renamed' });
    const changed = await upstream.fetchResourcesIfChanged('prov-1', 'plans', first.etag);
    expect(changed.status).toBe(200);
    expect(changed.etag).not.toBe(first.etag);
    const bytes = first.status === 200 ? first.bytes : 0;
    expect(bytes).toBeGreaterThan(100);
    expect(upstream.transfer).toEqual({
      requests: 3,
      full: 2,
      notModified: 1,
      bytesSent: bytes + (changed.status === 200 ? changed.bytes : 0),
      bytesSaved: bytes,
    });
  });
});

describe('provider resource cache: conditional revalidation', () => {
  it('revalidates an expired entry with its ETag; a 304 renews it for another TTL', async () => {
    let now = 0;
    const upstream = new ProviderUpstream(createSimulation({ latencyScale: 0, clock: () => now }));
    const cache = createProviderResourceCache({ clock: () => now });
    const etags: Array<string | undefined> = [];
    const fetch = (etag: string | undefined) => {
      etags.push(etag);
      return upstream.fetchResourcesIfChanged('prov-1', 'plans', etag);
    };
    const first = await cache.getConditional('prov-1', 'plans', fetch);
    now += HOUR; // plans live 1 h
    const second = await cache.getConditional('prov-1', 'plans', fetch);
    expect(second).toBe(first); // the held value, renewed
    now += HOUR / 2; // before the refresh-ahead point (90 % of the hour)
    await cache.getConditional('prov-1', 'plans', fetch); // fresh again: no call
    expect(etags).toHaveLength(2);
    expect(etags[1]).toMatch(/^"/);
    expect(upstream.transfer).toMatchObject({ full: 1, notModified: 1 });
    expect(upstream.transfer.bytesSaved).toBe(upstream.transfer.bytesSent);
    // Invalidation drops the entry and its ETag: the next call fetches the body.
    await cache.invalidateProvider('prov-1');
    await cache.getConditional('prov-1', 'plans', fetch);
    expect(etags[2]).toBeUndefined();
    await cache.clearAll();
  });
});

describe('demo routes: conditional provider calls', () => {
  let t: TestDemo;
  beforeAll(async () => {
    t = await startTestDemo();
  });
  afterAll(() => t.demo.close());

  const transfer = async () =>
    (await (await t.call('/api/admin/providers/transfer', { key: true })).json()) as Record<string, number>;

  it('serves a revalidated entry after its TTL and reports the bytes the 304 saved', async () => {
    const first = await (await t.call('/api/providers/prov-1/images')).json();
    t.clock.advance(HOUR + 1);
    const second = await (await t.call('/api/providers/prov-1/images')).json();
    expect(second).toEqual(first);
    expect(t.demo.upstreams.providers.calls.get('linode.images')).toBe(2);
    const report = await transfer();
    expect(report).toMatchObject({ requests: 2, full: 1, not_modified: 1, saved_pct: 50 });
    expect(report.bytes_saved).toBe(report.bytes_sent);
    expect(report.bytes_saved).toBeGreaterThan(0);
  });

  it('fetches the body when the upstream changed meanwhile', async () => {
    await t.call('/api/providers/prov-1/regions');
    // A change the API makes on its own (no admin call, so nothing is invalidated here).
    t.demo.upstreams.providers.update('prov-1', {});
    t.clock.advance(24 * HOUR + 1);
    const body = (await (await t.call('/api/providers/prov-1/regions')).json()) as Array<{
      revision: number;
    }>;
    expect(body[0]!.revision).toBe(2);
    const report = await transfer();
    expect(report).toMatchObject({ full: 3, not_modified: 1 });
  });

  it('guards the transfer report with the API key', async () => {
    expect((await t.call('/api/admin/providers/transfer')).status).toBe(401);
  });
});
