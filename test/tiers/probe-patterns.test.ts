// Hostile probes of tag invalidation on the shared tier: a tag's time in the store must never move
// back, or the entries a later invalidation hid come back for every instance that reads them from L2.
import { describe, expect, it } from 'vitest';
import { createCache } from '../../src/index.js';
import type { Cache } from '../../src/index.js';
import { MemoryBusHub } from '../../src/tiers/bus.js';
import type { TierDriver } from '../../src/tiers/driver.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { RedisDriver } from '../../src/tiers/redis-driver.js';
import { SharedTier } from '../../src/tiers/shared-tier.js';
import { describeWithRedis, withRedisServer } from './describe-with-redis.js';

function probeTagTimes(driverFor: () => TierDriver): void {
  it('an instance whose clock is behind, invalidating a tag after another did, never brings its entries back', async () => {
    const hub = new MemoryBusHub();
    const base = 1_800_000_000_000;
    // Y's clock runs 20 ms behind X's (well within the bus's accepted skew).
    const time = { x: base, y: base - 20 };
    const make = (id: string, clock: () => number): Cache =>
      createCache({
        name: 'tagged',
        ttl: '1h',
        clock,
        l2: new SharedTier({ driver: driverFor(), bus: hub.connect(id), publishInOrder: true, clock }),
      });
    const x = make('X', () => time.x);
    const y = make('Y', () => time.y);
    let z: Cache | undefined;
    try {
      await x.set('e', 'old', { tags: ['t'] });
      time.x += 10;
      time.y += 10;
      await x.invalidateTags(['t']); // at base + 10 on X's clock; Y hears it on the bus
      await y.invalidateTags(['t']); // at base - 10 on Y's clock
      // Z starts now (it heard neither): it judges the L2 entry by the tag's time in the store.
      z = make('Z', () => time.x);
      expect(await z.get('e')).toBeUndefined();
      expect(await z.getOrSet('e', () => 'new')).toBe('new');
    } finally {
      await x.close();
      await y.close();
      await z?.close();
    }
  });
}

describe('probe: tag times over the memory driver', () => {
  const driver = new MemoryDriver();
  probeTagTimes(() => driver);
});

describeWithRedis('probe: tag times over Redis', () => {
  const server = withRedisServer();
  probeTagTimes(() => new RedisDriver({ url: server().url, prefix: 'tags:' }));
});
