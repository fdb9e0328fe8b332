// The shared validators: each accepts what it should and throws a TypeError/RangeError naming `where`.
import { describe, expect, it } from 'vitest';
import {
  assertBoolean,
  assertByteCount,
  assertFraction,
  assertFunction,
  assertKey,
  assertPositiveInteger,
  assertTags,
  copyTags,
  keyProblem,
} from '../../src/util/validate.js';

describe('validate', () => {
  it('assertKey takes strings and finite numbers, prefixing the method when given', () => {
    expect(() => assertKey('a')).not.toThrow();
    expect(() => assertKey(1.5)).not.toThrow();
    expect(keyProblem(0)).toBeUndefined();
    expect(() => assertKey({})).toThrow(new TypeError('key must be a string or a number, got object'));
    expect(() => assertKey(null, 'get')).toThrow(
      new TypeError('get: key must be a string or a number, got null'),
    );
    expect(() => assertKey(NaN, 'set')).toThrow(
      new TypeError('set: key must be a string or a finite number, got NaN'),
    );
  });

  it('assertTags returns the array itself, copyTags a frozen copy', () => {
    const tags = ['a', 'b'];
    expect(assertTags(tags)).toBe(tags);
    const copy = copyTags(tags, 'ctx.setTags(tags)');
    expect(copy).toEqual(tags);
    expect(copy).not.toBe(tags);
    expect(Object.isFrozen(copy)).toBe(true);
    expect(() => assertTags('a')).toThrow(new TypeError('tags must be an array of strings, got string'));
    expect(() => copyTags([1], 'x')).toThrow(new TypeError('x must be an array of strings, got a number'));
  });

  it('assertByteCount takes finite numbers >= 0', () => {
    expect(assertByteCount(0, 'size')).toBe(0);
    expect(assertByteCount(1.5, 'size')).toBe(1.5);
    for (const bad of [-1, NaN, Infinity, '1'])
      expect(() => assertByteCount(bad, 'size')).toThrow(RangeError);
  });

  it('assertPositiveInteger: TypeError for a non-number, RangeError for a bad number', () => {
    expect(assertPositiveInteger(3, 'n')).toBe(3);
    expect(() => assertPositiveInteger('3', 'n')).toThrow(
      new TypeError('n must be a positive integer, got string'),
    );
    expect(() => assertPositiveInteger(0, 'n')).toThrow(
      new RangeError('n must be a positive integer, got 0'),
    );
    expect(() => assertPositiveInteger(1.5, 'max', 'number of bytes')).toThrow(
      'max must be a positive integer number of bytes, got 1.5',
    );
  });

  it('assertFraction bounds [0, 1] or [0, 1)', () => {
    expect(assertFraction(1, 'jitter')).toBe(1);
    expect(() => assertFraction(1, 'jitter', false)).toThrow('jitter must be a fraction in [0, 1), got 1');
    expect(() => assertFraction(-0.1, 'jitter')).toThrow(RangeError);
    expect(() => assertFraction(NaN, 'jitter')).toThrow(RangeError);
  });

  it('assertFunction and assertBoolean name the option', () => {
    const f = (): void => {};
    expect(assertFunction(f, 'onEvict')).toBe(f);
    expect(() => assertFunction(1, 'clock')).toThrow(new TypeError('clock must be a function, got number'));
    expect(assertBoolean(false, 'enabled')).toBe(false);
    expect(() => assertBoolean('yes', 'enabled')).toThrow(
      new TypeError('enabled must be a boolean, got string'),
    );
  });
});
