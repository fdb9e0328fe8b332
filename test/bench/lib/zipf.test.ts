// The generators behind the shared key traces: the same seed must give the same trace (so every
// library and every run sees identical work) and Zipf must actually be skewed as specified.
import { describe, expect, it } from 'vitest';
import { createRandom, shuffle } from '../../../bench/lib/prng.js';
import { createZipf, uniformTrace, zipfTrace } from '../../../bench/lib/zipf.js';

describe('createRandom', () => {
  it('is reproducible per seed and differs between seeds', () => {
    const a = createRandom(7);
    const b = createRandom(7);
    const c = createRandom(8);
    const seqA = Array.from({ length: 5 }, a);
    expect(Array.from({ length: 5 }, b)).toEqual(seqA);
    expect(Array.from({ length: 5 }, c)).not.toEqual(seqA);
  });
  it('stays in [0, 1) with a mean near one half', () => {
    const r = createRandom(1);
    let sum = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = r();
      expect(x >= 0 && x < 1).toBe(true);
      sum += x;
    }
    expect(sum / 100_000).toBeCloseTo(0.5, 2);
  });
  it('names a bad seed', () => {
    expect(() => createRandom(1.5)).toThrow(/seed/);
  });
});

describe('shuffle', () => {
  it('permutes without losing or duplicating items', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const shuffled = shuffle(createRandom(3), [...items]);
    expect(shuffled).not.toEqual(items);
    expect([...shuffled].sort((x, y) => x - y)).toEqual(items);
  });
});

describe('createZipf', () => {
  it('draws rank r with probability proportional to 1/(r+1)^s', () => {
    const n = 100;
    const s = 0.99;
    const sample = createZipf(n, s, createRandom(11));
    const counts = new Array<number>(n).fill(0);
    const draws = 200_000;
    for (let i = 0; i < draws; i++) counts[sample()]!++;
    let norm = 0;
    for (let r = 0; r < n; r++) norm += 1 / Math.pow(r + 1, s);
    for (const r of [0, 1, 9, 99]) {
      const expected = draws / Math.pow(r + 1, s) / norm;
      // Within 5 standard deviations of the binomial count.
      expect(Math.abs(counts[r]! - expected)).toBeLessThan(5 * Math.sqrt(expected));
    }
  });
  it('with s = 0 is uniform over [0, n)', () => {
    const sample = createZipf(4, 0, createRandom(5));
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 40_000; i++) counts[sample()]!++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
  });
  it('names bad parameters', () => {
    expect(() => createZipf(0, 1, createRandom(1))).toThrow(/n must be/);
    expect(() => createZipf(10, -1, createRandom(1))).toThrow(/s must be/);
  });
});

describe('traces', () => {
  it('stay within the key range and are reproducible per seed', () => {
    const t1 = zipfTrace(10_000, 1_000, 0.99, createRandom(2));
    const t2 = zipfTrace(10_000, 1_000, 0.99, createRandom(2));
    expect(t1).toEqual(t2);
    expect(Math.max(...t1)).toBeLessThan(1_000);
    const u = uniformTrace(10_000, 50, createRandom(2));
    expect(Math.max(...u)).toBe(49);
    expect(Math.min(...u)).toBe(0);
  });
  it('spread the popular ranks over the key space instead of the lowest indices', () => {
    const trace = zipfTrace(50_000, 10_000, 0.99, createRandom(4));
    const counts = new Map<number, number>();
    for (const k of trace) counts.set(k, (counts.get(k) ?? 0) + 1);
    const top = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10);
    // Without the permutation the ten most popular keys would be exactly 0..9.
    expect(top.filter(([k]) => k < 10).length).toBeLessThan(10);
  });
});
