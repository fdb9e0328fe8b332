// Counts mean what users think: with a shared tier, invalidatePattern / namespace clears / delete
// report what was removed from Redis too, not only what the calling instance held in its own L1.
import { expect, it, vi } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import { redisTier } from '../../src/tiers/redis-tier.js';
import { describeWithRedis, withRedisServer } from './describe-with-redis.js';

describeWithRedis('invalidation counts across instances (real redis-server)', () => {
  const server = withRedisServer();
  const tier = (instanceId: string) =>
    redisTier({ url: server().url, prefix: 'cnt:', instanceId, timeout: 2000 });

  it('invalidatePattern on an instance that held none of the entries reports the 3 removed from Redis', async () => {
    const a = createCache<string>({ name: 'lists', l2: tier('A') });
    const b = createCache<string>({ name: 'lists', l2: tier('B') });
    await vi.waitFor(() => expect(a.health().bus?.status).toBe('ok'));
    await b.set('list:acme:1', 'x');
    await b.set('list:acme:2', 'y');
    await b.set('list:acme:3', 'z');
    await b.set('list:other:1', 'w');
    expect(a.entries()).toHaveLength(0); // nothing local on A
    expect(await a.invalidatePattern('list:acme:*')).toBe(3);
    // B held them too and dropped them on the bus message; the other key is untouched.
    await vi.waitFor(async () => expect(await b.get('list:acme:1')).toBeUndefined());
    expect(await b.get('list:other:1')).toBe('w');
    // A second run finds nothing anywhere.
    expect(await a.invalidatePattern('list:acme:*')).toBe(0);
    // delete() answers true when Redis held the key, though A's L1 did not.
    expect(await a.delete('list:other:1')).toBe(true);
    expect(await a.delete('list:other:1')).toBe(false);
    await Promise.all([a.close(), b.close()]);
  });
});
