// Restores honour time and bounds: expired entries are dropped, remaining TTLs are kept (never
// extended), and a snapshot larger than the cache loads its most valuable entries first.
import { describe, expect, it } from 'vitest';
import { MemoryCache } from '../../src/engine/memory-cache.js';
import { rankEntries, selectForLoad, checkEntries, entryProblem } from '../../src/persistence/entries.js';
import type { SnapshotEntry } from '../../src/persistence/types.js';
import { dumpEnvelopes, loadEnvelopes } from '../../src/cache/snapshot-envelopes.js';
import type { Envelope } from '../../src/cache/envelope.js';
import { decodeSnapshot, encodeSnapshot } from '../../src/persistence/format.js';
import { msgpackSerializer } from '../../src/codec/serializer.js';
import { entry } from './helpers.js';

const UNBOUNDED = { maxEntries: Infinity, maxBytes: Infinity };

describe('selectForLoad', () => {
  it('drops expired entries and inserts the rest least valuable first', () => {
    const entries = [
      entry('cold', { frequency: 0, createdAt: 10 }),
      entry('gone', { frequency: 9, expiresAt: 500 }),
      entry('hot', { frequency: 5 }),
      entry('fresh', { frequency: 0, createdAt: 20 }),
      entry('edge', { expiresAt: 1_000 }),
    ];
    const { insert, result } = selectForLoad(entries, 1_000, UNBOUNDED);
    // Equal frequencies keep their given order: cold is listed first (more valuable), so it goes in after fresh.
    expect(insert.map((e) => e.key)).toEqual(['fresh', 'cold', 'hot']);
    expect(result).toEqual({ loaded: 3, expired: 2, dropped: 0, invalid: 0 });
  });

  it('keeps the most valuable entries that fit the entry and byte bounds', () => {
    const entries = Array.from({ length: 10 }, (_, i) => entry(i, { frequency: i, size: 100 }));
    expect(
      selectForLoad(entries, 1_000, { maxEntries: 3, maxBytes: Infinity }).insert.map((e) => e.key),
    ).toEqual([7, 8, 9]);
    const big = [...entries, entry('huge', { frequency: 15, size: 10_000 })];
    const byBytes = selectForLoad(big, 1_000, { maxEntries: Infinity, maxBytes: 450 });
    // The huge entry cannot fit at all and is skipped; then the four hottest fit in 450 bytes.
    expect(byBytes.insert.map((e) => e.key)).toEqual([6, 7, 8, 9]);
    expect(byBytes.result).toEqual({ loaded: 4, expired: 0, dropped: 7, invalid: 0 });
  });

  it('ranks by frequency; equal frequencies keep the order of the dump', () => {
    const ranked = rankEntries([
      entry('a', { createdAt: 1 }),
      entry('b', { createdAt: 3 }),
      entry('c', { frequency: 1 }),
      entry('d', { createdAt: 2 }),
    ]);
    expect(ranked.map((e) => e.key)).toEqual(['c', 'a', 'b', 'd']);
  });

  it('refuses a non-array, and leaves out and counts invalid entries instead of throwing', () => {
    expect(() => checkEntries('nope')).toThrow(/load\(entries\) must be an array/);
    const bad = [
      { key: {}, value: 1 },
      entry(Number.NaN),
      entry(Infinity),
      entry(-Infinity),
      entry('t', { expiresAt: Number.NaN }),
      entry('u', { createdAt: Infinity }),
      entry('v', { staleAt: -1 }),
      entry('w', { expiresAt: 1e300 }),
      entry('x', { frequency: 99 }),
      entry('y', { size: Number.NaN }),
      { ...entry('z'), tags: [1] },
      { ...entry('z2'), tags: 'a' },
      null,
    ] as unknown as SnapshotEntry[];
    const { insert, result } = selectForLoad([entry('ok'), ...bad, entry(5)], 1_000, UNBOUNDED);
    expect(insert.map((e) => e.key)).toEqual([5, 'ok']);
    expect(result).toEqual({ loaded: 2, expired: 0, dropped: 0, invalid: bad.length });
  });

  it('names what is wrong with an entry', () => {
    expect(entryProblem(entry('a'))).toBeUndefined();
    expect(entryProblem(entry(Number.NaN))).toBe('key is NaN');
    expect(entryProblem(entry(-Infinity))).toBe('key is -Infinity');
    expect(entryProblem(entry('a', { staleAt: Infinity }))).toBe(
      'staleAt is Infinity, outside 0..8640000000000000',
    );
    expect(entryProblem({ ...entry('a'), tags: [1] })).toBe('tags holds a non-string');
    expect(entryProblem(entry('a', { frequency: 16 }))).toBe('frequency is 16, outside 0..15');
    expect(entryProblem('x')).toBe('not an object');
  });
});

describe('MemoryCache snapshots', () => {
  it('keeps remaining TTLs honest across a restore (injected clock)', () => {
    let now = 1_000_000;
    const clock = () => now;
    const before = new MemoryCache<string, string>({ clock, cleanupInterval: 0 });
    before.set('short', 's', { ttl: 1_000 });
    before.set('long', 'l', { ttl: 60_000, tags: ['t'] });
    before.set('forever', 'f');
    const dumped = before.dump();
    const snapshot = decodeSnapshot(
      encodeSnapshot(new Map([['c', dumped]]), msgpackSerializer(), now).bytes,
      msgpackSerializer(),
    );

    now += 5_000; // the process was down for five seconds
    const after = new MemoryCache<string, string>({ clock, cleanupInterval: 0, ttl: '1h' });
    const result = after.load(snapshot.caches.get('c') as SnapshotEntry<string>[]);
    expect(result).toEqual({ loaded: 2, expired: 1, dropped: 0, invalid: 0 });
    expect(after.has('short')).toBe(false);
    // 60 s TTL, 5 s gone: 55 s left, not a fresh 60 s and not the cache's default hour.
    expect(after.ttlRemaining('long')).toBe(55_000);
    expect(after.ttlRemaining('forever')).toBe(Infinity);
    expect(after.entries().find((e) => e.key === 'long')!.tags).toEqual(['t']);
    now += 55_000;
    expect(after.get('long')).toBeUndefined();
  });

  it('restored into a smaller cache, keeps the most valuable entries', () => {
    let now = 0;
    const big = new MemoryCache<number, number>({
      maxEntries: 100,
      policy: 'lru',
      clock: () => now,
      cleanupInterval: 0,
    });
    for (let i = 0; i < 100; i++) {
      now = i; // later writes are more recent, hence more valuable when no key was read more often
      big.set(i, i * 10);
    }
    const small = new MemoryCache<number, number>({ maxEntries: 10, policy: 'lru' });
    const result = small.load(big.dump());
    expect(result).toEqual({ loaded: 10, expired: 0, dropped: 90, invalid: 0 });
    expect([...small.keys()].sort((a, b) => a - b)).toEqual([90, 91, 92, 93, 94, 95, 96, 97, 98, 99]);
    // The most valuable entry was inserted last, so LRU evicts the least valuable first.
    small.set(1000, 0);
    expect(small.has(90)).toBe(false);
    expect(small.has(99)).toBe(true);
  });

  it('carries W-TinyLFU frequency: entries read often outrank recent ones read once', () => {
    const clock = (): number => 1_000;
    const big = new MemoryCache<number, number>({ maxEntries: 1_000, clock, cleanupInterval: 0 });
    for (let i = 0; i < 1_000; i++) big.set(i, i);
    const hot = [3, 141, 592, 653, 589];
    for (let round = 0; round < 6; round++) for (const key of hot) big.get(key);
    const dumped = big.dump();
    expect(new Set(dumped.slice(0, hot.length).map((e) => e.key))).toEqual(new Set(hot));
    for (const e of dumped.slice(0, hot.length)) expect(e.frequency).toBeGreaterThanOrEqual(6);
    const small = new MemoryCache<number, number>({ maxEntries: 20, clock });
    small.load(dumped);
    for (const key of hot) expect(small.has(key)).toBe(true);
  });

  it('lists hottest() in retention order: LRU newest first, and honours a limit', () => {
    const lru = new MemoryCache<string, number>({ maxEntries: 10, policy: 'lru' });
    for (const key of ['a', 'b', 'c', 'd']) lru.set(key, 1);
    lru.get('b');
    expect(lru.hottest().map((e) => e.key)).toEqual(['b', 'd', 'c', 'a']);
    expect(lru.hottest(2).map((e) => e.key)).toEqual(['b', 'd']);
    expect(lru.hottest().every((e) => e.frequency === 0)).toBe(true);
  });

  it('respects a byte budget on restore', () => {
    const small = new MemoryCache<string, unknown>({ maxBytes: 1_000 });
    const entries = Array.from({ length: 20 }, (_, i) =>
      entry(`k${i}`, { size: 100, frequency: i % 4, createdAt: i }),
    );
    const result = small.load(entries);
    expect(result.loaded).toBe(10);
    expect(small.stats().bytes).toBeLessThanOrEqual(1_000);
    for (const key of small.keys()) expect(Number(key.slice(1)) % 4).toBeGreaterThanOrEqual(2);
  });
});

describe('facade envelopes', () => {
  function envelopeInfo(key: string, envelope: Envelope, size = 0, frequency = 0) {
    return { key, value: envelope, ageMs: 0, ttlRemainingMs: undefined, size, tags: [], frequency };
  }

  it('dumps a view’s entries without its prefix and with freshness and grace as absolute times', () => {
    const infos = [
      envelopeInfo('ns:a', { value: 1, createdAt: 10, staleAt: 100, expiresAt: 200, tags: ['x'] }, 40, 3),
      envelopeInfo('other:b', { value: 2, createdAt: 10, staleAt: 0, expiresAt: 0, tags: [] }),
      envelopeInfo('ns:gone', { value: 3, createdAt: 10, staleAt: 50, expiresAt: 60, tags: [] }),
    ];
    expect(dumpEnvelopes(infos, 'ns:', 100)).toEqual([
      {
        key: 'a',
        value: 1,
        createdAt: 10,
        staleAt: 100,
        expiresAt: 200,
        tags: ['x'],
        size: 40,
        frequency: 3,
      },
    ]);
    expect(dumpEnvelopes(infos, '', 100).map((e) => e.key)).toEqual(['ns:a', 'other:b']);
  });

  it('loads envelopes through the sink and replays frequencies', () => {
    const written: [unknown, Envelope, number | undefined][] = [];
    const touched: unknown[] = [];
    const result = loadEnvelopes(
      [
        entry('hot', { frequency: 7, createdAt: 50, staleAt: 900, expiresAt: 950, size: 12 }),
        entry('cold', { createdAt: 50 }),
        entry('old', { createdAt: 5, expiresAt: 10 }),
      ],
      100,
      UNBOUNDED,
      {
        write: (key, envelope, size) => written.push([key, envelope, size]),
        touch: (key) => touched.push(key),
      },
    );
    expect(result).toEqual({ loaded: 2, expired: 1, dropped: 0, invalid: 0 });
    expect(written).toEqual([
      ['cold', { value: 'v:cold', createdAt: 50, staleAt: 0, expiresAt: 0, tags: [] }, undefined],
      ['hot', { value: 'v:hot', createdAt: 50, staleAt: 900, expiresAt: 950, tags: [] }, 12],
    ]);
    expect(touched).toEqual(['hot', 'hot', 'hot']);
  });
});
