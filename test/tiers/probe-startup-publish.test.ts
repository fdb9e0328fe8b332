// A write made right after the tier is created, while its first connection is still opening.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCache } from '../../src/index.js';
import { redisTier } from '../../src/tiers/redis-tier.js';
import { RedisServer } from '../helpers/redis-server.js';
import { describeWithRedis } from './describe-with-redis.js';

describeWithRedis('a write while the first connection opens', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(async () => {
    await server?.destroy();
  });

  it('is published once connected, not kept as a failed invalidation that later deletes it', async () => {
    const open = () =>
      createCache<string>({ name: 'users', ttl: '1h', l2: redisTier({ url: server.url, prefix: 'sp:' }) });
    const writer = open();
    const reader = open();
    try {
      await writer.set('k', 'v');
      expect(writer.health().l2?.pending).toBe(0);
      expect(writer.health().bus?.status).toBe('ok');
      expect(await reader.get('k')).toBe('v');
    } finally {
      await writer.close();
      await reader.close();
    }
  });
});
