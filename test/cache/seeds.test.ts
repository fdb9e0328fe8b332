// The README's seed snippets, run against fakes of the upstreams they call: one named case per
// behaviour, each on its own caches.
import { describe, expect, it, vi } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import { createCacheManager } from '../../src/cache/manager.js';
import { memoize, memoizeMethod } from '../../src/cache/memoize.js';
import type { RetryOptions } from '../../src/cache/types.js';
import { CacheError } from '../../src/errors.js';
import { deferred } from '../helpers/deferred.js';
import { codeError } from './helpers.js';

describe('seed 000: provider resources', () => {
  type Kind = 'plans' | 'images' | 'marketplace' | 'regions';
  const KINDS = ['plans', 'images', 'marketplace', 'regions'] as const;

  /** Seed 000's per-kind caches, its helpers, and an API that was asked once per kind for uuid-1 and uuid-2. */
  async function seed000() {
    const resources = createCacheManager({
      caches: {
        plans: { ttl: '1h' },
        images: { ttl: '1h' },
        marketplace: { ttl: '6h' },
        regions: { ttl: '24h' },
      },
      defaults: { refreshAhead: 0.9 },
    });
    const cached = <T>(kind: Kind, providerId: string, load: () => Promise<T>) =>
      resources.get<T>(kind).getOrSet(providerId, load);
    const api = vi.fn(async () => ['s-1vcpu-1gb']);
    const invalidateProvider = (id: string) =>
      Promise.all(resources.names().map((k) => resources.get(k).delete(id)));
    const getStats = () =>
      Object.fromEntries(
        resources.names().map((k) => [
          k,
          {
            size: resources.get(k).stats().size,
            providers: resources
              .get(k)
              .entries()
              .map((e) => e.key),
          },
        ]),
      );
    for (const kind of KINDS) {
      await cached(kind, 'uuid-1', api);
      await cached(kind, 'uuid-2', api);
    }
    return { resources, cached, api, invalidateProvider, getStats };
  }

  it('caches each kind per provider: one API call per kind and provider', async () => {
    const { cached, api } = await seed000();
    await cached('plans', 'uuid-1', api);
    expect(api).toHaveBeenCalledTimes(8);
  });

  it('invalidates a provider in every kind', async () => {
    const { invalidateProvider } = await seed000();
    expect(await invalidateProvider('uuid-1')).toEqual([true, true, true, true]);
  });

  it("deletes one provider's entry of one kind", async () => {
    const { resources } = await seed000();
    expect(await resources.get('images').delete('uuid-2')).toBe(true);
  });

  it('changes a TTL at runtime', async () => {
    const { resources } = await seed000();
    resources.get('plans').configure({ ttl: '2h' });
    expect(resources.get('plans').stats().ttl).toBe(2 * 3_600_000);
  });

  it('switched off at runtime, a kind calls the API on every read', async () => {
    const { resources, cached, api } = await seed000();
    resources.get('marketplace').configure({ enabled: false });
    await cached('marketplace', 'uuid-2', api);
    await cached('marketplace', 'uuid-2', api);
    expect(api).toHaveBeenCalledTimes(10);
  });

  it('reports size and providers per kind after invalidations, a TTL change and a switch-off', async () => {
    const { resources, cached, api, invalidateProvider, getStats } = await seed000();
    await invalidateProvider('uuid-1');
    await resources.get('images').delete('uuid-2');
    resources.get('plans').configure({ ttl: '2h' });
    resources.get('marketplace').configure({ enabled: false });
    await cached('marketplace', 'uuid-2', api);
    expect(getStats()).toEqual({
      plans: { size: 1, providers: ['uuid-2'] },
      images: { size: 0, providers: [] },
      marketplace: { size: 1, providers: ['uuid-2'] },
      regions: { size: 1, providers: ['uuid-2'] },
    });
  });

  it('clear() empties every kind', async () => {
    const { resources } = await seed000();
    await resources.clear();
    expect(resources.stats().overall.size).toBe(0);
  });
});

describe('seed 001: polled stats', () => {
  /** Seed 001's stats cache: three concurrent polls answered by one held Docker call, then one more poll. */
  async function seed001() {
    const stats = createCache({ name: 'stats', maxEntries: 100, cleanupInterval: '60s' });
    const gate = deferred<{ cpu: number }>();
    const docker = vi.fn(() => gate.promise);
    const totalStats = () => stats.getOrSet('stats:total', docker, { ttl: '3s' });
    const polls = [totalStats(), totalStats(), totalStats()];
    gate.resolve({ cpu: 12 });
    const answers = await Promise.all(polls);
    await totalStats();
    return { stats, docker, answers };
  }

  it('coalesces concurrent polls into one upstream call', async () => {
    const { stats, docker, answers } = await seed001();
    expect(answers).toEqual([{ cpu: 12 }, { cpu: 12 }, { cpu: 12 }]);
    expect(docker).toHaveBeenCalledTimes(1);
    await stats.close();
  });

  it('reports hit_rate with the coalesced polls counted as answered', async () => {
    const { stats } = await seed001();
    const s = stats.stats();
    // Two polls joined the first one's load: they cost no upstream call, so they count towards hitRate.
    expect({
      size: s.size,
      hits: s.hits,
      misses: s.misses,
      coalesced: s.coalesced,
      hit_rate: s.hitRate,
    }).toEqual({
      size: 1,
      hits: 1,
      misses: 1,
      coalesced: 2,
      hit_rate: 75,
    });
    await stats.close();
  });

  it('lists the entry with its remaining TTL', async () => {
    const { stats } = await seed001();
    expect(stats.entries()[0]).toMatchObject({ key: 'stats:total', ttlRemainingMs: expect.any(Number) });
    await stats.close();
  });

  it('invalidates on engine changes', async () => {
    const { stats } = await seed001();
    expect(await stats.has('stats:total')).toBe(true);
    await Promise.all([stats.delete('orchestrator:status'), stats.delete('stats:total')]);
    expect(await stats.has('stats:total')).toBe(false);
    await stats.close();
  });
});

describe('seed 002: integrations with retry and fallback', () => {
  /** Seed 002's integration cache and its two helpers (with and without a fallback). */
  function seed002() {
    const integrationCache = createCache<string[]>({
      name: 'integrations',
      ttl: 5 * 60 * 1000,
      grace: '1h',
      retry: { initialDelay: 1, jitter: 0 },
    });
    const getCachedIntegrations = (userId: number, fetchFn: () => Promise<string[]>, retry?: RetryOptions) =>
      integrationCache.getOrSet(userId, fetchFn, { retry });
    const getCachedIntegrationsWithFallback = (userId: number, fetchFn: () => Promise<string[]>) =>
      integrationCache.getOrSet(userId, fetchFn, { fallback: [] });
    const down = vi.fn(async (): Promise<string[]> => {
      throw codeError('ETIMEDOUT');
    });
    return { integrationCache, getCachedIntegrations, getCachedIntegrationsWithFallback, down };
  }

  /** The first fetch fails with a network error, the second answers. */
  const flakyFetch = () =>
    vi
      .fn<() => Promise<string[]>>()
      .mockRejectedValueOnce(new Error('ECONNREFUSED'))
      .mockResolvedValueOnce(['instagram']);

  it('retries a network error, then serves the answer from the cache', async () => {
    const { getCachedIntegrations } = seed002();
    const mockFetch = flakyFetch();
    expect(await getCachedIntegrations(123, mockFetch)).toEqual(['instagram']);
    expect(mockFetch).toHaveBeenCalledTimes(2);
    expect(await getCachedIntegrations(123, mockFetch)).toEqual(['instagram']);
    expect(mockFetch).toHaveBeenCalledTimes(2);
  });

  it('exposes a typed error once the retries are exhausted', async () => {
    const { getCachedIntegrations, down } = seed002();
    const error = await getCachedIntegrations(9, down, { maxRetries: 1, initialDelay: 1 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CacheError);
    expect(error).toMatchObject({ type: 'RETRY_EXHAUSTED', retryable: false });
    expect((error as CacheError).originalError).toMatchObject({ code: 'ETIMEDOUT' });
  });

  it('the fallback variant never throws', async () => {
    const { getCachedIntegrations, getCachedIntegrationsWithFallback, down } = seed002();
    await getCachedIntegrations(9, down, { maxRetries: 1, initialDelay: 1 }).catch(() => undefined);
    expect(await getCachedIntegrationsWithFallback(9, down)).toEqual([]);
  });

  it('keeps an answer for its TTL, and delete removes it', async () => {
    const { integrationCache, getCachedIntegrations } = seed002();
    await getCachedIntegrations(123, flakyFetch());
    expect(await integrationCache.ttlRemaining(123)).toBeGreaterThan(299_000);
    expect(await integrationCache.delete(123)).toBe(true);
    expect(integrationCache.stats()).toMatchObject({ size: 0, active: 0 });
  });
});

describe('seed 003: plan lists invalidated on writes', () => {
  /** Seed 003's subscriptions cache, filled with acme's and globex's lists. */
  async function seed003() {
    const plans = createCache({ name: 'subscriptions', ttl: '5m', jitter: 0.1 });
    const db = { load: vi.fn(async (what: string) => [what]) };
    const providersList = (org: string) =>
      plans.getOrSet(`providers_list_${org}`, () => db.load('providers'), { tags: [`org:${org}`] });
    const plansList = (org: string, provider: string, includeDisabled: boolean) =>
      plans.getOrSet(`plans_list_${org}_${provider}_${includeDisabled}`, () => db.load('plans'), {
        tags: [`org:${org}`, `provider:${org}:${provider}`],
      });
    const allPlans = (org: string, enabledOnly: boolean) =>
      plans.getOrSet(`all_plans_${org}_${enabledOnly}`, () => db.load('all'), { tags: [`org:${org}`] });
    async function invalidateAfterWrite(org: string, provider: string): Promise<number> {
      const counts = await Promise.all([
        plans.invalidatePattern(`plans_list_${org}_${provider}_*`),
        plans.invalidatePattern(`all_plans_${org}_*`),
        plans.delete(`providers_list_${org}`).then(Number),
      ]);
      return counts.reduce((a, b) => a + b, 0);
    }
    await Promise.all([
      providersList('acme'),
      plansList('acme', 'slack', true),
      plansList('acme', 'slack', false),
      plansList('acme', 'zoom', true),
      allPlans('acme', true),
      providersList('globex'),
    ]);
    const keys = () =>
      plans
        .entries()
        .map((e) => e.key)
        .sort();
    return { plans, invalidateAfterWrite, keys };
  }

  it('a write invalidates plans_list_{org}_{provider}_*, all_plans_{org}_* and providers_list_{org}, with counts', async () => {
    const { invalidateAfterWrite, keys } = await seed003();
    expect(await invalidateAfterWrite('acme', 'slack')).toBe(4);
    expect(keys()).toEqual(['plans_list_acme_zoom_true', 'providers_list_globex']);
  });

  it('invalidates by provider tag and by org tag, with counts', async () => {
    const { plans, invalidateAfterWrite } = await seed003();
    await invalidateAfterWrite('acme', 'slack');
    expect(await plans.invalidateTags([`provider:acme:zoom`])).toBe(1);
    expect(await plans.invalidateTags([`org:globex`])).toBe(1);
  });

  it('reports sets, total requests and hit rate', async () => {
    const { plans, invalidateAfterWrite } = await seed003();
    await invalidateAfterWrite('acme', 'slack');
    await plans.invalidateTags([`provider:acme:zoom`]);
    await plans.invalidateTags([`org:globex`]);
    const s = plans.stats();
    expect({ sets: s.sets, total_requests: s.totalRequests, hit_rate_pct: s.hitRate }).toEqual({
      sets: 6,
      total_requests: 6,
      hit_rate_pct: 0,
    });
  });
});

describe('seed 004: five named caches', () => {
  /** Seed 004's manager of five caches. */
  const seed004 = () =>
    createCacheManager({
      caches: {
        url: { maxEntries: 5000, ttl: '1h' },
        user: { maxEntries: 1000, ttl: '30m' },
        analytics: { maxEntries: 500, ttl: '15m' },
        session: { maxEntries: 2000, ttl: '5m' },
        general: { maxEntries: 1000, ttl: '10m' },
      },
    });

  /** The url cache read twice (a hit, a miss); a memoized function and a memoized method called twice each. */
  async function exercise(caches: ReturnType<typeof seed004>) {
    const urlCache = caches.get('url');
    await urlCache.set('key', 'value', { ttl: '1h' });
    const found = (await urlCache.get('key')) ?? 'default_value';
    const missing = (await urlCache.get('other')) ?? 'default_value';
    const loadPreferences = vi.fn(async (userId: number) => ({ userId, theme: 'dark' }));
    const getUserPreferences = memoize(loadPreferences, {
      cache: caches.get('user'),
      ttl: '5m',
      prefix: 'prefs',
    });
    await getUserPreferences(1);
    await getUserPreferences(1);
    let statsCalls = 0;
    class UserService {
      @memoizeMethod({ cache: caches.get('user'), ttl: '5m' })
      async getUserStats(userId: number) {
        statsCalls++;
        return { userId, urls: 3 };
      }
    }
    const service = new UserService();
    await service.getUserStats(1);
    await service.getUserStats(1);
    return { found, missing, loadPreferences, statsCalls };
  }

  it('looks a cache up by name; a missing key falls back to the default', async () => {
    const { found, missing } = await exercise(seed004());
    expect(found).toBe('value');
    expect(missing).toBe('default_value');
  });

  it('memoize calls the function once for the same arguments', async () => {
    const { loadPreferences } = await exercise(seed004());
    expect(loadPreferences).toHaveBeenCalledTimes(1);
  });

  it('@memoizeMethod calls the method once for the same arguments', async () => {
    const { statsCalls } = await exercise(seed004());
    expect(statsCalls).toBe(1);
  });

  it('reports per-cache and overall stats', async () => {
    const caches = seed004();
    await exercise(caches);
    const { overall, caches: perCache } = caches.stats();
    expect(perCache.user).toMatchObject({ hits: 2, misses: 2, size: 2, maxEntries: 1000 });
    expect(overall).toMatchObject({ hits: 3, misses: 3, size: 3, maxEntries: 9500 });
  });
});
