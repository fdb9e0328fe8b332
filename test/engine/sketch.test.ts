import { describe, expect, it } from 'vitest';
import { FrequencySketch } from '../../src/engine/sketch.js';
import { hashKey, hashString } from '../../src/engine/hash.js';

describe('FrequencySketch', () => {
  it('estimates grow monotonically with additions and saturate at 15', () => {
    const sketch = new FrequencySketch(1024);
    const h = hashKey('hot');
    let previous = sketch.frequency(h);
    expect(previous).toBe(0);
    for (let i = 1; i <= 20; i++) {
      sketch.add(h, 1);
      const f = sketch.frequency(h);
      expect(f).toBeGreaterThanOrEqual(previous);
      expect(f).toBe(Math.min(i, 15));
      previous = f;
    }
    const other = hashKey('other');
    sketch.add(other, 9);
    expect(sketch.frequency(other)).toBe(9);
    sketch.add(other, 9);
    expect(sketch.frequency(other)).toBe(15);
  });

  it('keeps keys apart: a hot key does not make cold keys look hot', () => {
    const sketch = new FrequencySketch(1024);
    sketch.add(hashKey('hot'), 10);
    let inflated = 0;
    for (let k = 0; k < 500; k++) if (sketch.frequency(hashKey(`cold-${k}`)) > 0) inflated++;
    expect(inflated).toBeLessThan(5);
  });

  it('age halves every counter, rounding down', () => {
    const sketch = new FrequencySketch(64);
    const keys = [1, 2, 3, 4, 5].map((k) => hashKey(k));
    keys.forEach((h, i) => sketch.add(h, 3 * i + 1));
    sketch.age();
    expect(keys.map((h) => sketch.frequency(h))).toEqual([0, 2, 3, 5, 6]);
  });

  it('keeps its counts when it grows with the cache', () => {
    const sketch = new FrequencySketch(16);
    const keys = Array.from({ length: 40 }, (_, i) => hashKey(`k${i}`));
    keys.forEach((h, i) => sketch.add(h, i % 9));
    const before = keys.map((h) => sketch.frequency(h));
    sketch.ensureCapacity(4096);
    expect(keys.map((h) => sketch.frequency(h))).toEqual(before);
  });

  it('increment returns what add then frequency would, and leaves the same counters', () => {
    // The smallest table (64 entries) and ten times as many keys, so keys share counters and the
    // estimate is the least of four different counts.
    const twin = new FrequencySketch(8);
    const sketch = new FrequencySketch(8);
    let seed = 7;
    for (let i = 0; i < 4_000; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) | 0;
      const h = hashKey(`k${(seed >>> 8) % 600}`);
      const count = 1 + ((seed >>> 4) & 7);
      twin.add(h, count);
      expect(sketch.increment(h, count)).toBe(twin.frequency(h));
      if (i % 997 === 996) {
        twin.age();
        sketch.age();
      }
    }
    for (let k = 0; k < 600; k++)
      expect(sketch.frequency(hashKey(`k${k}`))).toBe(twin.frequency(hashKey(`k${k}`)));
    // Saturation: a count past 15 still reports 15.
    expect(new FrequencySketch(64).increment(hashKey('hot'), 40)).toBe(15);
  });

  it('clear forgets everything', () => {
    const sketch = new FrequencySketch(64);
    sketch.add(hashKey(1), 1);
    sketch.clear();
    expect(sketch.frequency(hashKey(1))).toBe(0);
  });
});

describe('hashKey', () => {
  it('is deterministic, distinguishes 1 from "1" and spreads nearby keys', () => {
    expect(hashKey('abc')).toBe(hashKey('abc'));
    expect(hashKey(1)).not.toBe(hashKey('1'));
    expect(hashKey(1.5)).not.toBe(hashKey(2.5));
    const low = new Set<number>();
    for (let i = 0; i < 1000; i++) low.add(hashKey(i) & 1023);
    expect(low.size).toBeGreaterThan(550);
  });

  it('hashes long strings in bounded time and still tells their tails apart', () => {
    const base = 'x'.repeat(10_000);
    expect(hashString(`${base}a`)).not.toBe(hashString(`${base}b`));
  });
});
