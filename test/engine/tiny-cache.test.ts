// Caches of a few entries: the frequency sketch has a floor of 64 entries' counters (sketch.ts), so
// a cache of 8 or 16 entries does not rank its candidates by counters that every passing key shares.
import { describe, expect, it } from 'vitest';
import { MemoryCache } from '../../src/engine/memory-cache.js';
import { S3FifoModel } from '../../bench/sim/s3fifo.js';
import { createRandom } from '../../bench/lib/prng.js';
import { createZipf } from '../../bench/lib/zipf.js';

describe('a W-TinyLFU cache of a few entries', () => {
  it('stays within a point of S3-FIFO on Zipf streams over many keys', () => {
    // With a sketch sized for 8 entries (32 counters a row, aged every 80 accesses) the cache trailed
    // the reference S3-FIFO by 1.01 to 1.26 points on these four streams; with the floor, by 0.53 to 0.74.
    const gaps: number[] = [];
    for (const skew of [0.7, 0.99]) {
      const next = createZipf(100_000, skew, createRandom(21));
      const keys = Array.from({ length: 200_000 }, () => next());
      for (const size of [8, 16]) {
        const model = new S3FifoModel(size);
        let modelHits = 0;
        for (const k of keys) if (model.access(k)) modelHits++;
        const cache = new MemoryCache<number, number>({ maxEntries: size });
        let hits = 0;
        for (const k of keys) {
          if (cache.get(k) !== undefined) hits++;
          else cache.set(k, k);
        }
        expect(cache.size).toBeLessThanOrEqual(size);
        gaps.push((100 * (hits - modelHits)) / keys.length);
      }
    }
    for (const gap of gaps) expect(gap).toBeGreaterThan(-1);
    expect(gaps.reduce((a, b) => a + b, 0) / gaps.length).toBeGreaterThan(-0.9);
  });
});
