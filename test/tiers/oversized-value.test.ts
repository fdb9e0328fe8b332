// Values read back from the shared tier are untrusted, and no input may block the event loop: one whose
// stored bytes exceed `maxValueBytes` (default 4 MiB) is a miss that is never decoded (a 50 MB msgpack
// array of zeros planted in Redis blocked the loop 5.3 s when it was), reported like a corrupt entry and
// removed. A value whose encoding exceeds it is not written to L2: it stays in L1, and the key's old L2
// value is replaced by a tombstone and other instances are told, so none serves the old value afterwards.
import { gzipSync } from 'node:zlib';
import { Redis } from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import { createCodec } from '../../src/codec/codec.js';
import { jsonSerializer, msgpackSerializer } from '../../src/codec/serializer.js';
import type { Serializer } from '../../src/codec/serializer.js';
import { MemoryBusHub } from '../../src/tiers/bus.js';
import type { DriverValue } from '../../src/tiers/driver.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { memoryTier, redisTier } from '../../src/tiers/redis-tier.js';
import { SharedTier } from '../../src/tiers/shared-tier.js';
import { frame, unframe } from '../../src/tiers/stamp.js';
import { DEFAULT_MAX_RESPONSE_BYTES } from '../../src/http/http-cache.js';
import type { StoredResponse } from '../../src/http/stored-response.js';
import { DEFAULT_MAX_VALUE_BYTES } from '../../src/tiers/value-limit.js';
import { consoleLogger } from '../helpers/logger.js';
import { describeWithRedis, withRedisServer } from './describe-with-redis.js';

const MiB = 1024 * 1024;

/** A serializer whose deserialize calls are counted (what the size check must spare). */
function spied(inner: Serializer = msgpackSerializer()): {
  serializer: Serializer;
  deserialize: ReturnType<typeof vi.fn>;
} {
  const deserialize = vi.fn((data: DriverValue) => inner.deserialize(data));
  return { serializer: { name: inner.name, serialize: (v) => inner.serialize(v), deserialize }, deserialize };
}

/**
 * The bytes a tier writes for `value` (an entry fresh for a minute), framed with a stamp. Not strict:
 * checking that 5 Mi array items round-trip takes seconds.
 */
function stored(value: unknown, serializer: Serializer = msgpackSerializer({ strict: false })): DriverValue {
  const now = Date.now();
  const record = { value, createdAt: now, staleAt: now + 60_000, graceUntil: now + 60_000, tags: [] };
  return frame(now * 1000, createCodec(serializer).encode(record));
}

function byteLength(raw: DriverValue): number {
  return typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length;
}

describe('maxValueBytes validation', () => {
  const driver = () => new MemoryDriver();
  it.each([
    [0, 'RangeError', RangeError],
    [-1, 'RangeError', RangeError],
    [1.5, 'RangeError', RangeError],
    [Number.NaN, 'RangeError', RangeError],
    [Infinity, 'RangeError', RangeError],
    ['4mb', 'TypeError', TypeError],
    [4n, 'TypeError', TypeError],
  ])('refuses %s with a %s naming the option', (bad, _, kind) => {
    const make = () => new SharedTier({ driver: driver(), maxValueBytes: bad as never });
    expect(make).toThrow(kind);
    expect(make).toThrow(/^maxValueBytes must be a positive integer number of bytes/);
  });

  it('is taken by memoryTier and redisTier', () => {
    expect(() => memoryTier({ maxValueBytes: 1024 })).not.toThrow();
    expect(() => memoryTier({ maxValueBytes: 0 })).toThrow(RangeError);
    expect(() => redisTier({ url: 'redis://127.0.0.1:1', maxValueBytes: -5 })).toThrow(
      /maxValueBytes must be a positive integer number of bytes, got -5/,
    );
  });
});

describe('an L2 value larger than maxValueBytes, read', () => {
  it('is a miss that is never decoded, reported, and removed (get)', async () => {
    const driver = new MemoryDriver();
    const { serializer, deserialize } = spied();
    const tier = memoryTier({ driver, serializer, maxValueBytes: 1000 });
    const binding = tier.bind('m');
    const errors: unknown[] = [];
    binding.onError((error) => errors.push(error));
    const big = stored('x'.repeat(2000));
    const small = stored('y'.repeat(900));
    expect(byteLength(small)).toBeLessThanOrEqual(1000);
    await driver.set('e:m:big', big);
    await driver.set('e:m:small', small);
    expect(await binding.get('big')).toBeUndefined();
    expect(deserialize).not.toHaveBeenCalled();
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toMatch(/"big".*more than maxValueBytes \(1000\)/);
    await vi.waitFor(async () => expect(await driver.get('e:m:big')).toBeUndefined());
    // A value within the limit is read as before.
    expect((await binding.get('small'))?.value).toBe('y'.repeat(900));
    expect(deserialize).toHaveBeenCalledTimes(1);
    expect(binding.health().l2.oversizedReads).toBe(1);
    await binding.close();
  });

  it('is a miss that is never decoded, reported, and removed (getMany)', async () => {
    const driver = new MemoryDriver();
    const { serializer, deserialize } = spied();
    const binding = memoryTier({ driver, serializer, maxValueBytes: 1000 }).bind('m');
    const errors: unknown[] = [];
    binding.onError((error) => errors.push(error));
    await driver.set('e:m:big', stored('x'.repeat(2000)));
    await driver.set('e:m:small', stored('small'));
    const [big, small] = await binding.getMany(['big', 'small']);
    expect(big).toBeUndefined();
    expect(small?.value).toBe('small');
    expect(deserialize).toHaveBeenCalledTimes(1);
    expect(errors).toHaveLength(1);
    await vi.waitFor(async () => expect(await driver.get('e:m:big')).toBeUndefined());
    await binding.close();
  });

  it('is not vouched for when restored, without being decoded', async () => {
    const driver = new MemoryDriver();
    const { serializer, deserialize } = spied();
    const binding = memoryTier({ driver, serializer, maxValueBytes: 1000 }).bind('m');
    await driver.set('e:m:big', stored('x'.repeat(2000)));
    const [ok] = await binding.verifyRestored([{ key: 'big', createdAt: 0, staleAt: 0, expiresAt: 0 }]);
    expect(ok).toBe(false);
    expect(deserialize).not.toHaveBeenCalled();
    await binding.close();
  });

  it('does not apply to a tombstone, however small the bound', async () => {
    const driver = new MemoryDriver();
    const binding = memoryTier({ driver, maxValueBytes: 1 }).bind('m');
    const errors: unknown[] = [];
    binding.onError((error) => errors.push(error));
    await binding.delete('k');
    const tombstone = (await driver.get('e:m:k'))!;
    expect(unframe(tombstone).tombstone).toBe(true);
    expect(await binding.get('k')).toBeUndefined();
    expect(await binding.getMany(['k'])).toEqual([undefined]);
    expect(errors).toEqual([]);
    expect(await driver.get('e:m:k')).toEqual(tombstone); // kept, so older loads cannot land
    await binding.close();
  });

  it('counts a string value in UTF-8 bytes, not characters', async () => {
    const driver = new MemoryDriver();
    const { serializer, deserialize } = spied(jsonSerializer());
    const binding = memoryTier({ driver, serializer, maxValueBytes: 1000 }).bind('m');
    // 600 characters, 1200 bytes and more: over the limit though its length is not.
    const raw = stored('é'.repeat(600), jsonSerializer());
    expect(typeof raw).toBe('string');
    expect((raw as string).length).toBeLessThan(1000);
    await driver.set('e:m:k', raw);
    expect(await binding.get('k')).toBeUndefined();
    expect(deserialize).not.toHaveBeenCalled();
    await binding.close();
  });
});

describe('a compressed L2 value that inflates past maxValueBytes', () => {
  // A few kB of gzip inflate to 16 MiB of msgpack zeros (about 0.65 s to decode): the bound applies to
  // what is deserialized, not only to what is stored.
  const bomb = (): Buffer => {
    const body = msgpackSerializer({ strict: false }).serialize({
      value: new Array<number>(5000).fill(0),
      createdAt: Date.now(),
      staleAt: 0,
      graceUntil: 0,
      tags: [],
    }) as Buffer;
    return frame(Date.now() * 1000, Buffer.concat([Buffer.of(1), gzipSync(body)])) as Buffer;
  };

  it.each([
    ['compression off (another instance wrote it)', false as const],
    ['compression on', {}],
  ])('%s: is a miss, and nothing larger than the bound is deserialized', async (_, compression) => {
    const driver = new MemoryDriver();
    const { serializer, deserialize } = spied();
    const binding = memoryTier({ driver, serializer, compression, maxValueBytes: 1000 }).bind('m');
    const errors: unknown[] = [];
    binding.onError((error) => errors.push(error));
    const raw = bomb();
    expect(raw.length).toBeLessThan(1000);
    await driver.set('e:m:k', raw);
    expect(await binding.get('k')).toBeUndefined();
    for (const [data] of deserialize.mock.calls) expect(byteLength(data as DriverValue)).toBeLessThan(1000);
    expect(errors).toHaveLength(1);
    expect(String((errors[0] as Error).cause)).toMatch(/maxValueBytes \(1000 bytes\)/);
    await vi.waitFor(async () => expect(await driver.get('e:m:k')).toBeUndefined());
    await binding.close();
  });

  it('a value that only compression brings under the bound is not written', async () => {
    const driver = new MemoryDriver();
    const binding = memoryTier({ driver, compression: {}, maxValueBytes: 1000 }).bind('m');
    const now = Date.now();
    const entry = { value: 'x'.repeat(5000), createdAt: now, staleAt: 0, expiresAt: 0, tags: [] };
    expect(await binding.set('k', entry)).toBe(true);
    expect(unframe((await driver.get('e:m:k'))!).tombstone).toBe(true);
    expect(binding.health().l2.oversizedWrites).toBe(1);
    await binding.close();
  });
});

describe('a value whose encoding is larger than maxValueBytes, written', () => {
  it('stays in L1; no instance serves the old L2 value; logged at warn once a minute', async () => {
    const driver = new MemoryDriver();
    const hub = new MemoryBusHub();
    let now = Date.now();
    const clock = () => now;
    const { logger, lines } = consoleLogger();
    const open = (instanceId: string) =>
      createCache<string>({
        name: 'm',
        clock,
        l2: memoryTier({ driver, hub, instanceId, maxValueBytes: 1000, logger, clock }),
      });
    const a = open('a');
    const b = open('b');
    try {
      await a.set('k', 'old');
      expect(await b.get('k')).toBe('old'); // now in b's L1 too
      const big = 'x'.repeat(5000);
      await a.set('k', big);
      expect(await a.get('k')).toBe(big);
      // L2 holds no value for the key (a tombstone), and b heard of the write.
      const held = await driver.get('e:m:k');
      expect(held === undefined || unframe(held).tombstone).toBe(true);
      await vi.waitFor(async () => expect(await b.get('k')).toBeUndefined());
      const c = open('c');
      expect(await c.get('k')).toBeUndefined();
      await c.close();
      const warns = () => lines.filter((line) => line.level === 'warn');
      expect(warns()).toHaveLength(1);
      expect(warns()[0]!.message).toMatch(/maxValueBytes/);
      expect(warns()[0]!.fields).toMatchObject({ cache: 'm', key: 'k', maxValueBytes: 1000 });
      expect(warns()[0]!.fields.bytes).toBeGreaterThan(5000);
      // More within the minute: counted, not logged.
      await a.set('k2', big);
      await a.set('k3', big);
      expect(warns()).toHaveLength(1);
      expect(a.health().l2?.oversizedWrites).toBe(3);
      now += 60_000;
      await a.set('k4', big);
      expect(warns()).toHaveLength(2);
      expect(warns()[1]!.fields).toMatchObject({ key: 'k4', notLogged: 2 });
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('is not stored over a newer L2 value when it is an older load', async () => {
    const driver = new MemoryDriver();
    const a = memoryTier({ driver, maxValueBytes: 1000 }).bind('m');
    const b = memoryTier({ driver }).bind('m');
    const older = a.stamp(); // a's load began before b's write
    const entry = (value: string, version?: number) => ({
      value,
      createdAt: Date.now(),
      staleAt: 0,
      expiresAt: 0,
      tags: [],
      ...(version === undefined ? {} : { version }),
    });
    expect(await b.set('k', entry('newer'))).toBe(true);
    // Refused as a load's result landing on a newer write would be: the caller must not keep it.
    expect(await a.set('k', entry('x'.repeat(5000), older))).toBe(false);
    expect((await b.get('k'))?.value).toBe('newer');
    await Promise.all([a.close(), b.close()]);
  });
});

describe('the default maxValueBytes', () => {
  it('stores an HTTP response of the largest body the HTTP layer caches by default, with room to spare', async () => {
    const driver = new MemoryDriver();
    const binding = memoryTier({ driver }).bind('http');
    // The worst case for msgpack: a latin1 body of bytes 0x80-0xFF takes two bytes each as UTF-8.
    const body = Buffer.alloc(DEFAULT_MAX_RESPONSE_BYTES, 0xe9).toString('latin1');
    const response: StoredResponse = {
      kind: 'larder:http:2',
      status: 200,
      headers: ['content-type', 'application/octet-stream', 'date', new Date().toUTCString()],
      body,
      etag: '"e"',
      handlerEtag: false,
      lastModified: undefined,
      storedAt: Date.now(),
      initialAge: 0,
      lifetime: 60_000,
      mustRevalidate: false,
      staleWhileRevalidate: 0,
      staleIfError: 0,
      scheme: 'https',
    };
    const now = Date.now();
    const entry = {
      value: response,
      createdAt: now,
      staleAt: now + 60_000,
      expiresAt: now + 60_000,
      tags: [],
    };
    expect(await binding.set('GET /big', entry)).toBe(true);
    const held = (await driver.get('e:http:GET /big'))!;
    expect(unframe(held).tombstone).toBe(false);
    expect(byteLength(held)).toBeGreaterThan(2 * DEFAULT_MAX_RESPONSE_BYTES);
    expect(byteLength(held)).toBeLessThan(DEFAULT_MAX_VALUE_BYTES - DEFAULT_MAX_RESPONSE_BYTES);
    expect(((await binding.get('GET /big'))?.value as StoredResponse).body).toBe(body);
    await binding.close();
  });
});

describeWithRedis('oversized values over Redis', () => {
  const server = withRedisServer();

  it('a planted 5 MB value under a cache key is a miss, not decoded, and removed (get and getMany)', async () => {
    const raw = new Redis(server().url);
    const { serializer, deserialize } = spied();
    // A long call timeout: the compare-and-delete sends the value back to Redis.
    const cache = createCache<unknown>({
      name: 'users',
      l2: redisTier({ url: server().url, prefix: 'ov:', serializer, timeout: '5s', bus: false }),
    });
    const errors: unknown[] = [];
    cache.on('cache:error', (event) => errors.push(event.error));
    try {
      // 5 Mi msgpack zeros (one byte each): decoding it would take about half a second.
      const bomb = stored(new Array<number>(5 * MiB).fill(0));
      expect(byteLength(bomb)).toBeGreaterThan(4 * MiB);
      await raw.set('ov:e:users:k', bomb as Buffer);
      expect(await cache.get('k')).toBeUndefined();
      expect(deserialize).not.toHaveBeenCalled();
      expect(errors).toHaveLength(1);
      await vi.waitFor(async () => expect(await raw.exists('ov:e:users:k')).toBe(0));

      await raw.set('ov:e:users:k', bomb as Buffer);
      await raw.set('ov:e:users:small', stored('fine') as Buffer);
      expect(await cache.getMany(['k', 'small'])).toEqual([undefined, 'fine']);
      expect(deserialize).toHaveBeenCalledTimes(1);
      expect(errors).toHaveLength(2);
      await vi.waitFor(async () => expect(await raw.exists('ov:e:users:k')).toBe(0));
    } finally {
      await cache.close();
      raw.disconnect();
    }
  });

  it('a write over the limit leaves no old value for another instance to serve', async () => {
    const raw = new Redis(server().url);
    const open = () =>
      createCache<string>({
        name: 'users',
        l2: redisTier({ url: server().url, prefix: 'ow:', timeout: '5s' }),
      });
    const a = open();
    const b = open();
    try {
      await a.set('k', 'old');
      expect(await b.get('k')).toBe('old'); // in b's L1 too
      const big = 'x'.repeat(4 * MiB + 1);
      await a.set('k', big);
      expect(await a.get('k')).toBe(big);
      const held = await raw.getBuffer('ow:e:users:k');
      expect(held === null || unframe(held).tombstone).toBe(true);
      await vi.waitFor(async () => expect(await b.get('k')).toBeUndefined());
      expect(a.health().l2?.oversizedWrites).toBe(1);
    } finally {
      await a.close();
      await b.close();
      raw.disconnect();
    }
  });
});
