// Seed 002 (integration cache), row by row as docs/seeds/002-integration-cache.md maps it. First the
// document's own test cases, ported: the same calls, inputs and expected answers against the demo's
// module (demo/seeds/integration-cache.ts) and its module-level `integrationCache` instance, including
// the document's real 100 ms TTL / 150 ms wait. Then its API, error table, retry schedule, log lines,
// and the demo's endpoints over real HTTP.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startDemo, type Demo } from '../../demo/app.js';
import { readConfig } from '../../demo/config.js';
import * as seedModule from '../../demo/seeds/integration-cache.js';
import {
  CACHE_TTL,
  CacheError,
  CacheErrorType,
  createIntegrationCache,
  DEFAULT_RETRY_CONFIG,
  FAILURE_MESSAGE,
  getCachedIntegrations,
  integrationCache,
  type Integration,
} from '../../demo/seeds/integration-cache.js';
import { seededRandom } from '../../demo/upstreams/simulate.js';
import { formatLogLine } from '../../src/index.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { memoryTier } from '../../src/tiers/redis-tier.js';
import { manualClock } from '../helpers/clock.js';
import { consoleLogger, pinoLogger } from '../helpers/logger.js';
import { API_KEY, startTestDemo, type TestDemo } from '../demo/helpers.js';

const instagram = (): Integration[] => [{ id: '1', provider: 'instagram' }];
const networkError = (code: string) => Object.assign(new Error(`connect ${code} api.internal:443`), { code });
/** Retries without waiting long: the schedule itself is checked under fake timers below. */
const quick = { maxRetries: 3, initialDelay: 1, maxDelay: 1, backoffFactor: 2 };

const open: Array<{ close(): Promise<void> }> = [];
const build = (options: Parameters<typeof createIntegrationCache>[0] = {}) => {
  const api = createIntegrationCache(options);
  open.push(api.cache);
  return api;
};
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(open.splice(0).map((c) => c.close()));
});

describe("seed 002 › the document's test cases, against the demo's module", () => {
  // The document resets the module's instance before each case; its integration cases share that
  // instance (and user 123), so they start from the same reset.
  beforeEach(() => {
    integrationCache.clear();
  });

  it('caches a list and answers it', () => {
    const integrations = instagram();
    integrationCache.set(123, integrations);
    const cached = integrationCache.get(123);
    expect(cached).toEqual(integrations);
  });

  it('answers null for a user never cached', () => {
    const cached = integrationCache.get(999);
    expect(cached).toBeNull();
  });

  it('a list set with a 100 ms TTL is gone 150 ms later', async () => {
    integrationCache.set(123, instagram(), 100);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const cached = integrationCache.get(123);
    expect(cached).toBeNull();
  });

  it('fetches on a miss and answers the second call from the cache', async () => {
    const mockFetch = vi.fn().mockResolvedValue([{ id: '1', provider: 'instagram' }]);
    const integrations = await getCachedIntegrations(123, mockFetch);
    expect(mockFetch).toHaveBeenCalledTimes(1);
    expect(integrations).toHaveLength(1);
    const cached = await getCachedIntegrations(123, mockFetch);
    expect(mockFetch).toHaveBeenCalledTimes(1);
    expect(cached).toEqual(integrations);
  });

  it('retries a network error and answers the second attempt', async () => {
    const mockFetch = vi
      .fn()
      .mockRejectedValueOnce(new Error('ECONNREFUSED'))
      .mockResolvedValueOnce([{ id: '1', provider: 'instagram' }]);
    const integrations = await getCachedIntegrations(123, mockFetch);
    expect(mockFetch).toHaveBeenCalledTimes(2);
    expect(integrations).toHaveLength(1);
  });
});

describe('seed 002 › API', () => {
  it('exports the names the document imports, and the constants', () => {
    expect(Object.keys(seedModule)).toEqual(
      expect.arrayContaining([
        'integrationCache',
        'getCachedIntegrations',
        'getCachedIntegrationsWithFallback',
        'CACHE_TTL',
        'CacheError',
        'CacheErrorType',
        'DEFAULT_RETRY_CONFIG',
      ]),
    );
    expect(CACHE_TTL).toBe(300_000);
    expect(DEFAULT_RETRY_CONFIG).toEqual({
      maxRetries: 3,
      initialDelay: 100,
      maxDelay: 2000,
      backoffFactor: 2,
    });
    expect(CacheErrorType).toMatchObject({
      FETCH_FAILED: 'FETCH_FAILED',
      CACHE_SET_FAILED: 'CACHE_SET_FAILED',
      CACHE_GET_FAILED: 'CACHE_GET_FAILED',
      CLEANUP_FAILED: 'CLEANUP_FAILED',
      RETRY_EXHAUSTED: 'RETRY_EXHAUSTED',
    });
  });

  it('get answers the list or null synchronously; set stores for CACHE_TTL or the ttl given', () => {
    const clock = manualClock();
    const { integrationCache: c } = build({ clock: clock.now });
    const miss = c.get(1);
    expect(miss).toBeNull();
    c.set(1, instagram());
    c.set(2, instagram(), 10 * 60 * 1000);
    const hit = c.get(1);
    expect(hit).not.toBeInstanceOf(Promise);
    expect(hit).toEqual(instagram());
    clock.advance(CACHE_TTL - 1);
    expect(c.has(1)).toBe(true);
    clock.advance(1);
    expect([c.get(1), c.has(1)]).toEqual([null, false]);
    expect(c.has(2)).toBe(true);
  });

  it('has, invalidate, clear and size', () => {
    const { integrationCache: c } = build();
    c.set(1, instagram());
    c.set(2, instagram());
    expect([c.has(1), c.has(3), c.size()]).toEqual([true, false, 2]);
    c.invalidate(1);
    expect([c.has(1), c.has(2), c.size()]).toEqual([false, true, 1]);
    c.clear();
    expect(c.size()).toBe(0);
  });

  it('getStats splits entries into expired and active; getTimeToExpiry answers ms or null', () => {
    const clock = manualClock();
    const { integrationCache: c } = build({ clock: clock.now });
    c.set(1, instagram(), 100);
    c.set(2, instagram());
    expect(c.getTimeToExpiry(1)).toBe(100);
    expect(c.getTimeToExpiry(3)).toBeNull();
    clock.advance(40);
    expect(c.getTimeToExpiry(1)).toBe(60);
    clock.advance(60);
    expect(c.getStats()).toEqual({ size: 2, expired: 1, active: 1 });
    expect(c.getTimeToExpiry(1)).toBeNull();
  });

  it('getCachedIntegrations takes a custom retry config', async () => {
    const { getCachedIntegrations: get } = build();
    const fetchFn = vi.fn(async () => instagram());
    for (let i = 0; i < 5; i++) fetchFn.mockRejectedValueOnce(networkError('ETIMEDOUT'));
    expect(await get(1, fetchFn, { ...quick, maxRetries: 5 })).toEqual(instagram());
    expect(fetchFn).toHaveBeenCalledTimes(6);
  });

  it('getCachedIntegrationsWithFallback answers [] when every attempt fails, and never throws', async () => {
    const { getCachedIntegrationsWithFallback: get } = build();
    const down = vi.fn(async (): Promise<Integration[]> => {
      throw networkError('ECONNREFUSED');
    });
    expect(await get(1, down, quick)).toEqual([]);
    expect(down).toHaveBeenCalledTimes(4);
    expect(await get(2, async () => Promise.reject(new Error('bad payload')), quick)).toEqual([]);
  });

  it("with a shared tier the synchronous reads see this instance's memory; writes reach the tier", async () => {
    const driver = new MemoryDriver();
    const a = build({ l2: memoryTier({ driver }) });
    const b = build({ l2: memoryTier({ driver }) });
    const probe = build({ l2: memoryTier({ driver }) });
    a.integrationCache.set(7, instagram());
    // The write reaches the shared tier in the background.
    await vi.waitFor(async () => expect(await probe.cache.has(7)).toBe(true));
    expect(b.integrationCache.get(7)).toBeNull();
    const fetchFn = vi.fn(async () => [] as Integration[]);
    expect(await b.getCachedIntegrations(7, fetchFn)).toEqual(instagram());
    expect(fetchFn).not.toHaveBeenCalled();
    expect(b.integrationCache.get(7)).toEqual(instagram());
  });
});

describe('seed 002 › errors', () => {
  it('the retryability table: FETCH_FAILED and CLEANUP_FAILED yes; CACHE_SET/GET_FAILED and RETRY_EXHAUSTED no', () => {
    const retryable = (type: CacheErrorType) => new CacheError(type, 'x').retryable;
    expect({
      FETCH_FAILED: retryable('FETCH_FAILED'),
      CACHE_SET_FAILED: retryable('CACHE_SET_FAILED'),
      CACHE_GET_FAILED: retryable('CACHE_GET_FAILED'),
      CLEANUP_FAILED: retryable('CLEANUP_FAILED'),
      RETRY_EXHAUSTED: retryable('RETRY_EXHAUSTED'),
    }).toEqual({
      FETCH_FAILED: true,
      CACHE_SET_FAILED: false,
      CACHE_GET_FAILED: false,
      CLEANUP_FAILED: true,
      RETRY_EXHAUSTED: false,
    });
  });

  it('a fetch that fails with no retry made is FETCH_FAILED, retryable, with originalError', async () => {
    const { getCachedIntegrations: get } = build();
    const refused = networkError('ECONNREFUSED');
    const noRetries = await get(1, () => Promise.reject(refused), { ...quick, maxRetries: 0 }).catch(
      (e) => e,
    );
    expect(noRetries).toBeInstanceOf(CacheError);
    expect(noRetries).toMatchObject({ type: 'FETCH_FAILED', retryable: true, originalError: refused });
    // A failure that is not a network error is not retried, and still reported as the table says.
    const bad = new Error('unexpected payload');
    const fetchFn = vi.fn(() => Promise.reject(bad));
    const notRetried = await get(2, fetchFn, quick).catch((e) => e);
    expect(fetchFn).toHaveBeenCalledTimes(1);
    expect(notRetried).toMatchObject({ type: 'FETCH_FAILED', retryable: true, originalError: bad });
  });

  it('after all retries: RETRY_EXHAUSTED, not retryable, originalError the last failure', async () => {
    const { getCachedIntegrations: get } = build();
    const fetchFn = vi.fn(() => Promise.reject(networkError('ENETUNREACH')));
    const error = await get(1, fetchFn, quick).catch((e) => e);
    expect(fetchFn).toHaveBeenCalledTimes(4);
    expect(error).toBeInstanceOf(CacheError);
    expect(error).toMatchObject({ type: 'RETRY_EXHAUSTED', retryable: false });
    expect((error as CacheError).originalError).toMatchObject({ code: 'ENETUNREACH' });
  });

  it('a CacheError from inside a fetch is retried by its type: FETCH_FAILED yes, RETRY_EXHAUSTED no', async () => {
    const { getCachedIntegrations: get } = build();
    const inner = (type: CacheErrorType, message: string) =>
      vi.fn(() => Promise.reject(new CacheError(type, message)));
    // Decided by the type, not the message: this one names no network error and is still retried …
    const fetchFailed = inner('FETCH_FAILED', 'inner load failed');
    await get(1, fetchFailed, quick).catch(() => undefined);
    expect(fetchFailed).toHaveBeenCalledTimes(4);
    // … and this one, whose message repeats its cause's network code, is not retried again.
    const exhausted = inner('RETRY_EXHAUSTED', 'failed after 4 attempts: connect ECONNREFUSED');
    await get(2, exhausted, quick).catch(() => undefined);
    expect(exhausted).toHaveBeenCalledTimes(1);
  });
});

describe('seed 002 › retry strategy', () => {
  /** When each attempt started, under fake timers, for a fetch that always fails. */
  const attemptTimes = async (config: typeof DEFAULT_RETRY_CONFIG) => {
    vi.useFakeTimers();
    const { getCachedIntegrations: get } = build({ clock: Date.now });
    const times: number[] = [];
    const failing = get(
      1,
      async () => {
        times.push(Date.now());
        throw networkError('ECONNREFUSED');
      },
      config,
    ).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(await failing).toMatchObject({ type: 'RETRY_EXHAUSTED' });
    return times.slice(1).map((t, i) => t - times[i]!);
  };

  it('waits 100, 200 and 400 ms between the four attempts by default', async () => {
    expect(await attemptTimes(DEFAULT_RETRY_CONFIG)).toEqual([100, 200, 400]);
  });

  it('never waits more than maxDelay', async () => {
    const config = { maxRetries: 6, initialDelay: 100, maxDelay: 300, backoffFactor: 2 };
    expect(await attemptTimes(config)).toEqual([100, 200, 300, 300, 300, 300]);
  });

  it.each(['ECONNREFUSED', 'ETIMEDOUT', 'ENOTFOUND', 'ENETUNREACH'])(
    'retries %s (as code or message)',
    async (code) => {
      const { getCachedIntegrations: get } = build();
      const byCode = vi.fn(async () => instagram()).mockRejectedValueOnce(networkError(code));
      const byMessage = vi.fn(async () => instagram()).mockRejectedValueOnce(new Error(code));
      expect(await get(1, byCode, quick)).toEqual(instagram());
      expect(await get(2, byMessage, quick)).toEqual(instagram());
      expect([byCode.mock.calls.length, byMessage.mock.calls.length]).toEqual([2, 2]);
    },
  );

  it("retries fetch()'s generic `fetch failed` (and a `Network error`), not other errors", async () => {
    const { getCachedIntegrations: get } = build();
    const fetchFailed = vi.fn(async () => instagram()).mockRejectedValueOnce(new TypeError('fetch failed'));
    expect(await get(1, fetchFailed, quick)).toEqual(instagram());
    expect(fetchFailed).toHaveBeenCalledTimes(2);
    const network = vi.fn(async () => instagram()).mockRejectedValueOnce(new Error('Network error'));
    expect(await get(3, network, quick)).toEqual(instagram());
    expect(network).toHaveBeenCalledTimes(2);
    const other = vi.fn(async () => instagram()).mockRejectedValueOnce(new Error('401 unauthorised'));
    await expect(get(2, other, quick)).rejects.toBeInstanceOf(CacheError);
    expect(other).toHaveBeenCalledTimes(1);
  });
});

describe('seed 002 › logging', () => {
  it('logs Cache hit with userId, itemCount and duration at info, and a load as miss, retry attempt, fresh data', async () => {
    const { logger, lines } = pinoLogger('info');
    const { getCachedIntegrations: get } = build({ logger });
    const three: Integration[] = [
      { id: '1', provider: 'instagram' },
      { id: '2', provider: 'slack' },
      { id: '3', provider: 'github' },
    ];
    const fetchFn = vi.fn(async () => three).mockRejectedValueOnce(networkError('ECONNREFUSED'));
    await get(123, fetchFn, quick);
    await get(123, fetchFn, quick);
    expect(lines).toEqual([
      { level: 'info', message: 'Cache miss, fetching fresh data', fields: { userId: 123 } },
      { level: 'info', message: 'Retry attempt', fields: { attempt: 2, maxRetries: 3, userId: 123 } },
      {
        level: 'info',
        message: 'Fresh data fetched and cached',
        fields: { userId: 123, itemCount: 3, duration: expect.any(Number) },
      },
      { level: 'info', message: 'Cache hit', fields: { userId: 123, itemCount: 3, duration: 0 } },
    ]);
  });

  it('a load that fails for good: Retry exhausted at warn, Failed to get cached integrations at error', async () => {
    const { logger, lines } = pinoLogger('info');
    const { getCachedIntegrations: get } = build({ logger });
    await get(9, () => Promise.reject(new Error('Network error')), quick).catch(() => undefined);
    expect(lines.filter((l) => l.level !== 'info')).toEqual([
      { level: 'warn', message: 'Retry exhausted', fields: { userId: 9, error: 'Network error' } },
      {
        level: 'error',
        message: FAILURE_MESSAGE,
        fields: { userId: 9, duration: expect.any(Number), error: 'Network error' },
      },
    ]);
  });

  it('renders the lines as [INFO] Cache hit { userId: 123, itemCount: 3, duration: 2 }', () => {
    expect(formatLogLine('info', 'Cache hit', { userId: 123, itemCount: 3, duration: 2 })).toBe(
      '[INFO] Cache hit { userId: 123, itemCount: 3, duration: 2 }',
    );
    expect(
      formatLogLine('error', FAILURE_MESSAGE, { userId: 123, duration: 1523, error: 'Network error' }),
    ).toBe(
      "[ERROR] Failed to get cached integrations { userId: 123, duration: 1523, error: 'Network error' }",
    );
  });

  it('the demo writes them, rendered, when cache logging is on', async () => {
    const { logger, lines } = consoleLogger();
    const config = {
      ...readConfig({ PORT: '0', LARDER_API_KEY: API_KEY, DEMO_LATENCY_SCALE: '0', DEMO_FAILURE_RATE: '0' }),
      snapshotDir: undefined,
      logCacheOps: true,
    };
    const demo: Demo = await startDemo(config, { logger, random: seededRandom(1) });
    try {
      for (let i = 0; i < 2; i++)
        await fetch(`${demo.url}/api/integrations/status`, { headers: { 'x-user-id': '12' } });
      const seedLines = lines.map((l) => l.message).filter((m) => /userId: 12\b/.test(m));
      expect(seedLines).toEqual([
        '[INFO] Cache miss, fetching fresh data { userId: 12 }',
        expect.stringMatching(
          /^\[INFO\] Fresh data fetched and cached \{ userId: 12, itemCount: 3, duration: \d+ \}$/,
        ),
        '[INFO] Cache hit { userId: 12, itemCount: 3, duration: 0 }',
      ]);
    } finally {
      await demo.close();
    }
  });
});

describe('seed 002 › logging with cache logging off (the default)', () => {
  it('the demo still writes the WARN and ERROR lines of a load that failed for good, and no INFO lines', async () => {
    const spies = (['info', 'log', 'warn', 'error'] as const).map((level) =>
      vi.spyOn(console, level).mockImplementation(() => {}),
    );
    const [info, log, warn, error] = spies;
    const t = await startTestDemo();
    try {
      expect(t.demo.config.logCacheOps).toBe(false);
      expect((await t.call('/api/integrations/status', { user: '21' })).status).toBe(200);
      t.demo.upstreams.integrations.setOutage(true);
      expect((await t.call('/api/integrations/status?strict=1', { user: '22' })).status).toBe(502);
      expect(warn!.mock.calls.map((args) => args[0])).toEqual([
        "[WARN] Retry exhausted { userId: 22, error: 'connect ECONNREFUSED integrations.internal:443' }",
      ]);
      expect(error!.mock.calls.map((args) => args[0])).toEqual([
        expect.stringMatching(/^\[ERROR\] Failed to get cached integrations \{ userId: 22, duration: \d+, /),
      ]);
      expect(info).not.toHaveBeenCalled();
      expect(log).not.toHaveBeenCalled();
    } finally {
      await t.demo.close();
      for (const spy of spies) spy.mockRestore();
    }
  });
});

describe('seed 002 › endpoints (HTTP)', () => {
  let t: TestDemo;
  beforeAll(async () => {
    t = await startTestDemo();
  });
  afterAll(() => t.demo.close());
  const fetches = () => t.demo.upstreams.integrations.calls.get('integrations.fetch');

  it("GET /api/integrations/status answers the user's list, fetched once per 5 minutes", async () => {
    const before = fetches();
    const first = (await (await t.call('/api/integrations/status', { user: '3' })).json()) as {
      integrations: Integration[];
    };
    expect(first.integrations.map((i) => i.provider)).toEqual([
      'instagram',
      'slack',
      'github',
      'google-drive',
    ]);
    t.clock.advance(CACHE_TTL - 1);
    await t.call('/api/integrations/status', { user: '3' });
    expect(fetches()).toBe(before + 1);
    t.clock.advance(1);
    await t.call('/api/integrations/status', { user: '3' });
    expect(fetches()).toBe(before + 2);
  });

  it('during an outage the default answer is [] and ?strict=1 reports the CacheError as a 502', async () => {
    t.demo.upstreams.integrations.setOutage(true);
    try {
      expect(await (await t.call('/api/integrations/status', { user: '600' })).json()).toEqual({
        user_id: 600,
        integrations: [],
      });
      const strict = await t.call('/api/integrations/status?strict=1', { user: '601' });
      expect(strict.status).toBe(502);
      expect(((await strict.json()) as { error: string }).error).toContain('RETRY_EXHAUSTED');
    } finally {
      t.demo.upstreams.integrations.setOutage(false);
    }
  });

  it('GET /api/integrations/cache reports has, time_to_expiry_ms, size and stats from the synchronous API', async () => {
    await t.call('/api/integrations/status', { user: '44' });
    t.clock.advance(1000);
    const info = await (await t.call('/api/integrations/cache', { user: '44' })).json();
    const { integrationCache: sync } = t.demo.seeds.integrations;
    expect(info).toEqual({
      user_id: 44,
      has: true,
      time_to_expiry_ms: CACHE_TTL - 1000,
      size: sync.size(),
      stats: sync.getStats(),
    });
  });

  it("POST /api/integrations/invalidate drops the user's list, so the next read fetches", async () => {
    await t.call('/api/integrations/status', { user: '45' });
    const before = fetches();
    expect((await t.call('/api/integrations/invalidate', { method: 'POST', user: '45' })).status).toBe(200);
    expect(t.demo.seeds.integrations.integrationCache.has(45)).toBe(false);
    await t.call('/api/integrations/status', { user: '45' });
    expect(fetches()).toBe(before + 1);
  });
});
