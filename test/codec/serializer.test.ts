// Serializers: the default must give back what L1 holds, type for type; JSON is plain interop;
// values that cannot round-trip are refused with an error naming where they are.
import { describe, expect, it } from 'vitest';
import { assertFaithful, jsonSerializer, msgpackSerializer } from '../../src/codec/serializer.js';

const msgpack = msgpackSerializer();
const roundTrip = <T>(value: T): T => msgpack.deserialize(msgpack.serialize(value)) as T;

describe('msgpackSerializer', () => {
  it('round-trips plain objects and arrays', () => {
    const value = { a: 1, b: 'two', c: [1, 'x', null, true, 2.5], d: { e: { f: [] as unknown[] } } };
    expect(roundTrip(value)).toEqual(value);
  });

  it('round-trips Date as a Date with the same time', () => {
    const back = roundTrip({ at: new Date('2026-11-21T12:34:56.789Z') });
    expect(back.at).toBeInstanceOf(Date);
    expect(back.at.getTime()).toBe(Date.parse('2026-11-21T12:34:56.789Z'));
  });

  it('round-trips Map and Set with non-string keys and nested values', () => {
    const back = roundTrip({
      m: new Map<unknown, unknown>([
        [1, { x: 2 }],
        ['k', new Set([1])],
      ]),
      s: new Set(['a', 3]),
    });
    expect(back.m).toBeInstanceOf(Map);
    expect(back.m.get(1)).toEqual({ x: 2 });
    expect(back.m.get('k')).toBeInstanceOf(Set);
    expect(back.s).toBeInstanceOf(Set);
    expect([...back.s]).toEqual(['a', 3]);
  });

  it('round-trips BigInt, small and large, negative too', () => {
    const back = roundTrip({ small: 5n, large: 12345678901234567890123n, neg: -42n });
    expect(back).toEqual({ small: 5n, large: 12345678901234567890123n, neg: -42n });
    expect(typeof back.small).toBe('bigint');
  });

  it('keeps undefined fields and undefined array items', () => {
    const back = roundTrip({ present: 1, missing: undefined, list: [1, undefined, 3] });
    expect('missing' in back).toBe(true);
    expect(back.missing).toBeUndefined();
    expect(back.list).toEqual([1, undefined, 3]);
    expect(back.list.length).toBe(3);
  });

  it('round-trips Buffers as Buffers with the same bytes', () => {
    const buf = Buffer.from([0, 255, 1, 128]);
    const back = roundTrip({ buf });
    expect(Buffer.isBuffer(back.buf)).toBe(true);
    expect(back.buf.equals(buf)).toBe(true);
  });

  it('keeps shared and circular references', () => {
    const shared = { id: 1 };
    const value: Record<string, unknown> = { a: shared, b: shared };
    value.self = value;
    const back = roundTrip(value);
    expect(back.a).toBe(back.b);
    expect(back.self).toBe(back);
  });

  it('refuses functions, symbols, promises and class instances, naming the path', () => {
    class Plan {
      id = 1;
    }
    expect(() => msgpack.serialize({ a: { fn: () => 1 } })).toThrow(/value\.a\.fn is a function/);
    expect(() => msgpack.serialize({ s: Symbol('x') })).toThrow(/value\.s is a symbol/);
    expect(() => msgpack.serialize({ p: Promise.resolve() })).toThrow(/Promise/);
    expect(() => msgpack.serialize([new Plan()])).toThrow(/instance of Plan/);
    expect(() => msgpack.serialize(new Map([['k', () => 1]]))).toThrow(/function/);
  });

  it('with strict: false lets msgpackr drop what it cannot encode', () => {
    const lax = msgpackSerializer({ strict: false });
    expect(lax.deserialize(lax.serialize({ fn: () => 1, n: 1 }))).toEqual({ fn: undefined, n: 1 });
  });

  it('assertFaithful accepts typed arrays, errors and null-prototype objects', () => {
    const bare = Object.create(null) as Record<string, unknown>;
    bare.x = 1;
    expect(() => assertFaithful({ t: new Float64Array(2), e: new Error('x'), bare, r: /x/g })).not.toThrow();
  });
});

describe('jsonSerializer', () => {
  const json = jsonSerializer();

  it('round-trips JSON values and reads Buffers as UTF-8', () => {
    const value = { a: [1, 'é', null], b: { c: true } };
    expect(json.deserialize(json.serialize(value))).toEqual(value);
    expect(json.deserialize(Buffer.from(JSON.stringify(value)))).toEqual(value);
  });

  it('stores plain text other languages can read', () => {
    expect(json.serialize({ a: 1 })).toBe('{"a":1}');
  });

  it('refuses BigInt and top-level undefined', () => {
    expect(() => json.serialize({ n: 1n })).toThrow(TypeError);
    expect(() => json.serialize(undefined)).toThrow(/cannot be stored as JSON/);
  });
});
