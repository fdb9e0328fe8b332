// parseDuration: every spelling of a duration that options accept, and every one they refuse (negative,
// NaN, Infinity also spelled as a long string, over-long), with the option named in the error; CacheError.
import { describe, expect, it } from 'vitest';
import { parseDuration, CacheError, CacheErrorType } from '../../src/index.js';
import { MAX_DURATION } from '../../src/util/duration.js';

describe('parseDuration', () => {
  it.each([
    [250, 250],
    [0, 0],
    ['250ms', 250],
    ['3s', 3000],
    ['1.5s', 1500],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['42', 42],
    [' 2 h ', 7_200_000],
  ])('reads %j as %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each([[-1], [NaN], [Infinity], ['-5s'], ['soon'], ['5 parsecs'], ['']])('rejects %j', (input) => {
    expect(() => parseDuration(input as number | string, 'ttl')).toThrow(/ttl/);
  });

  it.each([
    ['9'.repeat(400)],
    [`${'9'.repeat(400)}ms`],
    [`${'9'.repeat(309)}.5s`],
    [`${'9'.repeat(300)}w`], // finite digits, Infinity once multiplied by the unit
  ])('refuses a string that parses to Infinity, like Infinity itself (%#)', (input) => {
    expect(() => parseDuration(input, 'ttl')).toThrow(RangeError);
    expect(() => parseDuration(input, 'ttl')).toThrow(/^ttl must be finite, got "9{40}…"$/);
  });

  it('refuses exponent notation and over-long durations, naming the option', () => {
    expect(() => parseDuration('1e400', 'grace')).toThrow(/^grace is not a readable duration: "1e400"$/);
    expect(() => parseDuration('1e3', 'grace')).toThrow(RangeError);
    expect(parseDuration(MAX_DURATION, 'ttl')).toBe(MAX_DURATION);
    expect(() => parseDuration(MAX_DURATION + 1, 'ttl')).toThrow(/^ttl must be at most 1125899906842624 ms/);
    expect(() => parseDuration(Number.MAX_VALUE, 'ttl')).toThrow(RangeError);
    expect(() => parseDuration('99999999999w', 'persist.interval')).toThrow(
      /^persist\.interval must be at most/,
    );
    expect(parseDuration('1000000w')).toBe(604_800_000_000_000);
  });

  it('refuses Infinity-valued strings at every option that reads a duration', async () => {
    const { createCache } = await import('../../src/cache/create-cache.js');
    expect(() => createCache({ ttl: '9'.repeat(400) })).toThrow(/ttl must be finite/);
    expect(() => createCache({ grace: `${'9'.repeat(400)}s` } as never)).toThrow(/grace.* must be finite/);
  });

  it('rejects non-numbers and non-strings with a TypeError naming the option', () => {
    expect(() => parseDuration({} as unknown as string, 'grace')).toThrow(TypeError);
    expect(() => parseDuration({} as unknown as string, 'grace')).toThrow(/grace/);
  });
});

describe('CacheError', () => {
  it('carries type, code, retryability per seed 002 and the cause', () => {
    const cause = new Error('ECONNREFUSED');
    const e = new CacheError(CacheErrorType.FETCH_FAILED, 'load failed', { cause });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('CacheError');
    expect(e.type).toBe('FETCH_FAILED');
    expect(e.code).toBe('E_FETCH_FAILED');
    expect(e.retryable).toBe(true);
    expect(e.cause).toBe(cause);
    expect(e.originalError).toBe(cause);
    expect(new CacheError(CacheErrorType.RETRY_EXHAUSTED, 'x').retryable).toBe(false);
    expect(new CacheError(CacheErrorType.CACHE_SET_FAILED, 'x').retryable).toBe(false);
    expect(new CacheError(CacheErrorType.CLEANUP_FAILED, 'x').retryable).toBe(true);
    expect(new CacheError(CacheErrorType.TIMEOUT, 'x', { retryable: true }).retryable).toBe(true);
  });
});
