// POST invalidate counts distinct entries removed, however its keys, tags and patterns overlap, and
// sends a request's keys to the other instances in one bus message per cache, not one per key.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildCache } from '../../../src/cache/create-cache.js';
import { createAdmin, type AdminHandler } from '../../../src/http/admin/admin.js';
import { MemoryBus, MemoryBusHub, type BusMessage } from '../../../src/tiers/bus.js';
import { RedisBus } from '../../../src/tiers/redis-bus.js';
import { MemoryDriver } from '../../../src/tiers/memory-driver.js';
import { memoryTier, redisTier } from '../../../src/tiers/redis-tier.js';
import { RedisServer } from '../../helpers/redis-server.js';
import { describeWithRedis } from '../../tiers/describe-with-redis.js';
import { listen, type TestServer } from '../helpers/server.js';

const KEY = 'k'.repeat(32);
let admin: AdminHandler | undefined;
let server: TestServer | undefined;

afterEach(async () => {
  vi.restoreAllMocks();
  admin?.close();
  await server?.close();
  admin = undefined;
  server = undefined;
});

/** Two instances of cache `c` sharing one store and bus; A's publishes are recorded. */
function twoInstances() {
  const driver = new MemoryDriver();
  const hub = new MemoryBusHub();
  const published: Array<Omit<BusMessage, 'source'>> = [];
  const original = MemoryBus.prototype.publish;
  vi.spyOn(MemoryBus.prototype, 'publish').mockImplementation(function (this: MemoryBus, message) {
    if (this.instanceId === 'A') published.push(message);
    return original.call(this, message);
  });
  const a = buildCache<string>({ name: 'c', ttl: '1m', l2: memoryTier({ driver, hub, instanceId: 'A' }) });
  const b = buildCache<string>({ name: 'c', ttl: '1m', l2: memoryTier({ driver, hub, instanceId: 'B' }) });
  return { a, b, published };
}

async function invalidate(caches: Parameters<typeof createAdmin>[0]['caches'], body: unknown) {
  admin = createAdmin({ caches, apiKey: KEY });
  const handler = admin;
  server = await listen((req, res) => void handler(req, res, () => res.end()));
  const r = await fetch(`${server.url}/invalidate`, {
    method: 'POST',
    headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: (await r.json()) as Record<string, any> };
}

describe('POST invalidate: counts and bus messages', () => {
  it('counts each entry removed once when keys, tags and patterns overlap', async () => {
    const cache = buildCache<string>({ name: 'c', ttl: '1m' });
    await cache.set('user:1', 'one', { tags: ['team'] });
    await cache.set('user:2', 'two', { tags: ['team'] });
    await cache.set('user:3', 'three');
    await cache.set(3, 'number three', { tags: ['team'] });
    await cache.set('other', 'kept');
    const r = await invalidate(
      { c: cache, same: cache },
      {
        keys: ['user:1', 'user:1', 'user:3', 'nope', 3, 3],
        tags: ['team', 'team'],
        patterns: ['user:*', 'user:1*', 'user:*'],
      },
    );
    expect(r.status).toBe(200);
    // user:1, user:2, user:3 and the number key 3: four entries, though the record names the cache twice.
    expect(r.body).toMatchObject({ invalidated: 4, counts: { patterns: 3, keys: 1, tags: 0 } });
    expect(cache.entries().map((e) => e.key)).toEqual(['other']);
    await cache.close();
  });

  it('counts each entry once in a cache with a shared tier', async () => {
    const { a, b } = twoInstances();
    await a.set('user:1', 'one', { tags: ['team'] });
    await a.set('user:2', 'two', { tags: ['team'] });
    await a.set('user:3', 'three');
    await a.set('admin:1', 'boss', { tags: ['team'] });
    await a.set('other', 'kept');
    const r = await invalidate(
      { c: a },
      { keys: ['user:1', 'user:3', 'user:3'], tags: ['team'], patterns: ['user:*'] },
    );
    expect(r.body).toMatchObject({ invalidated: 4, counts: { patterns: 3, keys: 0, tags: 1 } });
    expect(a.entries().map((e) => e.key)).toEqual(['other']);
    await a.close();
    await b.close();
  });

  it('publishes a request’s keys in one delete message, and the other instance drops them all', async () => {
    const { a, b, published } = twoInstances();
    const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
    for (const key of keys) await a.set(key, key);
    for (const key of keys) expect(await b.get(key)).toBe(key); // held in B's memory too
    published.length = 0;
    const r = await invalidate({ c: a }, { keys: [...keys, ...keys] });
    expect(r.body).toMatchObject({ invalidated: 20, counts: { keys: 20, tags: 0, patterns: 0 } });
    const deletes = published.filter((m) => m.kind === 'delete');
    expect(deletes).toHaveLength(1);
    expect([...deletes[0]!.keys!].sort()).toEqual([...keys].sort());
    await new Promise((resolve) => setTimeout(resolve, 0)); // the bus delivers on a later turn
    for (const key of keys) expect(await b.get(key)).toBeUndefined();
    await a.close();
    await b.close();
  });
});

describeWithRedis('POST invalidate over Redis', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    await redis.destroy();
  });

  it('publishes a request’s keys in one delete message, and the other instance drops them all', async () => {
    const published: Array<Omit<BusMessage, 'source'>> = [];
    const original = RedisBus.prototype.publish;
    vi.spyOn(RedisBus.prototype, 'publish').mockImplementation(function (this: RedisBus, message) {
      if (this.instanceId === 'A') published.push(message);
      return original.call(this, message);
    });
    const tier = (instanceId: string) => redisTier({ url: redis.url, instanceId, timeout: 5000 });
    const a = buildCache<string>({ name: 'r', ttl: '1m', l2: tier('A') });
    const b = buildCache<string>({ name: 'r', ttl: '1m', l2: tier('B') });
    const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
    for (const key of keys) await a.set(key, key);
    for (const key of keys) expect(await b.get(key)).toBe(key);
    published.length = 0;
    const r = await invalidate({ r: a }, { keys: [...keys, ...keys.slice(0, 5)], patterns: ['k1*'] });
    // k1 and k10…k19 match the pattern too: 20 distinct entries, each counted once.
    expect(r.body.invalidated).toBe(20);
    const deletes = published.filter((m) => m.kind === 'delete');
    expect(deletes.map((m) => m.keys!.length)).toEqual([20]);
    // B hears it: each key is gone from its memory too.
    await vi.waitFor(async () => expect(await b.getMany(keys)).toEqual(keys.map(() => undefined)), {
      timeout: 5000,
    });
    await a.close();
    await b.close();
  }, 20_000);
});
