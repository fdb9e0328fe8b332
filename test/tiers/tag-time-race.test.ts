// Two instances invalidating one tag close together: the older invalidation's store write can land
// after the newer one's. The stored time must not move back, or an instance that missed the newer bus
// message (here a new one) reads the older time and serves an entry the newer invalidation hid.
import { describe, expect, it } from 'vitest';
import { MemoryBusHub } from '../../src/tiers/bus.js';
import type { TierDriver } from '../../src/tiers/driver.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { RedisDriver } from '../../src/tiers/redis-driver.js';
import { SharedTier } from '../../src/tiers/shared-tier.js';
import { manualClock } from '../helpers/clock.js';
import { deferred } from '../helpers/deferred.js';
import { ChaosDriver } from './chaos-driver.js';
import { describeWithRedis, withRedisServer } from './describe-with-redis.js';

/** Methods that only read: every other call naming a tag key (a tag time's write) is held. */
const READS = new Set(['get', 'getMany']);

/** `inner`, except that its tag-time writes wait for `gate` before they reach the store. */
function holdingTagWrites(inner: TierDriver, gate: Promise<void>, seen: () => void): TierDriver {
  return new Proxy(inner, {
    get(target, property, receiver) {
      const member: unknown = Reflect.get(target, property, receiver);
      if (typeof member !== 'function' || typeof property !== 'string' || READS.has(property)) {
        return typeof member === 'function' ? member.bind(target) : member;
      }
      return async (...args: unknown[]) => {
        if (typeof args[0] === 'string' && args[0].startsWith('t:')) {
          seen();
          await gate;
        }
        return (member as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

describeWithRedis('tag times written out of order', () => {
  const server = withRedisServer();

  it('keep the newer time, so an instance that missed its bus message hides what it invalidated', async () => {
    const clock = manualClock();
    const hub = new MemoryBusHub();
    const settings = { clock: clock.now, timeout: '1h', bulkTimeout: '1h' } as const;
    const driver = (): RedisDriver => new RedisDriver({ url: server().url, prefix: 'race:' });
    const gate = deferred();
    const held = deferred();
    const a = new SharedTier({
      ...settings,
      driver: holdingTagWrites(driver(), gate.promise, () => held.resolve()),
      bus: hub.connect('A'),
    });
    const b = new SharedTier({ ...settings, driver: driver(), bus: hub.connect('B') });
    const ca = a.bind('c');
    const cb = b.bind('c');
    let c: SharedTier | undefined;
    try {
      // A invalidates at t1; its store write is held on the way.
      const older = ca.invalidateTags(['user:1']);
      await held.promise;
      // An entry written after t1, then B invalidates its tag at t2, and that write lands first.
      clock.advance(500);
      const entry = { value: 'v', createdAt: clock.now(), staleAt: 0, expiresAt: 0, tags: ['user:1'] };
      expect(await cb.set('k', entry)).toBe(true);
      clock.advance(500);
      await cb.invalidateTags(['user:1']);
      expect(await cb.get('k')).toBeUndefined();
      // A's older write lands last.
      gate.resolve();
      await older;
      // A new instance (it heard neither message) reads the stored time: the newer one hides the entry.
      c = new SharedTier({ ...settings, driver: driver(), bus: new MemoryBusHub().connect('C') });
      expect(await c.bind('c').get('k')).toBeUndefined();
      expect(await ca.get('k')).toBeUndefined();
    } finally {
      await Promise.all([a.close(), b.close(), c?.close()]);
    }
  });
});

describe('tag times over a store without setMax', () => {
  it('are read and compared before the write, so an older time written later does not replace a newer one', async () => {
    const store = new MemoryDriver();
    // No optional methods: the tier falls back to get, compare, then a plain set. A's clock is ahead
    // of B's, so B's invalidation, made after A's, carries the older time.
    const tier = (now: number): SharedTier =>
      new SharedTier({ driver: new ChaosDriver(store), clock: () => now });
    const [a, b, c] = [tier(2000), tier(1000), tier(3000)];
    try {
      await a.bind('c').invalidateTags(['user:1']);
      await b.bind('c').invalidateTags(['user:1']);
      expect(await store.get('t:{c}:user:1')).toBe('2000');
      const entry = { value: 'v', createdAt: 1500, staleAt: 0, expiresAt: 0, tags: ['user:1'] };
      expect(await c.bind('c').set('k', entry)).toBe(true);
      expect(await c.bind('c').get('k')).toBeUndefined();
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });
});
