// The facade's failure paths and the log lines and events that report them: a failing store read
// falls back to the loader, store errors surface as CACHE_GET_FAILED / CACHE_SET_FAILED, refreshes,
// warming, evictions and exhausted retries log at the levels of DESIGN.md and emit their events.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildCache } from '../../src/cache/create-cache.js';
import { CacheError } from '../../src/errors.js';
import { manualClock } from '../helpers/clock.js';
import { consoleLogger } from '../helpers/logger.js';
import { codeError } from './helpers.js';

afterEach(() => {
  vi.useRealTimers();
});

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A clock that throws while `broken` is set: the engine reads it on every TTL check. */
function breakableClock(): { now: () => number; broken: { on: boolean } } {
  const broken = { on: false };
  return {
    broken,
    now: () => {
      if (broken.on) throw new Error('clock exploded');
      return 1_000_000;
    },
  };
}

describe('when the cache itself fails', () => {
  it('getOrSet answers from the loader when the store read throws, logs it and emits cache:error', async () => {
    const clock = breakableClock();
    const { logger, lines } = consoleLogger();
    const cache = buildCache<number>({ ttl: '1m', clock: clock.now, logger });
    const errors: unknown[] = [];
    cache.on('cache:error', (e) => errors.push(e));
    await cache.set('k', 1);
    clock.broken.on = true;
    const loader = vi.fn(async () => 2);
    await expect(cache.getOrSet('k', loader)).resolves.toBe(2);
    expect(loader).toHaveBeenCalledTimes(1);
    expect(errors).toEqual([expect.objectContaining({ cache: cache.name, key: 'k' })]);
    expect(lines.filter((l) => l.level === 'error')).toEqual([
      expect.objectContaining({
        message: 'Cache ERROR',
        fields: expect.objectContaining({ operation: 'read' }),
      }),
    ]);
  });

  it('get and set surface store failures as CACHE_GET_FAILED and CACHE_SET_FAILED', async () => {
    const clock = breakableClock();
    const cache = buildCache<number>({ ttl: '1m', clock: clock.now });
    await cache.set('k', 1);
    clock.broken.on = true;
    await expect(cache.get('k')).rejects.toMatchObject({ type: 'CACHE_GET_FAILED' });
    const sized = buildCache<number>({
      maxBytes: 1000,
      sizeOf: () => {
        throw new Error('cannot measure');
      },
    });
    const error = await sized.set('k', 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CacheError);
    expect(error).toMatchObject({ type: 'CACHE_SET_FAILED' });
    expect((error as CacheError).cause).toBeInstanceOf(Error);
  });
});

describe('log lines and events', () => {
  it('exhausted retries log one warning (retries at info) and emit cache:error', async () => {
    vi.useFakeTimers();
    const { logger, lines } = consoleLogger();
    const cache = buildCache<number>({
      logger,
      retry: { maxRetries: 2, initialDelay: 10, maxDelay: 10, jitter: 0 },
    });
    const errors: unknown[] = [];
    cache.on('cache:error', (e) => errors.push(e));
    const answer = cache
      .getOrSet('k', async () => {
        throw codeError('ECONNREFUSED');
      })
      .catch((e: unknown) => e);
    await vi.runAllTimersAsync();
    expect(await answer).toMatchObject({ type: 'RETRY_EXHAUSTED' });
    const levels = lines.filter((l) => l.level !== 'debug').map((l) => `${l.level} ${l.message}`);
    expect(levels).toEqual(['info Cache RETRY', 'info Cache RETRY', 'warn Cache RETRY exhausted']);
    expect(errors).toHaveLength(1);
  });

  it('a refresh logs REFRESH at debug and emits cache:refresh; a failed one warns once', async () => {
    const clock = manualClock();
    const { logger, lines } = consoleLogger();
    const cache = buildCache<string>({
      ttl: 1000,
      clock: clock.now,
      logger,
      retry: false,
      failSafeBackoff: 100,
    });
    const refreshes: unknown[] = [];
    cache.on('cache:refresh', (e) => refreshes.push(e));
    await cache.set('k', 'v1');
    clock.advance(900);
    await cache.getOrSet('k', async () => 'v2', { refreshAhead: 0.5 });
    await tick();
    expect(await cache.get('k')).toBe('v2');
    expect(refreshes).toEqual([expect.objectContaining({ key: 'k' })]);
    expect(lines.some((l) => l.level === 'debug' && l.message === 'Cache REFRESH')).toBe(true);

    clock.advance(900);
    await cache.getOrSet(
      'k',
      async () => {
        throw new Error('down');
      },
      { refreshAhead: 0.5 },
    );
    await tick();
    expect(lines.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual(['Cache REFRESH failed']);
  });

  it('refreshing resumes once the fail-safe backoff after a failed refresh has passed', async () => {
    const clock = manualClock();
    const cache = buildCache<string>({ ttl: 1000, clock: clock.now, failSafeBackoff: 100, retry: false });
    await cache.set('k', 'v1');
    clock.advance(900);
    let fail = true;
    const loader = vi.fn(async () => {
      if (fail) throw new Error('down');
      return 'v2';
    });
    await cache.getOrSet('k', loader, { refreshAhead: 0.5 });
    await tick();
    expect(loader).toHaveBeenCalledTimes(1);
    fail = false;
    clock.advance(50); // still backing off
    await cache.getOrSet('k', loader, { refreshAhead: 0.5 });
    await tick();
    expect(loader).toHaveBeenCalledTimes(1);
    clock.advance(60); // past the backoff
    await cache.getOrSet('k', loader, { refreshAhead: 0.5 });
    await tick();
    expect(loader).toHaveBeenCalledTimes(2);
    expect(await cache.get('k')).toBe('v2');
  });

  it('invalidations emit cache:invalidate with their count; evictions log EVICT at debug', async () => {
    const { logger, lines } = consoleLogger();
    const cache = buildCache<number>({ maxEntries: 1, policy: 'lru', logger });
    const events: unknown[] = [];
    cache.on('cache:invalidate', (e) => events.push(e));
    await cache.set('a', 1, { tags: ['t'] });
    expect(await cache.invalidateTags(['t'])).toBe(1);
    await cache.set('p:1', 1);
    expect(await cache.invalidatePattern('p:*')).toBe(1);
    expect(events).toEqual([
      expect.objectContaining({ tags: ['t'], count: 1 }),
      expect.objectContaining({ pattern: 'p:*', count: 1 }),
    ]);
    await cache.set('x', 1);
    await cache.set('y', 1); // evicts x
    expect(lines.filter((l) => l.message === 'Cache EVICT')).toEqual([
      expect.objectContaining({ level: 'debug', fields: expect.objectContaining({ key: 'x' }) }),
    ]);
  });

  it('warm logs WARM at info with the count, and writes nothing while the cache is disabled', async () => {
    const { logger, lines } = consoleLogger();
    const cache = buildCache<number>({ logger });
    expect(
      await cache.warm([
        ['a', 1],
        ['b', 2],
      ]),
    ).toBe(2);
    expect(lines.filter((l) => l.message === 'Cache WARM')).toEqual([
      expect.objectContaining({ level: 'info', fields: expect.objectContaining({ count: 2 }) }),
    ]);
    cache.configure({ enabled: false });
    expect(await cache.warm([['c', 3]])).toBe(0);
    cache.configure({ enabled: true });
    expect(await cache.has('c')).toBe(false);
    expect(await cache.get('a')).toBe(1);
  });

  it('a failing warmOnStart is logged and reported, and the cache still serves', async () => {
    const { logger, lines } = consoleLogger();
    const cache = buildCache<number>({
      logger,
      // eslint-disable-next-line require-yield
      warmOnStart: async function* () {
        throw new Error('seed file missing');
      },
    });
    await cache.ready;
    expect(lines.filter((l) => l.level === 'error')).toEqual([
      expect.objectContaining({ fields: expect.objectContaining({ operation: 'warmOnStart' }) }),
    ]);
    await expect(cache.getOrSet('k', async () => 7)).resolves.toBe(7);
  });
});
