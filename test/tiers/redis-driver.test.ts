// The Redis driver passes the conformance suite against a standalone redis-server started by this
// file (never the shared Redis on 6379). The cluster run is in redis-cluster.test.ts.
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { registerDriverSuite } from '../../src/entries/test-suite.js';
import { RedisDriver, hashTagOf } from '../../src/tiers/redis-driver.js';
import { frame } from '../../src/tiers/stamp.js';
import { manualClock } from '../helpers/clock.js';
import { describeWithRedis, withRedisServer } from './describe-with-redis.js';

describeWithRedis('RedisDriver (standalone)', () => {
  const server = withRedisServer();

  registerDriverSuite({
    name: 'redis standalone',
    create: (prefix) => new RedisDriver({ url: server().url, prefix }),
  });

  it('rejects a bad url, an unknown combination and a bad scanCount, naming the option', () => {
    expect(() => new RedisDriver({ url: 'http://x' })).toThrow(/url must be a redis/);
    expect(() => new RedisDriver({ url: server().url, cluster: [{ host: 'a', port: 1 }] })).toThrow(
      /one of url/,
    );
    expect(() => new RedisDriver({ url: server().url, scanCount: 0 })).toThrow(/scanCount/);
    expect(() => new RedisDriver({})).toThrow(/needs one of/);
    expect(() => new RedisDriver({ client: {} as never })).toThrow(/ioredis Redis or Cluster/);
    const prefixed = new Redis(server().url, { lazyConnect: true, keyPrefix: 'app:' });
    expect(() => new RedisDriver({ client: prefixed })).toThrow(/keyPrefix/);
    prefixed.disconnect();
  });

  it('sends the GETs of one tick as one MGET (batches of at most 1000), answering each in order', async () => {
    const driver = new RedisDriver({ url: server().url, prefix: 'mget:' });
    for (let i = 0; i < 1500; i++) await driver.set(`k${i}`, `v${i}`);
    const admin = new Redis(server().url);
    await admin.config('RESETSTAT');
    const values = await Promise.all(
      Array.from({ length: 1500 }, (_, i) => driver.get(i === 7 ? 'missing' : `k${i}`)),
    );
    const stats = await admin.info('commandstats');
    expect(values[7]).toBeUndefined();
    values.forEach((v, i) => i !== 7 && expect(v?.toString()).toBe(`v${i}`));
    expect(/cmdstat_mget:calls=(\d+)/.exec(stats)?.[1]).toBe('2');
    expect(stats).not.toMatch(/cmdstat_get:/);
    admin.disconnect();
    await driver.disconnect();
  });

  it('sends the versioned writes of one tick as one script call (at most 16), each answered on its own', async () => {
    const driver = new RedisDriver({ url: server().url, prefix: 'batch:' });
    const value = (stamp: number, body: string) => frame(stamp, Buffer.from(body));
    await driver.setIfNewer('held', value(5000, 'held'), 0);
    const admin = new Redis(server().url);
    await admin.config('RESETSTAT');
    const results = await Promise.all([
      driver.setIfNewer('fresh', value(1000, 'fresh'), 0),
      driver.setIfNewer('held', value(4000, 'older load'), 0), // refused: the held stamp is newer
      driver.setIfNewer('held', value(100, 'set now'), 0, true), // stored over it, stamp raised
      driver.setIfNewer('fresh', value(900, 'older'), 0), // after the first write of the same tick
      driver.setIfNewer('gone', frame(7000), 60_000), // a tombstone
    ]);
    expect(results).toEqual(['stored', 'refused', 'replaced', 'refused', 'stored']);
    expect(/cmdstat_evalsha:calls=(\d+)/.exec(await admin.info('commandstats'))?.[1]).toBe('1');
    expect((await driver.get('fresh'))?.toString()).toBe(`${'1000'.padStart(16, '0')}vfresh`);
    expect((await driver.get('held'))?.toString()).toBe(`${'5001'.padStart(16, '0')}vset now`);
    // Bigger bursts are split: 600 writes go as 37 calls of 16 and one of 8.
    await admin.config('RESETSTAT');
    const many = await Promise.all(
      Array.from({ length: 600 }, (_, i) => driver.setIfNewer(`m${i}`, value(1000 + i, `v${i}`), 60_000)),
    );
    expect(many.every((result) => result === 'stored')).toBe(true);
    expect(/cmdstat_evalsha:calls=(\d+)/.exec(await admin.info('commandstats'))?.[1]).toBe('38');
    expect((await driver.get('m599'))?.toString()).toBe(`${'1599'.padStart(16, '0')}vv599`);
    admin.disconnect();
    await driver.disconnect();
  });

  it('sends a batched write before any later command of the same tick', async () => {
    const driver = new RedisDriver({ url: server().url, prefix: 'order:' });
    const value = frame(1000, Buffer.from('v'));
    // Each command is issued in the same tick as the write before it, and must find that write done.
    const written = driver.setIfNewer('a', value, 0);
    const deleted = driver.delete('a');
    expect(await written).toBe('stored');
    expect(await deleted).toBe(true);
    const again = driver.setIfNewer('b', value, 0);
    const read = driver.getMany(['b']);
    const added = driver.add('b', 'lock', 60_000);
    expect(await again).toBe('stored');
    expect((await read)[0]?.toString()).toBe(`${'1000'.padStart(16, '0')}vv`);
    expect(await added).toBe(false);
    // A GET of the same tick is answered after the write too.
    const third = driver.setIfNewer('c', value, 0);
    const got = driver.get('c');
    expect(await third).toBe('stored');
    expect((await got)?.toString()).toBe(`${'1000'.padStart(16, '0')}vv`);
    await driver.disconnect();
  });

  it('sends a write at once only when no earlier command still waits in the auto-pipeline', async () => {
    const driver = new RedisDriver({ url: server().url, prefix: 'direct:' });
    const admin = new Redis(server().url);
    await admin.set('direct:a', 'old');
    await driver.setIfNewer('warm', frame(1000, 'w'), 0); // the server has the script: EVALSHA succeeds
    // The UNLINK waits in ioredis's auto-pipeline until the check phase, and the batched write goes out
    // at the end of this tick: sent past the pipeline, it would land first and the UNLINK would remove it.
    const client = driver.client as Redis;
    const deleted = driver.delete('a');
    await Promise.resolve();
    expect(client.autoPipelineQueueSize).toBe(1);
    const written = driver.setIfNewer('a', frame(1000, 'new'), 0);
    expect(await deleted).toBe(true);
    expect(await written).toBe('stored');
    expect(await admin.get('direct:a')).toBe(`${'1000'.padStart(16, '0')}vnew`);
    // With nothing held back, the write reaches Redis before the auto-pipeline would have sent it:
    // a command queued after it, in the same tick, still finds it done.
    const again = driver.setIfNewer('b', frame(1000, 'b'), 0);
    await new Promise((resolve) => process.nextTick(resolve));
    expect(client.autoPipelineQueueSize).toBe(0);
    const read = client.get('direct:b');
    expect(await again).toBe('stored');
    expect(await read).toBe(`${'1000'.padStart(16, '0')}vb`);
    admin.disconnect();
    await driver.disconnect();
  });

  it('overwrites a key that holds another type, as a plain SET would, within a batch of writes', async () => {
    const driver = new RedisDriver({ url: server().url, prefix: 'wrong:' });
    const admin = new Redis(server().url);
    await admin.rpush('wrong:list', 'x'); // not a string: it reads as absent
    const results = await Promise.all([
      driver.setIfNewer('before', frame(1000, 'b'), 0),
      driver.setIfNewer('list', frame(1000, 'l'), 0),
      driver.setIfNewer('after', frame(1000, 'a'), 0),
    ]);
    expect(results).toEqual(['stored', 'stored', 'stored']);
    expect(await admin.type('wrong:list')).toBe('string');
    expect((await driver.get('list'))?.toString()).toBe(`${'1000'.padStart(16, '0')}vl`);
    admin.disconnect();
    await driver.disconnect();
  });

  it('carries any value and each key its own TTL through one batched write', async () => {
    const driver = new RedisDriver({ url: server().url, prefix: 'pack:' });
    const admin = new Redis(server().url);
    const big = Buffer.alloc(70_000, 0xfe); // past 64 KiB: the long length form
    const text = 'ünïcödé ✓ 漢字'; // a string value goes as UTF-8
    const results = await Promise.all([
      driver.setIfNewer('big', frame(1000, big), 60_000),
      driver.setIfNewer('text', frame(1000, text), 0),
      driver.setIfNewer('short', frame(1000, Buffer.from('s')), 5_000),
    ]);
    expect(results).toEqual(['stored', 'stored', 'stored']);
    const held = await driver.get('big');
    expect(Buffer.isBuffer(held) && held.subarray(17).equals(big)).toBe(true);
    expect((await driver.get('text'))?.toString()).toBe(`${'1000'.padStart(16, '0')}v${text}`);
    expect(await admin.pttl('pack:big')).toBeGreaterThan(55_000);
    expect(await admin.pttl('pack:text')).toBe(-1);
    const short = await admin.pttl('pack:short');
    expect(short).toBeGreaterThan(0);
    expect(short).toBeLessThanOrEqual(5_000);
    admin.disconnect();
    await driver.disconnect();
  });

  it('rejects each write of a batch whose SET failed with the error Redis gave it', async () => {
    const driver = new RedisDriver({ url: server().url, prefix: 'oom:' });
    const admin = new Redis(server().url);
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await admin.config('SET', 'maxmemory', '1');
    try {
      const results = await Promise.allSettled([
        driver.setIfNewer('a', frame(1000, 'a'), 0),
        driver.setIfNewer('b', frame(1000, 'b'), 60_000),
      ]);
      for (const result of results) {
        expect(result.status).toBe('rejected');
        expect(String((result as PromiseRejectedResult).reason)).toMatch(/OOM/);
      }
    } finally {
      await admin.config('SET', 'maxmemory', '0');
    }
    expect(await driver.setIfNewer('a', frame(1000, 'a'), 0)).toBe('stored');
    admin.disconnect();
    await driver.disconnect();
  });

  it('dates the first-connection deadline by the clock it is given', async () => {
    const clock = manualClock();
    const driver = new RedisDriver({ url: 'redis://127.0.0.1:1', connectTimeout: '1m', clock: clock.now });
    clock.advance(60_000); // the minute has passed on the driver's clock, not in real time
    const started = Date.now();
    await expect(driver.get('k')).rejects.toMatchObject({ type: 'TIER_UNAVAILABLE' });
    expect(Date.now() - started).toBeLessThan(300);
    await driver.disconnect();
  });

  it('uses a client it is given and leaves it open on disconnect', async () => {
    const client = new Redis(server().url);
    const driver = new RedisDriver({ client, prefix: 'own:' });
    await driver.set('k', 'v');
    expect((await client.get('own:k')) ?? undefined).toBe('v');
    await driver.disconnect();
    expect(await client.ping()).toBe('PONG');
    client.disconnect();
  });

  it('waits connectTimeout for a first connection, then fails fast with TIER_UNAVAILABLE', async () => {
    const driver = new RedisDriver({ url: 'redis://127.0.0.1:1', connectTimeout: 400 });
    const started = Date.now();
    await expect(driver.get('k')).rejects.toMatchObject({ type: 'TIER_UNAVAILABLE' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
    const again = Date.now();
    await expect(driver.get('k')).rejects.toMatchObject({ type: 'TIER_UNAVAILABLE' });
    expect(Date.now() - again).toBeLessThan(300);
    await driver.disconnect();
  });
});

describe('hashTagOf', () => {
  it('follows Redis Cluster: the first non-empty {…} section, else the whole key', () => {
    expect(hashTagOf('t:{plans}:org')).toBe('plans');
    expect(hashTagOf('a{x}b{y}')).toBe('x');
    expect(hashTagOf('a{}b')).toBe('a{}b');
    expect(hashTagOf('a{x')).toBe('a{x');
    expect(hashTagOf('plain')).toBe('plain');
  });
});
