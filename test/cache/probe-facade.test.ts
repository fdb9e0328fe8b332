// Hostile probes of the facade's promises: what a write removed is never served again, one caller's
// answer never reaches another, and bad input is refused with an error naming it.
import { describe, expect, it } from 'vitest';
import { buildCache } from '../../src/cache/create-cache.js';
import { memoize, memoizeMethod } from '../../src/cache/memoize.js';
import { syncView } from '../../src/cache/sync-view.js';
import type { Cache } from '../../src/index.js';
import { MemoryBusHub } from '../../src/tiers/bus.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { memoryTier } from '../../src/tiers/redis-tier.js';
import { manualClock } from '../helpers/clock.js';

describe('a write while caching is switched off (enabled: false) replaces the held value', () => {
  const writes = {
    set: (cache: Cache<string>) => cache.set('k', 'v2'),
    setMany: (cache: Cache<string>) => cache.setMany([['k', 'v2']]),
    'syncView.set': (cache: Cache<string>) => syncView(cache).set('k', 'v2'),
  };
  it.each(Object.keys(writes) as Array<keyof typeof writes>)(
    '%s: once on again, the value it replaced is not served (root and namespace)',
    async (write) => {
      const root = buildCache<string>({ ttl: '1h' });
      for (const cache of [root, root.namespace('ns')]) {
        await cache.set('k', 'v1');
        cache.configure({ enabled: false });
        await writes[write](cache);
        cache.configure({ enabled: true });
        // Before: 'v1', the value the write replaced, was served again.
        expect(await cache.get('k')).toBeUndefined();
        expect(await cache.getOrSet('k', () => 'loaded')).toBe('loaded');
      }
      await root.close();
    },
  );

  it('reaches the shared tier and other instances: none serves the replaced value', async () => {
    const clock = manualClock();
    const driver = new MemoryDriver({ clock: clock.now });
    const hub = new MemoryBusHub();
    const make = (id: string) =>
      buildCache<string>({
        name: 'c',
        ttl: '1h',
        clock: clock.now,
        l2: memoryTier({ driver, hub, instanceId: id, clock: clock.now }),
      });
    const a = make('A');
    const b = make('B');
    await a.set('k', 'v1');
    expect(await b.get('k')).toBe('v1');
    a.configure({ enabled: false });
    await a.set('k', 'v2');
    a.configure({ enabled: true });
    expect(await a.get('k')).toBeUndefined();
    expect(await b.get('k')).toBeUndefined();
    await Promise.all([a.close(), b.close()]);
  });
});

describe('memoize refuses bad getOrSet options when it is called, not at every call of the memoized function', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['a negative ttl', { ttl: -1 }, /memoize: ttl must not be negative/],
    ['an unreadable ttl', { ttl: 'soon' }, /memoize: ttl is not a readable duration/],
    ['a negative grace', { grace: -1 }, /memoize: grace must not be negative/],
    ['tags that are not strings', { tags: [1] }, /memoize: tags must be an array of strings/],
    ['a tag starting with U+E000', { tags: ['\uE000x'] }, /memoize: tags: a tag may not start with U\+E000/],
    ['a bad retry', { retry: 'often' }, /memoize: retry/],
    ['a bad refreshAhead', { refreshAhead: 2 }, /memoize: refreshAhead/],
  ];
  it.each(cases)('%s', async (_name, options, message) => {
    const cache = buildCache<unknown>({ ttl: '1h' });
    let calls = 0;
    const make = () =>
      memoize(
        async (x: number) => {
          calls++;
          return x;
        },
        { cache, ...options } as never,
      );
    // Before: memoize() accepted these, and every call of the memoized function rejected instead.
    expect(make).toThrow(message);
    expect(calls).toBe(0);
    await cache.close();
  });

  it('still accepts good options, and a tags function is checked per call as before', async () => {
    const cache = buildCache<unknown>({ ttl: '1h' });
    const f = memoize(async (x: number) => x, {
      cache,
      ttl: '1m',
      grace: '1m',
      prefix: 'f',
      tags: (x) => (x > 0 ? [`t${x}`] : ([x] as never)),
    });
    expect(await f(1)).toBe(1);
    await expect(f(0)).rejects.toThrow(/tags must be an array of strings/);
    await cache.close();
  });
});

describe('memoize keys arrays with holes apart from arrays holding undefined', () => {
  it('answers each caller for its own array', async () => {
    const cache = buildCache<unknown>({ ttl: '1h' });
    // Counts the elements an array really has: a hole is not one, an undefined is.
    const present = memoize(async (list: unknown[]) => list.filter(() => true).length, {
      cache,
      prefix: 'present',
    });
    // eslint-disable-next-line no-sparse-arrays
    expect(await present([, 1])).toBe(1);
    // Before: 1, the first caller's answer (both arrays were keyed [undefined,1]).
    expect(await present([undefined, 1])).toBe(2);
    expect(await present(new Array(2))).toBe(0);
    expect(await present([undefined, undefined])).toBe(2);
    await cache.close();
  });
});

describe('ttlRemaining of a value that fails validate', () => {
  it('is undefined, as has() is false, get() misses and syncView.ttlRemaining says', async () => {
    const cache = buildCache<unknown>({ ttl: '1h', validate: (value) => typeof value === 'number' });
    // set() does not check validate (a read does): the value is stored, and no read answers it.
    await cache.set('k', 'not a number');
    expect(await cache.get('k')).toBeUndefined();
    expect(await cache.has('k')).toBe(false);
    expect(syncView(cache).ttlRemaining('k')).toBeUndefined();
    // Before: 3600000, the time left of a value no read answers.
    expect(await cache.ttlRemaining('k')).toBeUndefined();
    await cache.set('n', 1);
    expect(await cache.ttlRemaining('n')).toBe(3_600_000);
    await cache.close();
  });
});

describe('memoize with both key and prefix', () => {
  it('is refused: the prefix would be ignored, and two functions keyed by id would share entries', async () => {
    const cache = buildCache<unknown>({ ttl: '1h' });
    const make = (prefix: string, kind: string) =>
      memoize(async (id: number) => `${kind} ${id}`, { cache, prefix, key: (id) => id });
    // Before: both were accepted and keyed 1 alike, so the org lookup answered the user's name.
    expect(() => make('user', 'user')).toThrow(TypeError);
    expect(() => make('org', 'org')).toThrow(/memoize: options\.prefix .* options\.key/);
    expect(() => memoizeMethod({ cache, prefix: 'p', key: (id: number) => id } as never)).toThrow(
      /memoize: options\.prefix/,
    );
    await cache.close();
  });
});
