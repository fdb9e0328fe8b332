// Probes of the invalidation bus as a hostile user would drive it: messages that the sender had to
// widen, and what receivers make of them.
import { describe, expect, it } from 'vitest';
import { createCache } from '../../src/index.js';
import type { Cache } from '../../src/index.js';
import { BUS_LIMITS, MemoryBusHub } from '../../src/tiers/bus.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { memoryTier } from '../../src/tiers/redis-tier.js';

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/** Two instances (caches named `plans`) over one store and bus; `now` drives every clock. */
function instances() {
  const time = { now: 1_000_000 };
  const clock = (): number => time.now;
  const driver = new MemoryDriver({ clock });
  const hub = new MemoryBusHub();
  const make = (id: string): Cache =>
    createCache({
      name: 'plans',
      ttl: '10s',
      clock,
      retry: false,
      l2: memoryTier({ driver, hub, instanceId: id, clock }),
    });
  return { a: make('A'), b: make('B'), time };
}

describe('bus probes', () => {
  it('a tag invalidation widened to a clear (a tag beyond the bus bound) hides the tag’s L2 entries on receivers at once', async () => {
    const { a, b } = instances();
    const tag = 't'.repeat(BUS_LIMITS.maxItemLength + 1);
    await a.set('k', 'v1', { tags: [tag] });
    // B reads it through L2: it now holds k in L1 and the tag's (never invalidated) time in memory.
    expect(await b.get('k')).toBe('v1');
    await a.invalidateTags([tag]);
    await tick();
    expect(await a.get('k')).toBeUndefined();
    // The bus carried a clear of `plans` instead of the tag: B dropped its L1, and must not find the
    // entry in L2 valid by the tag time it still remembers.
    expect(await b.get('k')).toBeUndefined();
  });
});
