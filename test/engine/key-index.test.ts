import { describe, expect, it } from 'vitest';
import { KeyIndex, NO_SLOT } from '../../src/engine/key-index.js';
import { MemoryCache } from '../../src/engine/memory-cache.js';
import { hashKey } from '../../src/engine/hash.js';
import { seededRandom } from '../helpers/random.js';

// Keys live at entries[2 * slot], as in MemoryCache.
function entriesFor(keys: Map<number, string>, slots: number): unknown[] {
  const entries: unknown[] = new Array<unknown>(2 * slots).fill(undefined);
  for (const [slot, key] of keys) entries[2 * slot] = key;
  return entries;
}

describe('KeyIndex', () => {
  it('finds, misses and erases keys that share one hash (one probe run)', () => {
    const index = new KeyIndex(8);
    const keys = new Map<number, string>();
    const hash = 0x7fff_0000;
    const hashes = new Int32Array(8).fill(hash);
    for (let slot = 3; slot < 8; slot++) {
      keys.set(slot, `k${slot}`);
      index.insert(hash, slot);
    }
    let entries = entriesFor(keys, 8);
    for (let slot = 3; slot < 8; slot++) expect(index.find(entries, `k${slot}`, hash)).toBe(slot);
    expect(index.find(entries, 'absent', hash)).toBe(NO_SLOT);
    // Erasing from the middle of the run must keep every later entry reachable.
    index.erase(5, hashes);
    keys.delete(5);
    entries = entriesFor(keys, 8);
    expect(index.find(entries, 'k5', hash)).toBe(NO_SLOT);
    for (const slot of [3, 4, 6, 7]) expect(index.find(entries, `k${slot}`, hash)).toBe(slot);
  });

  it('keeps runs that wrap around the end of the table reachable after erases', () => {
    const index = new KeyIndex(8); // 16 positions
    const keys = new Map<number, string>();
    // Home position 15 (the last) for all of them, so the run wraps to positions 0, 1, ...
    const last = 0xffff_ffff | 0;
    const early = 0x0000_0001; // home position 0
    const hashes = Int32Array.of(0, 0, 0, last, last, last, early, 0);
    for (let slot = 3; slot < 6; slot++) {
      keys.set(slot, `w${slot}`);
      index.insert(last, slot);
    }
    keys.set(6, 'e6');
    index.insert(early, 6);
    index.erase(3, hashes);
    keys.delete(3);
    const entries = entriesFor(keys, 8);
    expect(index.find(entries, 'w4', last)).toBe(4);
    expect(index.find(entries, 'w5', last)).toBe(5);
    expect(index.find(entries, 'e6', early)).toBe(6);
  });

  it('packs slot and tag into one word: the highest slot beside a tag with its top bit set', () => {
    const index = new KeyIndex(8); // 16 positions, slots below 8, a 29-bit tag
    const hashes = new Int32Array(8);
    hashes[7] = 0x0fff_ffff; // home position 0, every tag bit set: the stored word is negative
    hashes[6] = 0x0fff_fffe; // the same home, another tag
    index.insert(hashes[7], 7);
    index.insert(hashes[6], 6);
    const entries = entriesFor(
      new Map([
        [7, 'seven'],
        [6, 'six'],
      ]),
      8,
    );
    expect(index.find(entries, 'seven', hashes[7])).toBe(7);
    expect(index.find(entries, 'six', hashes[6])).toBe(6);
    // The right tag with another key, and the right key under another tag, are both misses.
    expect(index.find(entries, 'six', hashes[7])).toBe(NO_SLOT);
    index.erase(7, hashes);
    expect(index.find(entries, 'six', hashes[6])).toBe(6);
    expect(index.find(entries, 'seven', hashes[7])).toBe(NO_SLOT);
  });

  it('answers like a Map through random inserts and erases with crowded probe runs', () => {
    const slots = 64;
    const index = new KeyIndex(slots); // 128 positions
    const hashes = new Int32Array(slots);
    const keys = new Map<number, string>();
    const model = new Map<string, number>();
    const free = Array.from({ length: slots - 3 }, (_, i) => i + 3);
    const rand = seededRandom(11);
    for (let step = 0; step < 20_000; step++) {
      // Eight keys' worth of hashes: most keys share their home position with others.
      const name = `k${Math.floor(rand() * 200)}`;
      const hash = Math.imul(Number(name.slice(1)) % 8, 0x1357_9bdf) ^ (Number(name.slice(1)) >> 3);
      const entries = entriesFor(keys, slots);
      const found = index.find(entries, name, hash);
      expect(found).toBe(model.get(name) ?? NO_SLOT);
      if (found === NO_SLOT && free.length > 0 && rand() < 0.6) {
        const slot = free.pop()!;
        hashes[slot] = hash;
        keys.set(slot, name);
        model.set(name, slot);
        index.insertAt(index.vacancy, hash, slot);
      } else if (found !== NO_SLOT && rand() < 0.5) {
        index.erase(found, hashes);
        keys.delete(found);
        model.delete(name);
        free.push(found);
      }
    }
    expect(model.size).toBeGreaterThan(20);
  });

  it('grows without losing entries', () => {
    const index = new KeyIndex(4);
    const hashes = new Int32Array(64);
    const keys = new Map<number, string>();
    for (let slot = 3; slot < 20; slot++) {
      hashes[slot] = Math.imul(slot, 0x9e3779b1);
      keys.set(slot, `g${slot}`);
      if (slot === 4) continue; // a free slot: not indexed, not re-added
      index.insert(hashes[slot]!, slot);
    }
    keys.delete(4);
    const entries = entriesFor(keys, 64);
    index.grow(64, 20, entries, hashes);
    for (const [slot, key] of keys) expect(index.find(entries, key, hashes[slot]!)).toBe(slot);
    expect(index.find(entries, 'g4', hashes[4]!)).toBe(NO_SLOT);
  });
});

describe('MemoryCache key identity', () => {
  it('keeps 1 and "1" apart, treats -0 as 0, and finds nothing for values that are not keys', () => {
    const cache = new MemoryCache<string | number, string>({ maxEntries: 10 });
    cache.set(1, 'number');
    cache.set('1', 'string');
    cache.set(-0, 'zero');
    expect(cache.get(1)).toBe('number');
    expect(cache.get('1')).toBe('string');
    expect(cache.get(0)).toBe('zero');
    expect([...cache.keys()].map((k) => Object.is(k, -0))).not.toContain(true);
    expect(cache.get({} as unknown as string)).toBeUndefined();
    expect(cache.has(null as unknown as string)).toBe(false);
  });

  it('stays consistent through churn past its bound and growth of its slots', () => {
    const cache = new MemoryCache<string, number>({ maxEntries: 1000, policy: 'lru' });
    for (let i = 0; i < 5000; i++) cache.set(`key:${i}`, i);
    expect(cache.size).toBe(1000);
    for (let i = 0; i < 4000; i++) expect(cache.has(`key:${i}`)).toBe(false);
    for (let i = 4000; i < 5000; i++) expect(cache.get(`key:${i}`)).toBe(i);
    for (let i = 4000; i < 5000; i += 2) expect(cache.delete(`key:${i}`)).toBe(true);
    for (let i = 4001; i < 5000; i += 2) expect(cache.get(`key:${i}`)).toBe(i);
    expect(cache.size).toBe(500);
  });

  it('a set right after a miss of the same key does not reuse a position taken in between', () => {
    // maxEntries 10: 14 slots, an index of 32 positions, home position = hash >>> 27.
    const home = (key: number): number => hashKey(key) >>> 27;
    const a = 1;
    let b = 2;
    while (home(b) !== home(a)) b++;
    const cache = new MemoryCache<number, string>({ maxEntries: 10 });
    expect(cache.get(a)).toBeUndefined();
    cache.set(b, 'b'); // takes the position where a's lookup stopped
    cache.set(a, 'a');
    expect(cache.get(b)).toBe('b');
    expect(cache.get(a)).toBe('a');
  });

  it('a set right after a miss finds the key again after the slot arrays grow', () => {
    const cache = new MemoryCache<string, number>({ maxEntries: 10_000 });
    // 256 slots at first (3 of them sentinels): the 254th entry grows the arrays and the index.
    for (let i = 0; i < 253; i++) cache.set(`g:${i}`, i);
    expect(cache.get('grower')).toBeUndefined();
    cache.set('grower', -1);
    expect(cache.get('grower')).toBe(-1);
    for (let i = 0; i < 253; i++) expect(cache.get(`g:${i}`)).toBe(i);
  });

  it('read-through (get, set on a miss) stays consistent across growth, evictions and other writes', () => {
    const cache = new MemoryCache<string, number>({ maxEntries: 600 });
    const held = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      const key = `rt:${(i * 7919) % 900}`;
      const value = cache.get(key);
      if (value === undefined) {
        // Another write between the miss and its set must not let the set reuse a stale position.
        if (i % 5 === 0) cache.set(`other:${i % 50}`, -1);
        cache.set(key, i);
        held.set(key, i);
      } else {
        expect(value).toBe(held.get(key));
      }
    }
    expect(cache.size).toBe(600);
    let found = 0;
    for (const [key, value] of cache) {
      expect(cache.peek(key)).toBe(value);
      found++;
    }
    expect(found).toBe(600);
  });
});
