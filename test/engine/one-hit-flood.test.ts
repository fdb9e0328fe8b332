// One-hit floods: a key's lone access (at the admission duel, when its entry leaves, or as it arrives
// in the ARC and S3-FIFO modes) is recorded by conservative update (sketch.ts incrementOnce), so a
// stream of one-off keys does not inflate the frequency estimates of the keys the cache holds.
import { describe, expect, it } from 'vitest';
import { MemoryCache, engineInternals } from '../../src/engine/memory-cache.js';
import { FrequencySketch } from '../../src/engine/sketch.js';
import { hashKey } from '../../src/engine/hash.js';
import { MODE_S3FIFO } from '../../src/engine/miniature.js';

describe('FrequencySketch.incrementOnce (conservative update)', () => {
  it('counts a key on its own exactly as increment(hash, 1) does, up to 15', () => {
    const sketch = new FrequencySketch(1024);
    const h = hashKey('alone');
    for (let i = 1; i <= 20; i++) {
      expect(sketch.incrementOnce(h)).toBe(Math.min(i, 15));
      expect(sketch.frequency(h)).toBe(Math.min(i, 15));
    }
  });

  it('does not raise the estimates of counted keys when many one-off keys share their counters', () => {
    // 64 entries: 16 blocks, 64 counters per row; 2,000 one-off keys put about 31 increments on every
    // counter. Plain increments lift the counted keys' estimates (4) by more than half; conservative
    // ones raise a counter only where it is some key's least, and leave them about where they were.
    // Numeric keys hash without the per-process seed, so every run sees the same collisions (with
    // string keys the conservative mean reached 4.5 under 1 seed in 300).
    const counted = Array.from({ length: 20 }, (_, i) => hashKey(i));
    const oneOffs = Array.from({ length: 2_000 }, (_, i) => hashKey(1_000_000 + i));
    const plain = new FrequencySketch(64);
    const conservative = new FrequencySketch(64);
    for (const h of counted) {
      plain.add(h, 4);
      conservative.add(h, 4);
    }
    for (const h of oneOffs) {
      plain.increment(h, 1);
      conservative.incrementOnce(h);
    }
    const mean = (s: FrequencySketch) => counted.reduce((sum, h) => sum + s.frequency(h), 0) / counted.length;
    expect(mean(plain)).toBeGreaterThan(8);
    expect(mean(conservative)).toBeLessThan(4.5);
    // A one-off key still reads as seen: no estimate falls below the one access it had.
    expect(oneOffs.every((h) => conservative.frequency(h) >= 1)).toBe(true);
  });
});

describe('W-TinyLFU under a flood of one-off keys', () => {
  it("inflates resident keys' frequency estimates less than plain increments do", () => {
    // 1,000 entries: a sample of 10,000 accesses before the sketch ages. 200 keys are accessed three
    // times each, then 9,000 never-repeated keys pass through the window and lose their duels (no
    // aging happens in between). Recorded by plain increments, the one-off keys' 36,000 counter bumps
    // lift the three-access keys' mean estimate to 3.94; recorded by conservative update, to about 3.7.
    const cache = new MemoryCache<number, number>({ maxEntries: 1_000 });
    const { frequency } = cache[engineInternals]();
    for (let k = 0; k < 200; k++) {
      cache.set(k, k);
      cache.get(k);
      cache.get(k);
    }
    for (let i = 0; i < 9_000; i++) cache.set(1_000_000 + i, i);
    let sum = 0;
    let resident = 0;
    for (let k = 0; k < 200; k++) {
      const f = frequency(k);
      if (f === undefined) continue;
      sum += f;
      resident++;
    }
    // The three-access keys beat every one-off candidate, so all of them stay.
    expect(resident).toBe(200);
    expect(sum / resident).toBeGreaterThanOrEqual(3);
    expect(sum / resident).toBeLessThan(3.8);
  });

  it('still remembers a one-off key that lost its duel, so a second visit counts twice', () => {
    const cache = new MemoryCache<number, number>({ maxEntries: 100 });
    const { frequency } = cache[engineInternals]();
    for (let k = 0; k < 100; k++) {
      cache.set(k, k);
      cache.get(k);
    }
    cache.set(5_000, 0);
    // Push 5,000 through the window: as a candidate with one access it loses to the victims (two).
    for (let i = 0; i < 5; i++) cache.set(10_000 + i, i);
    expect(cache.has(5_000)).toBe(false);
    cache.set(5_000, 1);
    expect(frequency(5_000)).toBe(2);
  });
});

describe('the modes under a flood of one-off keys', () => {
  it('record a one-off key by conservative update, so new keys do not look seen', () => {
    // 1,000 entries pinned to S3-FIFO mode: 8,000 one-off keys pass through the small queue and leave
    // it unhit (no aging yet: that comes after 10,000 accesses). A new key whose estimate is already 2
    // skips the small queue (GHOST_SEEN), so the flood must not lift never-seen keys to 2. Each probe's
    // estimate below includes its own insertion, so 3 or more means it read as seen twice before it
    // came. Recorded by plain increments, 72 of 500 probes did; by conservative update when they left,
    // 10; by conservative update as they arrive (the modes count an insertion at once, so the 1,000
    // flood keys still resident count too), 34.
    const cache = new MemoryCache<number, number>({ maxEntries: 1_000 });
    const internals = cache[engineInternals]();
    internals.pinMode(MODE_S3FIFO);
    for (let i = 0; i < 8_000; i++) cache.set(1_000_000 + i, i);
    let seen = 0;
    for (let k = 0; k < 500; k++) {
      cache.set(k, k);
      if (internals.frequency(k)! >= 3) seen++;
    }
    expect(seen).toBeLessThan(50);
  });
});
