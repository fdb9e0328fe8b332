// memoize and @memoizeMethod: cached results keyed by arguments, single-flight, `this` and tags, the TC39
// decorator form and option checks. Owner-keyed defaults are in memoize-owners.test.ts.
import { describe, expect, it, vi } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import { memoize, memoizeMethod } from '../../src/cache/memoize.js';
import { manualClock } from '../helpers/clock.js';
import { deferred } from '../helpers/deferred.js';

describe('memoize', () => {
  it('caches a sync function by its arguments and returns promises', async () => {
    const cache = createCache({ ttl: '5m' });
    let calls = 0;
    function square(n: number): number {
      calls++;
      return n * n;
    }
    const fast = memoize(square, { cache });
    const first = fast(3);
    expect(first).toBeInstanceOf(Promise);
    expect(await first).toBe(9);
    expect(await fast(3)).toBe(9);
    expect(await fast(4)).toBe(16);
    expect(calls).toBe(2);
    expect(
      cache
        .entries()
        .map((e) => e.key)
        .sort(),
    ).toEqual(['square:[3]', 'square:[4]']);
  });

  it('uses a stable key for object arguments and tells 1 from "1"', async () => {
    const cache = createCache();
    const fn = vi.fn(async (q: unknown) => JSON.stringify(q));
    const m = memoize(fn, { cache, prefix: 'q' });
    await m({ a: 1, b: 2 });
    await m({ b: 2, a: 1 });
    expect(fn).toHaveBeenCalledTimes(1);
    await m(1);
    await m('1');
    expect(fn).toHaveBeenCalledTimes(3);
  });

  it('is single-flight: concurrent calls with the same arguments share one call', async () => {
    const cache = createCache();
    const gate = deferred<string>();
    const fn = vi.fn(() => gate.promise);
    const m = memoize(fn, { cache, prefix: 'slow' });
    const calls = [m(), m(), m()];
    gate.resolve('done');
    expect(await Promise.all(calls)).toEqual(['done', 'done', 'done']);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('preserves this for methods; key and tags functions see the arguments; ttl applies', async () => {
    const clock = manualClock();
    const cache = createCache({ clock: clock.now });
    class Prefs {
      constructor(readonly store: Record<number, string>) {}
      load = vi.fn(async function (this: Prefs, userId: number) {
        return this.store[userId];
      });
    }
    const prefs = new Prefs({ 7: 'dark' });
    const getPrefs = memoize(prefs.load, {
      cache,
      ttl: '5m',
      key: (userId) => `prefs:${userId}`,
      tags: (userId) => [`user:${userId}`],
    });
    expect(await getPrefs.call(prefs, 7)).toBe('dark');
    expect(await cache.ttlRemaining('prefs:7')).toBe(300_000);
    expect(await cache.invalidateTags(['user:7'])).toBe(1);
    expect(await getPrefs.call(prefs, 7)).toBe('dark');
    expect(prefs.load).toHaveBeenCalledTimes(2);
  });

  it('works as a TS 5 standard method decorator', async () => {
    const cache = createCache();
    let calls = 0;
    class Users {
      factor = 10;
      @memoizeMethod({ cache, ttl: '1m' })
      async stats(id: number): Promise<number> {
        calls++;
        return id * this.factor;
      }
    }
    const users = new Users();
    expect(await users.stats(2)).toBe(20);
    expect(await users.stats(2)).toBe(20);
    expect(calls).toBe(1);
    // The default key names the declaring class, so another class's `stats` never shares it.
    expect(cache.entries()[0]!.key).toBe('Users.stats:[2]');
  });

  it('rejects bad options and underivable arguments clearly', async () => {
    const cache = createCache();
    expect(() => memoize(() => 1, { cache: {} as any })).toThrow(/options.cache/);
    expect(() => memoize(5 as any, { cache })).toThrow(/fn must be a function/);
    // A misspelt option is refused, not ignored (here `ttl` would have stayed the cache's).
    expect(() => memoize(() => 1, { cache, tll: '1s' } as any)).toThrow(
      new TypeError('memoize: unknown option "tll"'),
    );
    const m = memoize((f: unknown) => f, { cache });
    await expect(m(() => 1)).rejects.toThrow(/key function/);
  });

  it("never answers one account's call with another's when the argument's state is private", async () => {
    class Account {
      readonly #id: string;
      constructor(id: string) {
        this.#id = id;
      }
      get id(): string {
        return this.#id;
      }
    }
    const cache = createCache<unknown>();
    let calls = 0;
    const balance = memoize(
      (account: Account) => {
        calls++;
        return `balance of ${account.id}`;
      },
      { cache },
    );
    await expect(balance(new Account('alice'))).rejects.toThrow(TypeError);
    await expect(balance(new Account('bob'))).rejects.toThrow(/pass a key function/);
    expect(calls).toBe(0);
    const byId = memoize((account: Account) => `balance of ${account.id}`, {
      cache,
      key: (account) => `balance:${account.id}`,
    });
    expect(await byId(new Account('alice'))).toBe('balance of alice');
    expect(await byId(new Account('bob'))).toBe('balance of bob');
    await cache.close();
  });
});
