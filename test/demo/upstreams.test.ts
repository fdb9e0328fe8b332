import { describe, expect, it } from 'vitest';
import { createUpstreams } from '../../demo/upstreams/index.js';
import { RateLimiter, createSimulation, seededRandom } from '../../demo/upstreams/simulate.js';

describe('demo upstream simulation', () => {
  it('refuses calls past the bucket and refills from the clock', () => {
    let now = 0;
    const limiter = new RateLimiter(2, 1, () => now);
    limiter.take('api');
    limiter.take('api');
    expect(() => limiter.take('api')).toThrow(/api: rate limit exceeded/);
    expect(limiter.rejected).toBe(1);
    now += 1000;
    expect(() => limiter.take('api')).not.toThrow();
  });

  it('validates its knobs, naming them', () => {
    expect(() => createSimulation({ latencyScale: -1 })).toThrow(/latencyScale/);
    expect(() => new RateLimiter(0, 1, Date.now)).toThrow(/capacity/);
    expect(() => createUpstreams({ integrationFailureRate: 2 })).toThrow(/failureRate/);
  });

  it('replays the same sequence from the same seed', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const seqA = Array.from({ length: 5 }, a);
    expect(Array.from({ length: 5 }, b)).toEqual(seqA);
    expect(new Set(seqA).size).toBe(5);
    for (const x of seqA) expect(x >= 0 && x < 1).toBe(true);
  });
});

describe('demo upstreams', () => {
  const world = () => createUpstreams({ latencyScale: 0, random: seededRandom(7) });

  it('rate-limits a provider API and counts its calls', async () => {
    const { providers } = world();
    const [linode] = providers.list();
    const calls = [];
    for (let i = 0; i < 25; i++) calls.push(providers.fetchResources(linode!.id, 'plans'));
    const results = await Promise.allSettled(calls);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(5);
    expect(providers.calls.get('linode.plans')).toBe(20);
  });

  it('offers marketplace apps only on DigitalOcean', async () => {
    const { providers } = world();
    const [linode, digitalocean] = providers.list();
    await expect(providers.fetchResources(linode!.id, 'marketplace')).rejects.toThrow(/does not offer/);
    expect(await providers.fetchResources(digitalocean!.id, 'marketplace')).not.toHaveLength(0);
  });

  it('fails integration calls with an ECONNREFUSED-shaped error, always during an outage', async () => {
    const { integrations } = world();
    integrations.setOutage(true);
    await expect(integrations.fetchStatus(1)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    integrations.setOutage(false);
    integrations.setFailureRate(0);
    expect(await integrations.fetchStatus(3)).toHaveLength(4);
  });

  it('reflects subscription writes in the next query', async () => {
    const { subscriptions } = world();
    const before = await subscriptions.listPlans('acme', 'slack', false);
    const plan = subscriptions.createPlan('acme', 'slack', { plan_name: 'CUSTOM', unit_price_usd: 15.99 })!;
    expect(await subscriptions.listPlans('acme', 'slack', false)).toHaveLength(before!.length + 1);
    subscriptions.togglePlan('acme', 'slack', plan.subscription_id);
    expect(await subscriptions.listPlans('acme', 'slack', false)).toHaveLength(before!.length);
    expect(await subscriptions.listPlans('acme', 'slack', true)).toHaveLength(before!.length + 1);
    expect(await subscriptions.listProviders('nope')).toBeUndefined();
  });

  it('counts clicks and keeps links private to their owner', async () => {
    const { urls } = world();
    const link = await urls.create('user-9', 'https://larder.dev');
    expect(await urls.resolve(link.code)).toBe('https://larder.dev');
    urls.recordClick(link.code);
    expect((await urls.stats('user-9')).total_clicks).toBe(1);
    expect(await urls.delete(link.id, 'user-1')).toBeUndefined();
    expect(await urls.delete(link.id, 'user-9')).toMatchObject({ code: link.code });
    expect(await urls.resolve(link.code)).toBeUndefined();
  });
});
