// Values msgpackr would silently change on the way through L2 are refused at serialize (strict) with a
// TypeError naming the part, rather than served back different from what was written.
import { describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { createCache } from '../../src/cache/create-cache.js';
import { msgpackSerializer } from '../../src/codec/serializer.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { memoryTier } from '../../src/tiers/redis-tier.js';

const serializer = msgpackSerializer();
const MiB = 1024 * 1024;

function sparse(): unknown[] {
  const array = [1, 2, 3];
  delete array[1];
  return array;
}

describe('msgpackSerializer (strict) refuses values it would change', () => {
  it.each([
    ['-0', { n: -0 }, /value\.n is -0/],
    ['a lone surrogate in a string', { s: 'a\ud800b' }, /value\.s .*lone surrogate/],
    ['a lone surrogate in a key', { ['k\udc00']: 1 }, /lone surrogate/],
    ['an own __proto__ key', JSON.parse('{"a":{"__proto__":{"x":1}}}'), /value\.a .*__proto__/],
    ['a symbol key', { a: { [Symbol('s')]: 1 } }, /value\.a .*symbol key/],
    ['a sparse array', { list: sparse() }, /value\.list .*hole/],
    ['an array with a named property', { list: Object.assign([1], { extra: 2 }) }, /value\.list .*extra/],
    [
      'an array with as many holes as named properties',
      { list: Object.assign(sparse(), { x: 1 }) },
      /value\.list .*hole/,
    ],
  ])('%s', (_name, value, message) => {
    expect(() => serializer.serialize(value)).toThrow(TypeError);
    expect(() => serializer.serialize(value)).toThrow(message);
  });

  it.each([
    [
      'an Error subclass',
      { e: new (class NotFound extends Error {})('m') },
      /value\.e is an instance of NotFound/,
    ],
    [
      'an AggregateError',
      { e: new AggregateError([new Error('x')], 'm') },
      /value\.e is an instance of AggregateError/,
    ],
    [
      'an error with a property',
      { e: Object.assign(new Error('m'), { status: 404 }) },
      /value\.e .*"status"/,
    ],
  ])('%s', (_name, value, message) => {
    expect(() => serializer.serialize(value)).toThrow(message);
  });

  it('still round-trips built-in errors with their class, message, name and cause', () => {
    const error = new RangeError('m', { cause: { a: 1 } });
    const named = Object.assign(new Error('n'), { name: 'Custom' });
    const back = serializer.deserialize(serializer.serialize({ error, named })) as Record<string, Error>;
    expect(back.error).toBeInstanceOf(RangeError);
    expect(back.error!.message).toBe('m');
    expect(back.error!.cause).toEqual({ a: 1 });
    expect(back.named!.name).toBe('Custom');
  });

  it('still refuses inside a value too large for the fast check', () => {
    const value = { list: Array.from({ length: 300 }, (_, i) => ({ i })), n: -0 };
    expect(() => serializer.serialize(value)).toThrow(/value\.n is -0/);
  });

  it('still round-trips what it can: 0, well-formed strings with surrogate pairs, dense arrays', () => {
    const value = { n: 0, s: 'a😀b', list: [1, undefined, 3], m: new Map([['k', -1]]) };
    expect(serializer.deserialize(serializer.serialize(value))).toEqual(value);
  });
});

describe('msgpackSerializer reading untrusted bytes', () => {
  it.each([
    ['array 32', [0xdd, 0x01, 0xff, 0xff, 0xff]],
    ['array 16 inside a map', [0x81, 0xa1, 0x61, 0xdc, 0xff, 0xff]],
    ['map 32', [0xdf, 0x00, 0x10, 0x00, 0x00]],
  ])('refuses a %s header declaring more items than bytes follow, before allocating them', (_name, bytes) => {
    const started = performance.now();
    expect(() => serializer.deserialize(Buffer.from(bytes))).toThrow(/declares .* items/);
    expect(performance.now() - started).toBeLessThan(50);
  });

  it('still reads what it wrote: records, extensions, big arrays and maps', () => {
    const value = {
      rows: Array.from({ length: 70_000 }, (_, i) => ({ id: i, name: `n${i}`, at: new Date(i) })),
      set: new Set([1, 'a', 2n ** 70n]),
      map: new Map(Array.from({ length: 300 }, (_, i) => [i, [i, -i - 1, i / 3]])),
      bytes: Buffer.alloc(70_000, 7),
      floats: new Float64Array([1.5, -2]),
      nested: [[[[[]]]], {}, null, true, false, 'x'.repeat(70_000)],
    };
    expect(serializer.deserialize(serializer.serialize(value))).toEqual(value);
  });
});

describe('hostile bytes under a shared-tier key', () => {
  const cases: Array<[string, Buffer]> = [
    ['an array header declaring 2^25 items', Buffer.from([0x00, 0xdd, 0x01, 0xff, 0xff, 0xff])],
    ['arrays nested 200,000 deep', Buffer.concat([Buffer.of(0x00), Buffer.alloc(200_000, 0x91)])],
    [
      'a gzip bomb past maxDecompressedBytes',
      Buffer.concat([Buffer.of(0x01), gzipSync(Buffer.alloc(2 * MiB))]),
    ],
  ];

  it.each(cases)('%s is a miss, reported, and the loader replaces it', async (_name, planted) => {
    const driver = new MemoryDriver();
    const cache = createCache<string>({
      name: 'h',
      l2: memoryTier({ driver, compression: { maxDecompressedBytes: MiB } }),
    });
    const errors: unknown[] = [];
    cache.on('cache:error', (e) => errors.push(e.error));
    await driver.set('e:h:k', planted);
    expect(await cache.getOrSet('k', async () => 'fresh')).toBe('fresh');
    expect(errors[0]).toMatchObject({ type: 'SERIALIZATION_FAILED' });
    expect(await driver.get('e:h:k')).not.toEqual(planted);
    await cache.close();
  });
});
