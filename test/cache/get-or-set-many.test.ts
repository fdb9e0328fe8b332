// getOrSetMany (issue 14): the DataLoader pattern. Fresh keys from the cache, keys in flight joined,
// the rest to ONE batch loader call; per-key flights that getOrSet joins; omitted keys undefined; a
// failed batch fails its keys except those in grace; writes during the batch keep its results out.
import { describe, expect, it, vi } from 'vitest';
import { buildCache } from '../../src/cache/create-cache.js';
import type { CacheKey } from '../../src/engine/types.js';
import { MemoryBusHub } from '../../src/tiers/bus.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { memoryTier } from '../../src/tiers/redis-tier.js';
import { manualClock } from '../helpers/clock.js';
import { deferred } from '../helpers/deferred.js';

/** A batch loader that records its calls and answers `v:<key>` for each key. */
function recordingLoader() {
  const calls: CacheKey[][] = [];
  const load = (keys: readonly CacheKey[]) => {
    calls.push([...keys]);
    return new Map(keys.map((k) => [k, `v:${String(k)}`] as const));
  };
  return { calls, load };
}

describe('getOrSetMany', () => {
  it('answers cached keys from the cache and loads only the missing ones, in one call, in key order', async () => {
    const cache = buildCache<string>({ ttl: '1m' });
    await cache.set('b', 'cached b');
    const { calls, load } = recordingLoader();
    expect(await cache.getOrSetMany(['a', 'b', 'c', 'a'], load)).toEqual(['v:a', 'cached b', 'v:c', 'v:a']);
    expect(calls).toEqual([['a', 'c']]);
    // Stored: a second call needs no loader.
    expect(await cache.getOrSetMany(['c', 'a'], load)).toEqual(['v:c', 'v:a']);
    expect(calls).toHaveLength(1);
    expect(await cache.getOrSetMany([], load)).toEqual([]);
    expect(calls).toHaveLength(1);
    await cache.close();
  });

  it('reads L2 for what L1 misses (one round trip) before calling the loader', async () => {
    const driver = new MemoryDriver();
    const hub = new MemoryBusHub();
    const a = buildCache<string>({ name: 'c', ttl: '1m', l2: memoryTier({ driver, hub, instanceId: 'A' }) });
    const b = buildCache<string>({ name: 'c', ttl: '1m', l2: memoryTier({ driver, hub, instanceId: 'B' }) });
    await a.set('x', 'from A');
    const many = vi.spyOn(driver, 'getMany');
    const { calls, load } = recordingLoader();
    expect(await b.getOrSetMany(['x', 'y'], load)).toEqual(['from A', 'v:y']);
    expect(calls).toEqual([['y']]);
    expect(many).toHaveBeenCalledTimes(1);
    await a.close();
    await b.close();
  });

  it('accepts an array aligned with the keys; a key left out is undefined and not cached', async () => {
    const cache = buildCache<string>({ ttl: '1m' });
    let runs = 0;
    const load = (keys: readonly CacheKey[]) => {
      runs++;
      return keys.map((k) => (k === 'gone' ? undefined : `v:${String(k)}`));
    };
    expect(await cache.getOrSetMany(['a', 'gone'], load)).toEqual(['v:a', undefined]);
    expect(await cache.getOrSetMany(['a', 'gone'], load)).toEqual(['v:a', undefined]);
    expect(runs).toBe(2); // 'gone' was asked again, 'a' was not
    // A Map without the key: the same.
    expect(await cache.getOrSetMany(['m'], () => new Map())).toEqual([undefined]);
    expect(await cache.has('m')).toBe(false);
    // With cacheUndefined the absence is cached.
    expect(await cache.getOrSetMany(['n'], () => new Map(), { cacheUndefined: true })).toEqual([undefined]);
    expect(await cache.has('n')).toBe(true);
    await cache.close();
  });

  it('rejects an array of the wrong length, or a result that is neither Map nor array', async () => {
    const cache = buildCache<string>({ retry: false });
    await expect(cache.getOrSetMany(['a', 'b'], () => ['only one'])).rejects.toThrow(
      /returned 1 values for 2 keys/,
    );
    await expect(cache.getOrSetMany(['a'], () => ({ a: 1 }) as never)).rejects.toThrow(
      /must return a Map or an array/,
    );
    await expect(cache.getOrSetMany(['a', undefined as never], () => [])).rejects.toThrow(
      /^getOrSetMany: keys\[1\]: key must be/,
    );
    await expect(cache.getOrSetMany(['a'], 'nope' as never)).rejects.toThrow(/loadMany must be a function/);
    await cache.close();
  });

  it('keys with a load in flight join it; only the others go to the batch', async () => {
    const cache = buildCache<string>();
    const gate = deferred<string>();
    const single = cache.getOrSet('b', () => gate.promise);
    const { calls, load } = recordingLoader();
    const batch = cache.getOrSetMany(['a', 'b'], load);
    gate.resolve('from getOrSet');
    expect(await batch).toEqual(['v:a', 'from getOrSet']);
    expect(await single).toBe('from getOrSet');
    expect(calls).toEqual([['a']]);
    expect(cache.stats().coalesced).toBe(1);
    await cache.close();
  });

  it('registers a flight per key: getOrSet of a key in the batch joins it instead of loading', async () => {
    const cache = buildCache<string>();
    const gate = deferred<Map<CacheKey, string>>();
    let batchCalls = 0;
    const batch = cache.getOrSetMany(['a', 'b'], () => {
      batchCalls++;
      return gate.promise;
    });
    const single = vi.fn(() => 'single');
    const joined = cache.getOrSet('b', single);
    gate.resolve(
      new Map([
        ['a', 'A'],
        ['b', 'B'],
      ]),
    );
    expect(await joined).toBe('B');
    expect(await batch).toEqual(['A', 'B']);
    expect(single).not.toHaveBeenCalled();
    expect(batchCalls).toBe(1);
    // Concurrent batches overlapping on a key share its load too.
    const gate2 = deferred<Map<CacheKey, string>>();
    const first = cache.getOrSetMany(['x', 'y'], () => gate2.promise);
    const { calls, load } = recordingLoader();
    const second = cache.getOrSetMany(['y', 'z'], load);
    gate2.resolve(
      new Map([
        ['x', 'X'],
        ['y', 'Y'],
      ]),
    );
    expect(await first).toEqual(['X', 'Y']);
    expect(await second).toEqual(['Y', 'v:z']);
    expect(calls).toEqual([['z']]);
    await cache.close();
  });

  it('a write during the batch keeps that key result out of the cache; the others are stored', async () => {
    const cache = buildCache<string>();
    const gate = deferred<Map<CacheKey, string>>();
    const batch = cache.getOrSetMany(['a', 'b', 'c'], () => gate.promise);
    await cache.delete('a');
    await cache.set('b', 'written');
    gate.resolve(
      new Map([
        ['a', 'old a'],
        ['b', 'old b'],
        ['c', 'C'],
      ]),
    );
    expect(await batch).toEqual(['old a', 'old b', 'C']);
    expect(await cache.getMany(['a', 'b', 'c'])).toEqual([undefined, 'written', 'C']);
    await cache.close();
  });

  it('a failed batch fails every key, except those with a value in grace (fail-safe)', async () => {
    const clock = manualClock();
    const cache = buildCache<string>({ clock: clock.now, ttl: '10s', grace: '1m', retry: false });
    await cache.set('held', 'old');
    clock.advance(10_000); // 'held' is now in grace
    const fail = () => Promise.reject(new Error('db down'));
    await expect(cache.getOrSetMany(['held', 'new'], fail)).rejects.toThrow(/db down/);
    // Only the held key: answered stale, and the fail-safe backoff applies to the next call.
    expect(await cache.getOrSetMany(['held'], fail)).toEqual(['old']);
    const again = vi.fn(() => new Map([['held', 'fresh']]));
    expect(await cache.getOrSetMany(['held'], again)).toEqual(['old']);
    expect(again).not.toHaveBeenCalled();
    // With a fallback nothing throws.
    expect(await cache.getOrSetMany(['held', 'new'], fail, { fallback: 'fb', failSafeBackoff: 0 })).toEqual([
      'old',
      'fb',
    ]);
    await cache.close();
  });

  it('hands the loader the keys, the values in grace, and the attempt; retries the whole batch', async () => {
    const clock = manualClock();
    const cache = buildCache<string>({ clock: clock.now, ttl: '10s', grace: '1m' });
    await cache.set('s', 'stale s');
    clock.advance(10_000);
    const seen: Array<{ keys: readonly CacheKey[]; attempt: number; stale: Map<CacheKey, string> }> = [];
    const result = await cache.getOrSetMany(
      ['s', 't'],
      (keys, ctx) => {
        seen.push({ keys: ctx.keys, attempt: ctx.attempt, stale: new Map(ctx.stale) });
        expect(ctx.signal.aborted).toBe(false);
        if (ctx.attempt === 0) throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
        return keys.map((k) => `new ${String(k)}`);
      },
      { retry: { maxRetries: 1, initialDelay: 0, jitter: 0 } },
    );
    expect(result).toEqual(['new s', 'new t']);
    expect(seen.map((s) => s.attempt)).toEqual([0, 1]);
    expect(seen[0]!.keys).toEqual(['s', 't']);
    expect([...seen[0]!.stale]).toEqual([['s', 'stale s']]);
    await cache.close();
  });

  it('works in a namespace, storing under its keys only', async () => {
    const cache = buildCache<string>();
    const ns = cache.namespace('ns');
    const { load } = recordingLoader();
    expect(await ns.getOrSetMany(['k'], load)).toEqual(['v:k']);
    expect(await ns.get('k')).toBe('v:k');
    expect(await cache.get('k')).toBeUndefined();
    expect(await cache.get('ns:k')).toBe('v:k');
    await cache.close();
  });

  it('calls the loader directly (one call, nothing stored) while disabled', async () => {
    const cache = buildCache<string>({ enabled: false });
    const { calls, load } = recordingLoader();
    expect(await cache.getOrSetMany(['a', 'b', 'a'], load)).toEqual(['v:a', 'v:b', 'v:a']);
    expect(calls).toEqual([['a', 'b']]);
    cache.configure({ enabled: true });
    expect(await cache.get('a')).toBeUndefined();
    await cache.close();
  });
});
