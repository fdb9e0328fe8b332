import { describe, expect, it } from 'vitest';
import { MemoryCache, engineInternals } from '../../src/engine/memory-cache.js';
import { seededRandom } from './helpers.js';

function hitRatio(
  cache: MemoryCache<number, number>,
  trace: Iterable<number>,
  count?: (key: number) => boolean,
) {
  let hits = 0;
  let total = 0;
  for (const key of trace) {
    const counted = count === undefined || count(key);
    if (counted) total++;
    if (cache.get(key) !== undefined) {
      if (counted) hits++;
    } else cache.set(key, key);
  }
  return hits / total;
}

describe('W-TinyLFU', () => {
  it('keeps a hot set through a long one-time scan where LRU loses it', () => {
    // A hot set of 150 keys read among a scan of never-repeated keys (9 scan reads per hot read),
    // cache of 200: a hot key comes back every ~1500 requests, too late for LRU.
    function* trace() {
      const rand = seededRandom(5);
      let next = 1_000;
      for (let i = 0; i < 100_000; i++) yield rand() < 0.1 ? Math.floor(rand() * 150) : next++;
    }
    const isHot = (key: number) => key < 150;
    const lru = hitRatio(new MemoryCache({ maxEntries: 200, policy: 'lru' }), trace(), isHot);
    const tiny = hitRatio(new MemoryCache({ maxEntries: 200, policy: 'tinylfu' }), trace(), isHot);
    expect(lru).toBeLessThan(0.2);
    expect(tiny).toBeGreaterThan(0.7);
  });

  it('counts accesses per key and halves the counts after 10 x capacity accesses', () => {
    const cache = new MemoryCache<string, number>({ maxEntries: 100 });
    const { frequency } = cache[engineInternals]();
    cache.set('hot', 1);
    for (let i = 0; i < 11; i++) cache.get('hot');
    expect(frequency('hot')).toBe(12);
    // A key that left keeps its history in the sketch, and brings it back.
    cache.delete('hot');
    cache.set('hot', 2);
    expect(frequency('hot')).toBe(13);
    const sampleSize = cache[engineInternals]().policy.sampleSize!;
    expect(sampleSize).toBe(1000);
    let accesses = 13;
    let k = 0;
    while (accesses < sampleSize) {
      // Writes, not reads: a run of reads longer than the read buffer would be dropped, not counted.
      cache.set(`filler-${k % 50}`, k);
      accesses++;
      k++;
    }
    const halved = frequency('hot')!;
    expect(halved).toBeGreaterThanOrEqual(6);
    expect(halved).toBeLessThanOrEqual(7);
  });

  it('beats LRU on a skewed (Zipf-like) workload', () => {
    const rand = seededRandom(7);
    const keys: number[] = [];
    // Zipf(1) over 10,000 keys by inverse transform on a precomputed CDF.
    const n = 10_000;
    const cdf = new Float64Array(n);
    let sum = 0;
    for (let i = 0; i < n; i++) cdf[i] = sum += 1 / (i + 1);
    for (let i = 0; i < 200_000; i++) {
      const u = rand() * sum;
      let lo = 0;
      let hi = n - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cdf[mid]! < u) lo = mid + 1;
        else hi = mid;
      }
      keys.push(lo);
    }
    const lru = hitRatio(new MemoryCache({ maxEntries: 200, policy: 'lru' }), keys);
    const tiny = hitRatio(new MemoryCache({ maxEntries: 200 }), keys);
    expect(tiny).toBeGreaterThan(lru + 0.03);
  });

  it('grows the window on a recency-heavy workload and shrinks it again on a frequency-heavy one', () => {
    const cache = new MemoryCache<number, number>({ maxEntries: 1000 });
    const window = () => cache[engineInternals]().policy.windowMax!;
    const initial = window();
    expect(initial).toBe(10);
    // Recency: every key is read a few times shortly after its first use, then never again, so only
    // a large window (LRU-like behaviour) can hit; the frequency filter rejects everything new.
    let next = 0;
    const rand = seededRandom(3);
    const recent: number[] = [];
    for (let i = 0; i < 300_000; i++) {
      let key: number;
      if (recent.length > 0 && rand() < 0.6) key = recent[Math.floor(rand() * recent.length)]!;
      else {
        key = next++;
        recent.push(key);
        if (recent.length > 700) recent.shift();
      }
      if (cache.get(key) === undefined) cache.set(key, key);
    }
    const grown = window();
    expect(grown).toBeGreaterThan(initial * 10);
    // Frequency: a fixed hot set of 900 keys mixed with one-time keys; a small window is best.
    for (let i = 0; i < 600_000; i++) {
      const key = rand() < 0.7 ? 1e7 + Math.floor(rand() * 900) : 2e7 + i;
      if (cache.get(key) === undefined) cache.set(key, key);
    }
    expect(window()).toBeLessThan(grown / 2);
  });

  it('admits a key that misses again within the cache size in requests, without the duel it would lose', () => {
    const capacity = 1000;
    const cache = new MemoryCache<number, number>({ maxEntries: capacity });
    cache[engineInternals]().pinMode(0);
    const read = (key: number) => {
      if (cache.get(key) === undefined) cache.set(key, key);
    };
    // A warm cache: every resident key read five times, so each wins a duel against a key seen twice.
    for (let round = 0; round < 5; round++) for (let key = 0; key < capacity; key++) read(key);
    let oneOff = 1e6;
    // New keys through the window and into their duels, which they lose.
    const pushThrough = () => {
      const window = cache[engineInternals]().policy.windowMax!;
      for (let i = 0; i <= window; i++) read(oneOff++);
    };
    const waitOut = (requests: number) => {
      for (let i = 0; i < requests; i++) read(i % capacity);
    };
    // Back after more requests than the cache holds: a duel, lost again.
    read(5000);
    pushThrough();
    expect(cache.has(5000)).toBe(false);
    waitOut(capacity + 100);
    read(5000);
    pushThrough();
    expect(cache.has(5000)).toBe(false);
    // Back within them: admitted.
    read(6000);
    pushThrough();
    expect(cache.has(6000)).toBe(false);
    waitOut(capacity / 2);
    read(6000);
    pushThrough();
    expect(cache.has(6000)).toBe(true);
    expect(cache.size).toBe(capacity);
  });

  it('keeps most of a loop just longer than the cache, whose keys miss again only after its size in requests', () => {
    // 1,011 keys in a loop through 1,000 entries: LRU never hits. A key that missed comes back 1,011
    // requests later, past the recent misses' horizon, so it must win a duel to get in.
    const cache = new MemoryCache<number, number>({ maxEntries: 1000 });
    const loop = function* () {
      for (let pass = 0; pass < 60; pass++) for (let key = 0; key < 1011; key++) yield key;
    };
    expect(hitRatio(cache, loop())).toBeGreaterThan(0.9);
  });

  it('works by weight in a byte-bounded cache', () => {
    const rand = seededRandom(11);
    const cache = new MemoryCache<number, string>({ maxBytes: 10_000, sizeOf: (v) => v.length });
    for (let i = 0; i < 20_000; i++) {
      const key = Math.floor(rand() * 500);
      if (cache.get(key) === undefined) cache.set(key, 'x'.repeat(1 + Math.floor(rand() * 200)));
      const s = cache.stats();
      expect(s.bytes).toBeLessThanOrEqual(10_000);
    }
    const { policy } = cache[engineInternals]();
    expect(policy.totalWeight).toBe(cache.stats().bytes);
    // A cold entry near the whole budget must win against each victim it would displace, so it
    // cannot flush the cache; either way the budget holds.
    const before = cache.size;
    cache.set(-1, 'y'.repeat(9_999));
    expect(cache.stats().bytes).toBeLessThanOrEqual(10_000);
    expect(cache.size).toBeGreaterThan(before / 2);
    expect(cache[engineInternals]().policy.totalWeight).toBe(cache.stats().bytes);
  });
});
