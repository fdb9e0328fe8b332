// A clear() (local, or another instance's over the bus) that reaches a cache while the shared tier is
// still vouching for entries restored from a snapshot: the restored entries must not be served after it,
// even when the tier's answer (taken before the clear) vouches for them.
import { describe, expect, it } from 'vitest';
import { createCache } from '../../src/index.js';
import { MemoryBusHub } from '../../src/tiers/bus.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { SharedTier } from '../../src/tiers/shared-tier.js';
import { deferred } from '../helpers/deferred.js';
import { ChaosDriver } from '../tiers/chaos-driver.js';

function instances() {
  const clock = (): number => 1_000_000;
  const driver = new ChaosDriver(new MemoryDriver({ clock }));
  const hub = new MemoryBusHub();
  const make = (id: string) =>
    createCache<string>({
      name: 'plans',
      ttl: '10m',
      clock,
      retry: false,
      cleanupInterval: 0,
      l2: new SharedTier({ driver, bus: hub.connect(id), publishInOrder: true, clock }),
    });
  return { driver, make };
}

describe('restored entries awaiting the shared tier', () => {
  it('are not served after a clear() that came while the tier was being asked', async () => {
    const { driver, make } = instances();
    const a = make('A');
    await a.set('k', 'restored');
    const entries = a.dump();

    const b = make('B');
    const replies = deferred();
    driver.heldReplies = replies.promise; // the tier's answers wait: the check is in flight
    expect(b.load(entries).loaded).toBe(1);
    const cleared = b.clear();
    driver.heldReplies = undefined;
    replies.resolve();
    await cleared;
    expect(await b.get('k')).toBeUndefined();
    expect(b.dump()).toEqual([]);
    await Promise.all([a.close(), b.close()]);
  });

  it('are not served after another instance cleared the cache while the tier was being asked', async () => {
    const { driver, make } = instances();
    const a = make('A');
    await a.set('k', 'restored');
    const entries = a.dump();

    const b = make('B');
    const replies = deferred();
    driver.heldReplies = replies.promise;
    b.load(entries);
    driver.heldReplies = undefined;
    await a.clear(); // reaches B over the bus while B's check still waits for its answer
    replies.resolve();
    await b.ready;
    await a.set('other', 'x'); // a later message B receives only after the clear
    expect(await b.get('other')).toBe('x');
    expect(b.dump().map((e) => e.key)).not.toContain('k');
    await Promise.all([a.close(), b.close()]);
  });
});
