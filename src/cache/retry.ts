// Retry policy of loaders: which failures are worth retrying (transient network codes such as
// ECONNREFUSED or ETIMEDOUT, HTTP 429/5xx, a CacheError by its own `retryable`, looked up through
// `error.cause`), and the exponential backoff between attempts (defaults: 3 retries, 100 ms initial
// delay, 2000 ms cap, factor 2, ±10 % jitter).
import { CacheError } from '../errors.js';
import { parseDuration } from '../util/duration.js';
import { assertKnownOptions, optionNames } from '../util/validate.js';
import type { RetryOptions } from './types.js';

const RETRY_OPTIONS = optionNames<RetryOptions>({
  maxRetries: true,
  initialDelay: true,
  maxDelay: true,
  backoffFactor: true,
  jitter: true,
  retryOn: true,
});

/** Error codes (or message fragments) that mean "the network failed, try again". */
export const RETRYABLE_CODES: readonly string[] = [
  'ECONNREFUSED',
  'ETIMEDOUT',
  'ENOTFOUND',
  'ENETUNREACH',
  'ECONNRESET',
  'EAI_AGAIN',
];

// `fetch failed` is undici's message for any network failure under fetch() (its cause holds the code);
// `network error` is what browser-style clients (XHR, axios' `Network Error`) say for the same thing.
const NETWORK_MESSAGES: readonly string[] = ['fetch failed', 'network error'];
// Causes can nest (fetch → undici → socket); a cycle must not hang the classifier.
const MAX_CAUSE_DEPTH = 8;

/** A retry policy with every field resolved to milliseconds / numbers. */
export interface ResolvedRetry {
  maxRetries: number;
  initialDelay: number;
  maxDelay: number;
  backoffFactor: number;
  jitter: number;
  retryOn: ((error: unknown, attempt: number) => boolean) | undefined;
}

/** The policy used when a loader fails and retries are switched off. */
export const NO_RETRY: ResolvedRetry = Object.freeze({
  maxRetries: 0,
  initialDelay: 0,
  maxDelay: 0,
  backoffFactor: 1,
  jitter: 0,
  retryOn: undefined,
});

/** Seed 002's DEFAULT_RETRY_CONFIG plus ±10 % jitter. */
export const DEFAULT_RETRY: ResolvedRetry = Object.freeze({
  maxRetries: 3,
  initialDelay: 100,
  maxDelay: 2000,
  backoffFactor: 2,
  jitter: 0.1,
  retryOn: undefined,
});

/** Validates a retry option (naming `what` in errors) and fills defaults from `base`. */
export function resolveRetry(
  options: RetryOptions | false | undefined,
  base: ResolvedRetry,
  what = 'retry',
): ResolvedRetry {
  if (options === undefined) return base;
  if (options === false) return NO_RETRY;
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${what} must be an object or false`);
  }
  assertKnownOptions(options, RETRY_OPTIONS, what);
  const maxRetries = options.maxRetries ?? base.maxRetries;
  if (!Number.isInteger(maxRetries) || maxRetries < 0) {
    throw new RangeError(`${what}.maxRetries must be a non-negative integer, got ${String(maxRetries)}`);
  }
  const backoffFactor = options.backoffFactor ?? base.backoffFactor;
  if (typeof backoffFactor !== 'number' || !(backoffFactor >= 1) || !Number.isFinite(backoffFactor)) {
    throw new RangeError(`${what}.backoffFactor must be a finite number >= 1, got ${String(backoffFactor)}`);
  }
  const jitter = options.jitter ?? base.jitter;
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 1)) {
    throw new RangeError(`${what}.jitter must be a fraction in [0, 1], got ${String(jitter)}`);
  }
  if (options.retryOn !== undefined && typeof options.retryOn !== 'function') {
    throw new TypeError(`${what}.retryOn must be a function`);
  }
  const initialDelay =
    options.initialDelay === undefined
      ? base.initialDelay
      : parseDuration(options.initialDelay, `${what}.initialDelay`);
  const maxDelay =
    options.maxDelay === undefined ? base.maxDelay : parseDuration(options.maxDelay, `${what}.maxDelay`);
  return {
    maxRetries,
    initialDelay,
    maxDelay: Math.max(maxDelay, 0),
    backoffFactor,
    jitter,
    retryOn: options.retryOn ?? base.retryOn,
  };
}

/**
 * Delay before retry number `retry` (0 = the first retry): initialDelay × factor^retry, capped at
 * maxDelay, then spread by ± jitter (the cap still holds after jitter).
 */
export function backoffDelay(
  policy: ResolvedRetry,
  retry: number,
  random: () => number = Math.random,
): number {
  const base = Math.min(policy.maxDelay, policy.initialDelay * policy.backoffFactor ** retry);
  if (policy.jitter === 0) return base;
  const spread = base * policy.jitter * (2 * random() - 1);
  return Math.max(0, Math.min(policy.maxDelay, Math.round(base + spread)));
}

/**
 * Whether a loader failure is worth retrying: a network code, `fetch failed` / `network error`, HTTP
 * 429/5xx, or a CacheError (say, from a cache the loader reads) whose `retryable` is true: FETCH_FAILED
 * and CLEANUP_FAILED by default, never RETRY_EXHAUSTED or CACHE_GET/SET_FAILED, so retries do not nest.
 */
export function isRetryableError(error: unknown): boolean {
  // A thrown value whose fields cannot be read (a getter or Proxy trap that throws) is not retried.
  try {
    return classifyRetryable(error);
  } catch {
    return false;
  }
}

function classifyRetryable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && current !== undefined && current !== null; depth++) {
    if (typeof current === 'string') return messageIsRetryable(current);
    if (typeof current !== 'object') return false;
    // The error's own verdict: its message repeats the cause's (`… failed: connect ECONNREFUSED`).
    if (current instanceof CacheError) return current.retryable;
    const e = current as { code?: unknown; status?: unknown; statusCode?: unknown; message?: unknown };
    if (typeof e.code === 'string' && RETRYABLE_CODES.includes(e.code)) return true;
    const status = typeof e.status === 'number' ? e.status : e.statusCode;
    if (typeof status === 'number') return status === 429 || (status >= 500 && status <= 599);
    if (typeof e.message === 'string' && messageIsRetryable(e.message)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

function messageIsRetryable(message: string): boolean {
  const lower = message.toLowerCase();
  for (const text of NETWORK_MESSAGES) if (lower.includes(text)) return true;
  for (const code of RETRYABLE_CODES) if (message.includes(code)) return true;
  return false;
}
