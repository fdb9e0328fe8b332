// The README's seed snippets, run against fakes of the upstreams they call.
import { describe, expect, it, vi } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import { createCacheManager } from '../../src/cache/manager.js';
import { memoize, memoizeMethod } from '../../src/cache/memoize.js';
import type { RetryOptions } from '../../src/cache/types.js';
import { CacheError } from '../../src/errors.js';
import { deferred } from '../helpers/deferred.js';
import { codeError } from './helpers.js';

describe('seed 000: provider resources', () => {
  it('per-kind caches keyed by provider, invalidation by provider or kind, runtime TTL and switch, stats', async () => {
    const resources = createCacheManager({
      caches: {
        plans: { ttl: '1h' },
        images: { ttl: '1h' },
        marketplace: { ttl: '6h' },
        regions: { ttl: '24h' },
      },
      defaults: { refreshAhead: 0.9 },
    });
    type Kind = 'plans' | 'images' | 'marketplace' | 'regions';
    const cached = <T>(kind: Kind, providerId: string, load: () => Promise<T>) =>
      resources.get<T>(kind).getOrSet(providerId, load);
    const api = vi.fn(async () => ['s-1vcpu-1gb']);
    for (const kind of ['plans', 'images', 'marketplace', 'regions'] as const) {
      await cached(kind, 'uuid-1', api);
      await cached(kind, 'uuid-2', api);
    }
    await cached('plans', 'uuid-1', api);
    expect(api).toHaveBeenCalledTimes(8);
    const invalidateProvider = (id: string) =>
      Promise.all(resources.names().map((k) => resources.get(k).delete(id)));
    expect(await invalidateProvider('uuid-1')).toEqual([true, true, true, true]);
    expect(await resources.get('images').delete('uuid-2')).toBe(true);
    resources.get('plans').configure({ ttl: '2h' });
    resources.get('marketplace').configure({ enabled: false });
    await cached('marketplace', 'uuid-2', api);
    await cached('marketplace', 'uuid-2', api);
    expect(api).toHaveBeenCalledTimes(10);
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
    expect(getStats()).toEqual({
      plans: { size: 1, providers: ['uuid-2'] },
      images: { size: 0, providers: [] },
      marketplace: { size: 1, providers: ['uuid-2'] },
      regions: { size: 1, providers: ['uuid-2'] },
    });
    await resources.clear();
    expect(resources.stats().overall.size).toBe(0);
  });
});

describe('seed 001: polled stats', () => {
  it('coalesces concurrent polls, invalidates on engine changes, and reports hit_rate and entries', async () => {
    const stats = createCache({ name: 'stats', maxEntries: 100, cleanupInterval: '60s' });
    const gate = deferred<{ cpu: number }>();
    const docker = vi.fn(() => gate.promise);
    const totalStats = () => stats.getOrSet('stats:total', docker, { ttl: '3s' });
    const polls = [totalStats(), totalStats(), totalStats()];
    gate.resolve({ cpu: 12 });
    expect(await Promise.all(polls)).toEqual([{ cpu: 12 }, { cpu: 12 }, { cpu: 12 }]);
    expect(docker).toHaveBeenCalledTimes(1);
    await totalStats();
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
    expect(stats.entries()[0]).toMatchObject({ key: 'stats:total', ttlRemainingMs: expect.any(Number) });
    await Promise.all([stats.delete('orchestrator:status'), stats.delete('stats:total')]);
    expect(await stats.has('stats:total')).toBe(false);
    await stats.close();
  });
});

describe('seed 002: integrations with retry and fallback', () => {
  it('retries network errors, exposes typed errors, and the fallback variant never throws', async () => {
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

    const mockFetch = vi
      .fn<() => Promise<string[]>>()
      .mockRejectedValueOnce(new Error('ECONNREFUSED'))
      .mockResolvedValueOnce(['instagram']);
    expect(await getCachedIntegrations(123, mockFetch)).toEqual(['instagram']);
    expect(mockFetch).toHaveBeenCalledTimes(2);
    expect(await getCachedIntegrations(123, mockFetch)).toEqual(['instagram']);
    expect(mockFetch).toHaveBeenCalledTimes(2);

    const down = vi.fn(async (): Promise<string[]> => {
      throw codeError('ETIMEDOUT');
    });
    const error = await getCachedIntegrations(9, down, { maxRetries: 1, initialDelay: 1 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CacheError);
    expect(error).toMatchObject({ type: 'RETRY_EXHAUSTED', retryable: false });
    expect((error as CacheError).originalError).toMatchObject({ code: 'ETIMEDOUT' });
    expect(await getCachedIntegrationsWithFallback(9, down)).toEqual([]);

    expect(await integrationCache.ttlRemaining(123)).toBeGreaterThan(299_000);
    expect(await integrationCache.delete(123)).toBe(true);
    expect(integrationCache.stats()).toMatchObject({ size: 0, active: 0 });
  });
});

describe('seed 003: plan lists invalidated on writes', () => {
  it('a write invalidates plans_list_{org}_{provider}_*, all_plans_{org}_* and providers_list_{org}, with counts', async () => {
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
    expect(await invalidateAfterWrite('acme', 'slack')).toBe(4);
    expect(
      plans
        .entries()
        .map((e) => e.key)
        .sort(),
    ).toEqual(['plans_list_acme_zoom_true', 'providers_list_globex']);
    expect(await plans.invalidateTags([`provider:acme:zoom`])).toBe(1);
    expect(await plans.invalidateTags([`org:globex`])).toBe(1);
    const s = plans.stats();
    expect({ sets: s.sets, total_requests: s.totalRequests, hit_rate_pct: s.hitRate }).toEqual({
      sets: 6,
      total_requests: 6,
      hit_rate_pct: 0,
    });
  });
});

describe('seed 004: five named caches', () => {
  it('manager lookup, memoize and @memoizeMethod against the user cache', async () => {
    const caches = createCacheManager({
      caches: {
        url: { maxEntries: 5000, ttl: '1h' },
        user: { maxEntries: 1000, ttl: '30m' },
        analytics: { maxEntries: 500, ttl: '15m' },
        session: { maxEntries: 2000, ttl: '5m' },
        general: { maxEntries: 1000, ttl: '10m' },
      },
    });
    const urlCache = caches.get('url');
    await urlCache.set('key', 'value', { ttl: '1h' });
    expect((await urlCache.get('key')) ?? 'default_value').toBe('value');
    expect((await urlCache.get('other')) ?? 'default_value').toBe('default_value');
    const loadPreferences = vi.fn(async (userId: number) => ({ userId, theme: 'dark' }));
    const getUserPreferences = memoize(loadPreferences, {
      cache: caches.get('user'),
      ttl: '5m',
      prefix: 'prefs',
    });
    await getUserPreferences(1);
    await getUserPreferences(1);
    expect(loadPreferences).toHaveBeenCalledTimes(1);
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
    expect(statsCalls).toBe(1);
    const { overall, caches: perCache } = caches.stats();
    expect(perCache.user).toMatchObject({ hits: 2, misses: 2, size: 2, maxEntries: 1000 });
    expect(overall).toMatchObject({ hits: 3, misses: 3, size: 3, maxEntries: 9500 });
  });
});
