// Seed 003, write-invalidated subscription plan endpoints: one test per row of
// docs/seeds/003-write-invalidated-endpoints.md, run against the demo's module
// (demo/seeds/plans-cache.ts), the demo over HTTP, and the library (formatColon, snakeCaseStats).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startDemo } from '../../demo/app.js';
import { readConfig } from '../../demo/config.js';
import {
  createPlansCache,
  invalidatedLine,
  planKeys,
  PLANS_CACHE_TTL,
} from '../../demo/seeds/plans-cache.js';
import { seededRandom } from '../../demo/upstreams/simulate.js';
import {
  bracketedLogger,
  colonLogger,
  createCache,
  formatColon,
  formattedLogger,
  parseDuration,
  snakeCaseStats,
} from '../../src/index.js';
import { manualClock } from '../helpers/clock.js';
import { consoleLogger } from '../helpers/logger.js';
import { startTestDemo, type TestDemo } from '../demo/helpers.js';

const BASE = '/api/v1/subscriptions';
const MIN = 60_000;

/** The plans cache with every endpoint's entries for two orgs, on a manual clock. */
async function filled(options: Parameters<typeof createPlansCache>[0] = {}) {
  const clock = manualClock();
  const api = createPlansCache({ clock: clock.now, ...options });
  for (const org of ['acme', 'globex']) {
    await api.cached(planKeys.providersList(org), async () => [org]);
    for (const provider of ['slack', 'canva']) {
      for (const flag of [true, false])
        await api.cached(planKeys.plansList(org, provider, flag), async () => []);
    }
    for (const flag of [true, false]) await api.cached(planKeys.allPlans(org, flag), async () => []);
  }
  const keys = () =>
    api.cache
      .entries()
      .map((e) => e.key)
      .sort();
  return { api, clock, keys };
}

describe('seed 003: cache configuration', () => {
  it('keeps entries at most 5 minutes, spread below that so entries written together expire apart', async () => {
    expect(parseDuration(PLANS_CACHE_TTL)).toBe(5 * MIN);
    const { api, clock } = await filled();
    const remaining = await Promise.all(api.cache.entries().map((e) => api.cache.ttlRemaining(e.key)));
    for (const ms of remaining) {
      expect(ms).toBeGreaterThanOrEqual(4.75 * MIN);
      expect(ms).toBeLessThanOrEqual(5 * MIN);
    }
    expect(new Set(remaining).size).toBeGreaterThan(1);
    // Nothing outlives the stated TTL: 1 ms past 5 minutes every list is fetched again.
    clock.advance(5 * MIN + 1);
    expect(api.cache.entries().filter((e) => !e.stale)).toEqual([]);
    expect(await api.cache.has(planKeys.providersList('acme'))).toBe(false);
    await api.cache.close();
  });

  it('keeps a configured TTL (LARDER_TTL_SUBSCRIPTIONS) as the bound too', async () => {
    const { api, clock } = await filled({ ttl: '10m' });
    for (const e of api.cache.entries()) {
      const ms = await api.cache.ttlRemaining(e.key);
      expect(ms).toBeGreaterThanOrEqual(9.5 * MIN);
      expect(ms).toBeLessThanOrEqual(10 * MIN);
    }
    clock.advance(10 * MIN + 1);
    expect(api.cache.entries().filter((e) => !e.stale)).toEqual([]);
    await api.cache.close();
  });

  it('takes another TTL from LARDER_TTL_SUBSCRIPTIONS (the seed’s CACHE_TTL_SECONDS = 600)', async () => {
    const ttl = readConfig({ LARDER_TTL_SUBSCRIPTIONS: '600s' }).ttl.subscriptions;
    expect(ttl).toBe(10 * MIN);
    const api = createPlansCache({ ttl });
    expect(api.cache.stats().ttl).toBe(10 * MIN);
    await api.cache.close();
  });

  it('bounds the cache (the seed’s “add max cache size limit”): 10 000 entries, 16 MiB', async () => {
    const api = createPlansCache();
    expect(api.cache.stats()).toMatchObject({ maxEntries: 10_000, maxBytes: 16 * 2 ** 20 });
    await api.cache.close();
  });

  it('concurrent misses share one query (the seed’s stampede advice: request coalescing)', async () => {
    const api = createPlansCache();
    const query = vi.fn(async () => ['slack']);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => api.cached(planKeys.providersList('acme'), query)),
    );
    expect(answers.every((a) => a[0] === 'slack')).toBe(true);
    expect(query).toHaveBeenCalledTimes(1);
    await api.cache.close();
  });
});

describe('seed 003: manual invalidation and stats', () => {
  it('invalidate_org_cache(org) removes everything cached for the org and returns the count', async () => {
    const { api, keys } = await filled();
    expect(await api.invalidateOrgCache('acme')).toBe(7);
    expect(keys().every((k) => k.includes('globex'))).toBe(true);
    await api.cache.close();
  });

  it('invalidate_provider_cache(org, provider) removes that provider’s plan lists and the org’s lists', async () => {
    const { api, keys } = await filled();
    expect(await api.invalidateProviderCache('acme', 'slack')).toBe(5);
    expect(keys().filter((k) => k.includes('acme'))).toEqual([
      'plans_list_acme_canva_false',
      'plans_list_acme_canva_true',
    ]);
    await api.cache.close();
  });

  it('get_cache().clear() empties the cache, all orgs and endpoints', async () => {
    const { api, keys } = await filled();
    await api.clear();
    expect(keys()).toEqual([]);
    await api.cache.close();
  });

  it('cleanup_expired() removes expired entries now and returns how many', async () => {
    const { api, clock } = await filled();
    clock.advance(6 * MIN);
    expect(api.cleanupExpired()).toBe(14);
    expect(api.cache.stats().size).toBe(0);
    await api.cache.close();
  });

  it('invalidate_pattern("plans_list_acme_") takes a plain string as a key prefix', async () => {
    const { api, keys } = await filled();
    expect(await api.invalidatePattern('plans_list_acme_')).toBe(4);
    expect(keys().some((k) => k.startsWith('plans_list_acme_'))).toBe(false);
    await api.cache.close();
  });

  it('get_stats() answers hits, misses, sets, invalidations, total_requests, hit_rate_pct and cache_size', async () => {
    const api = createPlansCache();
    const query = async () => ['x'];
    await api.cached('providers_list_acme', query);
    await api.cached('providers_list_acme', query);
    await api.cached('providers_list_acme', query);
    await api.cached('all_plans_acme_false', query);
    await api.invalidateProviderCache('acme', 'slack');
    await api.cached('plans_list_acme_slack_false', query);
    expect(api.getStats()).toEqual({
      hits: 2,
      misses: 3,
      sets: 3,
      invalidations: 2,
      total_requests: 5,
      hit_rate_pct: 40,
      cache_size: 1,
    });
    // The same names for any Larder cache, from the library.
    const other = createCache({ name: 'other' });
    await other.getOrSet('k', async () => 1);
    expect(snakeCaseStats(other.stats())).toMatchObject({
      total_requests: 1,
      hit_rate_pct: 0,
      cache_size: 1,
    });
    await Promise.all([api.cache.close(), other.close()]);
  });
});

describe('seed 003: log lines', () => {
  it('formatColon / colonLogger write Larder’s lines as `Cache HIT: <key>`', () => {
    expect(
      formatColon('Cache HIT', { cache: 'subscriptions', key: 'providers_list_acme', durationMs: 0 }),
    ).toBe('Cache HIT: providers_list_acme');
    expect(formatColon('Cache MISS', { cache: 'subscriptions', key: 'plans_list_acme_slack_true' })).toBe(
      'Cache MISS: plans_list_acme_slack_true',
    );
    expect(formatColon('Cache INVALIDATE', { cache: 's', pattern: 'all_plans_acme_*', count: 2 })).toBe(
      'Cache INVALIDATE: pattern=all_plans_acme_* count=2',
    );
    expect(formatColon('Cache CLEAR', { cache: 'subscriptions' })).toBe('Cache CLEAR: subscriptions');
    expect(formatColon('Invalidated cache for org acme')).toBe('Invalidated cache for org acme');
    // A line already in the colon form is left as it is.
    expect(formatColon('Cache HIT: k', { key: 'k' })).toBe('Cache HIT: k');
    expect(() => colonLogger(undefined as never)).toThrow(TypeError);
  });

  it('formattedLogger takes any format; a colon line passed on to bracketedLogger stays as it is', () => {
    const { logger, lines } = consoleLogger();
    const upper = formattedLogger(logger, (message) => message.toUpperCase());
    upper.debug!('Cache hit', { key: 'k' });
    colonLogger(bracketedLogger(logger)).debug!('Cache HIT', { cache: 'subscriptions', key: 'k' });
    expect(lines.map((l) => l.message)).toEqual(['CACHE HIT', 'Cache HIT: k']);
    expect(lines[1]!.fields).toEqual({ cache: 'subscriptions', key: 'k' });
    expect(() => formattedLogger(logger, 'x' as never)).toThrow(/format must be a function/);
  });

  it('the plans cache logs `Cache HIT: <key>` … and `Invalidated cache for org … provider …` at debug', async () => {
    const { logger, lines } = consoleLogger();
    const api = createPlansCache({ logger });
    await api.cached('plans_list_acme_slack_true', async () => []);
    await api.cached('providers_list_acme', async () => []);
    await api.cached('providers_list_acme', async () => []);
    await api.invalidateProviderCache('acme', 'slack');
    await api.invalidateOrgCache('acme');
    const debug = lines.filter((l) => l.level === 'debug').map((l) => l.message);
    expect(debug).toEqual(
      expect.arrayContaining([
        'Cache MISS: plans_list_acme_slack_true',
        'Cache SET: plans_list_acme_slack_true',
        'Cache HIT: providers_list_acme',
        'Invalidated cache for org acme provider slack',
        'Invalidated cache for org acme',
      ]),
    );
    expect(lines.find((l) => l.message === invalidatedLine('acme', 'slack'))?.fields).toEqual({
      org: 'acme',
      provider: 'slack',
      count: 2, // plans_list_acme_slack_true and providers_list_acme
    });
    await api.cache.close();
  });

  it('a query slower than 2 s is logged at warn (the seed’s slow-query warning)', async () => {
    const { logger, lines } = consoleLogger();
    const clock = manualClock();
    const api = createPlansCache({ logger, clock: clock.now });
    await api.cached('providers_list_acme', async () => {
      clock.advance(3456);
      return [];
    });
    await api.cached('all_plans_acme_true', async () => {
      clock.advance(1500);
      return [];
    });
    const slow = lines.filter((l) => l.level === 'warn');
    expect(slow.map((l) => l.message)).toEqual(['Cache SLOW: providers_list_acme']);
    expect(slow[0]!.fields).toMatchObject({ durationMs: 3456, thresholdMs: 2000 });
    await api.cache.close();
  });

  it('the demo logs a slow query at warn with no log switch set (LOG_LEVEL unset or INFO)', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const debug = vi.spyOn(console, 'debug').mockImplementation(() => {});
    const t = await startTestDemo();
    try {
      expect(t.demo.config.logCacheOps).toBe(false);
      // The org's query takes 3.5 s on the demo's clock.
      const store = t.demo.upstreams.subscriptions;
      const listProviders = store.listProviders.bind(store);
      store.listProviders = async (org) => {
        const rows = await listProviders(org);
        t.clock.advance(3500);
        return rows;
      };
      expect((await t.call(`${BASE}/acme/providers`)).status).toBe(200);
      expect(warn.mock.calls.map((args) => args[0])).toEqual(['Cache SLOW: providers_list_acme']);
      expect(warn.mock.calls[0]![1]).toMatchObject({ durationMs: 3500, thresholdMs: 2000 });
      // The per-operation lines stay off.
      expect(debug).not.toHaveBeenCalled();
    } finally {
      await t.demo.close();
      warn.mockRestore();
      debug.mockRestore();
    }
  });

  it('LOG_LEVEL=DEBUG makes the demo’s 003 routes write these lines', async () => {
    const { logger, lines } = consoleLogger();
    const config = readConfig({
      PORT: '0',
      LARDER_API_KEY: 'test-admin-key-123',
      DEMO_LATENCY_SCALE: '0',
      LARDER_SNAPSHOT_DIR: 'off',
      LOG_LEVEL: 'DEBUG',
    });
    expect(readConfig({ LOG_LEVEL: 'INFO' }).logCacheOps).toBe(false);
    const demo = await startDemo(config, { logger, random: seededRandom(1) });
    try {
      await fetch(`${demo.url}${BASE}/acme/providers`);
      await fetch(`${demo.url}${BASE}/acme/providers`);
      await fetch(`${demo.url}${BASE}/acme/providers/slack/plans?include_disabled=true`);
      await fetch(`${demo.url}${BASE}/acme/slack/enable`, { method: 'POST' });
      const messages = lines.map((l) => l.message);
      expect(messages).toEqual(
        expect.arrayContaining([
          'Cache MISS: providers_list_acme',
          'Cache HIT: providers_list_acme',
          'Cache SET: plans_list_acme_slack_true',
          'Invalidated cache for org acme provider slack',
        ]),
      );
    } finally {
      await demo.close();
    }
  });
});

describe('seed 003: the demo’s endpoints over HTTP', () => {
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
  const queries = () => t.demo.upstreams.subscriptions.calls.toJSON() as Record<string, number>;
  const warm = async () => {
    for (const path of [
      '/acme/providers',
      '/acme/providers/slack/plans?include_disabled=true',
      '/acme/providers/canva/plans',
      '/acme/all-plans?enabled_only=true',
      '/globex/providers',
    ]) {
      expect((await t.call(BASE + path)).status).toBe(200);
    }
  };

  it('caches the three GETs under providers_list_{org}, plans_list_{org}_{provider}_{flag}, all_plans_{org}_{flag}', async () => {
    await warm();
    expect(keys()).toEqual([
      'all_plans_acme_true',
      'plans_list_acme_canva_false',
      'plans_list_acme_slack_true',
      'providers_list_acme',
      'providers_list_globex',
    ]);
    const before = queries();
    await warm();
    expect(queries()).toEqual(before);
  });

  it('miss, hit, write, then a miss with fresh data (the seed’s cache-behaviour walk-through)', async () => {
    const providers = async () =>
      (await (await t.call(`${BASE}/acme/providers`)).json()) as Array<{
        provider: string;
        enabled: boolean;
      }>;
    await t.call(`${BASE}/acme/providers`);
    const before = queries().list_providers_query ?? 0;
    await providers();
    expect(queries().list_providers_query ?? 0).toBe(before);
    await t.call(`${BASE}/acme/canva/disable`, { method: 'POST' });
    const after = await providers();
    expect(queries().list_providers_query).toBe(before + 1);
    expect(after.find((p) => p.provider === 'canva')?.enabled).toBe(false);
    await t.call(`${BASE}/acme/canva/enable`, { method: 'POST' });
  });

  const planId = async () =>
    (
      (await (await t.call(`${BASE}/acme/providers/slack/plans?include_disabled=true`)).json()) as Array<{
        subscription_id: string;
      }>
    )[0]!.subscription_id;

  const writes: Array<[string, string, (id: string) => string, unknown?]> = [
    ['create plan', 'POST', () => '/acme/providers/slack/plans', { plan_name: 'CUSTOM', quantity: 5 }],
    ['update plan', 'PUT', (id) => `/acme/providers/slack/plans/${id}`, { quantity: 10 }],
    ['toggle plan', 'POST', (id) => `/acme/providers/slack/toggle/${id}`],
    ['disable provider', 'POST', () => '/acme/providers/slack/disable'],
    ['enable provider', 'POST', () => '/acme/providers/slack/enable'],
    ['delete plan', 'DELETE', (id) => `/acme/providers/slack/plans/${id}`],
  ];

  it.each(writes)(
    '%s invalidates plans_list_acme_slack_*, all_plans_acme_* and providers_list_acme, nothing else',
    async (_name, method, path, json) => {
      await warm();
      const id = await planId();
      const res = await t.call(BASE + path(id), { method, json });
      expect(res.status).toBeLessThan(300);
      expect(((await res.json()) as { invalidated: number }).invalidated).toBe(3);
      expect(keys()).toEqual(['plans_list_acme_canva_false', 'providers_list_globex']);
    },
  );

  it('GET /api/v1/subscriptions/cache/stats answers the seed’s get_stats() shape', async () => {
    const stats = (await (await t.call(`${BASE}/cache/stats`)).json()) as {
      hits: number;
      misses: number;
      total_requests: number;
      cache_size: number;
    };
    expect(Object.keys(stats).sort()).toEqual(
      ['cache_size', 'hit_rate_pct', 'hits', 'invalidations', 'misses', 'sets', 'total_requests'].sort(),
    );
    expect(stats.total_requests).toBe(
      stats.hits + stats.misses + t.demo.caches.subscriptions!.stats().coalesced,
    );
    expect(stats.cache_size).toBe(keys().length);
  });
});
