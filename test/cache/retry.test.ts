import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  DEFAULT_RETRY,
  isRetryableError,
  resolveRetry,
  RETRYABLE_CODES,
} from '../../src/cache/retry.js';

describe('isRetryableError', () => {
  it.each(RETRYABLE_CODES)('retries the network code %s (as code and as message)', (code) => {
    expect(isRetryableError(Object.assign(new Error('boom'), { code }))).toBe(true);
    expect(isRetryableError(new Error(code))).toBe(true);
  });

  it('retries undici "fetch failed" and looks through error.cause', () => {
    expect(isRetryableError(new TypeError('fetch failed'))).toBe(true);
    const wrapped = new Error('upstream', {
      cause: Object.assign(new Error('socket'), { code: 'ECONNRESET' }),
    });
    expect(isRetryableError(wrapped)).toBe(true);
  });

  it('retries HTTP 429 and 5xx (status or statusCode) but not 4xx', () => {
    expect(isRetryableError(Object.assign(new Error('x'), { status: 429 }))).toBe(true);
    expect(isRetryableError(Object.assign(new Error('x'), { status: 503 }))).toBe(true);
    expect(isRetryableError(Object.assign(new Error('x'), { statusCode: 500 }))).toBe(true);
    expect(isRetryableError(Object.assign(new Error('x'), { status: 400 }))).toBe(false);
    expect(isRetryableError(Object.assign(new Error('x'), { statusCode: 404 }))).toBe(false);
    expect(isRetryableError(new Error('x', { cause: { status: 502 } }))).toBe(true);
  });

  it('does not retry ordinary errors, non-errors, or cyclic causes', () => {
    expect(isRetryableError(new Error('validation failed'))).toBe(false);
    expect(isRetryableError(undefined)).toBe(false);
    expect(isRetryableError(42)).toBe(false);
    const a: any = new Error('a');
    a.cause = a;
    expect(isRetryableError(a)).toBe(false);
  });
});

describe('backoffDelay', () => {
  it('grows by the factor from initialDelay and is capped at maxDelay (seed 002 schedule)', () => {
    const policy = { ...DEFAULT_RETRY, jitter: 0 };
    expect([0, 1, 2, 3, 4, 5].map((n) => backoffDelay(policy, n))).toEqual([100, 200, 400, 800, 1600, 2000]);
  });

  it('spreads by ± jitter and never exceeds maxDelay', () => {
    const policy = { ...DEFAULT_RETRY, jitter: 0.5 };
    expect(backoffDelay(policy, 0, () => 0)).toBe(50);
    expect(backoffDelay(policy, 0, () => 1)).toBe(150);
    expect(backoffDelay(policy, 4, () => 1)).toBe(2000);
  });
});

describe('resolveRetry', () => {
  it('fills defaults, accepts durations, and false means no retries', () => {
    const r = resolveRetry({ maxRetries: 5, initialDelay: '200ms', maxDelay: '5s' }, DEFAULT_RETRY);
    expect(r).toMatchObject({ maxRetries: 5, initialDelay: 200, maxDelay: 5000, backoffFactor: 2 });
    expect(resolveRetry(false, DEFAULT_RETRY).maxRetries).toBe(0);
    expect(resolveRetry(undefined, DEFAULT_RETRY)).toBe(DEFAULT_RETRY);
  });

  it('names the bad option', () => {
    expect(() => resolveRetry({ maxRetries: -1 }, DEFAULT_RETRY)).toThrow(/retry.maxRetries/);
    expect(() => resolveRetry({ maxRetries: 1.5 }, DEFAULT_RETRY)).toThrow(RangeError);
    expect(() => resolveRetry({ backoffFactor: 0.5 }, DEFAULT_RETRY)).toThrow(/backoffFactor/);
    expect(() => resolveRetry({ jitter: 2 }, DEFAULT_RETRY)).toThrow(/jitter/);
    expect(() => resolveRetry({ initialDelay: -5 }, DEFAULT_RETRY)).toThrow(/initialDelay/);
    expect(() => resolveRetry({ retryOn: 1 as any }, DEFAULT_RETRY)).toThrow(/retryOn/);
  });
});
