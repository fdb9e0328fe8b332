import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDemo, type TestDemo } from '../helpers.js';

const BASE = '/api/v1/subscriptions';

describe('seed 003 endpoints', () => {
  let t: TestDemo;
  beforeAll(async () => {
    t = await startTestDemo();
  });
  afterAll(() => t.demo.close());
  const keys = () =>
    t.demo.caches
      .subscriptions!.entries()
      .map((e) => e.key)
      .sort();
  const warm = async () => {
    for (const path of [
      '/acme/providers',
      '/acme/providers/slack/plans',
      '/acme/providers/slack/plans?include_disabled=true',
      '/acme/providers/canva/plans',
      '/acme/all-plans',
      '/acme/all-plans?enabled_only=true',
      '/globex/providers',
      '/globex/providers/slack/plans',
    ]) {
      expect((await t.call(BASE + path)).status).toBe(200);
    }
  };

  it('caches the three GETs under the seed keys', async () => {
    await warm();
    expect(keys()).toEqual([
      'all_plans_acme_false',
      'all_plans_acme_true',
      'plans_list_acme_canva_false',
      'plans_list_acme_slack_false',
      'plans_list_acme_slack_true',
      'plans_list_globex_slack_false',
      'providers_list_acme',
      'providers_list_globex',
    ]);
    const queries = t.demo.upstreams.subscriptions.calls.toJSON();
    await warm();
    expect(t.demo.upstreams.subscriptions.calls.toJSON()).toEqual(queries);
  });

  const slackPlanId = async () => {
    const plans = (await (
      await t.call(`${BASE}/acme/providers/slack/plans?include_disabled=true`)
    ).json()) as Array<{
      subscription_id: string;
    }>;
    return plans[0]!.subscription_id;
  };

  // The six writes, in the seed's endpoint form and its curl examples' short form.
  const writes: Array<[string, string, (id: string) => string, unknown?]> = [
    [
      'create',
      'POST',
      () => '/acme/providers/slack/plans',
      { plan_name: 'CUSTOM', unit_price_usd: 15.99, quantity: 5 },
    ],
    ['update', 'PUT', (id) => `/acme/providers/slack/plans/${id}`, { quantity: 10 }],
    ['toggle', 'POST', (id) => `/acme/slack/toggle/${id}`],
    ['disable', 'POST', () => '/acme/slack/disable'],
    ['enable', 'POST', () => '/acme/providers/slack/enable'],
    ['delete', 'DELETE', (id) => `/acme/slack/plans/${id}`],
  ];

  it.each(writes)(
    '%s invalidates plans_list_acme_slack_*, all_plans_acme_*, providers_list_acme only',
    async (_n, method, path, json) => {
      await warm();
      const id = await slackPlanId();
      const res = await t.call(BASE + path(id), { method, json });
      expect(res.status).toBeLessThan(300);
      expect(((await res.json()) as { invalidated: number }).invalidated).toBe(5);
      expect(keys()).toEqual([
        'plans_list_acme_canva_false',
        'plans_list_globex_slack_false',
        'providers_list_globex',
      ]);
    },
  );

  it('serves fresh data after a write', async () => {
    const count = async () =>
      (
        (await (await t.call(`${BASE}/acme/providers`)).json()) as Array<{
          provider: string;
          plan_count: number;
        }>
      ).find((p) => p.provider === 'canva')!.plan_count;
    const before = await count();
    await t.call(`${BASE}/acme/canva/plans`, { method: 'POST', json: { plan_name: 'PRO' } });
    expect(await count()).toBe(before + 1);
  });

  it('answers 404 for unknown orgs and 400 for bad input, invalidating nothing', async () => {
    await warm();
    const size = keys().length;
    expect((await t.call(`${BASE}/nobody/providers`)).status).toBe(404);
    expect(
      (await t.call(`${BASE}/acme/providers/slack/plans/nope`, { method: 'PUT', json: {} })).status,
    ).toBe(404);
    const bad = await t.call(`${BASE}/acme/slack/plans`, {
      method: 'POST',
      json: { plan_name: 'X', quantity: -1 },
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'quantity must be a non-negative number' });
    expect((await t.call(`${BASE}/Acme_Corp/providers`)).status).toBe(400);
    expect(keys()).toHaveLength(size);
  });

  it('reports the seed statistics', async () => {
    const stats = (await (await t.call(`${BASE}/cache/stats`)).json()) as Record<string, number>;
    expect(Object.keys(stats).sort()).toEqual(
      ['cache_size', 'hit_rate_pct', 'hits', 'invalidations', 'misses', 'sets', 'total_requests'].sort(),
    );
    expect(stats.invalidations).toBeGreaterThanOrEqual(30);
    expect(stats.cache_size).toBe(keys().length);
  });
});
