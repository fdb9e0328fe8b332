// String hashing for the frequency sketch (issue 13): every character counts, long keys that share
// long prefixes and suffixes still spread over the 32-bit space, and the seed keys the hash.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKey, hashString, setHashSeed } from '../../src/engine/hash.js';
import { collidingLongKeys, oldSampledPositions } from '../../bench/sim/workloads.js';

let saved = 0;
beforeAll(() => {
  saved = setHashSeed(0x1234_5678);
});
afterAll(() => {
  setHashSeed(saved);
});

/** Pearson's chi-square statistic of `values` over `buckets` equal buckets. */
function chiSquare(values: readonly number[], buckets: number, bucketOf: (v: number) => number): number {
  const counts = new Array<number>(buckets).fill(0);
  for (const v of values) counts[bucketOf(v)]!++;
  const expected = values.length / buckets;
  return counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
}

// 63 degrees of freedom: the statistic exceeds 120 with probability about 2e-5 for a uniform hash.
const CHI_SQUARE_LIMIT_63 = 120;

describe('hashString', () => {
  it('depends on every character of a long key', () => {
    const base = 'k'.repeat(300);
    const h = hashString(base);
    for (let i = 0; i < base.length; i++) {
      const changed = `${base.slice(0, i)}j${base.slice(i + 1)}`;
      expect(hashString(changed), `position ${i}`).not.toBe(h);
    }
  });

  it('spreads 10k keys that differ only between a 64-char prefix and a 64-char suffix', () => {
    const prefix = 'p'.repeat(64);
    const suffix = 's'.repeat(64);
    const hashes = Array.from({ length: 10_000 }, (_, i) =>
      hashString(`${prefix}${i.toString(36)}${suffix}`),
    );
    expect(new Set(hashes).size).toBeGreaterThan(9_990);
    expect(chiSquare(hashes, 64, (h) => h & 63)).toBeLessThan(CHI_SQUARE_LIMIT_63);
    expect(chiSquare(hashes, 64, (h) => h >>> 26)).toBeLessThan(CHI_SQUARE_LIMIT_63);
  });

  it('spreads the keys crafted against the old sampling hash', () => {
    const keys = collidingLongKeys(10_000);
    // They are the keys that defeated sampling: equal at every position the old hash read.
    const sampled = [...oldSampledPositions(keys[0]!.length)];
    for (const k of keys.slice(0, 100)) for (const p of sampled) expect(k[p]).toBe(keys[0]![p]);
    const hashes = keys.map(hashString);
    expect(new Set(hashes).size).toBeGreaterThan(9_990);
    expect(chiSquare(hashes, 64, (h) => (h >>> 10) & 63)).toBeLessThan(CHI_SQUARE_LIMIT_63);
  });

  it('is keyed by the seed: the same seed repeats, another seed gives other hashes', () => {
    const keys = Array.from({ length: 100 }, (_, i) => `key:${i}`);
    const first = keys.map(hashString);
    expect(keys.map(hashString)).toEqual(first);
    const previous = setHashSeed(0x0bad_cafe);
    try {
      const other = keys.map(hashString);
      const same = other.filter((h, i) => h === first[i]).length;
      expect(same).toBeLessThanOrEqual(1);
      // Numbers are not seeded: numeric traces replay identically in every process.
      expect(hashKey(42)).toBe(hashKey(42));
    } finally {
      setHashSeed(previous);
    }
    expect(keys.map(hashString)).toEqual(first);
  });

  it('leaves numeric keys independent of the seed', () => {
    const before = [0, 1, -7, 2 ** 40, 1.5].map(hashKey);
    const previous = setHashSeed(99);
    try {
      expect([0, 1, -7, 2 ** 40, 1.5].map(hashKey)).toEqual(before);
    } finally {
      setHashSeed(previous);
    }
  });
});
