// Tag invalidations heard while an L2 read is out: only a read whose entry carries one of the tags
// must read again; others answer what L2 holds (a stream of per-user tag invalidations elsewhere in
// the cache must not turn every L2 hit into a miss).
import { describe, expect, it, vi } from 'vitest';
import { MemoryBusHub } from '../../src/tiers/bus.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { memoryTier, redisTier } from '../../src/tiers/redis-tier.js';
import { SharedTier } from '../../src/tiers/shared-tier.js';
import type { TierEntry } from '../../src/tiers/types.js';
import { deferred } from '../helpers/deferred.js';
import { ChaosDriver } from './chaos-driver.js';
import { describeWithRedis, withRedisServer } from './describe-with-redis.js';

describe('an L2 read raced by a tag invalidation', () => {
  const tagged = (value: string, tags: string[]): TierEntry => ({
    value,
    createdAt: Date.now() - 10,
    staleAt: 0,
    expiresAt: 0,
    tags,
  });

  it.each([
    ['one of its tags', 'user:1', undefined],
    ['other tags only', 'user:2', 'old'],
  ])('naming %s: %s', async (_, tag, expected) => {
    const driver = new MemoryDriver();
    const chaos = new ChaosDriver(driver);
    const hub = new MemoryBusHub();
    const ca = memoryTier({ driver, hub, instanceId: 'A' }).bind('c');
    const cb = new SharedTier({ driver: chaos, bus: hub.connect('B') }).bind('c');
    await ca.set('k', tagged('old', ['user:1']));
    const replies = deferred();
    chaos.heldReplies = replies.promise;
    const calls = chaos.calls;
    const read = cb.get('k');
    const many = cb.getMany(['k']);
    await vi.waitFor(() => expect(chaos.calls).toBeGreaterThan(calls + 1)); // both reads are out
    await ca.invalidateTags([tag]);
    replies.resolve();
    expect((await read)?.value).toBe(expected);
    expect((await many)[0]?.value).toBe(expected);
  });
});

describeWithRedis('L2 reads under a stream of tag invalidations', () => {
  const server = withRedisServer();

  it('still answers an entry none of whose tags was invalidated, and never one whose tag was', async () => {
    // A call timeout far above the default 50 ms: on a loaded machine a timed-out read is a miss,
    // which is right for a cache but is not what this test counts.
    const reader = redisTier({ url: server().url, prefix: 'et:', timeout: '5s' });
    const writer = redisTier({ url: server().url, prefix: 'et:', timeout: '5s' });
    const r = reader.bind('users');
    const w = writer.bind('users');
    try {
      const entry = (tags: string[]) => ({
        value: 'v',
        createdAt: Date.now(),
        staleAt: 0,
        expiresAt: 0,
        tags,
      });
      expect(await w.set('hot', entry(['user:hot']))).toBe(true);
      expect((await r.get('hot'))?.value).toBe('v');
      let writing = true;
      const flood = (async () => {
        for (let i = 0; writing; i++) await w.invalidateTags([`user:${i}`]);
      })();
      let misses = 0;
      for (let i = 0; i < 300; i++) if ((await r.get('hot'))?.value !== 'v') misses++;
      writing = false;
      await flood;
      expect(misses).toBe(0);
      await w.invalidateTags(['user:hot']);
      expect(await r.get('hot')).toBeUndefined();
    } finally {
      await r.close();
      await w.close();
    }
  });
});
