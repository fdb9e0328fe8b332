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
    // As people write them.
    ['2 hours', 7_200_000],
    ['1h30m', 5_400_000],
    ['1h 30m', 5_400_000],
    ['1 hour, 30 minutes', 5_400_000],
    ['1.5d', 129_600_000],
    ['1y', 31_557_600_000],
    ['2 years', 63_115_200_000],
    ['90s', 90_000],
    ['2 minutes', 120_000],
    ['1 min', 60_000],
    ['1 week', 604_800_000],
    ['2w', 1_209_600_000],
    ['500 ms', 500],
    ['3 milliseconds', 3],
    ['10 secs', 10_000],
    ['1 day 2 hours', 93_600_000],
    ['1D12H', 129_600_000],
    ['.5s', 500],
    ['1 Hour', 3_600_000],
  ])('reads %j as %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each([
    [-1],
    [NaN],
    [Infinity],
    [-Infinity],
    ['-5s'],
    ['soon'],
    ['5 parsecs'],
    [''],
    ['   '],
    ['1h30'], // a bare number only stands alone
    ['h'],
    ['1 month'],
    ['5m,'],
    ['1..5s'],
    ['1e3'],
    ['Infinity'],
    ['1h-30m'],
    ['2 hours ago'],
  ])('rejects %j, naming the option', (input) => {
    expect(() => parseDuration(input as number | string, 'ttl')).toThrow(/^ttl /);
  });

  it('says a negative string is negative, and an unreadable one unreadable', () => {
    expect(() => parseDuration('-5s', 'grace')).toThrow(/^grace must not be negative, got "-5s"$/);
    expect(() => parseDuration('1 fortnight', 'grace')).toThrow(
      /^grace is not a readable duration: "1 fortnight"$/,
    );
  });

  it.each([
    ['9'.repeat(400)],
    [`${'9'.repeat(400)}ms`],
    [`${'9'.repeat(309)}.5s`],
    [`${'9'.repeat(300)}w`], // would be Infinity once multiplied by the unit
    ['1h'.repeat(33)],
    [`${' '.repeat(100)}1s`],
  ])('refuses a string longer than 64 characters before reading it (%#)', (input) => {
    expect(() => parseDuration(input, 'ttl')).toThrow(RangeError);
    expect(() => parseDuration(input, 'ttl')).toThrow(
      /^ttl is too long to be a duration \(at most 64 characters\): ".{40}…"$/,
    );
  });

  it('reads any input of up to 64 characters quickly (no backtracking blow-up)', () => {
    const hostile = [
      '1'.repeat(63) + 'x',
      '1 '.repeat(32),
      '1.'.repeat(32),
      '1h'.repeat(32),
      ' ,'.repeat(32),
    ];
    const started = performance.now();
    for (let i = 0; i < 200; i++) {
      for (const input of hostile) {
        try {
          parseDuration(input, 'ttl');
        } catch {
          // refused or not, it must be quick
        }
      }
    }
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('a duration of 64 characters is still read', () => {
    const input = `${'0'.repeat(61)}1ms`;
    expect(input).toHaveLength(64);
    expect(parseDuration(input)).toBe(1);
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

  it('refuses over-long strings at every option that reads a duration', async () => {
    const { createCache } = await import('../../src/cache/create-cache.js');
    expect(() => createCache({ ttl: '9'.repeat(400) })).toThrow(/^ttl is too long/);
    expect(() => createCache({ grace: `${'9'.repeat(400)}s` } as never)).toThrow(/^grace is too long/);
    expect(() => createCache({ slowLoad: '2 fortnights' })).toThrow(/^slowLoad is not a readable duration/);
    expect(() => createCache({ ttl: '1h30m', grace: '2 minutes', slowLoad: '1.5s' })).not.toThrow();
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
