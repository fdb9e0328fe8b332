// Values msgpackr would silently change on the way through L2 are refused at serialize (strict) with a
// TypeError naming the part, rather than served back different from what was written.
import { describe, expect, it } from 'vitest';
import { msgpackSerializer } from '../../src/codec/serializer.js';

const serializer = msgpackSerializer();

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
  ])('%s', (_name, value, message) => {
    expect(() => serializer.serialize(value)).toThrow(TypeError);
    expect(() => serializer.serialize(value)).toThrow(message);
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
