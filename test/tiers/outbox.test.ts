// Invalidations survive outages and exits: a delete made while Redis is down goes to the outbox file
// beside the cache's snapshot and is replayed by the next process before it answers a read; without a
// place to persist, close() makes a last attempt and logs at error exactly what it drops.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import { redisTier } from '../../src/tiers/redis-tier.js';
import type { RedisTierOptions } from '../../src/tiers/redis-tier.js';
import { RedisServer, redisCli } from '../helpers/redis-server.js';
import { describeWithRedis } from './describe-with-redis.js';
import { holdsEntry } from './stored.js';

const fast = { timeout: 200, breaker: { threshold: 1, resetAfter: 100 }, reconnectMaxDelay: 100 } as const;

describeWithRedis('the outbox of undelivered invalidations (real redis-server)', () => {
  let server: RedisServer;
  let dir: string;
  const cli = (...args: string[]): Promise<string> => redisCli(['-p', String(server.port), ...args]);
  const tier = (options: Partial<RedisTierOptions> = {}) =>
    redisTier({ url: server.url, prefix: 'ob:', ...fast, ...options });

  beforeAll(async () => {
    // Append-only, fsync'ed: a killed and restarted server comes back holding the old value.
    server = await RedisServer.start({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
    dir = mkdtempSync(join(tmpdir(), 'larder-outbox-'));
  });
  afterAll(async () => {
    await server.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a delete made during an outage survives close() and is applied to Redis before the next process serves', async () => {
    const persist = { path: join(dir, 'plans.snap') };
    const a = createCache<string>({ name: 'plans', l2: tier(), persist });
    await a.set('k', 'old');
    expect(await holdsEntry(cli, 'ob:e:plans:k')).toBe(true);
    await server.kill();
    await a.delete('k'); // L2 unreachable: pending, and written to the outbox before it resolves
    expect(a.health().l2?.pending).toBe(1);
    expect(existsSync(`${persist.path}.outbox`)).toBe(true);
    await a.close();

    await server.restart();
    expect(await holdsEntry(cli, 'ob:e:plans:k')).toBe(true); // the old value is back with the server
    const b = createCache<string>({ name: 'plans', l2: tier(), persist });
    expect(await b.get('k')).toBeUndefined();
    // Its first read waited for the replay: the old value was gone from Redis before it answered.
    expect(await holdsEntry(cli, 'ob:e:plans:k')).toBe(false);
    expect(b.health().l2?.pending).toBe(0);
    expect(await b.getOrSet('k', async () => 'fresh')).toBe('fresh');
    expect(await holdsEntry(cli, 'ob:e:plans:k')).toBe(true); // the fresh load went to Redis
    // The outbox file is empty again.
    const file = JSON.parse(readFileSync(`${persist.path}.outbox`, 'utf8')) as { caches: object };
    expect(file.caches).toEqual({});
    await b.close();
  });

  it('a process that starts while Redis is still down keeps the outbox and replays it once Redis is back', async () => {
    const persist = { path: join(dir, 'users.snap') };
    const a = createCache<string>({ name: 'users', l2: tier(), persist });
    await a.set('u1', 'old');
    await a.set('u2', 'kept');
    await server.kill();
    await a.delete('u1');
    await a.invalidateTags(['org:1']);
    await a.close();

    const b = createCache<string>({ name: 'users', l2: tier(), persist });
    expect(await b.get('u1')).toBeUndefined(); // L2 unreachable: known, so it answers (a miss)
    const kept = JSON.parse(readFileSync(`${persist.path}.outbox`, 'utf8')) as {
      caches: Record<string, { keys: string[]; tags: unknown[] }>;
    };
    expect(kept.caches.users?.keys).toEqual(['u1']);
    expect(kept.caches.users?.tags).toHaveLength(1);
    await server.restart();
    await vi.waitFor(async () => expect(await holdsEntry(cli, 'ob:e:users:u1')).toBe(false), {
      timeout: 5000,
    });
    await vi.waitFor(async () => expect(b.health().l2?.pending).toBe(0));
    expect(await cli('EXISTS', 'ob:t:{users}:org:1')).toBe('1\n'); // the tag's time reached Redis too
    expect(await b.get('u2')).toBe('kept');
    await b.close();
  });

  it('without a place to persist, close() tries once more, then logs at error what it drops', async () => {
    const logger = { error: vi.fn(), warn: vi.fn(), info: vi.fn(), debug: vi.fn() };
    const cache = createCache<string>({ name: 'nodir', l2: tier(), logger });
    await cache.set('x', 'v');
    await server.kill();
    await cache.delete('x');
    await cache.invalidateTags(['t1']);
    await cache.invalidatePattern('list:*');
    const started = Date.now();
    await cache.close();
    expect(Date.now() - started).toBeLessThan(3000);
    const line = logger.error.mock.calls.find(([message]) => String(message).includes('dropped'));
    expect(line).toBeDefined();
    const fields = line![1] as { count: number; dropped: Record<string, Record<string, unknown>> };
    expect(fields.count).toBe(3);
    expect(fields.dropped.nodir).toMatchObject({ keys: ['x'], patterns: ['list:*'] });
    expect(fields.dropped.nodir?.tags).toEqual([['t1', expect.any(Number)]]);
    await server.restart();
  });
});
