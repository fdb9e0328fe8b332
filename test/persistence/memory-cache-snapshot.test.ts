// MemoryCache.dump() / load(): the bare engine snapshots as the facade does. Entries keep their
// remaining TTL, tags and sizes across a file; expired entries stay out; hot entries come back hot
// (their frequency is replayed into the policy without counting hits); bad input changes nothing.
import { describe, expect, it } from 'vitest';
import { MemoryCache } from '../../src/engine/memory-cache.js';
import { decodeSnapshot, encodeSnapshot } from '../../src/persistence/format.js';
import { msgpackSerializer } from '../../src/codec/serializer.js';
import type { SnapshotEntry } from '../../src/persistence/types.js';
import { manualClock } from '../helpers/clock.js';

const serializer = msgpackSerializer();

/** What another process would read back: the entries through the snapshot file format. */
function throughFile<V>(entries: SnapshotEntry<V>[], now: number): SnapshotEntry<V>[] {
  const bytes = encodeSnapshot(new Map([['c', entries]]), serializer, now).bytes;
  return decodeSnapshot(bytes, serializer).caches.get('c') as SnapshotEntry<V>[];
}

describe('MemoryCache.dump() / load()', () => {
  it('round-trips values, tags, sizes and remaining TTLs through a snapshot file; expired entries stay out', () => {
    const clock = manualClock();
    const before = new MemoryCache<string, unknown>({
      maxBytes: 10_000,
      clock: clock.now,
      cleanupInterval: 0,
    });
    before.set('profile', { name: 'Ada', joined: new Date(0) }, { ttl: '30s', tags: ['user:1'], size: 300 });
    before.set('short', 's', { ttl: 2_000, size: 10 });
    before.set('forever', [1, 2, 3], { tags: ['static'], size: 50 });
    const dumped = before.dump();
    expect(dumped.find((e) => e.key === 'profile')).toMatchObject({
      createdAt: clock.now(),
      expiresAt: clock.now() + 30_000,
      staleAt: clock.now() + 30_000,
      tags: ['user:1'],
      size: 300,
    });
    const file = throughFile(dumped, clock.now());

    clock.advance(5_000); // down for five seconds: 'short' expired meanwhile
    const after = new MemoryCache<string, unknown>({
      maxBytes: 10_000,
      clock: clock.now,
      cleanupInterval: 0,
    });
    expect(after.load(file)).toEqual({ loaded: 2, expired: 1, dropped: 0, invalid: 0 });
    expect(after.get('profile')).toEqual({ name: 'Ada', joined: new Date(0) });
    expect(after.ttlRemaining('profile')).toBe(25_000);
    expect(after.has('short')).toBe(false);
    expect(after.ttlRemaining('forever')).toBe(Infinity);
    // The accounted sizes come back as they were, not re-estimated: 'forever' was set with a size below
    // what sizeOf measures (a weight), and keeps it.
    expect(after.measure('forever', [1, 2, 3])).toBeGreaterThan(50);
    expect(after.stats().bytes).toBe(350);
    expect(after.invalidateTags(['user:1'])).toBe(1);
    expect(after.invalidateTags(['static'])).toBe(1);
  });

  it('replays frequency without counting hits, so the hottest entries survive a flood of one-off keys', () => {
    const clock = manualClock();
    const big = new MemoryCache<string, number>({ maxEntries: 1_000, clock: clock.now, cleanupInterval: 0 });
    for (let i = 0; i < 1_000; i++) big.set(`k${i}`, i);
    const hot = ['k3', 'k141', 'k592', 'k653', 'k589', 'k793', 'k238', 'k462'];
    for (let round = 0; round < 8; round++) for (const key of hot) big.get(key);
    const dumped = big.dump();
    expect(new Set(dumped.slice(0, hot.length).map((e) => e.key))).toEqual(new Set(hot));

    const flood = (cache: MemoryCache<string, number>): void => {
      for (let i = 0; i < 500; i++) cache.set(`new${i}`, i);
    };
    const warm = new MemoryCache<string, number>({ maxEntries: 100, clock: clock.now, cleanupInterval: 0 });
    expect(warm.load(dumped).loaded).toBe(100);
    expect(warm.stats()).toMatchObject({ hits: 0, misses: 0 });
    flood(warm);
    for (const key of hot) expect(warm.has(key)).toBe(true);

    // The same entries without their frequency are just recent: the flood pushes them out.
    const flat = new MemoryCache<string, number>({ maxEntries: 100, clock: clock.now, cleanupInterval: 0 });
    flat.load(dumped.map((e) => ({ ...e, frequency: 0 })));
    flood(flat);
    expect(hot.filter((key) => flat.has(key)).length).toBeLessThan(hot.length);
  });

  it('into a smaller cache, keeps the entries the policy ranks best', () => {
    const clock = manualClock();
    const big = new MemoryCache<number, number>({ maxEntries: 500, clock: clock.now, cleanupInterval: 0 });
    for (let i = 0; i < 500; i++) big.set(i, i);
    const hot = [7, 77, 177, 277, 377];
    for (let round = 0; round < 5; round++) for (const key of hot) big.get(key);
    const small = new MemoryCache<number, number>({ maxEntries: 5, clock: clock.now, cleanupInterval: 0 });
    expect(small.load(big.dump())).toEqual({ loaded: 5, expired: 0, dropped: 495, invalid: 0 });
    expect([...small.keys()].sort((a, b) => a - b)).toEqual(hot);
  });

  it('rejects a foreign argument with a TypeError naming it, leaving the cache unchanged', () => {
    const cache = new MemoryCache<string, string>({ maxEntries: 10 });
    cache.set('keep', 'me', { tags: ['t'] });
    const before = cache.dump();
    for (const foreign of ['LARDSNAP', null, { entries: [] }, 42]) {
      expect(() => cache.load(foreign as never)).toThrow(TypeError);
      expect(() => cache.load(foreign as never)).toThrow(
        /load\(entries\) must be an array of snapshot entries/,
      );
    }
    expect(cache.dump()).toEqual(before);
    expect(cache.size).toBe(1);
  });

  it('leaves out and counts entries that are not snapshot entries, loading the rest', () => {
    const cache = new MemoryCache<string, string>({ maxEntries: 10 });
    const good = {
      key: 'a',
      value: 'A',
      createdAt: 0,
      staleAt: 0,
      expiresAt: 0,
      tags: [],
      size: 0,
      frequency: 0,
    };
    const result = cache.load([good, { key: 'b', value: 'B' }, { ...good, key: Number.NaN }] as never);
    expect(result).toEqual({ loaded: 1, expired: 0, dropped: 0, invalid: 2 });
    expect([...cache.keys()]).toEqual(['a']);
  });
});
