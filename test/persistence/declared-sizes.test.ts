// A snapshot entry's size (the bytes its cache counted it at) comes from the file, which may be forged:
// a restore into a cache that measures sizes fits each entry at no less than its own sizeOf, so a file
// declaring 1 byte for 100 kB values cannot make the restore hold more than maxBytes by that measure.
// Trusted as written, all 51 entries below (fifty 2,000-character strings that this cache measures at
// 4,036 bytes each, and one of 100,000 characters, all declared at 1 byte) loaded into a 10 kB budget,
// about 400 kB in all; now 2 load (8,072 bytes by the cache's measure). An entry keeps its declared
// size: an explicit size below the estimate is a weight its writer chose.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { MemoryCache } from '../../src/engine/memory-cache.js';
import { createCache } from '../../src/cache/create-cache.js';
import { writeSnapshot } from '../../src/persistence/snapshot.js';
import type { SnapshotEntry } from '../../src/persistence/types.js';
import { entry, scratchDir } from './helpers.js';

const MAX_BYTES = 10_000;
const VALUE = 'x'.repeat(2_000);
const HUGE = 'y'.repeat(100_000);
/** Fifty 2 kB values and one of 100 kB, each declared at one byte. */
function forged(): SnapshotEntry<string>[] {
  const list = Array.from(
    { length: 50 },
    (_, i) => entry(`k${i}`, { value: VALUE, size: 1, frequency: 1 }) as SnapshotEntry<string>,
  );
  list.unshift(entry('huge', { value: HUGE, size: 1, frequency: 5 }) as SnapshotEntry<string>);
  return list;
}

let scratch: ReturnType<typeof scratchDir>;
beforeEach(() => {
  scratch = scratchDir();
});
afterEach(() => scratch.remove());

describe('sizes declared in a snapshot', () => {
  it('MemoryCache.load fits each entry at its own sizeOf, within maxBytes', () => {
    const cache = new MemoryCache<string, string>({ maxBytes: MAX_BYTES, clock: () => 5_000 });
    const each = cache.measure('k0', VALUE);
    expect(each).toBeGreaterThan(1_000);
    const result = cache.load(forged());
    expect(cache.has('huge')).toBe(false);
    expect(cache.size).toBe(Math.floor(MAX_BYTES / each));
    // What it holds, by its own measure, is within the budget; each entry keeps its declared byte.
    expect(cache.size * each).toBeLessThanOrEqual(MAX_BYTES);
    expect(cache.stats().bytes).toBe(cache.size);
    expect(result.loaded).toBe(cache.size);
    expect(result.loaded + result.dropped).toBe(51);
    expect(cache.stats().evictions).toBe(0);
  });

  it('keeps a declared size larger than its sizeOf (the writer counted it so)', () => {
    const cache = new MemoryCache<string, unknown>({ maxBytes: MAX_BYTES, clock: () => 5_000 });
    cache.load([entry('a', { value: 'small', size: 4_000 }), entry('b', { value: 'small', size: 4_000 })]);
    expect(cache.stats().bytes).toBe(8_000);
  });

  it('a persisted cache restored from a forged file stays within maxBytes', async () => {
    const path = join(scratch.dir, 'forged.snap');
    await writeSnapshot(path, new Map([['docs', forged()]]));
    const probe = createCache<string>({ maxBytes: 1e9, cleanupInterval: 0 });
    await probe.set('k0', VALUE);
    const each = probe.stats().bytes;
    await probe.close();

    const cache = createCache<string>({
      name: 'docs',
      maxBytes: MAX_BYTES,
      clock: () => 5_000,
      cleanupInterval: 0,
      persist: { path, onShutdown: false },
    });
    const stats = cache.stats();
    expect(await cache.has('huge')).toBe(false);
    expect(stats.size).toBe(Math.floor(MAX_BYTES / each));
    expect(stats.size * each).toBeLessThanOrEqual(MAX_BYTES);
    await cache.close();
  });
});
