// The Keyv bridge passes the conformance suite (less the atomic operations it omits) over Keyv's
// in-memory Map store and over @keyv/redis on a redis-server started here; then what is particular
// to it: stores Keyv cannot iterate are refused, batches, errors that reach the caller, and a whole
// cache working over it.
import KeyvRedis from '@keyv/redis';
import Keyv from 'keyv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCache } from '../../src/index.js';
import { keyvDriver } from '../../src/entries/keyv.js';
import { registerDriverSuite } from '../../src/entries/test-suite.js';
import { SharedTier } from '../../src/entries/tiers.js';
import { manualClock } from '../helpers/clock.js';
import { RedisServer } from '../helpers/redis-server.js';
import { describeWithRedis } from '../tiers/describe-with-redis.js';

const OMITS = ['setIfNewer', 'setAtLeast', 'deleteIfEquals'] as const;

describe('keyvDriver over a Map', () => {
  const clock = manualClock(Date.now());
  const shared = new Map();
  registerDriverSuite({
    name: 'keyv (Map store)',
    create: (prefix) => keyvDriver({ store: shared, prefix, clock: clock.now }),
    advance: (ms) => clock.advance(ms),
    omits: OMITS,
  });

  it('needs exactly one of keyv or store, and refuses a store Keyv cannot iterate', () => {
    expect(() => keyvDriver({})).toThrow(/exactly one of keyv or store/);
    expect(() => keyvDriver({ keyv: {} as never })).toThrow(/Keyv instance/);
    const plain = {
      get: async () => undefined,
      set: async () => true,
      delete: async () => true,
      clear: async () => {},
    };
    expect(() => keyvDriver({ store: plain as never })).toThrow(/store Keyv can iterate/);
    expect(() => keyvDriver({ store: new Map(), batchSize: 0 })).toThrow(/batchSize/);
  });

  it('leaves the atomic operations undefined, so the tier knows to degrade', () => {
    const driver = keyvDriver({ store: new Map() });
    for (const method of OMITS)
      expect((driver as unknown as Record<string, unknown>)[method]).toBeUndefined();
  });

  it('deletes a pattern in batches, yielding between them, and counts only live keys', async () => {
    const store = new Map();
    const keyv = new Keyv({ store });
    const deleted: number[] = [];
    const deleteMany = keyv.deleteMany.bind(keyv);
    keyv.deleteMany = async (keys: string[]) => {
      deleted.push(keys.length);
      return deleteMany(keys);
    };
    const driver = keyvDriver({ keyv, prefix: 'b:', batchSize: 4, clock: clock.now });
    for (let i = 0; i < 10; i++) await driver.set(`k${i}`, 'v', i < 3 ? 100 : 0);
    await driver.set('other', 'v');
    clock.advance(200); // three have lapsed by the driver's clock
    expect(await driver.deletePattern('k*')).toBe(7);
    expect(deleted).toEqual([4, 4, 2]);
    expect(await driver.get('other')).toBeDefined();
    await driver.disconnect();
    expect(store.size).toBe(1); // the given instance is not disconnected or cleared
  });

  it('refuses a Keyv whose namespacing would let clear and deletePattern miss keys', async () => {
    // Keyv's iterator drops every key's first `:` part, namespace or not.
    expect(() => keyvDriver({ keyv: new Keyv({ store: new Map(), namespace: '' }) })).toThrow(
      /namespace is non-empty and has no ':'.*got ""/,
    );
    expect(() => keyvDriver({ keyv: new Keyv({ store: new Map(), namespace: 'my:app' }) })).toThrow(
      /got "my:app"/,
    );
    // Keyv's get and set take `app:k` as namespaced already; its getMany and deleteMany namespace it again.
    expect(() =>
      keyvDriver({ keyv: new Keyv({ store: new Map(), namespace: 'app' }), prefix: 'app:' }),
    ).toThrow(/prefix "app:" starts with the Keyv's own namespace "app:"/);
    expect(() => keyvDriver({ store: new Map(), prefix: 'keyv:x:' })).toThrow(/namespace "keyv:"/);
    // A key of the tier that starts so is refused, not stored where clear would not reach it.
    const keyv = new Keyv({ store: new Map(), namespace: 'e' });
    const cache = createCache({
      name: 'plans',
      ttl: '1m',
      l2: new SharedTier({ driver: keyvDriver({ keyv }) }),
    });
    await expect(cache.set('p:1', 1)).rejects.toThrow(/starts with the Keyv's namespace "e:"/);
    await cache.close();
    // Without key prefixes Keyv's iterator yields the keys as stored: any namespace setting works.
    const bare = keyvDriver({ keyv: new Keyv({ store: new Map(), namespace: '', useKeyPrefix: false }) });
    await bare.set('a:b', 'v');
    expect(await bare.deletePattern('a:*')).toBe(1);
    expect(await bare.get('a:b')).toBeUndefined();
  });

  it('a value Keyv cannot parse reads as absent: no outage, and clear and deletePattern go past it', async () => {
    const store = new Map();
    const open = () =>
      createCache({ name: 'h', ttl: '1h', l2: new SharedTier({ driver: keyvDriver({ store }) }) });
    const writer = open();
    await writer.set('x1', 'old');
    await writer.set('y', 'kept');
    // Another writer's value in the namespace, and an entry that parses to no record.
    store.set('keyv:junk', 'not json {');
    store.set('keyv:e:h:z', 'null');
    const invalidator = open();
    await invalidator.invalidatePattern('x*');
    const reader = open();
    expect(await reader.get('x1')).toBeUndefined();
    expect(await reader.get('z')).toBeUndefined();
    expect(await reader.get('y')).toBe('kept'); // the breaker stayed closed
    const driver = keyvDriver({ store });
    await expect(driver.get('junk')).resolves.toBeUndefined();
    expect(await driver.clear()).toBe(1); // y: junk and z held nothing live
    expect(store.size).toBe(0);
    for (const cache of [writer, invalidator, reader]) await cache.close();
  });

  it('a failing store reaches the caller (the driver’s own Keyv throws on errors)', async () => {
    const failing = new Map();
    failing.get = () => {
      throw new Error('store down');
    };
    const driver = keyvDriver({ store: failing });
    await expect(driver.get('k')).rejects.toThrow(/store down/);
  });

  it('a cache over a Keyv tier: reads through, and a pattern invalidation reaches L2', async () => {
    const driver = keyvDriver({ store: new Map(), prefix: 'app:' });
    const tier = new SharedTier({ driver });
    const a = createCache({ name: 'plans', ttl: '1m', l2: tier });
    const b = createCache({
      name: 'plans',
      ttl: '1m',
      l2: new SharedTier({ driver: keyvDriver({ keyv: driver.keyv, prefix: 'app:' }) }),
    });
    await a.set('p:1', { n: 1 });
    expect(await b.get('p:1')).toEqual({ n: 1 });
    await a.invalidatePattern('p:*');
    expect(await driver.getMany(['plans:p:1'])).toEqual([undefined]);
    await a.close();
    await b.close();
  });
});

describeWithRedis('keyvDriver over @keyv/redis (real redis-server)', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(async () => {
    await server?.destroy();
  });

  registerDriverSuite({
    name: 'keyv (@keyv/redis)',
    create: (prefix) => keyvDriver({ store: new KeyvRedis(server.url), prefix }),
    omits: OMITS,
  });
});
