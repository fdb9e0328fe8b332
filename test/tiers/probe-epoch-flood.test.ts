// A read of L2 is retried when a remote invalidation lands while it is out; invalidations of other
// keys of the cache must not make it give up, or a steady stream of writes elsewhere in the cache
// turns every L2 hit into a miss (and a loader call).
import { describe, expect, it, vi } from 'vitest';
import { MemoryBusHub } from '../../src/tiers/bus.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { memoryTier, redisTier } from '../../src/tiers/redis-tier.js';
import { SharedTier } from '../../src/tiers/shared-tier.js';
import type { TierEntry } from '../../src/tiers/types.js';
import { deferred } from '../helpers/deferred.js';
import { ChaosDriver } from './chaos-driver.js';
import { describeWithRedis, withRedisServer } from './describe-with-redis.js';

const entry = (value: string): TierEntry => ({
  value,
  createdAt: Date.now(),
  staleAt: 0,
  expiresAt: 0,
  tags: [],
});

describe('an L2 read raced by a remote invalidation', () => {
  /** A writes on the store; B reads it through a driver whose replies the test holds. */
  async function held() {
    const driver = new MemoryDriver();
    const chaos = new ChaosDriver(driver);
    const hub = new MemoryBusHub();
    const ca = memoryTier({ driver, hub, instanceId: 'A' }).bind('c');
    const cb = new SharedTier({ driver: chaos, bus: hub.connect('B') }).bind('c');
    await ca.set('k', entry('old'));
    await ca.set('j', entry('old j'));
    const replies = deferred();
    chaos.heldReplies = replies.promise;
    return { chaos, ca, cb, release: () => replies.resolve() };
  }

  it('answers what L2 holds when the invalidation names other keys', async () => {
    const { chaos, ca, cb, release } = await held();
    const calls = chaos.calls;
    const read = cb.get('k');
    const many = cb.getMany(['k', 'j']);
    await vi.waitFor(() => expect(chaos.calls).toBeGreaterThan(calls + 1)); // both reads are out
    await ca.set('other', entry('x'));
    await ca.delete('another');
    release();
    expect((await read)?.value).toBe('old');
    expect((await many).map((e) => e?.value)).toEqual(['old', 'old j']);
  });

  it('reads again when it names the key, or may concern any key', async () => {
    type Writer = Awaited<ReturnType<typeof held>>['ca'];
    const cases: Array<[(ca: Writer) => Promise<unknown>, unknown]> = [
      [(ca) => ca.set('k', entry('new')), 'new'],
      [(ca) => ca.invalidatePattern('k*'), undefined],
    ];
    for (const [invalidate, expected] of cases) {
      const { chaos, ca, cb, release } = await held();
      const calls = chaos.calls;
      const read = cb.get('k');
      const many = cb.getMany(['j', 'k']);
      await vi.waitFor(() => expect(chaos.calls).toBeGreaterThan(calls + 1));
      await invalidate(ca);
      release();
      expect((await read)?.value).toBe(expected);
      expect((await many).map((e) => e?.value)).toEqual(['old j', expected]);
    }
  });
});

describeWithRedis('L2 reads under a stream of invalidations of other keys', () => {
  const server = withRedisServer();

  it('still answers the entry L2 holds', async () => {
    // A call timeout far above the default 50 ms: on a loaded machine a timed-out read is a miss,
    // which is right for a cache but is not what this test counts.
    const reader = redisTier({ url: server().url, prefix: 'ef:', timeout: '5s' });
    const writer = redisTier({ url: server().url, prefix: 'ef:', timeout: '5s' });
    const r = reader.bind('users');
    const w = writer.bind('users');
    try {
      const entry = { value: 'v', createdAt: Date.now(), staleAt: 0, expiresAt: 0, tags: [] };
      expect(await w.set('hot', entry)).toBe(true);
      expect((await r.get('hot'))?.value).toBe('v');
      let writing = true;
      const flood = (async () => {
        for (let i = 0; writing; i++) {
          await Promise.all(
            Array.from({ length: 4 }, (_, j) =>
              w.set(`other:${i}:${j}`, { ...entry, createdAt: Date.now() }),
            ),
          );
        }
      })();
      let misses = 0;
      for (let i = 0; i < 300; i++) if ((await r.get('hot'))?.value !== 'v') misses++;
      writing = false;
      await flood;
      expect(misses).toBe(0);
    } finally {
      await r.close();
      await w.close();
    }
  });
});
