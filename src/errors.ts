// The error taxonomy: every failure Larder reports is a CacheError with a stable type,
// whether it may be retried, and the original error as `cause`.

/** The stable kinds of failure Larder reports. */
export const CacheErrorType = {
  FETCH_FAILED: 'FETCH_FAILED',
  RETRY_EXHAUSTED: 'RETRY_EXHAUSTED',
  TIMEOUT: 'TIMEOUT',
  CACHE_GET_FAILED: 'CACHE_GET_FAILED',
  CACHE_SET_FAILED: 'CACHE_SET_FAILED',
  CLEANUP_FAILED: 'CLEANUP_FAILED',
  SERIALIZATION_FAILED: 'SERIALIZATION_FAILED',
  TIER_UNAVAILABLE: 'TIER_UNAVAILABLE',
} as const;

/** One of the {@link CacheErrorType} values. */
export type CacheErrorType = (typeof CacheErrorType)[keyof typeof CacheErrorType];

/** Whether an error of each type may be retried by default: a failed fetch or an unavailable tier may pass; exhausted retries, timeouts and cache-side failures are final. */
export const RETRYABLE_BY_TYPE: Readonly<Record<CacheErrorType, boolean>> = {
  FETCH_FAILED: true,
  RETRY_EXHAUSTED: false,
  TIMEOUT: false,
  CACHE_GET_FAILED: false,
  CACHE_SET_FAILED: false,
  CLEANUP_FAILED: true,
  SERIALIZATION_FAILED: false,
  TIER_UNAVAILABLE: true,
};

/** The error Larder throws: a stable `type`, `retryable`, and the original error as `cause`. */
export class CacheError extends Error {
  /** What kind of failure this is. */
  readonly type: CacheErrorType;
  /** Whether trying the same operation again may succeed. */
  readonly retryable: boolean;
  /** A stable code, e.g. `E_RETRY_EXHAUSTED`. */
  readonly code: string;
  /** The original error (also readable as `originalError`, an alias of `cause`). */
  override readonly cause?: unknown;

  constructor(type: CacheErrorType, message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CacheError';
    this.type = type;
    this.code = `E_${type}`;
    this.retryable = options.retryable ?? RETRYABLE_BY_TYPE[type];
    if (options.cause !== undefined) this.cause = options.cause;
  }

  /** Seed 002's name for `cause`. */
  get originalError(): unknown {
    return this.cause;
  }
}
