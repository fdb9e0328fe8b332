// The read buffer (read-buffer.ts): hits are applied in order before the next eviction, and hits past
// a full buffer are dropped.
import { describe, expect, it } from 'vitest';
import { MemoryCache } from '../../src/engine/memory-cache.js';
import { ReadBuffer } from '../../src/engine/read-buffer.js';

/** An LRU cache of 16 entries (its read buffer holds 64 hits) filled with keys 0..15, oldest first. */
function filled(): { cache: MemoryCache<number, number>; evicted: number[] } {
  const evicted: number[] = [];
  const cache = new MemoryCache<number, number>({
    maxEntries: 16,
    policy: 'lru',
    onEvict: (key, _value, reason) => {
      if (reason === 'capacity') evicted.push(key);
    },
  });
  for (let key = 0; key < 16; key++) cache.set(key, key);
  return { cache, evicted };
}

describe('read buffer', () => {
  it('applies buffered hits, in order, before the next eviction', () => {
    const { cache, evicted } = filled();
    cache.get(0);
    cache.get(2);
    cache.get(1);
    cache.set(100, 1);
    cache.set(101, 1);
    expect(evicted).toEqual([3, 4]);
    // The order is now 5..15, 0, 2, 1, 100, 101.
    for (let key = 102; key < 116; key++) cache.set(key, 1);
    expect(evicted.slice(-4)).toEqual([15, 0, 2, 1]);
  });

  it('drops hits once it is full, until the next write drains it', () => {
    const { cache, evicted } = filled();
    cache.get(0);
    for (let i = 0; i < 64; i++) cache.get(1);
    // The buffer holds 0 and 63 hits of 1: this hit on 2 is dropped, so 2 is still the oldest.
    cache.get(2);
    cache.set(100, 1);
    expect(evicted).toEqual([2]);
    // The write drained the buffer: a hit now counts again.
    cache.get(3);
    cache.set(101, 1);
    expect(evicted).toEqual([2, 4]);
  });

  it('sizes itself at 4 x the entry bound, within 64..4096 slots', () => {
    expect(new ReadBuffer(1).slots.length).toBe(64);
    expect(new ReadBuffer(100).slots.length).toBe(400);
    expect(new ReadBuffer(1e6).slots.length).toBe(4096);
    const buffer = new ReadBuffer(1);
    for (let i = 0; i < 64; i++) expect(buffer.record(i)).toBe(true);
    expect(buffer.record(64)).toBe(false);
    expect(buffer.count).toBe(64);
  });
});
