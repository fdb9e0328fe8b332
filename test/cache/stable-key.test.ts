import { describe, expect, it } from 'vitest';
import { MAX_PLAIN_KEY_LENGTH, stableKey } from '../../src/cache/stable-key.js';

describe('stableKey', () => {
  it('is independent of object key order, recursively', () => {
    expect(stableKey([{ a: 1, b: { c: 2, d: 3 } }])).toBe(stableKey([{ b: { d: 3, c: 2 }, a: 1 }]));
  });

  it('distinguishes values that print alike', () => {
    const keys = [
      [1],
      ['1'],
      [true],
      ['true'],
      [null],
      [undefined],
      [],
      [[]],
      [{}],
      [{ a: undefined }],
      [new Date(0)],
      [new Date(0).toISOString()],
      [1n],
      [[1, 2]],
      [1, 2],
      ['a,b'],
      ['a', 'b'],
      [new Map([[1, 2]])],
      [new Set([1])],
    ].map(stableKey);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('handles dates, nested arrays, maps and sets deterministically', () => {
    const a = stableKey([
      new Date('2025-01-02T03:04:05Z'),
      [1, [2, [3]]],
      new Set([3, 1]),
      new Map([
        ['b', 1],
        ['a', 2],
      ]),
    ]);
    const b = stableKey([
      new Date('2025-01-02T03:04:05Z'),
      [1, [2, [3]]],
      new Set([1, 3]),
      new Map([
        ['a', 2],
        ['b', 1],
      ]),
    ]);
    expect(a).toBe(b);
    expect(a).toContain('2025-01-02T03:04:05.000Z');
  });

  it('class instances differ from plain objects with the same fields', () => {
    class Point {
      constructor(public x: number) {}
    }
    expect(stableKey([new Point(1)])).not.toBe(stableKey([{ x: 1 }]));
  });

  it('refuses functions, symbols and cycles with a TypeError', () => {
    expect(() => stableKey([() => 1])).toThrow(TypeError);
    expect(() => stableKey([Symbol('s')])).toThrow(TypeError);
    const cyclic: any = { a: 1 };
    cyclic.self = cyclic;
    expect(() => stableKey([cyclic])).toThrow(/cyclic/);
    const shared = { a: 1 };
    expect(() => stableKey([shared, shared])).not.toThrow();
  });

  it('refuses instances whose state it cannot see, instead of keying them all alike', () => {
    class Account {
      readonly #id: number;
      constructor(id: number) {
        this.#id = id;
      }
      get id(): number {
        return this.#id;
      }
    }
    for (const value of [new Account(1), new Error('a'), Object(1) as object, Promise.resolve(1)]) {
      expect(() => stableKey([value])).toThrow(/pass a key function/);
    }
    expect(() => stableKey([{ [Symbol('user')]: 1 }])).toThrow(/symbol keys/);
  });

  it('tells apart arrays with holes, and anonymous class instances from plain objects', () => {
    // eslint-disable-next-line no-sparse-arrays
    expect(stableKey([[, 1]])).not.toBe(stableKey([[1]]));
    expect(stableKey([new Array(1)])).not.toBe(stableKey([[]]));
    const Anonymous = (() => class {})();
    expect(stableKey([Object.assign(new Anonymous(), { x: 1 })])).not.toBe(stableKey([{ x: 1 }]));
  });

  it('replaces very long keys by a digest that still tells values apart', () => {
    const long1 = stableKey(['x'.repeat(2000)]);
    const long2 = stableKey(['x'.repeat(1999) + 'y']);
    expect(long1.length).toBeLessThanOrEqual(MAX_PLAIN_KEY_LENGTH);
    expect(long1.startsWith('#')).toBe(true);
    expect(long1).not.toBe(long2);
    expect(stableKey(['x'.repeat(2000)])).toBe(long1);
  });
});
