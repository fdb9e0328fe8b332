// Probes of the read-through core as a hostile user, second round: what a lock waiter on another
// instance answers while the lock holder loads, whether a caller joining a background refresh is
// waited for, writes made while caching is switched off, a soft timeout that outlasts a grace, and a
// refresh-ahead that stores nothing. Races are driven by deferreds; the lock's own polls are real (2 ms) timers, waited on by
// counting the store reads they make.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildCache } from '../../src/cache/create-cache.js';
import type { CacheOptions } from '../../src/cache/types.js';
import { MemoryBusHub } from '../../src/tiers/bus.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { memoryTier } from '../../src/tiers/redis-tier.js';
import { manualClock } from '../helpers/clock.js';
import { deferred } from '../helpers/deferred.js';

afterEach(() => {
  vi.useRealTimers();
});

interface Plan {
  v: number;
}

/** Two instances (caches named `plans`) over one store and bus with `lock: true`; `time.now` drives every clock. */
function lockedPair(options: CacheOptions<Plan> = {}) {
  const time = { now: 1_000_000 };
  const clock = (): number => time.now;
  const driver = new MemoryDriver({ clock });
  const hub = new MemoryBusHub();
  const make = (id: string) =>
    buildCache<Plan>({
      name: 'plans',
      ttl: '10s',
      clock,
      retry: false,
      ...options,
      l2: memoryTier({ driver, hub, instanceId: id, clock, lock: { pollInterval: 2 } }),
    });
  return { a: make('A'), b: make('B'), time, driver };
}

/**
 * A loads `k` holding the lock (its loader answers when the test says); B misses `k` too and waits on
 * the lock, and has read L2 at least once while waiting. Resolves A's and B's calls.
 */
async function raceOnLock(
  pair: ReturnType<typeof lockedPair>,
  options: { forceFresh?: boolean } = {},
): Promise<[Plan, Plan]> {
  const { a, b, driver } = pair;
  const add = vi.spyOn(driver, 'add');
  const get = vi.spyOn(driver, 'get');
  const gate = deferred<Plan>();
  const first = a.getOrSet('k', () => gate.promise, options);
  await vi.waitFor(() => expect(add).toHaveBeenCalledTimes(1));
  const second = b.getOrSet('k', () => ({ v: 3 }), options);
  await vi.waitFor(() => expect(add).toHaveBeenCalledTimes(2));
  // B polls L2 for the holder's entry while A's loader is still running.
  const reads = get.mock.calls.length;
  await vi.waitFor(() => expect(get.mock.calls.length).toBeGreaterThan(reads));
  gate.resolve({ v: 2 });
  return Promise.all([first, second]);
}

describe('a lock waiter answers the lock holder’s load, not what L2 held before it', () => {
  it('not a value in L2 that fails validate (the reason both instances are loading)', async () => {
    const pair = lockedPair({ validate: (value) => (value as Plan).v === 2 });
    await pair.a.set('k', { v: 1 });
    expect(await raceOnLock(pair)).toEqual([{ v: 2 }, { v: 2 }]);
    expect(await pair.b.get('k')).toEqual({ v: 2 });
    await pair.a.close();
    await pair.b.close();
  });

  it('not the value in grace, as if it were freshly loaded', async () => {
    const pair = lockedPair({ grace: '1h' });
    await pair.a.set('k', { v: 1 });
    pair.time.now += 11_000;
    expect(await raceOnLock(pair)).toEqual([{ v: 2 }, { v: 2 }]);
    expect(pair.b.stats().staleHits).toBe(0);
    await pair.a.close();
    await pair.b.close();
  });

  it('not the fresh value a forceFresh load replaces', async () => {
    const pair = lockedPair();
    await pair.a.set('k', { v: 1 });
    expect(await raceOnLock(pair, { forceFresh: true })).toEqual([{ v: 2 }, { v: 2 }]);
    await pair.a.close();
    await pair.b.close();
  });

  it('not the fresh value a forceFresh load replaces when the waiter holds it in L1 (its own set)', async () => {
    const pair = lockedPair();
    await pair.b.set('k', { v: 1 });
    pair.time.now += 1000;
    expect(await raceOnLock(pair, { forceFresh: true })).toEqual([{ v: 2 }, { v: 2 }]);
    await pair.a.close();
    await pair.b.close();
  });
});

const run = promisify(execFile);
const JOIN_CHILD = fileURLToPath(new URL('./refresh-join-child.ts', import.meta.url));

describe('a caller joining a background refresh-ahead', () => {
  // Before, the backoff timer stayed unref'd: the child exited (code 13, unsettled await) unanswered.
  it.each(['getOrSet', 'many'])(
    '%s: keeps the process alive through the refresh’s retry backoff until it is answered',
    async (how) => {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', JOIN_CHILD, how], {
        timeout: 15_000,
      });
      expect(JSON.parse(stdout)).toEqual({ hit: 'v', joined: 'new', calls: 2 });
    },
    20_000,
  );
});

describe('a write while caching is switched off (enabled: false)', () => {
  const writes = {
    set: (cache: ReturnType<typeof buildCache<string>>) => cache.set('k', 'written'),
    setMany: (cache: ReturnType<typeof buildCache<string>>) => cache.setMany([['k', 'written']]),
  };
  it.each(Object.keys(writes) as Array<keyof typeof writes>)(
    '%s still detaches the load in flight: once on again, its older answer is not served',
    async (write) => {
      const cache = buildCache<string>();
      const upstream = deferred<string>();
      const before = cache.getOrSet('k', () => upstream.promise);
      cache.configure({ enabled: false });
      await writes[write](cache);
      upstream.resolve('read before the write');
      // Its callers, who asked before the write, still get it; it is not stored.
      expect(await before).toBe('read before the write');
      cache.configure({ enabled: true });
      expect(await cache.getOrSet('k', () => 'loaded after')).toBe('loaded after');
      await cache.close();
    },
  );
});

describe('a soft timeout that fires after the value’s grace has ended', () => {
  const calls = {
    getOrSet: (cache: ReturnType<typeof buildCache<string>>, load: () => Promise<string>) =>
      cache.getOrSet('k', load, { timeout: { soft: 500 } }),
    getOrSetMany: async (cache: ReturnType<typeof buildCache<string>>, load: () => Promise<string>) =>
      (await cache.getOrSetMany(['k'], async () => [await load()], { timeout: { soft: 500 } }))[0],
  };
  it.each(Object.keys(calls) as Array<keyof typeof calls>)(
    '%s: does not answer that value (past ttl + grace), but waits for the load',
    async (call) => {
      vi.useFakeTimers();
      const clock = manualClock();
      const cache = buildCache<string>({ clock: clock.now, ttl: 1000, grace: 1000 });
      await cache.set('k', 'old');
      clock.advance(1900); // in grace, 100 ms of it left
      const upstream = deferred<string>();
      let answer: string | undefined;
      const pending = calls[call](cache, () => upstream.promise).then((value) => (answer = value));
      clock.advance(500);
      await vi.advanceTimersByTimeAsync(500);
      // Before, 'old' was answered here, 400 ms after its grace ended (get() already said nothing).
      expect(answer).toBeUndefined();
      expect(await cache.get('k')).toBeUndefined();
      upstream.resolve('new');
      await pending;
      expect(answer).toBe('new');
      await cache.close();
    },
  );

  it('still answers the value in grace when the soft timeout fires within it', async () => {
    vi.useFakeTimers();
    const clock = manualClock();
    const cache = buildCache<string>({ clock: clock.now, ttl: 1000, grace: 1000 });
    await cache.set('k', 'old');
    clock.advance(1200);
    const upstream = deferred<string>();
    const pending = cache.getOrSet('k', () => upstream.promise, { timeout: { soft: 500 } });
    clock.advance(500);
    await vi.advanceTimersByTimeAsync(500);
    await expect(pending).resolves.toBe('old');
    upstream.resolve('new');
    await cache.close();
  });
});

describe('a refresh-ahead whose load stores nothing', () => {
  const cases = {
    'answers undefined': { load: (): string | undefined => undefined },
    'calls ctx.skip()': {
      load: (ctx: { skip(): void }): string => {
        ctx.skip();
        return 'not for caching';
      },
    },
    // The entry's write fails (here the user's sizeOf throws for the new value); the old value stays.
    'answers a value whose write fails': {
      load: (): string => 'unsizable',
      options: {
        maxBytes: 1_000_000,
        sizeOf: (value: unknown) => {
          if (value === 'unsizable') throw new Error('cannot size');
          return 10;
        },
      },
    },
  };
  it.each(Object.keys(cases) as Array<keyof typeof cases>)(
    'that %s is not started again on every hit, only after failSafeBackoff; the value then ends as usual',
    async (kind) => {
      const clock = manualClock();
      const { load, options } = cases[kind] as {
        load: (ctx: { skip(): void }) => string | undefined;
        options?: CacheOptions<string | undefined>;
      };
      const cache = buildCache<string | undefined>({
        clock: clock.now,
        ttl: '60s',
        grace: '60s',
        refreshAhead: 0.5,
        failSafeBackoff: '5s',
        ...options,
      });
      await cache.set('k', 'v');
      clock.advance(31_000);
      let calls = 0;
      const hit = async (): Promise<string | undefined> => {
        const value = await cache.getOrSet('k', (ctx) => {
          calls++;
          return load(ctx);
        });
        await new Promise((resolve) => setImmediate(resolve)); // the refresh settles
        return value;
      };
      for (let i = 0; i < 20; i++) {
        expect(await hit()).toBe('v');
        clock.advance(10);
      }
      // Before, each of the 20 hits started a refresh: one upstream call per request for 29 s.
      expect(calls).toBe(1);
      clock.advance(5_000);
      expect(await hit()).toBe('v');
      expect(await hit()).toBe('v');
      expect(calls).toBe(2);
      // Past its TTL the value is stale, and a miss loads as it would have (no fail-safe backoff).
      clock.advance(30_000);
      expect(await cache.getOrSet('k', () => 'loaded')).toBe('loaded');
      await cache.close();
    },
  );
});
