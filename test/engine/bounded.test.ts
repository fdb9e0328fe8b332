import { describe, expect, it } from 'vitest';
import { MemoryCache, engineInternals } from '../../src/engine/memory-cache.js';
import { manualClock, seededRandom } from './helpers.js';

// A small property test: random operations against both policies, checking invariants after each.
describe.each(['tinylfu', 'lru'] as const)('MemoryCache stays bounded and consistent (%s)', (policy) => {
  it.each([1, 2, 3])('random workload, seed %i', (seed) => {
    const rand = seededRandom(seed);
    const clock = manualClock();
    const model = new Map<number, string>();
    const cache = new MemoryCache<number, string>({
      policy,
      maxEntries: 64,
      maxBytes: 2_000,
      sizeOf: (v) => v.length,
      clock: clock.now,
      cleanupInterval: 0,
    });
    for (let step = 0; step < 20_000; step++) {
      const key = Math.floor(rand() * 200);
      const op = rand();
      if (op < 0.45) {
        const got = cache.get(key);
        if (got !== undefined) expect(got).toBe(model.get(key));
      } else if (op < 0.85) {
        const value = `v${step}`.padEnd(1 + Math.floor(rand() * 120), '.');
        const ttl = rand() < 0.3 ? Math.floor(rand() * 50) : 0;
        cache.set(key, value, { ttl, tags: rand() < 0.2 ? [`t${key % 5}`] : undefined });
        model.set(key, value);
      } else if (op < 0.93) {
        cache.delete(key);
        model.delete(key);
      } else if (op < 0.96) {
        clock.advance(Math.floor(rand() * 20));
      } else if (op < 0.98) {
        cache.invalidateTags([`t${key % 5}`]);
      } else {
        cache.prune();
      }
      const s = cache.stats();
      expect(s.size).toBeLessThanOrEqual(64);
      expect(s.bytes).toBeLessThanOrEqual(2_000);
    }
    const s = cache.stats();
    let bytes = 0;
    for (const [key, slot] of cache.entries().map((e) => [e.key, e.size] as const)) bytes += slot + key * 0;
    cache.prune();
    expect(cache.stats().bytes).toBe(bytes);
    expect(s.size).toBeGreaterThan(0);
    expect(cache[engineInternals]().capacity).toBeLessThanOrEqual(64 + 4);
  });
});

// Number.MAX_SAFE_INTEGER is a positive integer the options accept (a caller's "no bound"); the
// policy's window tuner sizes its miniatures from the bound, and once built them at 2^-24 of it.
describe.each([
  { maxEntries: Number.MAX_SAFE_INTEGER },
  { maxBytes: Number.MAX_SAFE_INTEGER },
  { maxEntries: 1e15 },
  { maxEntries: 100, maxBytes: 1e15 },
])('a bound beyond what a cache can hold: %o', (bound) => {
  it('builds, resizes and serves without allocating in proportion to the bound', () => {
    const before = process.memoryUsage().arrayBuffers;
    const cache = new MemoryCache<string, string>({ ...bound, sizeOf: (v) => v.length });
    for (let i = 0; i < 1_000; i++) cache.set(`k${i}`, `v${i}`);
    cache.resize({ maxEntries: Number.MAX_SAFE_INTEGER });
    for (let i = 1_000; i < 2_000; i++) cache.set(`k${i}`, `v${i}`);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
    expect(cache.get('k1999')).toBe('v1999');
    cache.resize({ maxEntries: 10 });
    expect(cache.size).toBe(10);
    for (const entry of cache.entries()) expect(cache.get(entry.key)).toBe(`v${entry.key.slice(1)}`);
    cache.close();
  });
});
