import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildCache } from '../../src/cache/create-cache.js';
import { CacheError } from '../../src/errors.js';
import { manualClock } from '../helpers/clock.js';
import { deferred } from '../helpers/deferred.js';
import { consoleLogger } from '../helpers/logger.js';
import { codeError } from './helpers.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('getOrSet: single-flight', () => {
  it('10,000 concurrent calls on a cold key make exactly one loader call and share its value', async () => {
    const cache = buildCache<{ n: number }>({ ttl: '1m' });
    const gate = deferred<{ n: number }>();
    const loader = vi.fn(() => gate.promise);
    const calls = Array.from({ length: 10_000 }, () => cache.getOrSet('cold', loader));
    gate.resolve({ n: 7 });
    const values = await Promise.all(calls);
    expect(loader).toHaveBeenCalledTimes(1);
    expect(new Set(values).size).toBe(1);
    expect(values[0]).toEqual({ n: 7 });
    expect(cache.stats()).toMatchObject({ misses: 1, coalesced: 9_999, loads: 1, hitRate: 99.99 });
    await expect(cache.getOrSet('cold', loader)).resolves.toEqual({ n: 7 });
    expect(loader).toHaveBeenCalledTimes(1);
  });

  it('all concurrent callers get the same error, and the next call loads again', async () => {
    const cache = buildCache({ ttl: '1m', retry: false });
    const loader = vi.fn(async () => {
      throw new Error('bad input');
    });
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => cache.getOrSet('k', loader)));
    const reasons = results.map((r) => (r as PromiseRejectedResult).reason);
    expect(loader).toHaveBeenCalledTimes(1);
    expect(new Set(reasons).size).toBe(1);
    expect(reasons[0]).toBeInstanceOf(CacheError);
    await expect(cache.getOrSet('k', loader)).rejects.toBeInstanceOf(CacheError);
    expect(loader).toHaveBeenCalledTimes(2);
  });

  it('different keys load independently', async () => {
    const cache = buildCache<string>({ ttl: '1m' });
    const loader = vi.fn(async (ctx: { key: string | number }) => `v-${ctx.key}`);
    expect(await Promise.all([cache.getOrSet('a', loader), cache.getOrSet('b', loader)])).toEqual([
      'v-a',
      'v-b',
    ]);
    expect(loader).toHaveBeenCalledTimes(2);
  });
});

describe('getOrSet: retries', () => {
  it('retries retryable failures with exponential backoff (100, 200, 400 ms) then succeeds', async () => {
    vi.useFakeTimers();
    const cache = buildCache<string>({ ttl: '1m', retry: { jitter: 0 } });
    const started: number[] = [];
    const loader = vi.fn(async () => {
      started.push(Date.now());
      if (started.length < 4) throw codeError('ECONNREFUSED');
      return 'ok';
    });
    const t0 = Date.now();
    const result = cache.getOrSet('k', loader);
    await vi.advanceTimersByTimeAsync(99);
    expect(loader).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(loader).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(700);
    await expect(result).resolves.toBe('ok');
    expect(started.map((t) => t - t0)).toEqual([0, 100, 300, 700]);
    expect(cache.stats()).toMatchObject({ loads: 4, loadErrors: 3 });
  });

  it('exhausted retries throw RETRY_EXHAUSTED with the last error as cause; maxDelay caps the delay', async () => {
    vi.useFakeTimers();
    const cache = buildCache({ retry: { maxRetries: 3, initialDelay: 1000, maxDelay: 1500, jitter: 0 } });
    const errors = [
      codeError('ETIMEDOUT'),
      codeError('ECONNRESET'),
      codeError('EAI_AGAIN'),
      codeError('ENOTFOUND'),
    ];
    let i = 0;
    const loader = vi.fn(async () => {
      throw errors[i++];
    });
    const result = cache.getOrSet('k', loader);
    result.catch(() => {});
    await vi.advanceTimersByTimeAsync(1000 + 1500 + 1499);
    expect(loader).toHaveBeenCalledTimes(3);
    await vi.advanceTimersByTimeAsync(1);
    const error = await result.catch((e: unknown) => e);
    expect(loader).toHaveBeenCalledTimes(4);
    expect(error).toBeInstanceOf(CacheError);
    expect(error).toMatchObject({ type: 'RETRY_EXHAUSTED', retryable: false, cause: errors[3] });
  });

  it('a non-retryable failure throws FETCH_FAILED at once, with the original as cause', async () => {
    const cache = buildCache();
    const original = Object.assign(new Error('bad request'), { status: 400 });
    const loader = vi.fn(async () => {
      throw original;
    });
    const error = await cache.getOrSet('k', loader).catch((e: unknown) => e);
    expect(loader).toHaveBeenCalledTimes(1);
    expect(error).toMatchObject({ type: 'FETCH_FAILED', cause: original, originalError: original });
  });

  it('retryOn overrides the classification, and retry: false disables retries', async () => {
    vi.useFakeTimers();
    const cache = buildCache({ retry: { initialDelay: 10, jitter: 0 } });
    const retryOn = vi.fn((error: unknown) => (error as Error).message === 'try again');
    const loader = vi.fn(async () => {
      throw new Error('try again');
    });
    const p = cache.getOrSet('a', loader, { retry: { maxRetries: 2, retryOn } });
    p.catch(() => {});
    await vi.advanceTimersByTimeAsync(100);
    await expect(p).rejects.toMatchObject({ type: 'RETRY_EXHAUSTED' });
    expect(loader).toHaveBeenCalledTimes(3);
    expect(retryOn).toHaveBeenCalledWith(expect.any(Error), 0);

    const network = vi.fn(async () => {
      throw codeError('ECONNREFUSED');
    });
    await expect(cache.getOrSet('b', network, { retry: false })).rejects.toMatchObject({
      type: 'FETCH_FAILED',
    });
    expect(network).toHaveBeenCalledTimes(1);
  });

  it('passes the attempt number to the loader and logs retries at info', async () => {
    vi.useFakeTimers();
    const { logger, lines } = consoleLogger();
    const cache = buildCache<number>({ name: 'int', logger, retry: { initialDelay: 5, jitter: 0 } });
    const attempts: number[] = [];
    const p = cache.getOrSet('k', async (ctx) => {
      attempts.push(ctx.attempt);
      if (ctx.attempt < 2) throw codeError('ECONNREFUSED');
      return ctx.attempt;
    });
    await vi.advanceTimersByTimeAsync(50);
    expect(await p).toBe(2);
    expect(attempts).toEqual([0, 1, 2]);
    const retries = lines.filter((l) => l.message === 'Cache RETRY');
    expect(retries.map((l) => [l.level, l.fields.attempt, l.fields.delayMs])).toEqual([
      ['info', 1, 5],
      ['info', 2, 10],
    ]);
  });
});

describe('getOrSet: fail-safe with grace', () => {
  it('serves the stale value when the loader fails, logs at warn, and backs off before loading again', async () => {
    const clock = manualClock();
    const { logger, lines } = consoleLogger();
    const cache = buildCache<string>({
      ttl: 1000,
      grace: '1h',
      clock: clock.now,
      logger,
      failSafeBackoff: 5000,
    });
    const stale = vi.fn();
    cache.on('cache:stale', stale);
    await cache.getOrSet('k', () => 'v1');
    clock.advance(1500);
    const failing = vi.fn(async () => {
      throw new Error('upstream down');
    });
    await expect(cache.getOrSet('k', failing, { retry: false })).resolves.toBe('v1');
    expect(failing).toHaveBeenCalledTimes(1);
    expect(lines.some((l) => l.level === 'warn' && l.message === 'Cache STALE')).toBe(true);
    expect(stale).toHaveBeenCalledWith(expect.objectContaining({ key: 'k', error: expect.any(CacheError) }));

    // Within the backoff the loader is not called again.
    clock.advance(4000);
    await expect(cache.getOrSet('k', failing, { retry: false })).resolves.toBe('v1');
    expect(failing).toHaveBeenCalledTimes(1);
    expect(cache.stats().staleHits).toBe(2);

    // After it, the loader is tried again; a success replaces the stale value.
    clock.advance(1001);
    await expect(cache.getOrSet('k', () => 'v2')).resolves.toBe('v2');
    await expect(cache.get('k')).resolves.toBe('v2');
  });

  it('without grace (or after grace) the failure is thrown', async () => {
    const clock = manualClock();
    const cache = buildCache<string>({ ttl: 1000, grace: 500, clock: clock.now, retry: false });
    await cache.set('k', 'v1');
    clock.advance(1600);
    await expect(
      cache.getOrSet('k', async () => {
        throw new Error('down');
      }),
    ).rejects.toMatchObject({ type: 'FETCH_FAILED' });
  });

  it('a stale value is not returned by get(), and has() is false for it', async () => {
    const clock = manualClock();
    const cache = buildCache<string>({ ttl: 1000, grace: '1h', clock: clock.now });
    await cache.set('k', 'v1');
    clock.advance(1001);
    expect(await cache.get('k')).toBeUndefined();
    expect(await cache.has('k')).toBe(false);
    expect(cache.entries()[0]).toMatchObject({ key: 'k', stale: true, ttlRemainingMs: 0 });
  });
});

describe('getOrSet: timeouts', () => {
  it('soft timeout answers stale after soft ms; the loader finishes in the background and updates the cache', async () => {
    vi.useFakeTimers();
    // An exact clock: the default one caches Date.now() behind a 1 ms timer, which the count below would see.
    const cache = buildCache<string>({ ttl: 1000, grace: '1h', cleanupInterval: 0, clock: () => Date.now() });
    await cache.set('k', 'old');
    vi.advanceTimersByTime(1001);
    const gate = deferred<string>();
    const p = cache.getOrSet('k', () => gate.promise, { timeout: { soft: 50 } });
    await vi.advanceTimersByTimeAsync(50);
    await expect(p).resolves.toBe('old');
    expect(cache.stats().staleHits).toBe(1);
    gate.resolve('new');
    await vi.advanceTimersByTimeAsync(0);
    await expect(cache.get('k')).resolves.toBe('new');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('soft timeout does nothing without a stale value', async () => {
    vi.useFakeTimers();
    const cache = buildCache<string>({ ttl: 1000 });
    const gate = deferred<string>();
    const p = cache.getOrSet('k', () => gate.promise, { timeout: { soft: 10 } });
    await vi.advanceTimersByTimeAsync(100);
    gate.resolve('fresh');
    await expect(p).resolves.toBe('fresh');
  });

  it('hard timeout bounds the whole call including retries, aborts the signal, and is not retried', async () => {
    vi.useFakeTimers();
    const cache = buildCache<string>({ retry: { initialDelay: 100, jitter: 0 } });
    const signals: AbortSignal[] = [];
    const loader = vi.fn(async (ctx: { signal: AbortSignal }) => {
      signals.push(ctx.signal);
      throw codeError('ECONNREFUSED');
    });
    const p = cache.getOrSet('k', loader, { timeout: { hard: 250 } });
    p.catch(() => {});
    await vi.advanceTimersByTimeAsync(250);
    await expect(p).rejects.toMatchObject({ type: 'TIMEOUT', retryable: false });
    // Attempts at 0, 100 and 300 ms: the third never starts because the call was given up at 250 ms.
    expect(loader).toHaveBeenCalledTimes(2);
    expect(signals[0]!.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(5000);
    expect(loader).toHaveBeenCalledTimes(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a hard timeout with a stale value in grace answers stale', async () => {
    vi.useFakeTimers();
    const cache = buildCache<string>({ ttl: 1000, grace: '1h', timeout: { hard: 100 } });
    await cache.set('k', 'old');
    vi.advanceTimersByTime(2000);
    const p = cache.getOrSet('k', () => new Promise<string>(() => {}));
    await vi.advanceTimersByTimeAsync(100);
    await expect(p).resolves.toBe('old');
  });
});

describe('getOrSet: refresh-ahead', () => {
  it('past the fraction a hit answers at once and starts exactly one background refresh', async () => {
    const clock = manualClock();
    const cache = buildCache<string>({ ttl: 1000, clock: clock.now, refreshAhead: 0.8 });
    await cache.set('k', 'v1');
    const gate = deferred<string>();
    const loader = vi.fn(() => gate.promise);
    clock.advance(700);
    await expect(cache.getOrSet('k', loader)).resolves.toBe('v1');
    expect(loader).not.toHaveBeenCalled();
    clock.advance(100);
    const answers = await Promise.all(Array.from({ length: 20 }, () => cache.getOrSet('k', loader)));
    expect(answers.every((a) => a === 'v1')).toBe(true);
    expect(loader).toHaveBeenCalledTimes(1);
    gate.resolve('v2');
    await new Promise((r) => setImmediate(r));
    await expect(cache.get('k')).resolves.toBe('v2');
    expect(cache.stats().refreshes).toBe(1);
    expect(await cache.ttlRemaining('k')).toBe(1000);
  });

  it('a failed refresh keeps the value and waits out the backoff before refreshing again', async () => {
    const clock = manualClock();
    const cache = buildCache<string>({ ttl: 1000, clock: clock.now, failSafeBackoff: 100, retry: false });
    await cache.set('k', 'v1');
    clock.advance(900);
    const loader = vi.fn(async () => {
      throw new Error('down');
    });
    await expect(cache.getOrSet('k', loader, { refreshAhead: 0.5 })).resolves.toBe('v1');
    await new Promise((r) => setImmediate(r));
    await expect(cache.getOrSet('k', loader, { refreshAhead: 0.5 })).resolves.toBe('v1');
    expect(loader).toHaveBeenCalledTimes(1);
    clock.advance(50);
    await cache.getOrSet('k', loader, { refreshAhead: 0.5 });
    expect(loader).toHaveBeenCalledTimes(1);
  });
});

describe('getOrSet: loader context and results', () => {
  it('fallback: never throws, answers the fallback value (seed 002 WithFallback)', async () => {
    const cache = buildCache<string[]>({ retry: false });
    const loader = vi.fn(async (): Promise<string[]> => {
      throw new Error('down');
    });
    await expect(cache.getOrSet('user:1', loader, { fallback: [] })).resolves.toEqual([]);
    expect(await cache.has('user:1')).toBe(false);
  });

  it('ctx.skip() answers the value without caching it', async () => {
    const cache = buildCache<string>();
    await expect(
      cache.getOrSet('k', (ctx) => {
        ctx.skip();
        return 'once';
      }),
    ).resolves.toBe('once');
    expect(await cache.has('k')).toBe(false);
  });

  it('ctx.setTtl and ctx.setTags override the call options', async () => {
    const clock = manualClock();
    const cache = buildCache<string>({ ttl: 1000, clock: clock.now });
    await cache.getOrSet(
      'k',
      (ctx) => {
        ctx.setTtl('5s');
        ctx.setTags(['org:acme']);
        return 'v';
      },
      { tags: ['ignored'] },
    );
    expect(await cache.ttlRemaining('k')).toBe(5000);
    expect(await cache.invalidateTags(['ignored'])).toBe(0);
    expect(await cache.invalidateTags(['org:acme'])).toBe(1);
  });

  it('undefined results are not cached unless cacheUndefined or negativeTtl', async () => {
    const clock = manualClock();
    const cache = buildCache<string | undefined>({ ttl: 10_000, clock: clock.now });
    const loader = vi.fn(() => undefined);
    await cache.getOrSet('a', loader);
    await cache.getOrSet('a', loader);
    expect(loader).toHaveBeenCalledTimes(2);

    await cache.getOrSet('b', loader, { cacheUndefined: true });
    await cache.getOrSet('b', loader, { cacheUndefined: true });
    expect(loader).toHaveBeenCalledTimes(3);

    await cache.getOrSet('c', loader, { negativeTtl: 100 });
    expect(await cache.ttlRemaining('c')).toBe(100);
    clock.advance(101);
    await cache.getOrSet('c', loader, { negativeTtl: 100 });
    expect(loader).toHaveBeenCalledTimes(5);
  });

  it('jitter spreads TTLs per cache and per call', async () => {
    const clock = manualClock();
    const cache = buildCache<number>({ ttl: 10_000, jitter: 0.5, clock: clock.now });
    for (let i = 0; i < 40; i++) await cache.getOrSet(i, () => i);
    const ttls = new Set<number | undefined>();
    for (let i = 0; i < 40; i++) ttls.add(await cache.ttlRemaining(i));
    expect(ttls.size).toBeGreaterThan(5);
    for (const t of ttls) {
      expect(t).toBeGreaterThanOrEqual(5000);
      expect(t).toBeLessThanOrEqual(15_000);
    }
    await cache.getOrSet('fixed', () => 1, { jitter: 0 });
    expect(await cache.ttlRemaining('fixed')).toBe(10_000);
  });

  it('validates the call options and the key', async () => {
    const cache = buildCache();
    await expect(cache.getOrSet('k', () => 1, { ttl: -1 })).rejects.toThrow(/ttl/);
    await expect(cache.getOrSet('k', () => 1, { refreshAhead: 2 })).rejects.toThrow(/refreshAhead/);
    await expect(cache.getOrSet({} as any, () => 1)).rejects.toThrow(TypeError);
    await expect(cache.getOrSet('k', 'nope' as any)).rejects.toThrow(/loader/);
  });
});

describe('getOrSet: the cache never causes a failure', () => {
  it('calls the loader directly and logs at error when the store throws', async () => {
    const { logger, lines } = consoleLogger();
    const cache = buildCache<string>({
      logger,
      sizeOf: () => {
        throw new Error('serializer exploded');
      },
      maxBytes: 1000,
    });
    await expect(cache.getOrSet('k', () => 'value')).resolves.toBe('value');
    expect(lines.some((l) => l.level === 'error' && /serializer exploded/.test(l.fields.error))).toBe(true);
  });

  it('when disabled, getOrSet calls the loader every time and get misses', async () => {
    const cache = buildCache<number>({ enabled: false });
    const loader = vi.fn(() => 1);
    await cache.getOrSet('k', loader);
    await cache.getOrSet('k', loader);
    expect(loader).toHaveBeenCalledTimes(2);
    expect(await cache.get('k')).toBeUndefined();
  });
});

describe('close()', () => {
  it('ignores the result of a loader still running at close, aborts its signal, and leaves no timers', async () => {
    vi.useFakeTimers();
    const cache = buildCache<string>({ cleanupInterval: '1s', ttl: '1m' });
    const gate = deferred<string>();
    let signal: AbortSignal | undefined;
    const p = cache.getOrSet('k', (ctx) => {
      signal = ctx.signal;
      return gate.promise;
    });
    await cache.close();
    expect(signal!.aborted).toBe(true);
    gate.resolve('late');
    // The caller still gets what its loader produced, but nothing is stored.
    await expect(p).resolves.toBe('late');
    expect(await cache.get('k')).toBeUndefined();
    expect(cache.stats().size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    expect(cache.health()).toEqual({ status: 'degraded', reason: 'closed' });
    // After close the cache passes through to the loader.
    await expect(cache.getOrSet('k', () => 'direct')).resolves.toBe('direct');
  });
});

describe('getOrSet never throws synchronously', () => {
  it('rejects when reading its options throws, on a hit and on a miss', async () => {
    const cache = buildCache<string>({ ttl: '1h', cleanupInterval: 0 });
    await cache.set('held', 'v');
    const throwing = (name: string) =>
      Object.defineProperty({}, name, {
        enumerable: true,
        get() {
          throw new Error(`bad ${name}`);
        },
      });
    const proxy = new Proxy(
      {},
      {
        get() {
          throw new Error('bad proxy');
        },
      },
    );
    const cases: Array<[string, object, RegExp]> = [
      ['held', throwing('forceFresh'), /bad forceFresh/],
      ['held', throwing('refreshAhead'), /bad refreshAhead/],
      ['held', throwing('signal'), /bad signal/],
      ['missing', throwing('signal'), /bad signal/],
      ['held', proxy, /bad proxy/],
      ['missing', proxy, /bad proxy/],
    ];
    for (const [key, options, message] of cases) {
      let answer: Promise<string> | undefined;
      expect(() => (answer = cache.getOrSet(key, () => 'loaded', options))).not.toThrow();
      await expect(answer).rejects.toThrow(message);
    }
    await cache.close();
  });
});

describe('a lifetime under 1 ms', () => {
  it('is not served by the hit path once get() and has() call it expired', async () => {
    const clock = manualClock();
    const cache = buildCache<string>({ clock: clock.now, cleanupInterval: 0 });
    await cache.set('k', 'old', { ttl: 0.5 });
    expect(await cache.getOrSet('k', () => 'loaded')).toBe('old');
    clock.advance(0.8);
    expect([await cache.get('k'), await cache.has('k')]).toEqual([undefined, false]);
    expect(await cache.getOrSet('k', () => 'loaded')).toBe('loaded');
    // The same through a restore that leaves an entry less than 1 ms to live.
    const dumped = cache.dump();
    const other = buildCache<string>({ clock: clock.now, cleanupInterval: 0 });
    other.load([{ ...dumped[0]!, key: 'r', staleAt: clock.now() + 0.3, expiresAt: clock.now() + 0.3 }]);
    clock.advance(0.5);
    expect(await other.getOrSet('r', () => 'reloaded')).toBe('reloaded');
    await Promise.all([cache.close(), other.close()]);
  });
});
