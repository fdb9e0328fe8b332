// MemoryCache.resize and property tests for every policy: bounds hold, every eviction is reported with
// its reason, and resizing under load keeps every invariant (seeded random loops, so failures replay).
import { describe, expect, it } from 'vitest';
import { MemoryCache, engineInternals } from '../../src/engine/memory-cache.js';
import type { EvictionReason } from '../../src/engine/types.js';
import { evictionLog, manualClock, seededRandom } from './helpers.js';

const POLICIES = ['tinylfu', 'lru'] as const;

describe.each(POLICIES)('MemoryCache.resize (%s)', (policy) => {
  it('shrinks by evicting in the policy order, counted and reported as capacity evictions', () => {
    const log = evictionLog<number, number>();
    const cache = new MemoryCache<number, number>({ policy, maxEntries: 100, onEvict: log.onEvict });
    for (let i = 0; i < 100; i++) cache.set(i, i);
    // Entries 0..9 are read often: both policies should rank them above the rest.
    for (let round = 0; round < 5; round++) for (let i = 0; i < 10; i++) cache.get(i);
    const expectedOrder = cache.hottest().map((e) => e.key);
    cache.resize({ maxEntries: 30 });
    expect(cache.size).toBe(30);
    expect(cache.stats().evictions).toBe(70);
    expect(cache.stats().maxEntries).toBe(30);
    expect(log.calls).toHaveLength(70);
    expect(log.calls.every(([, , reason]) => reason === 'capacity')).toBe(true);
    for (let i = 0; i < 10; i++) expect(cache.has(i)).toBe(true);
    if (policy === 'lru') {
      // LRU evicts exactly the tail of its retention order.
      expect(new Set(log.calls.map(([key]) => key))).toEqual(new Set(expectedOrder.slice(30)));
    }
    // The new bound holds for later sets.
    for (let i = 1000; i < 1100; i++) cache.set(i, i);
    expect(cache.size).toBe(30);
  });

  it('grows without a rebuild: existing entries stay and the new room fills', () => {
    const cache = new MemoryCache<number, number>({ policy, maxEntries: 50 });
    for (let i = 0; i < 50; i++) cache.set(i, i);
    cache.resize({ maxEntries: 5000 });
    for (let i = 0; i < 50; i++) expect(cache.peek(i)).toBe(i);
    for (let i = 50; i < 5000; i++) cache.set(i, i);
    expect(cache.size).toBe(5000);
    expect(cache.stats().evictions).toBe(0);
    cache.set(-1, -1);
    expect(cache.size).toBe(5000);
    expect(cache.stats().evictions).toBe(1);
  });

  it('shrinks and grows a byte budget', () => {
    const cache = new MemoryCache<string, string>({ policy, maxBytes: 1000, sizeOf: (v) => v.length });
    for (let i = 0; i < 10; i++) cache.set(`k${i}`, 'x'.repeat(100));
    expect(cache.stats().bytes).toBe(1000);
    cache.resize({ maxBytes: 450 });
    expect(cache.stats().bytes).toBeLessThanOrEqual(450);
    expect(cache.size).toBe(4);
    expect(cache.stats().maxBytes).toBe(450);
    // An entry larger than the new budget is refused.
    cache.set('big', 'x'.repeat(451));
    expect(cache.has('big')).toBe(false);
    cache.resize({ maxBytes: 2000 });
    for (let i = 0; i < 20; i++) cache.set(`n${i}`, 'x'.repeat(100));
    expect(cache.stats().bytes).toBe(2000);
  });

  it('adapts the policy to the new budget', () => {
    const cache = new MemoryCache<number, number>({ policy, maxEntries: 1000 });
    for (let i = 0; i < 1000; i++) cache.set(i, i);
    cache.resize({ maxEntries: 100 });
    const snapshot = cache[engineInternals]().policy;
    const state = {
      maximum: snapshot.maximum ?? NaN,
      windowMax: snapshot.windowMax ?? NaN,
      protectedMax: snapshot.protectedMax ?? NaN,
      windowWeight: snapshot.windowWeight ?? NaN,
      protectedWeight: snapshot.protectedWeight ?? NaN,
      totalWeight: snapshot.totalWeight ?? NaN,
    };
    if (policy === 'tinylfu') {
      expect(state.maximum).toBe(100);
      expect(state.windowMax).toBeGreaterThanOrEqual(1);
      expect(state.windowMax + state.protectedMax).toBeLessThanOrEqual(100);
      expect(state.windowWeight).toBeLessThanOrEqual(state.windowMax);
      expect(state.protectedWeight).toBeLessThanOrEqual(state.protectedMax);
      expect(state.totalWeight).toBe(100);
    }
  });

  it('validates its input before changing anything', () => {
    const cache = new MemoryCache<number, number>({ policy, maxEntries: 10 });
    for (let i = 0; i < 10; i++) cache.set(i, i);
    expect(() => cache.resize({ maxEntries: 0 })).toThrow(RangeError);
    expect(() => cache.resize({ maxEntries: 2.5 })).toThrow(/maxEntries/);
    expect(() => cache.resize({ maxEntries: '5' as unknown as number })).toThrow(TypeError);
    expect(() => cache.resize(null as unknown as { maxEntries: number })).toThrow(TypeError);
    // A misspelt bound is refused, not ignored (it would leave the old bound in force).
    expect(() => cache.resize({ maxEntrys: 5 } as unknown as { maxEntries: number })).toThrow(
      /resize: unknown option "maxEntrys"/,
    );
    // maxBytes needs a cache created with a byte budget.
    expect(() => cache.resize({ maxEntries: 5, maxBytes: 100 })).toThrow(/maxBytes/);
    expect(cache.size).toBe(10);
    expect(cache.stats().maxEntries).toBe(10);
  });
});

/** Checks the invariants of a cache against its bounds and the eviction log. */
function checkInvariants(
  cache: MemoryCache<number, string>,
  bounds: { maxEntries: number; maxBytes: number },
  model: Map<number, string>,
): void {
  const stats = cache.stats();
  expect(stats.size).toBeLessThanOrEqual(bounds.maxEntries);
  expect(stats.bytes).toBeLessThanOrEqual(bounds.maxBytes);
  expect(stats.size).toBe(model.size);
  let bytes = 0;
  for (const info of cache.entries()) {
    expect(info.value).toBe(model.get(info.key));
    bytes += info.size;
  }
  // entries() skips expired ones; with no TTLs in play every entry is live. Without a byte budget,
  // entries are not measured and stats().bytes is a sampled estimate instead.
  if (Number.isFinite(bounds.maxBytes)) expect(bytes).toBe(stats.bytes);
}

describe.each([
  ['tinylfu', 'bytes'],
  ['tinylfu', 'entries'],
  ['lru', 'bytes'],
  ['lru', 'entries'],
] as const)('properties under random load with resizes (%s, bounded by %s)', (policy, mode) => {
  it.each([11, 12, 13])('seed %i', (seed) => {
    const rand = seededRandom(seed);
    const clock = manualClock();
    const model = new Map<number, string>();
    const reasons = new Map<EvictionReason, number>();
    const byBytes = mode === 'bytes';
    const bounds = { maxEntries: 64, maxBytes: byBytes ? 3000 : Infinity };
    const cache = new MemoryCache<number, string>({
      policy,
      maxEntries: bounds.maxEntries,
      ...(byBytes ? { maxBytes: bounds.maxBytes, sizeOf: (v: string) => v.length } : {}),
      clock: clock.now,
      cleanupInterval: 0,
      onEvict: (key, value, reason) => {
        // Every removal is reported once, for an entry the cache held, with the value it held.
        expect(model.get(key)).toBe(value);
        model.delete(key);
        reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      },
    });
    for (let step = 0; step < 6_000; step++) {
      const key = Math.floor(rand() * 300);
      const op = rand();
      if (op < 0.5) {
        const got = cache.get(key);
        expect(got).toBe(model.get(key));
      } else if (op < 0.9) {
        const value = 'v'.repeat(1 + Math.floor(rand() * 150));
        model.set(key, value);
        cache.set(key, value);
        // The set may have evicted the entry it just wrote (a candidate that lost its duel).
        if (!cache.has(key)) expect(model.has(key)).toBe(false);
      } else if (op < 0.97) {
        const existed = model.has(key);
        expect(cache.delete(key)).toBe(existed);
      } else {
        // Resize under load: sometimes to a tiny cache, sometimes far larger.
        bounds.maxEntries = 1 + Math.floor(rand() * 200);
        if (byBytes) bounds.maxBytes = 151 + Math.floor(rand() * 8000);
        const before = cache.stats().evictions;
        const sizeBefore = cache.size;
        cache.resize(byBytes ? bounds : { maxEntries: bounds.maxEntries });
        const evicted = cache.stats().evictions - before;
        expect(evicted).toBe(sizeBefore - cache.size);
      }
      // Bounds after every operation; the full content check (a walk of every entry) now and then.
      const stats = cache.stats();
      expect(stats.size).toBeLessThanOrEqual(bounds.maxEntries);
      expect(stats.bytes).toBeLessThanOrEqual(bounds.maxBytes);
      expect(stats.size).toBe(model.size);
      if (step % 25 === 0) checkInvariants(cache, bounds, model);
    }
    checkInvariants(cache, bounds, model);
    const stats = cache.stats();
    expect(reasons.get('capacity') ?? 0).toBe(stats.evictions);
    expect(reasons.get('deleted') ?? 0).toBe(stats.deletes);
    expect(stats.evictions).toBeGreaterThan(0);
  });
});
