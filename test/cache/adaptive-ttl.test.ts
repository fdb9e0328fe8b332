// Adaptive TTL (issue 15): a key's TTL grows while refreshes return the same value and shrinks when
// they return a new one, within [min, max]; its state lives in the entry (kept past expiry, never
// served, so the next load can compare), survives the L2 round trip and dump/load, stretches under
// load, and shows in the entries listing. Time is a manual clock; the loader's slowness is the clock
// moved inside it.
import { describe, expect, it } from 'vitest';
import { buildCache } from '../../src/cache/create-cache.js';
import { adaptTtl, resolveAdaptiveTtl, valueHash } from '../../src/cache/adaptive-ttl.js';
import { MemoryBusHub } from '../../src/tiers/bus.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { memoryTier } from '../../src/tiers/redis-tier.js';
import { manualClock } from '../helpers/clock.js';
import { deferred } from '../helpers/deferred.js';

const SECOND = 1000;

/** The adaptive TTL the entries listing shows for `key`. */
function adaptiveOf(cache: { entries(): Array<{ key: string; adaptiveTtlMs?: number }> }, key: string) {
  return cache.entries().find((e) => e.key === key)?.adaptiveTtlMs;
}

describe('adaptive TTL', () => {
  it('doubles the TTL on each unchanged refresh up to max; changes shorten it toward min', async () => {
    const clock = manualClock();
    const cache = buildCache<string>({
      clock: clock.now,
      ttl: '10s',
      adaptiveTtl: { min: '5s', max: '80s' },
    });
    let value = 0;
    let calls = 0;
    const loader = () => {
      calls++;
      return `v${value}`;
    };
    /** Waits out the key's TTL, then reads (a load, since the entry went stale); returns the new TTL. */
    const refresh = async () => {
      clock.advance((await cache.ttlRemaining('k')) ?? 0);
      await cache.getOrSet('k', loader);
      return (await cache.ttlRemaining('k'))!;
    };
    await cache.getOrSet('k', loader);
    const ttls = [(await cache.ttlRemaining('k'))!];
    for (let round = 0; round < 5; round++) ttls.push(await refresh());
    expect(ttls).toEqual([10, 20, 40, 80, 80, 80].map((s) => s * SECOND));
    expect(adaptiveOf(cache, 'k')).toBe(80 * SECOND);
    // From now on the value changes before every refresh: the TTL falls, never rises, and nears min
    // (the estimate is a decayed average, so the long unchanged stretches fade out over ~10 refreshes).
    const falling: number[] = [];
    for (let round = 0; round < 40; round++) {
      value++;
      falling.push(await refresh());
    }
    expect(falling[0]).toBeLessThan(80 * SECOND);
    for (let i = 1; i < falling.length; i++) expect(falling[i]).toBeLessThanOrEqual(falling[i - 1]!);
    expect(falling.at(-1)).toBeGreaterThanOrEqual(5 * SECOND);
    expect(falling.at(-1)).toBeLessThan(7 * SECOND);
    expect(falling[9]).toBeLessThan(20 * SECOND);
    expect(calls).toBe(46);
    await cache.close();
  });

  it('settles near √(change interval × min): a value changing every 100 s gets about 10 s', async () => {
    const clock = manualClock(0);
    const cache = buildCache<number>({ clock: clock.now, ttl: '1s', adaptiveTtl: { min: '1s', max: '10m' } });
    const fast = buildCache<number>({ clock: clock.now, ttl: '1m', adaptiveTtl: { min: '1s', max: '10m' } });
    const ttls: number[] = [];
    let calls = 0;
    // Read once a second for an hour; the upstream value is the number of 100 s periods elapsed.
    for (let t = 0; t < 3600; t++) {
      await cache.getOrSet('slow', () => {
        calls++;
        return Math.floor(clock.now() / 100_000);
      });
      // A value that changes every second.
      await fast.getOrSet('fast', () => clock.now());
      if (t >= 1800) ttls.push(adaptiveOf(cache, 'slow')!);
      clock.advance(SECOND);
    }
    const mean = ttls.reduce((a, b) => a + b, 0) / ttls.length;
    expect(mean).toBeGreaterThan(5 * SECOND);
    expect(mean).toBeLessThan(20 * SECOND);
    // Far fewer calls than a 1 s TTL (3600), far fresher than the 100 s a proportional rule would reach.
    expect(calls).toBeLessThan(600);
    // Read once a second, a 1.4 s TTL is reloaded every 2 s: √(2 s × 1 s) is where it settles.
    expect(adaptiveOf(fast, 'fast')).toBeGreaterThanOrEqual(SECOND);
    expect(adaptiveOf(fast, 'fast')).toBeLessThan(1.5 * SECOND);
    await cache.close();
    await fast.close();
  });

  it('serves a hit while fresh, and never serves the record kept after expiry', async () => {
    const clock = manualClock();
    const cache = buildCache<string>({ clock: clock.now, adaptiveTtl: { min: '1s', max: '1m' } });
    let calls = 0;
    // No ttl: the first load gets min.
    await cache.getOrSet('k', () => `v${++calls}`);
    clock.advance(999);
    expect(await cache.getOrSet('k', () => `v${++calls}`)).toBe('v1');
    clock.advance(1);
    // Stale now: kept in L1 for the comparison, but neither get, has nor getOrSet answers it.
    expect(cache.entries().map((e) => [e.key, e.stale])).toEqual([['k', true]]);
    expect(await cache.get('k')).toBeUndefined();
    expect(await cache.has('k')).toBe(false);
    expect(await cache.getOrSet('k', () => `v${++calls}`)).toBe('v2');
    expect(calls).toBe(2);
    await cache.close();
  });

  it('keeps the record max past its staleness, then forgets it: the next load starts over', async () => {
    const clock = manualClock();
    const cache = buildCache<string>({ clock: clock.now, ttl: '2s', adaptiveTtl: { min: '1s', max: '10s' } });
    await cache.getOrSet('k', () => 'same');
    clock.advance(2 * SECOND + 9 * SECOND); // stale for 9 s: still kept
    await cache.getOrSet('k', () => 'same');
    expect(adaptiveOf(cache, 'k')).toBe(4 * SECOND);
    clock.advance(4 * SECOND + 10 * SECOND); // stale for 10 s: gone
    expect(cache.entries()).toEqual([]);
    await cache.getOrSet('k', () => 'same');
    expect(adaptiveOf(cache, 'k')).toBe(2 * SECOND);
    await cache.close();
  });

  it('compares by content: equal objects are unchanged, Map contents count', async () => {
    const clock = manualClock();
    const cache = buildCache<unknown>({ clock: clock.now, ttl: '1s', adaptiveTtl: { min: '1s', max: '1h' } });
    /** Refreshes `k` with `value`: 'grew' when its TTL grew, 'held' when it did not. */
    const refresh = async (value: unknown) => {
      const before = adaptiveOf(cache, 'k') ?? 0;
      clock.advance((await cache.ttlRemaining('k')) ?? 0);
      await cache.getOrSet('k', () => value);
      return adaptiveOf(cache, 'k')! > before ? 'grew' : 'held';
    };
    await refresh({ a: 1, list: [1, 2] });
    expect(await refresh({ a: 1, list: [1, 2] })).toBe('grew');
    expect(await refresh(new Map([['x', 1]]))).toBe('held');
    expect(await refresh(new Map([['x', 1]]))).toBe('grew');
    expect(await refresh(new Map([['x', 2]]))).toBe('held');
    expect(valueHash(new Map([['x', 1]]))).not.toBe(valueHash(new Map([['x', 2]])));
    expect(valueHash(new Set([1]))).not.toBe(valueHash(new Set([2])));
    expect(valueHash(10n)).not.toBe(valueHash(11n));
    expect(valueHash(Uint8Array.of(1))).not.toBe(valueHash(Uint8Array.of(2)));
    expect(valueHash({ a: [1, { b: 'c' }] })).toBe(valueHash({ a: [1, { b: 'c' }] }));
    await cache.close();
  });

  it('uses a given equals instead of the hash (a version field here)', async () => {
    const clock = manualClock();
    const cache = buildCache<{ version: number; fetchedAt: number }>({
      clock: clock.now,
      ttl: '1s',
      adaptiveTtl: {
        min: '1s',
        max: '1h',
        equals: (a, b) => (a as { version: number }).version === (b as { version: number }).version,
      },
    });
    await cache.getOrSet('k', () => ({ version: 1, fetchedAt: 1 }));
    clock.advance(SECOND);
    // Another fetchedAt, the same version: unchanged for this equals (the hash would say changed).
    await cache.getOrSet('k', () => ({ version: 1, fetchedAt: 2 }));
    expect(adaptiveOf(cache, 'k')).toBe(2 * SECOND);
    clock.advance(2 * SECOND);
    await cache.getOrSet('k', () => ({ version: 2, fetchedAt: 3 }));
    expect(adaptiveOf(cache, 'k')).toBeLessThan(2 * SECOND);
    await cache.close();
  });

  it('stretches the written TTL under load without changing the key’s own TTL', async () => {
    const clock = manualClock();
    const cache = buildCache<string>({
      clock: clock.now,
      ttl: '4s',
      adaptiveTtl: { min: '1s', max: '1m', underLoad: { latency: '500ms', stretch: 3 } },
    });
    // A slow upstream: the load takes 2 s of the cache's clock.
    await cache.getOrSet('slow', () => {
      clock.advance(2 * SECOND);
      return 'v';
    });
    expect(await cache.ttlRemaining('slow')).toBe(12 * SECOND);
    expect(adaptiveOf(cache, 'slow')).toBe(4 * SECOND);
    await cache.getOrSet('quick', () => 'v');
    expect(await cache.ttlRemaining('quick')).toBe(4 * SECOND);
    await cache.close();
  });

  it('stretches under load when `inFlight` loads run at once', async () => {
    const clock = manualClock();
    const cache = buildCache<string>({
      clock: clock.now,
      ttl: '4s',
      adaptiveTtl: { min: '1s', max: '1m', underLoad: { inFlight: 2 } },
    });
    const gate = deferred<string>();
    const a = cache.getOrSet('a', () => gate.promise);
    const b = cache.getOrSet('b', () => gate.promise);
    gate.resolve('v');
    await Promise.all([a, b]);
    // Two at once: at least one saw 2 in flight, so its TTL was doubled (the default stretch).
    const ttls = [await cache.ttlRemaining('a'), await cache.ttlRemaining('b')];
    expect(ttls).toContain(8 * SECOND);
    await cache.getOrSet('c', () => 'v');
    expect(await cache.ttlRemaining('c')).toBe(4 * SECOND);
    await cache.close();
  });

  it('per call: overrides the cache option, or turns it off with false', async () => {
    const clock = manualClock();
    const cache = buildCache<string>({ clock: clock.now, ttl: '10s', adaptiveTtl: { min: '1s', max: '1m' } });
    await cache.getOrSet('fixed', () => 'v', { adaptiveTtl: false });
    clock.advance(10 * SECOND);
    await cache.getOrSet('fixed', () => 'v', { adaptiveTtl: false });
    expect(await cache.ttlRemaining('fixed')).toBe(10 * SECOND);
    expect(adaptiveOf(cache, 'fixed')).toBeUndefined();
    await cache.getOrSet('own', () => 'v', { adaptiveTtl: { min: '20s', max: '2m' } });
    expect(await cache.ttlRemaining('own')).toBe(20 * SECOND);

    const plain = buildCache<string>({ clock: clock.now, ttl: '10s' });
    await plain.getOrSet('k', () => 'v', { adaptiveTtl: { min: '1s', max: '5s' } });
    expect(await plain.ttlRemaining('k')).toBe(5 * SECOND);
    await cache.close();
    await plain.close();
  });

  it('jitter spreads an adapted TTL within [min, max], never past max', async () => {
    const clock = manualClock();
    // The first TTL is max, so any upward jitter would pass it (each key: a coin flip without the bound).
    const cache = buildCache<string>({
      clock: clock.now,
      ttl: '10s',
      jitter: 0.5,
      adaptiveTtl: { min: '1s', max: '10s' },
    });
    const remaining: number[] = [];
    for (let i = 0; i < 64; i++) {
      await cache.getOrSet(`k${i}`, () => 'v');
      remaining.push((await cache.ttlRemaining(`k${i}`))!);
    }
    expect(Math.max(...remaining)).toBeLessThanOrEqual(10 * SECOND);
    expect(Math.min(...remaining)).toBeGreaterThanOrEqual(5 * SECOND);
    expect(new Set(remaining).size).toBeGreaterThan(1); // still spread
    await cache.close();
  });

  it('a loader’s ctx.setTtl wins over the adapted TTL, which still adapts', async () => {
    const clock = manualClock();
    const cache = buildCache<string>({ clock: clock.now, ttl: '2s', adaptiveTtl: { min: '1s', max: '1m' } });
    await cache.getOrSet('k', (ctx) => {
      ctx.setTtl('30s');
      return 'v';
    });
    expect(await cache.ttlRemaining('k')).toBe(30 * SECOND);
    expect(adaptiveOf(cache, 'k')).toBe(2 * SECOND);
    await cache.close();
  });

  it('refresh-ahead refreshes compare too: an unchanged refresh grows the TTL', async () => {
    const clock = manualClock();
    const cache = buildCache<string>({
      clock: clock.now,
      ttl: '10s',
      refreshAhead: 0.5,
      adaptiveTtl: { min: '1s', max: '1m' },
    });
    await cache.getOrSet('k', () => 'v');
    clock.advance(6 * SECOND);
    const refreshed = deferred<string>();
    expect(await cache.getOrSet('k', () => refreshed.promise)).toBe('v');
    refreshed.resolve('v');
    await refreshed.promise;
    await new Promise((r) => setTimeout(r, 0));
    expect(adaptiveOf(cache, 'k')).toBe(20 * SECOND);
    expect(await cache.ttlRemaining('k')).toBe(20 * SECOND);
    await cache.close();
  });

  it('state travels through L2: another instance continues from the adapted TTL', async () => {
    const clock = manualClock();
    const driver = new MemoryDriver({ clock: clock.now });
    const hub = new MemoryBusHub();
    const options = { clock: clock.now, ttl: '10s', adaptiveTtl: { min: '1s', max: '10m' } };
    const a = buildCache<string>({
      ...options,
      name: 'c',
      l2: memoryTier({ driver, hub, instanceId: 'A', clock: clock.now }),
    });
    const b = buildCache<string>({
      ...options,
      name: 'c',
      l2: memoryTier({ driver, hub, instanceId: 'B', clock: clock.now }),
    });
    await a.getOrSet('k', () => 'v');
    clock.advance(10 * SECOND);
    await a.getOrSet('k', () => 'v');
    expect(adaptiveOf(a, 'k')).toBe(20 * SECOND);
    // B's L1 is empty: it finds A's entry in L2, state included.
    let loads = 0;
    expect(await b.getOrSet('k', () => `b${++loads}`)).toBe('v');
    expect(loads).toBe(0);
    expect(adaptiveOf(b, 'k')).toBe(20 * SECOND);
    await a.close();
    await b.close();
  });

  it('state survives dump() and load()', async () => {
    const clock = manualClock();
    const options = { clock: clock.now, ttl: '10s', adaptiveTtl: { min: '1s', max: '10m' } };
    const a = buildCache<string>(options);
    await a.getOrSet('k', () => 'v');
    clock.advance(10 * SECOND);
    await a.getOrSet('k', () => 'v');
    const b = buildCache<string>(options);
    b.load(a.dump());
    expect(adaptiveOf(b, 'k')).toBe(20 * SECOND);
    clock.advance(20 * SECOND);
    await b.getOrSet('k', () => 'v');
    expect(adaptiveOf(b, 'k')).toBe(40 * SECOND);
    await a.close();
    await b.close();
  });

  it('refuses bad options, naming them', () => {
    const bad: Array<[unknown, RegExp]> = [
      [5, /adaptiveTtl must be an object/],
      [{ min: '1s' }, /adaptiveTtl needs both min and max/],
      [{ min: 0, max: '1s' }, /adaptiveTtl.min must be a positive/],
      [{ min: '1m', max: '1s' }, /adaptiveTtl.max must be at least/],
      [{ min: '1s', max: '1m', factor: 1 }, /adaptiveTtl.factor/],
      [{ min: '1s', max: '1m', equals: 'yes' }, /adaptiveTtl.equals/],
      [{ min: '1s', max: '1m', underLoad: { inFlight: 0 } }, /adaptiveTtl.underLoad.inFlight/],
      [{ min: '1s', max: '1m', underLoad: { stretch: 0.5 } }, /adaptiveTtl.underLoad.stretch/],
      [{ min: 'soon', max: '1m' }, /adaptiveTtl.min/],
    ];
    for (const [options, message] of bad) {
      expect(() => buildCache({ adaptiveTtl: options as never })).toThrow(message);
    }
  });

  it('a per-call bad option rejects the call', async () => {
    const cache = buildCache<string>();
    await expect(cache.getOrSet('k', () => 'v', { adaptiveTtl: { min: '1m', max: '1s' } })).rejects.toThrow(
      RangeError,
    );
    await cache.close();
  });

  it('adaptTtl: a failing equals counts as changed; an unserialisable value too', () => {
    const config = resolveAdaptiveTtl({
      min: 1000,
      max: 64_000,
      equals: () => {
        throw new Error('boom');
      },
    })!;
    const previous = {
      value: 1,
      createdAt: 0,
      staleAt: 8000,
      expiresAt: 8000,
      tags: [],
      adaptive: { ttl: 8000 },
    };
    // Changed after 4 s with no change seen before: the target is √(4 s × 1 s) = 2 s.
    const signal = { value: 1, previous, notModified: false, ttl: 0, durationMs: 0, inFlight: 1, now: 4000 };
    expect(adaptTtl(config, signal)).toMatchObject({ ttl: 2000, changed: true });
    const hashing = resolveAdaptiveTtl({ min: 1000, max: 64_000 })!;
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(
      adaptTtl(hashing, { ...signal, value: cyclic, previous: { ...previous, value: cyclic } }),
    ).toMatchObject({
      ttl: 2000,
      changed: true,
    });
    // Not modified is unchanged without looking at the value.
    expect(adaptTtl(hashing, { ...signal, value: cyclic, notModified: true })).toMatchObject({
      ttl: 16_000,
      changed: false,
    });
  });
});
