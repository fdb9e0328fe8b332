// Adaptive sizing's work per turn of the event loop is bounded: the period ends inside a request, and
// evicting is synchronous, so a shrink of many entries goes in steps of at most MAX_EVICTIONS_PER_STEP
// evictions, one per turn, instead of holding the event loop for all of them (750,000 took 0.7 s).
import { describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import { MAX_EVICTIONS_PER_STEP } from '../../src/cache/advise.js';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const ENTRIES = 2 * MAX_EVICTIONS_PER_STEP + 5_000;

/** A full cache whose memory budget affords only `min`: its first period shrinks it there. */
async function overBudget() {
  const cache = createCache<string>({
    maxEntries: ENTRIES,
    autoSize: { min: 1_000, max: ENTRIES, memoryBudget: 1 },
    sizeOf: () => 1_000,
    cleanupInterval: 0,
  });
  for (let i = 0; i < ENTRIES; i++) await cache.set(`k${i}`, 'v');
  // Reads (all hits) until the advisor's period ends inside one of them and the shrink starts.
  for (let i = 0; cache.stats().maxEntries === ENTRIES; i++) await cache.get(`k${i % ENTRIES}`);
  return cache;
}

describe('autoSize shrinking a large cache', () => {
  it('evicts at most MAX_EVICTIONS_PER_STEP entries per turn of the event loop, and reaches its target', async () => {
    const cache = await overBudget();
    // The read that ended the period evicted one step's worth, no more.
    let evictions = cache.stats().evictions;
    expect(evictions).toBe(MAX_EVICTIONS_PER_STEP);
    const bounds: number[] = [cache.stats().maxEntries!];
    while (cache.stats().maxEntries !== 1_000) {
      await nextTurn();
      const now = cache.stats().evictions;
      expect(now - evictions).toBeLessThanOrEqual(MAX_EVICTIONS_PER_STEP);
      evictions = now;
      bounds.push(cache.stats().maxEntries!);
    }
    expect(bounds).toEqual([ENTRIES - MAX_EVICTIONS_PER_STEP, ENTRIES - 2 * MAX_EVICTIONS_PER_STEP, 1_000]);
    expect(cache.stats().size).toBe(1_000);
    expect(cache.advise()?.current.capacity).toBe(1_000);
    await cache.close();
  });

  it('stops when configure() sets another bound meanwhile, and when the cache closes', async () => {
    const configured = await overBudget();
    configured.configure({ maxEntries: 12_000 });
    await nextTurn();
    await nextTurn();
    expect(configured.stats().maxEntries).toBe(12_000);
    await configured.close();

    const closed = await overBudget();
    const bound = closed.stats().maxEntries;
    await closed.close();
    await nextTurn();
    expect(closed.stats().maxEntries).toBe(bound);
  });
});
