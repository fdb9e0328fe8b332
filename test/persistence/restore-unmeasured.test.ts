// A snapshot from a cache that did not measure sizes (no maxBytes, no sizeOf: every entry is recorded
// with size 0) restored into one with a byte budget: the restore fits the entries at the size the
// restoring cache accounts them at, so it keeps the most valuable ones and evicts nothing itself.
// Counted as one byte each, every entry was loaded, the byte budget then evicted most of them during
// the load, the hot ones included (W-TinyLFU admitted the cold ones instead), and `loaded` counted
// entries no longer there.
import { describe, expect, it } from 'vitest';
import { MemoryCache } from '../../src/engine/memory-cache.js';
import { createCache } from '../../src/cache/create-cache.js';

const now = (): number => 1_000_000;
const KEYS = 1_000;
const HOT = 100;
const value = 'x'.repeat(100);

describe('restoring a snapshot without sizes into a cache with maxBytes', () => {
  it('MemoryCache.load keeps the hottest entries that fit, and evicts nothing', () => {
    const source = new MemoryCache<string, string>({ maxEntries: KEYS, clock: now, cleanupInterval: 0 });
    for (let i = 0; i < KEYS; i++) source.set(`k${i}`, value);
    for (let round = 0; round < 5; round++) for (let i = 0; i < HOT; i++) source.get(`k${i}`);
    const entries = source.dump();
    expect(entries.every((e) => e.size === 0)).toBe(true);

    const bytes = new MemoryCache<string, string>({ maxBytes: 1e9 }).measure('k0', value);
    const fits = 150; // room for the hundred hot entries and about fifty more
    const target = new MemoryCache<string, string>({
      maxBytes: fits * bytes,
      clock: now,
      cleanupInterval: 0,
    });
    const result = target.load(entries);
    expect(result.loaded).toBe(target.size);
    expect(result.loaded + result.dropped).toBe(KEYS);
    expect(target.size).toBeGreaterThan(HOT);
    expect(target.stats().bytes).toBeLessThanOrEqual(fits * bytes);
    expect(target.stats().evictions).toBe(0);
    for (let i = 0; i < HOT; i++) expect(target.has(`k${i}`)).toBe(true);
  });

  it('cache.load (and so a persist restore) does the same through the facade', async () => {
    const source = createCache<string>({ maxEntries: KEYS, clock: now, cleanupInterval: 0 });
    for (let i = 0; i < KEYS; i++) await source.set(`k${i}`, value);
    for (let round = 0; round < 5; round++) for (let i = 0; i < HOT; i++) await source.get(`k${i}`);
    const entries = source.dump();

    const target = createCache<string>({ maxBytes: 100_000, clock: now, cleanupInterval: 0 });
    const result = target.load(entries);
    const { size, evictions } = target.stats();
    expect(result.loaded).toBe(size);
    expect(size).toBeGreaterThanOrEqual(HOT);
    expect(evictions).toBe(0);
    for (let i = 0; i < HOT; i++) expect(await target.has(`k${i}`)).toBe(true);
    await Promise.all([source.close(), target.close()]);
  });
});
