// Hostile probes of MemoryCache.resize: what a cache resized at run time keeps of its policy's state
// (read buffer, frequency sketch), and how it behaves under re-entrant and invalid use.
import { describe, expect, it } from 'vitest';
import { MemoryCache, engineInternals } from '../../src/engine/memory-cache.js';
import { manualClock, seededRandom } from './helpers.js';

describe('MemoryCache.resize: the read buffer follows the bound', () => {
  it('a cache grown from 10 to 1000 entries keeps every hit of a run of 500 (LRU)', () => {
    // Created at 10 entries, the read buffer holds 64 hits; grown to 1000 it must hold 4000, as a cache
    // created at 1000 does, or hits past the 64th are dropped and their entries evicted as if unread.
    const evicted: number[] = [];
    const cache = new MemoryCache<number, number>({
      policy: 'lru',
      maxEntries: 10,
      onEvict: (key) => void evicted.push(key),
    });
    cache.resize({ maxEntries: 1000 });
    for (let i = 0; i < 1000; i++) cache.set(i, i);
    // Keys 0..499 are the oldest; a run of hits with no write in between makes them the newest.
    for (let i = 0; i < 500; i++) cache.get(i);
    cache.resize({ maxEntries: 500 });
    expect(evicted).toHaveLength(500);
    expect(evicted.every((key) => key >= 500)).toBe(true);
    for (let i = 0; i < 500; i++) expect(cache.has(i)).toBe(true);
  });

  it('a cache grown from 10 to 1000 entries counts every hit of a run of 500 (W-TinyLFU)', () => {
    const cache = new MemoryCache<number, number>({ maxEntries: 10 });
    cache.resize({ maxEntries: 1000 });
    for (let i = 0; i < 1000; i++) cache.set(i, i);
    const frequency = cache[engineInternals]().frequency;
    const before = frequency(400)!;
    for (let i = 0; i < 500; i++) cache.get(i);
    // The 401st hit of the run reached the policy: key 400 is counted once more than an unread key.
    expect(frequency(400)).toBe(before + 1);
    expect(frequency(700)).toBe(before);
  });
});

describe('MemoryCache.resize: the frequency sketch keeps its counts on a shrink', () => {
  it('a few hits after a shrink from 20,000 to 100 entries age the sketch once at most', () => {
    const cache = new MemoryCache<number, number>({ maxEntries: 20_000 });
    for (let i = 0; i < 20_000; i++) cache.set(i, i);
    for (let round = 0; round < 8; round++) for (let i = 0; i < 10; i++) cache.get(i);
    const frequency = cache[engineInternals]().frequency;
    const before = frequency(0)!;
    expect(before).toBeGreaterThanOrEqual(8);
    cache.resize({ maxEntries: 100 });
    expect(frequency(0)).toBe(before);
    // Twenty hits: the accesses counted toward the 20,000-entry sample must not age the sketch at
    // every one of them (that halved the counts of the hot keys to 1 or 2).
    for (let i = 0; i < 20; i++) cache.get(i % 10);
    for (let key = 0; key < 10; key++) expect(frequency(key)).toBeGreaterThanOrEqual(Math.floor(before / 2));
    // The hot keys are still the ones a shrink keeps.
    for (let i = 1000; i < 1200; i++) cache.set(i, i);
    for (let key = 0; key < 10; key++) expect(cache.has(key)).toBe(true);
  });
});

describe('MemoryCache.resize to the bounds in force', () => {
  /** Power-law keys whose hot set moves every 20 x `capacity` requests: W-TinyLFU's tuner takes ARC mode. */
  function drift(capacity: number, requests: number): number[] {
    const rand = seededRandom(5);
    const every = 20 * capacity;
    return Array.from({ length: requests }, (_, i) => {
      const rank = Math.floor(Math.pow(20 * capacity, rand()));
      return 1_000_000 + Math.floor(i / every) * 100 * capacity + rank;
    });
  }

  it('changes nothing: the policy keeps its mode, window and segments', () => {
    const cache = new MemoryCache<number, number>({ maxEntries: 200 });
    for (const key of drift(200, 40_000)) if (cache.get(key) === undefined) cache.set(key, key);
    const before = cache[engineInternals]().policy;
    expect(before.mode).not.toBe(0);
    // What an admin config POST or a configure() restating the bound does.
    cache.resize({ maxEntries: 200 });
    cache.resize({});
    expect(cache[engineInternals]().policy).toEqual(before);
    expect(cache.size).toBe(200);
  });
});

describe('MemoryCache.resize under random load with re-entrant callbacks, TTLs and costs', () => {
  type Held = { value: string; expires: number };

  it.each([
    ['tinylfu', 'entries'],
    ['tinylfu', 'bytes'],
    ['tinylfu', 'both'],
    ['lru', 'entries'],
    ['lru', 'bytes'],
    ['lru', 'both'],
  ] as const)(
    '%s bounded by %s: bounds hold, every removal is reported once and nothing else is lost',
    (policy, mode) => {
      const rand = seededRandom(policy.length * 31 + mode.length);
      const clock = manualClock();
      const model = new Map<number, Held>();
      const bounds = {
        maxEntries: mode === 'bytes' ? Infinity : 50,
        maxBytes: mode === 'entries' ? Infinity : 2000,
      };
      let depth = 0;
      let step = 0;
      const live = (held: Held | undefined): boolean =>
        held !== undefined && (held.expires === 0 || held.expires > clock.now());
      // A write the model learns of before the cache does, as a nested removal may report it at once.
      const write = (key: number, value: string, ttl: number, cost?: number): void => {
        model.set(key, { value, expires: ttl === 0 ? 0 : clock.now() + ttl });
        cache.set(key, value, cost === undefined ? { ttl } : { ttl, cost });
        if (model.get(key)?.value === value) expect(cache.has(key)).toBe(true);
      };
      // delete() answers whether a live entry was there, which its own report then takes from the model.
      const deleteChecked = (key: number): void => {
        const expected = live(model.get(key));
        expect(cache.delete(key)).toBe(expected);
      };
      const cache: MemoryCache<number, string> = new MemoryCache<number, string>({
        policy,
        clock: clock.now,
        cleanupInterval: 0,
        ...(mode === 'bytes' ? {} : { maxEntries: bounds.maxEntries }),
        ...(mode === 'entries' ? {} : { maxBytes: bounds.maxBytes, sizeOf: (v: string) => v.length }),
        onEvict: (key, value, reason) => {
          const held = model.get(key);
          // Reported once, with the value the cache held, and gone by the time it is reported.
          expect(held?.value).toBe(value);
          expect(cache.has(key)).toBe(false);
          if (reason === 'expired') expect(live(held)).toBe(false);
          model.delete(key);
          // Now and then the callback writes, deletes or resizes (never clears: clear() reports after it
          // has emptied the cache, so a write from its callbacks would race the reports still due).
          if (depth < 2 && rand() < 0.05) {
            depth++;
            const other = Math.floor(rand() * 400);
            const choice = rand();
            if (choice < 0.5)
              write(other, `r${step}-${depth}`, rand() < 0.3 ? 1 + Math.floor(rand() * 100) : 0);
            else if (choice < 0.75) deleteChecked(other);
            else resizeAtRandom();
            depth--;
          }
        },
      });
      const resizeAtRandom = (): void => {
        if (mode !== 'bytes') bounds.maxEntries = 1 + Math.floor(rand() * 120);
        if (mode !== 'entries') bounds.maxBytes = 130 + Math.floor(rand() * 5000);
        cache.resize(
          mode === 'entries'
            ? { maxEntries: bounds.maxEntries }
            : mode === 'bytes'
              ? { maxBytes: bounds.maxBytes }
              : bounds,
        );
      };
      for (step = 0; step < 3000; step++) {
        const key = Math.floor(rand() * 400);
        const op = rand();
        if (op < 0.45) expect(cache.get(key)).toBe(live(model.get(key)) ? model.get(key)!.value : undefined);
        else if (op < 0.8) {
          const value = `${'v'.repeat(1 + Math.floor(rand() * 120))}#${step}`;
          const ttl = rand() < 0.3 ? 1 + Math.floor(rand() * 100) : 0;
          write(key, value, ttl, rand() < 0.3 ? Math.floor(rand() * 1000) : undefined);
        } else if (op < 0.88) deleteChecked(key);
        else if (op < 0.93) clock.advance(Math.floor(rand() * 50));
        else resizeAtRandom();
        const stats = cache.stats();
        expect(stats.size).toBeLessThanOrEqual(bounds.maxEntries);
        expect(stats.bytes).toBeLessThanOrEqual(bounds.maxBytes);
        expect(stats.size).toBe(model.size);
        if (step % 100 === 0) {
          for (const [held, value] of model) if (live(value)) expect(cache.peek(held)).toBe(value.value);
          expect(new Set(cache.keys()).size).toBe([...model.values()].filter(live).length);
        }
      }
    },
  );
});

describe('MemoryCache with a logger that throws', () => {
  // A failing log transport: every line throws (what LogSink swallows for the rest of Larder).
  const broken = {
    warn: (): never => {
      throw new Error('log transport down');
    },
    error: (): never => {
      throw new Error('log transport down');
    },
  };

  it('a shrink whose onEvict fails still evicts down to the new bound, and does not throw', () => {
    const cache = new MemoryCache<number, number>({
      maxEntries: 100,
      logger: broken,
      onEvict: () => {
        throw new Error('callback failed');
      },
    });
    for (let i = 0; i < 100; i++) cache.set(i, i);
    expect(() => cache.resize({ maxEntries: 10 })).not.toThrow();
    expect(cache.size).toBe(10);
    expect(cache.stats().evictions).toBe(90);
    expect(() => cache.set(1000, 1000)).not.toThrow();
    expect(cache.size).toBe(10);
  });

  it('a refused set still removes the stale value it replaces', () => {
    const cache = new MemoryCache<string, string>({ maxBytes: 100, sizeOf: (v) => v.length, logger: broken });
    cache.set('k', 'old');
    expect(() => cache.set('k', 'x'.repeat(101))).not.toThrow();
    expect(cache.get('k')).toBeUndefined();
    expect(cache.stats().rejections).toBe(1);
  });
});

describe('MemoryCache.load into a byte budget', () => {
  it('counts fractional snapshot sizes as the engine does (rounded up), so what it loads stays', () => {
    const evicted: string[] = [];
    const clock = manualClock();
    const cache = new MemoryCache<string, string>({
      maxBytes: 3,
      // Measured at 1 byte: the declared 1.5 is above it, so it is what the load fits the entry at.
      sizeOf: () => 1,
      clock: clock.now,
      onEvict: (key, _value, reason) => void evicted.push(`${key}:${reason}`),
    });
    const entry = (key: string, frequency: number) => ({
      key,
      value: key,
      size: 1.5,
      createdAt: clock.now() - 1000,
      staleAt: 0,
      expiresAt: 0,
      tags: [],
      frequency,
    });
    // 1.5 bytes are 2 in the engine: only the more valuable entry fits a budget of 3.
    const result = cache.load([entry('a', 3), entry('b', 2)]);
    expect(result).toMatchObject({ loaded: 1, dropped: 1 });
    expect(evicted).toEqual([]);
    expect(cache.has('a')).toBe(true);
    expect(cache.stats().bytes).toBe(2);
  });
});

describe('MemoryCache.load with jitter', () => {
  it('keeps remaining TTLs as they are: the cache jitter never extends them', () => {
    const clock = manualClock();
    const cache = new MemoryCache<string, string>({ jitter: 0.5, ttl: 1000, clock: clock.now });
    const expiresAt = clock.now() + 10_000;
    const snapshot = Array.from({ length: 50 }, (_, i) => ({
      key: `k${i}`,
      value: 'v',
      size: 0,
      createdAt: clock.now() - 10,
      staleAt: expiresAt,
      expiresAt,
      tags: [],
      frequency: 0,
    }));
    expect(cache.load(snapshot).loaded).toBe(50);
    for (let i = 0; i < 50; i++) expect(cache.ttlRemaining(`k${i}`)).toBe(10_000);
    clock.advance(10_000);
    expect(cache.prune()).toBe(50);
  });
});

describe('byte estimates of values that cannot be walked', () => {
  const hostile = {
    ok: 'x',
    get boom(): string {
      throw new Error('getter');
    },
  };

  it('stats() of a cache holding one does not throw', () => {
    const cache = new MemoryCache<string, unknown>({ maxEntries: 100 });
    cache.set('a', hostile);
    cache.set('b', 'plain');
    expect(() => cache.stats()).not.toThrow();
    expect(cache.stats().bytes).toBeGreaterThan(0);
  });

  it('a byte-bounded cache measures one with a guess instead of throwing, and stays within its bound', () => {
    const cache = new MemoryCache<string, unknown>({ maxBytes: 200 });
    for (let i = 0; i < 20; i++) cache.set(`k${i}`, hostile);
    expect(cache.size).toBeGreaterThan(0);
    expect(cache.stats().bytes).toBeLessThanOrEqual(200);
  });
});

describe('MemoryCache.resize: a shrink takes expired entries first', () => {
  it.each(['lru', 'tinylfu'] as const)(
    'expired entries go as expired before any live one is evicted (%s)',
    (policy) => {
      const clock = manualClock();
      const removed: [number, string][] = [];
      const cache = new MemoryCache<number, number>({
        policy,
        maxEntries: 100,
        clock: clock.now,
        onEvict: (key, _value, reason) => void removed.push([key, reason]),
      });
      // The newest half is short-lived; the oldest half (the policy's first victims) lives on.
      for (let i = 0; i < 50; i++) cache.set(i, i);
      for (let i = 50; i < 100; i++) cache.set(i, i, { ttl: 10 });
      clock.advance(11);
      cache.resize({ maxEntries: 50 });
      expect(removed).toHaveLength(50);
      expect(removed.every(([key, reason]) => key >= 50 && reason === 'expired')).toBe(true);
      for (let i = 0; i < 50; i++) expect(cache.has(i)).toBe(true);
    },
  );
});
