// Issue 14's smaller options: `validate` (a predicate or a Standard Schema) treats a cached value that
// no longer fits as a miss; `slowLoad` logs `Cache SLOW` and emits cache:slow once per slow load (by the
// injected clock); `prune()` removes expired L1 entries now, a namespace's own only.
import { describe, expect, it, vi } from 'vitest';
import { buildCache } from '../../src/cache/create-cache.js';
import type { CacheKey } from '../../src/engine/types.js';
import { MemoryBusHub } from '../../src/tiers/bus.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { memoryTier } from '../../src/tiers/redis-tier.js';
import { manualClock } from '../helpers/clock.js';
import { consoleLogger } from '../helpers/logger.js';

interface UserV2 {
  id: number;
  email: string;
}

const isV2 = (value: unknown): boolean =>
  typeof value === 'object' && value !== null && typeof (value as UserV2).email === 'string';

/** A minimal Standard Schema (as zod and valibot expose one) accepting UserV2. */
const userSchema = {
  '~standard': {
    version: 1,
    vendor: 'test',
    validate: (value: unknown) => (isV2(value) ? { value } : { issues: [{ message: 'email missing' }] }),
  },
};

describe('validate', () => {
  it('a cached value that fails is a miss: getOrSet replaces it, get answers undefined', async () => {
    const cache = buildCache<unknown>({ ttl: '1h', validate: isV2 });
    await cache.set('u1', { id: 1, name: 'old shape' });
    expect(await cache.get('u1')).toBeUndefined();
    expect(await cache.has('u1')).toBe(false);
    const loader = vi.fn(() => ({ id: 1, email: 'a@b.c' }));
    expect(await cache.getOrSet('u1', loader)).toEqual({ id: 1, email: 'a@b.c' });
    expect(loader).toHaveBeenCalledTimes(1);
    // Replaced: the next call is a plain hit.
    expect(await cache.getOrSet('u1', loader)).toEqual({ id: 1, email: 'a@b.c' });
    expect(loader).toHaveBeenCalledTimes(1);
    expect(await cache.get('u1')).toEqual({ id: 1, email: 'a@b.c' });
    await cache.close();
  });

  it('accepts a Standard Schema, per call too, and a value in grace that fails is not served stale', async () => {
    const clock = manualClock();
    const cache = buildCache<unknown>({ clock: clock.now, ttl: '10s', grace: '1h', retry: false });
    await cache.set('u', { id: 1 });
    clock.advance(10_000);
    const fail = () => Promise.reject(new Error('db down'));
    // Without validate the old value would answer by fail-safe; with it, nothing fits.
    await expect(cache.getOrSet('u', fail, { validate: userSchema })).rejects.toThrow(/db down/);
    expect(await cache.getOrSet('u', () => ({ id: 1, email: 'e' }), { validate: userSchema })).toEqual({
      id: 1,
      email: 'e',
    });
    await cache.close();
  });

  it('checks values read from L2 as well', async () => {
    const driver = new MemoryDriver();
    const hub = new MemoryBusHub();
    const old = buildCache<unknown>({
      name: 'c',
      ttl: '1h',
      l2: memoryTier({ driver, hub, instanceId: 'A' }),
    });
    const next = buildCache<unknown>({
      name: 'c',
      ttl: '1h',
      validate: userSchema,
      l2: memoryTier({ driver, hub, instanceId: 'B' }),
    });
    await old.set('u', { id: 1 }); // written by the previous deploy
    expect(await next.get('u')).toBeUndefined();
    expect(await next.getMany(['u'])).toEqual([undefined]);
    expect(await next.getOrSet('u', () => ({ id: 1, email: 'x' }))).toEqual({ id: 1, email: 'x' });
    expect(await next.getOrSetMany(['u', 'v'], (keys) => keys.map((k) => ({ id: k, email: 'y' })))).toEqual([
      { id: 1, email: 'x' },
      { id: 'v', email: 'y' },
    ]);
    await old.close();
    await next.close();
  });

  it('getOrSetMany loads the keys whose cached value fails', async () => {
    const cache = buildCache<unknown>({ validate: isV2 });
    await cache.setMany([
      ['ok', { id: 1, email: 'ok' }],
      ['bad', { id: 2 }],
    ]);
    const calls: CacheKey[][] = [];
    const result = await cache.getOrSetMany(['ok', 'bad'], (keys) => {
      calls.push([...keys]);
      return keys.map(() => ({ id: 0, email: 'loaded' }));
    });
    expect(result).toEqual([
      { id: 1, email: 'ok' },
      { id: 0, email: 'loaded' },
    ]);
    expect(calls).toEqual([['bad']]);
    await cache.close();
  });

  it('an asynchronous schema or a non-validator is refused with a clear TypeError', async () => {
    const asyncSchema = {
      '~standard': { version: 1, vendor: 't', validate: async (value: unknown) => ({ value }) },
    };
    const cache = buildCache<unknown>();
    await cache.set('k', 1);
    await expect(cache.getOrSet('k', () => 2, { validate: asyncSchema })).rejects.toThrow(
      /validated asynchronously; only synchronous schemas/,
    );
    await expect(cache.getOrSet('k', () => 2, { validate: (async () => true) as never })).rejects.toThrow(
      /validate must answer synchronously/,
    );
    expect(() => buildCache({ validate: 'zod' as never })).toThrow(/^validate must be a function/);
    await cache.close();
  });

  it('is not called at all when the option is absent', async () => {
    const cache = buildCache<unknown>();
    const check = vi.fn(() => true);
    await cache.set('k', 1);
    expect(await cache.getOrSet('k', () => 2)).toBe(1);
    expect(await cache.getOrSet('k', () => 2, { validate: check })).toBe(1);
    expect(check).toHaveBeenCalledTimes(1);
    await cache.close();
  });
});

describe('slowLoad', () => {
  it('logs Cache SLOW once per slow load at warn, with cache, key and durationMs, and emits cache:slow', async () => {
    const clock = manualClock();
    const { logger, lines } = consoleLogger();
    const cache = buildCache<string>({
      name: 'users',
      clock: clock.now,
      logger,
      slowLoad: '2s',
      retry: false,
    });
    const events: unknown[] = [];
    cache.on('cache:slow', (e) => events.push(e));
    await cache.getOrSet('fast', () => {
      clock.advance(2_000); // not longer than the threshold
      return 'f';
    });
    await cache.getOrSet('slow', () => {
      clock.advance(3_500);
      return 's';
    });
    const slow = lines.filter((l) => l.message === 'Cache SLOW');
    expect(slow).toEqual([
      {
        level: 'warn',
        message: 'Cache SLOW',
        fields: { cache: 'users', key: 'slow', durationMs: 3_500, thresholdMs: 2_000 },
      },
    ]);
    expect(events).toEqual([{ cache: 'users', key: 'slow', durationMs: 3_500, thresholdMs: 2_000 }]);
    // Per call; a failed slow load is reported too.
    await expect(
      cache.getOrSet(
        'failing',
        () => {
          clock.advance(600);
          throw new Error('no');
        },
        { slowLoad: '500ms' },
      ),
    ).rejects.toThrow('no');
    expect(lines.filter((l) => l.message === 'Cache SLOW').map((l) => l.fields.key)).toEqual([
      'slow',
      'failing',
    ]);
    await cache.close();
  });

  it('reports a slow getOrSetMany batch once, with its keys', async () => {
    const clock = manualClock();
    const { logger, lines } = consoleLogger();
    const cache = buildCache<string>({ clock: clock.now, logger });
    await cache.getOrSetMany(
      ['a', 'b'],
      (keys) => {
        clock.advance(90_000);
        return keys.map(String);
      },
      { slowLoad: '1 minute' },
    );
    const slow = lines.filter((l) => l.message === 'Cache SLOW');
    expect(slow).toHaveLength(1);
    expect(slow[0]!.fields).toEqual({
      cache: 'default',
      keys: ['a', 'b'],
      durationMs: 90_000,
      thresholdMs: 60_000,
    });
    await cache.close();
  });

  it('is off by default', async () => {
    const clock = manualClock();
    const { logger, lines } = consoleLogger();
    const cache = buildCache<string>({ clock: clock.now, logger });
    await cache.getOrSet('k', () => {
      clock.advance(3_600_000);
      return 'v';
    });
    expect(lines.filter((l) => l.message === 'Cache SLOW')).toEqual([]);
    await cache.close();
  });
});

describe('prune', () => {
  it('removes expired entries now and returns how many; values in grace stay until their grace ends', async () => {
    const clock = manualClock();
    const cache = buildCache<string>({ clock: clock.now, cleanupInterval: 0 });
    await cache.set('short', 's', { ttl: '10s' });
    await cache.set('graced', 'g', { ttl: '10s', grace: '1m' });
    await cache.set('long', 'l', { ttl: '1h' });
    await cache.set('forever', 'f');
    expect(cache.prune()).toBe(0);
    clock.advance(10_000);
    expect(cache.prune()).toBe(1);
    expect(cache.stats().size).toBe(3);
    clock.advance(60_000);
    expect(cache.prune()).toBe(1);
    expect(cache.stats().size).toBe(2);
    expect(cache.prune()).toBe(0);
    await cache.close();
  });

  it('on a namespace prunes only its own keys', async () => {
    const clock = manualClock();
    const cache = buildCache<string>({ clock: clock.now, cleanupInterval: 0, ttl: '10s' });
    const a = cache.namespace('a');
    const b = cache.namespace('b');
    await a.setMany([
      ['1', 'x'],
      ['2', 'y'],
    ]);
    await b.set('1', 'z');
    await cache.set('root', 'r');
    clock.advance(10_000);
    expect(a.prune()).toBe(2);
    expect(cache.stats().size).toBe(2);
    expect(b.prune()).toBe(1);
    expect(cache.prune()).toBe(1);
    expect(cache.stats().size).toBe(0);
    await cache.close();
  });
});
