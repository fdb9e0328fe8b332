// What bounds a getOrSet call with `lock: true` on a shared tier: timeout.hard bounds the whole call,
// the wait for another instance's distributed lock included (5 s by default, which used to come on top
// of it), and close() ends a lock wait without its loader ever being called. Time is fake: the caches'
// clock reads the faked Date, so the lock's deadline, its polls and the hard timeout move together.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildCache } from '../../src/cache/create-cache.js';
import type { CacheOptions } from '../../src/cache/types.js';
import { CacheError } from '../../src/errors.js';
import { MemoryBusHub } from '../../src/tiers/bus.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { memoryTier } from '../../src/tiers/redis-tier.js';
import { deferred } from '../helpers/deferred.js';

afterEach(() => {
  vi.useRealTimers();
});

interface Plan {
  v: number;
}

/** Two instances (caches named `plans`) over one store and bus with `lock: true` (5 s), on fake time. */
function lockedPair(options: CacheOptions<Plan> = {}) {
  vi.useFakeTimers();
  const clock = (): number => Date.now();
  const driver = new MemoryDriver({ clock });
  const hub = new MemoryBusHub();
  const make = (id: string) =>
    buildCache<Plan>({
      name: 'plans',
      ttl: '10s',
      clock,
      retry: false,
      cleanupInterval: 0,
      ...options,
      l2: memoryTier({ driver, hub, instanceId: id, clock, lock: { pollInterval: 20 } }),
    });
  return { a: make('A'), b: make('B'), driver };
}

/** Tracks how a promise settled, without leaving a rejection unhandled. */
function track<T>(promise: Promise<T>): { value?: T; error?: unknown; settled: boolean } {
  const state: { value?: T; error?: unknown; settled: boolean } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { value, settled: true }),
    (error: unknown) => Object.assign(state, { error, settled: true }),
  );
  return state;
}

describe('timeout.hard with lock: true', () => {
  it('bounds the wait for another instance’s lock: the waiter fails with TIMEOUT and frees the key', async () => {
    const { a, b, driver } = lockedPair();
    const gate = deferred<Plan>();
    const holder = a.getOrSet('k', () => gate.promise, { timeout: { hard: false } });
    await vi.advanceTimersByTimeAsync(0); // A holds the lock; its loader hangs
    const loader = vi.fn(() => ({ v: 3 }));
    const waiter = track(b.getOrSet('k', loader, { timeout: { hard: 1000 } }));
    await vi.advanceTimersByTimeAsync(999);
    expect(waiter.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    // Before, B waited out the lock's 5 s, then called its loader under a hard timeout of its own.
    expect(waiter.error).toBeInstanceOf(CacheError);
    expect(waiter.error).toMatchObject({ type: 'TIMEOUT' });
    expect((waiter.error as Error).message).toMatch(/"k".*hard timeout of 1000 ms/);
    expect(loader).not.toHaveBeenCalled();
    // The wait stopped: no more polls of the lock, and no loader call when the lock expires.
    const get = vi.spyOn(driver, 'get');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(get).not.toHaveBeenCalled();
    expect(loader).not.toHaveBeenCalled();
    // The key is free: a new call on B is a new load (A's lock has expired, so B loads it itself).
    const again = track(b.getOrSet('k', () => ({ v: 4 })));
    await vi.advanceTimersByTimeAsync(100);
    expect(again.value).toEqual({ v: 4 });
    gate.resolve({ v: 2 });
    expect(await holder).toEqual({ v: 2 });
    await a.close();
    await b.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('bounds the lock wait and the loader together: a loader started late gets what is left', async () => {
    const { a, b } = lockedPair();
    const gate = deferred<Plan>();
    const holder = track(a.getOrSet('k', () => gate.promise, { timeout: { hard: false } }));
    await vi.advanceTimersByTimeAsync(0);
    let signal: AbortSignal | undefined;
    const loader = vi.fn((ctx: { signal: AbortSignal }) => {
      signal = ctx.signal;
      return new Promise<Plan>(() => {});
    });
    const waiter = track(b.getOrSet('k', loader, { timeout: { hard: 1000 } }));
    await vi.advanceTimersByTimeAsync(600);
    gate.reject(new Error('upstream down')); // A fails and releases the lock: B takes it and loads
    await vi.advanceTimersByTimeAsync(100);
    expect(loader).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(299);
    expect(waiter.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    // Before, the loader had a full 1000 ms of its own: the call took 1700 ms.
    expect(waiter.error).toMatchObject({ type: 'TIMEOUT' });
    expect(signal?.aborted).toBe(true);
    expect(holder.error).toBeInstanceOf(CacheError);
    await a.close();
    await b.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('still answers the lock holder’s value when it comes within the bound', async () => {
    const { a, b } = lockedPair();
    const gate = deferred<Plan>();
    const holder = a.getOrSet('k', () => gate.promise, { timeout: { hard: false } });
    await vi.advanceTimersByTimeAsync(0);
    const loader = vi.fn(() => ({ v: 3 }));
    const waiter = track(b.getOrSet('k', loader, { timeout: { hard: 1000 } }));
    await vi.advanceTimersByTimeAsync(500);
    gate.resolve({ v: 2 });
    await vi.advanceTimersByTimeAsync(200); // B's next poll (they back off to 160 ms)
    expect(waiter.value).toEqual({ v: 2 });
    expect(loader).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1000);
    expect(await holder).toEqual({ v: 2 });
    await a.close();
    await b.close();
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('close() while waiting for another instance’s lock', () => {
  it('ends the wait at once, and the waiter’s loader is never called', async () => {
    const { a, b, driver } = lockedPair({ timeout: { hard: false } });
    const gate = deferred<Plan>();
    const holder = a.getOrSet('k', () => gate.promise);
    await vi.advanceTimersByTimeAsync(0);
    const loader = vi.fn(() => ({ v: 3 }));
    const waiter = track(b.getOrSet('k', loader));
    await vi.advanceTimersByTimeAsync(100);
    await b.close();
    expect(waiter.settled).toBe(true);
    expect(waiter.error).toBeDefined();
    // Before, the wait went on, and once the lock expired the loader was called with an aborted signal.
    const get = vi.spyOn(driver, 'get');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(get).not.toHaveBeenCalled();
    expect(loader).not.toHaveBeenCalled();
    gate.resolve({ v: 2 });
    const held = track(holder);
    await vi.advanceTimersByTimeAsync(100);
    expect(held.value).toEqual({ v: 2 });
    await a.close();
    expect(vi.getTimerCount()).toBe(0);
  });
});
