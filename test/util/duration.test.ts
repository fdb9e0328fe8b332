import { describe, expect, it } from 'vitest';
import { parseDuration, CacheError, CacheErrorType } from '../../src/index.js';

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
