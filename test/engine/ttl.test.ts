import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryCache, engineInternals } from '../../src/engine/memory-cache.js';
import { evictionLog, manualClock } from './helpers.js';

describe.each(['tinylfu', 'lru'] as const)('MemoryCache TTL (%s)', (policy) => {
  it('expires entries after the default ttl; get removes them with reason expired', () => {
    const clock = manualClock();
    const log = evictionLog<string, number>();
    const c = new MemoryCache<string, number>({ policy, ttl: '1s', clock: clock.now, onEvict: log.onEvict });
    c.set('a', 1);
    clock.advance(999);
    expect(c.get('a')).toBe(1);
    clock.advance(1);
    expect(c.get('a')).toBeUndefined();
    expect(c.size).toBe(0);
    expect(log.calls).toEqual([['a', 1, 'expired']]);
    const s = c.stats();
    expect(s.expirations).toBe(1);
    expect(s.misses).toBe(1);
    expect(s.hits).toBe(1);
  });

  it('has and peek also remove an expired entry at once', () => {
    const clock = manualClock();
    const c = new MemoryCache<string, number>({ policy, clock: clock.now });
    c.set('a', 1, { ttl: 10 }).set('b', 2, { ttl: 10 });
    clock.advance(10);
    expect(c.has('a')).toBe(false);
    expect(c.peek('b')).toBeUndefined();
    expect(c.size).toBe(0);
    expect(c.stats().expirations).toBe(2);
  });

  it('per-entry ttl overrides the default, and ttl 0 means no expiry', () => {
    const clock = manualClock();
    const c = new MemoryCache<string, number>({ policy, ttl: 100, clock: clock.now });
    c.set('short', 1, { ttl: 10 }).set('forever', 2, { ttl: 0 }).set('default', 3);
    expect(c.ttlRemaining('short')).toBe(10);
    expect(c.ttlRemaining('forever')).toBe(Infinity);
    expect(c.ttlRemaining('default')).toBe(100);
    expect(c.ttlRemaining('absent')).toBeUndefined();
    clock.advance(50);
    expect(c.ttlRemaining('short')).toBeUndefined();
    expect(c.ttlRemaining('default')).toBe(50);
    clock.advance(1e9);
    expect(c.get('forever')).toBe(2);
  });

  it('overwriting resets the ttl', () => {
    const clock = manualClock();
    const c = new MemoryCache<string, number>({ policy, clock: clock.now });
    c.set('a', 1, { ttl: 100 });
    clock.advance(90);
    c.set('a', 2, { ttl: 100 });
    clock.advance(90);
    expect(c.get('a')).toBe(2);
    c.set('a', 3); // no ttl now
    clock.advance(1e6);
    expect(c.get('a')).toBe(3);
  });

  it('spreads expiries by jitter within ±jitter·ttl', () => {
    const clock = manualClock();
    const c = new MemoryCache<number, number>({ policy, ttl: 1000, jitter: 0.2, clock: clock.now });
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      c.set(i, i);
      const left = c.ttlRemaining(i)!;
      expect(left).toBeGreaterThanOrEqual(800);
      expect(left).toBeLessThanOrEqual(1200);
      seen.add(Math.round(left));
    }
    expect(seen.size).toBeGreaterThan(20);
  });

  it('prune removes every expired entry and returns the count; stats separates active and expired', () => {
    const clock = manualClock();
    const c = new MemoryCache<number, number>({ policy, clock: clock.now, cleanupInterval: 0 });
    expect(c.prune()).toBe(0);
    for (let i = 0; i < 10; i++) c.set(i, i, { ttl: i < 4 ? 10 : 0 });
    clock.advance(10);
    const s = c.stats();
    expect([s.size, s.active, s.expired]).toEqual([10, 6, 4]);
    expect(c.entries()).toHaveLength(6);
    expect([...c.keys()]).toHaveLength(6);
    expect(c.prune()).toBe(4);
    expect(c.size).toBe(6);
    expect(c.stats().expirations).toBe(4);
  });

  it('stats() counts expired entries with one clock read, however many entries there are', () => {
    const clock = manualClock();
    let reads = 0;
    const now = () => {
      reads++;
      return clock.now();
    };
    const c = new MemoryCache<number, number>({ policy, clock: now, cleanupInterval: 0 });
    for (let i = 0; i < 1000; i++) c.set(i, i, { ttl: i < 300 ? 10 : 1000 });
    c.delete(0);
    clock.advance(10);
    reads = 0;
    const s = c.stats();
    expect([s.size, s.active, s.expired]).toEqual([999, 700, 299]);
    // It was one read per entry with a TTL: a polled stats() of a large cache cost milliseconds.
    expect(reads).toBeLessThanOrEqual(2);
  });
});

describe('MemoryCache background sweep', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reclaims expired entries that are never touched, on an unref()ed timer', () => {
    vi.useFakeTimers();
    const log = evictionLog<number, number>();
    const c = new MemoryCache<number, number>({ ttl: '1s', cleanupInterval: '5s', onEvict: log.onEvict });
    for (let i = 0; i < 5000; i++) c.set(i, i);
    const { timer } = c[engineInternals]();
    expect(timer).toBeDefined();
    expect(timer!.hasRef()).toBe(false);
    vi.advanceTimersByTime(5000);
    // One tick visits at least 1/8 of the slots; a handful of ticks covers them all.
    expect(c.size).toBeLessThan(5000);
    vi.advanceTimersByTime(5000 * 8);
    expect(c.size).toBe(0);
    expect(log.calls).toHaveLength(5000);
    expect(log.calls.every((x) => x[2] === 'expired')).toBe(true);
  });

  it('starts no timer until a ttl is used, none with cleanupInterval 0, and close stops it', () => {
    const c = new MemoryCache<number, number>();
    c.set(1, 1);
    expect(c[engineInternals]().timer).toBeUndefined();
    c.set(2, 2, { ttl: 1000 });
    expect(c[engineInternals]().timer).toBeDefined();
    c.close();
    expect(c[engineInternals]().timer).toBeUndefined();
    expect(c.size).toBe(0);
    const off = new MemoryCache<number, number>({ ttl: 10, cleanupInterval: 0 });
    off.set(1, 1);
    expect(off[engineInternals]().timer).toBeUndefined();
  });
});
