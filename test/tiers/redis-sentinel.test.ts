// redisTier through Redis Sentinel: a master and one sentinel watching it, both started here; the
// tier finds the master through the sentinel and works as over a direct connection.
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createCache } from '../../src/index.js';
import { redisTier } from '../../src/tiers/redis-tier.js';
import { RedisServer } from '../helpers/redis-server.js';
import { describeWithRedis } from './describe-with-redis.js';

describeWithRedis('redisTier via Sentinel', () => {
  let master: RedisServer;
  let sentinel: RedisServer;
  beforeAll(async () => {
    master = await RedisServer.start();
    sentinel = await RedisServer.start({
      config: `sentinel monitor mymaster 127.0.0.1 ${master.port} 1\nsentinel down-after-milliseconds mymaster 5000\n`,
      args: ['--sentinel'],
    });
  });
  afterAll(async () => {
    await sentinel?.destroy();
    await master?.destroy();
  });

  it('discovers the master through the sentinel; two caches share L2 and the bus', async () => {
    const open = (id: string) =>
      createCache({
        name: 's',
        l2: redisTier({
          sentinels: [{ host: '127.0.0.1', port: sentinel.port }],
          sentinelName: 'mymaster',
          instanceId: id,
          timeout: 500,
        }),
      });
    const a = open('A');
    const b = open('B');
    try {
      await vi.waitFor(() => expect([a, b].map((c) => c.health().bus?.status)).toEqual(['ok', 'ok']), {
        timeout: 5000,
      });
      await a.set('k', { v: 1 });
      expect(await b.get('k')).toEqual({ v: 1 });
      await a.delete('k');
      await vi.waitFor(() => expect(b.entries()).toEqual([]));
      expect(await b.get('k')).toBeUndefined();
    } finally {
      await a.close();
      await b.close();
    }
  });
});
