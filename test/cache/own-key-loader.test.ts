// A loader that calls getOrSet (or getOrSetMany) for the very key it is loading, before its first
// await: the call would wait for its own load. It used to crash inside the cache (a TypeError reading
// 'stale' of undefined: the flight it joined had no promise yet); now it fails with a TypeError that
// names the key and says what happened, the load fails with it, and the key is free afterwards.
import { afterEach, describe, expect, it, vi } from 'vitest';

afterEach(() => {
  vi.useRealTimers();
});
import { buildCache } from '../../src/cache/create-cache.js';
import { CacheError } from '../../src/errors.js';
import { MemoryBusHub } from '../../src/tiers/bus.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { memoryTier } from '../../src/tiers/redis-tier.js';

const OWN_KEY = /getOrSet(Many)?\("k"\).*cache "c".*loader of that same key/;

describe('a loader that synchronously calls getOrSet for its own key', () => {
  it('gets a TypeError naming the key, and its load fails with it (no internal crash)', async () => {
    const cache = buildCache<string>({ name: 'c', retry: false });
    let inner: unknown;
    const outer = cache.getOrSet('k', () => {
      const call = cache.getOrSet('k', () => 'inner');
      call.catch((error: unknown) => (inner = error));
      return call;
    });
    const error = await outer.catch((e: unknown) => e);
    expect(inner).toBeInstanceOf(TypeError);
    expect((inner as Error).message).toMatch(OWN_KEY);
    // Before: "Cannot read properties of undefined (reading 'stale')".
    expect(error).toBeInstanceOf(CacheError);
    expect((error as CacheError).cause).toBe(inner);
    expect(cache.stats().loads).toBe(1);
    // The key is free: the next call loads.
    expect(await cache.getOrSet('k', () => 'next')).toBe('next');
    await cache.close();
  });

  it('also through another key’s load (k → j → k)', async () => {
    const cache = buildCache<string>({ name: 'c', retry: false });
    let inner: unknown;
    const outer = cache.getOrSet('k', () =>
      cache.getOrSet('j', () => {
        const call = cache.getOrSet('k', () => 'inner');
        call.catch((error: unknown) => (inner = error));
        return call;
      }),
    );
    await expect(outer).rejects.toBeInstanceOf(CacheError);
    expect((inner as Error).message).toMatch(OWN_KEY);
    expect(await cache.getOrSet('j', () => 'j')).toBe('j');
    await cache.close();
  });

  it('getOrSetMany for a list holding its own key', async () => {
    const cache = buildCache<string>({ name: 'c', retry: false });
    let inner: unknown;
    const outer = cache.getOrSet('k', () => {
      const call = cache.getOrSetMany(['x', 'k'], (keys) => keys.map(String));
      call.catch((error: unknown) => (inner = error));
      return call.then((values) => values[1]!);
    });
    await expect(outer).rejects.toBeInstanceOf(CacheError);
    expect(inner).toBeInstanceOf(TypeError);
    expect((inner as Error).message).toMatch(OWN_KEY);
    await cache.close();
  });

  it('a getOrSetMany batch loader calling getOrSet for one of its keys', async () => {
    const cache = buildCache<string>({ name: 'c', retry: false });
    let inner: unknown;
    const outer = cache.getOrSetMany(['x', 'k'], () => {
      const call = cache.getOrSet('k', () => 'inner');
      call.catch((error: unknown) => (inner = error));
      return call.then((value) => ['x', value]);
    });
    // Before, the call joined the batch's own flight for "k" and waited for itself (the hard timeout).
    await expect(outer).rejects.toBeInstanceOf(CacheError);
    expect((inner as Error).message).toMatch(OWN_KEY);
    expect(await cache.getOrSet('k', () => 'next')).toBe('next');
    await cache.close();
  });

  it('with a shared tier (the read of L2 comes first)', async () => {
    const cache = buildCache<string>({
      name: 'c',
      retry: false,
      l2: memoryTier({ driver: new MemoryDriver(), hub: new MemoryBusHub(), instanceId: 'A' }),
    });
    let inner: unknown;
    const outer = cache.getOrSet('k', () => {
      const call = cache.getOrSet('k', () => 'inner');
      call.catch((error: unknown) => (inner = error));
      return call;
    });
    await expect(outer).rejects.toBeInstanceOf(CacheError);
    expect((inner as Error).message).toMatch(OWN_KEY);
    await cache.close();
  });

  it('a namespace’s loader calling getOrSet of the same namespace and key', async () => {
    const root = buildCache<string>({ name: 'c', retry: false });
    const ns = root.namespace('n');
    let inner: unknown;
    const outer = ns.getOrSet('k', () => {
      const call = ns.getOrSet('k', () => 'inner');
      call.catch((error: unknown) => (inner = error));
      return call;
    });
    await expect(outer).rejects.toBeInstanceOf(CacheError);
    expect((inner as Error).message).toMatch(/getOrSet\("k"\).*cache "c:n".*loader of that same key/);
    await root.close();
  });
});

describe('a loader that calls getOrSet for its own key after an await', () => {
  // Not detected (that would take async context tracking on every load): the call joins the load and
  // waits for it, so both end at the load's hard timeout, with its TIMEOUT, and the key is freed.
  it('is bounded by the hard timeout', async () => {
    vi.useFakeTimers();
    const cache = buildCache<string>({ name: 'c', retry: false, timeout: { hard: 1000 } });
    let inner: Promise<string> | undefined;
    const outer = cache.getOrSet('k', async () => {
      await Promise.resolve();
      inner = cache.getOrSet('k', () => 'inner');
      return inner;
    });
    const settled = Promise.allSettled([outer, outer.catch(() => inner)]);
    await vi.advanceTimersByTimeAsync(1000);
    const [first, second] = await settled;
    expect(first).toMatchObject({ status: 'rejected', reason: { type: 'TIMEOUT' } });
    expect(second).toMatchObject({ status: 'rejected', reason: { type: 'TIMEOUT' } });
    expect(await cache.getOrSet('k', () => 'next')).toBe('next');
    await cache.close();
  });
});
