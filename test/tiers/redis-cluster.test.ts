// A local Redis Cluster of three masters, created by this file: the Redis driver passes the
// conformance suite on it, keys spread over every master, and the shared tier's invalidations
// (pub/sub and tag timestamps with hash-tagged keys) work across instances.
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { registerDriverSuite } from '../../src/entries/test-suite.js';
import { RedisDriver } from '../../src/tiers/redis-driver.js';
import { createCache } from '../../src/index.js';
import { redisTier } from '../../src/tiers/redis-tier.js';
import type { RemoteInvalidation, TierEntry } from '../../src/tiers/types.js';
import { manualClock } from '../helpers/clock.js';
import { startRedisCluster } from '../helpers/redis-cluster.js';
import type { RedisClusterHandle } from '../helpers/redis-cluster.js';
import { describeWithRedis } from './describe-with-redis.js';

/** An entry written now (by `now`, default real time), live for a minute. */
const entry = <V>(value: V, tags: string[] = [], now = Date.now()): TierEntry<V> => {
  return { value, createdAt: now, staleAt: now + 60_000, expiresAt: now + 60_000, tags };
};

describeWithRedis('Redis Cluster (3 masters)', () => {
  let cluster: RedisClusterHandle;
  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 60_000);
  afterAll(async () => {
    await cluster?.destroy();
  });

  registerDriverSuite({
    name: 'redis cluster',
    create: (prefix) => new RedisDriver({ cluster: cluster.startupNodes, prefix }),
  });

  it('spreads keys over all three masters and still deletes them all by pattern', async () => {
    const driver = new RedisDriver({ cluster: cluster.startupNodes, prefix: 'spread:' });
    await Promise.all(Array.from({ length: 60 }, (_, i) => driver.set(`k${i}`, 'v')));
    const perNode = await Promise.all(
      (driver.client as Cluster).nodes('master').map((node) => node.dbsize()),
    );
    expect(perNode.filter((n) => n > 0).length).toBe(3);
    expect(await driver.deletePattern('k*')).toBe(60);
    await driver.disconnect();
  });

  it('getMany of keys sharing a hash tag is one MGET on one slot', async () => {
    const driver = new RedisDriver({ cluster: cluster.startupNodes, prefix: 'ht:' });
    await driver.set('t:{plans}:a', '1');
    await driver.set('t:{plans}:b', '2');
    const values = await driver.getMany(['t:{plans}:a', 't:{plans}:missing', 't:{plans}:b']);
    expect(values.map((v) => v?.toString())).toEqual(['1', undefined, '2']);
    await driver.disconnect();
  });

  it('two caches over the cluster: B reads A’s writes from L2 and drops its L1 copies on A’s invalidations', async () => {
    const tier = (id: string) =>
      redisTier({ cluster: cluster.startupNodes, prefix: 'cc:', instanceId: id, timeout: 500 });
    const tierB = tier('B');
    const a = createCache({ name: 'plans', ttl: '1m', l2: tier('A') });
    const b = createCache({ name: 'plans', ttl: '1m', l2: tierB });
    // Hears what B's cache hears, in the same call: once it has heard a message, so has B's L1.
    const heardByB: RemoteInvalidation[] = [];
    const observer = tierB.bind('plans');
    observer.onRemote((event) => heardByB.push(event));
    try {
      await vi.waitFor(() => expect([a, b].map((c) => c.health().bus?.status)).toEqual(['ok', 'ok']), {
        timeout: 5000,
      });
      for (let i = 0; i < 30; i++) await a.set(`p${i}`, { i }, { tags: [i % 2 === 0 ? 'even' : 'odd'] });
      // A's 'set' messages cross the cluster bus and may land after A's writes return; one landing
      // during B's reads would drop the copy just promoted. So B reads only once it heard all 30.
      await vi.waitFor(() => expect(heardByB.filter((e) => e.kind === 'set')).toHaveLength(30), {
        timeout: 5000,
      });
      for (let i = 0; i < 30; i++) expect(await b.get(`p${i}`)).toEqual({ i });
      expect(b.entries()).toHaveLength(30);
      await a.delete('p0');
      await a.invalidateTags(['odd']);
      await a.invalidatePattern('p2*');
      await vi.waitFor(() => expect(heardByB).toHaveLength(33));
      expect(
        heardByB
          .slice(30)
          .map((e) => e.kind)
          .sort(),
      ).toEqual(['delete', 'pattern', 'tags']);
      // Exactly the keys no invalidation named are left: not one more, not one less.
      const kept = ['p4', 'p6', 'p8', 'p10', 'p12', 'p14', 'p16', 'p18'];
      expect(
        b
          .entries()
          .map((e) => e.key)
          .sort(),
      ).toEqual([...kept].sort());
      expect(await b.get('p1')).toBeUndefined();
      expect(await b.get('p20')).toBeUndefined();
      expect(await b.get('p4')).toEqual({ i: 4 });
    } finally {
      await a.close();
      await b.close();
      await observer.close();
    }
  });

  it('invalidations cross instances over the cluster, and tags hide older entries', async () => {
    // One manual clock for both instances, so each invalidation is later than the writes before it.
    const clock = manualClock(Date.now());
    const options = { cluster: cluster.startupNodes, prefix: 'ct:', timeout: 200, clock: clock.now };
    const tierA = redisTier({ ...options, instanceId: 'A' });
    const tierB = redisTier({ ...options, instanceId: 'B' });
    try {
      const a = tierA.bind('plans');
      const b = tierB.bind('plans');
      const heardB: RemoteInvalidation[] = [];
      const heardA: RemoteInvalidation[] = [];
      a.onRemote((e) => heardA.push(e));
      b.onRemote((e) => heardB.push(e));
      await vi.waitFor(() => expect(b.health().bus?.status).toBe('ok'), { timeout: 5000 });
      await vi.waitFor(() => expect(a.health().bus?.status).toBe('ok'), { timeout: 5000 });
      for (let i = 0; i < 20; i++) await a.set(`p${i}`, entry(i, ['org:acme'], clock.now()));
      expect((await b.get('p7'))?.value).toBe(7);
      await a.delete('p1');
      await a.invalidatePattern('p1*');
      clock.advance(1);
      await a.invalidateTags(['org:acme']);
      await a.clear();
      // PUBLISH has no key, so a cluster client may send each to a different node: order is not kept.
      const expected = [...Array<string>(20).fill('set'), 'delete', 'pattern', 'tags', 'clear'].sort();
      await vi.waitFor(() => expect(heardB.map((e) => e.kind).sort()).toEqual(expected));
      expect(heardA).toEqual([]);
      for (let i = 0; i < 20; i++) await a.set(`q${i}`, entry(i, ['org:beta'], clock.now()));
      clock.advance(1);
      await b.invalidateTags(['org:beta']);
      await vi.waitFor(async () => expect(await a.get('q3')).toBeUndefined());
    } finally {
      await tierA.close();
      await tierB.close();
    }
  });
});
