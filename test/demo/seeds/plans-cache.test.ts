import { describe, expect, it, vi } from 'vitest';
import { createPlansCache, planKeys, seedPattern } from '../../../demo/seeds/plans-cache.js';

describe('seed 003: plans cache', () => {
  const fill = async (api: ReturnType<typeof createPlansCache>) => {
    for (const org of ['acme', 'globex']) {
      await api.cached(planKeys.providersList(org), async () => []);
      for (const provider of ['slack', 'canva']) {
        for (const flag of [true, false])
          await api.cached(planKeys.plansList(org, provider, flag), async () => []);
      }
      for (const flag of [true, false]) await api.cached(planKeys.allPlans(org, flag), async () => []);
    }
  };

  it('uses the seed key formats', () => {
    expect(planKeys.providersList('acme')).toBe('providers_list_acme');
    expect(planKeys.plansList('acme', 'slack', true)).toBe('plans_list_acme_slack_true');
    expect(planKeys.allPlans('acme', false)).toBe('all_plans_acme_false');
  });

  it('invalidates exactly the provider set and the org set, returning counts', async () => {
    const api = createPlansCache();
    await fill(api);
    // plans_list_acme_slack_{true,false} + all_plans_acme_{true,false} + providers_list_acme
    expect(await api.invalidateProviderCache('acme', 'slack')).toBe(5);
    const keys = api.cache.entries().map((e) => e.key);
    expect(keys).toContain('plans_list_acme_canva_true');
    expect(keys.filter((k) => k.includes('globex'))).toHaveLength(7);
    expect(await api.invalidateOrgCache('acme')).toBe(2);
    expect(await api.invalidateOrgCache('globex')).toBe(7);
    await expect(api.invalidateOrgCache('acme_*')).rejects.toThrow(/org must be a slug/);
    await api.cache.close();
  });

  it('shares one query among concurrent misses and reports the seed stats', async () => {
    const api = createPlansCache();
    const query = vi.fn(async () => ['plan']);
    await Promise.all(Array.from({ length: 10 }, () => api.cached('providers_list_acme', query)));
    await api.cached('providers_list_acme', query);
    expect(query).toHaveBeenCalledTimes(1);
    await api.invalidateOrgCache('acme');
    const stats = api.getStats();
    expect(stats).toMatchObject({ sets: 1, cache_size: 0 });
    expect(stats.invalidations).toBeGreaterThanOrEqual(1);
    // 11 requests, 1 miss: the 9 callers that joined the first load are coalesced, not misses.
    expect({ total: stats.total_requests, misses: stats.misses }).toEqual({ total: 11, misses: 1 });
    expect(stats.hit_rate_pct).toBeCloseTo(
      (100 * (stats.total_requests - stats.misses)) / stats.total_requests,
      1,
    );
    await api.cache.close();
  });
});

describe('seed 003: invalidate_pattern with a plain prefix', () => {
  it('treats a pattern without wildcards as a prefix and a glob as written', async () => {
    const api = createPlansCache();
    for (const key of [
      'plans_list_acme_slack_true',
      'plans_list_acme_canva_false',
      'plans_list_acme-2_slack_true',
      'providers_list_acme',
      'all_plans_acme_true',
    ]) {
      await api.cached(key, async () => []);
    }
    expect(await api.invalidatePattern('plans_list_acme_')).toBe(2);
    let keys = api.cache.entries().map((e) => e.key);
    expect(keys.sort()).toEqual([
      'all_plans_acme_true',
      'plans_list_acme-2_slack_true',
      'providers_list_acme',
    ]);
    // With a wildcard the pattern is used as written: no trailing `*` is added.
    expect(await api.invalidatePattern('*_acme')).toBe(1);
    keys = api.cache.entries().map((e) => e.key);
    expect(keys.sort()).toEqual(['all_plans_acme_true', 'plans_list_acme-2_slack_true']);
    expect(seedPattern('org_acme_')).toBe('org_acme_*');
    expect(seedPattern('org_?cme')).toBe('org_?cme');
    expect(() => seedPattern('')).toThrow(TypeError);
    await api.cache.close();
  });
});
