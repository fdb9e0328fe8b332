// Hostile probes of MemoryCache.resize: what a cache resized at run time keeps of its policy's state
// (read buffer, frequency sketch), and how it behaves under re-entrant and invalid use.
import { describe, expect, it } from 'vitest';
import { MemoryCache, engineInternals } from '../../src/engine/memory-cache.js';
import { seededRandom } from './helpers.js';

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
