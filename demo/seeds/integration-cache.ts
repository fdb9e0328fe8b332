// Seed 002, the integration cache, on Larder: per-user integration status for 5 minutes, read-through
// with retries and exponential backoff, typed CacheErrors, a variant that never throws, and the seed's
// synchronous instance API (get answers the list or null) through Larder's syncView. With a shared tier
// (REDIS_URL) the synchronous reads see this instance's memory only; getCachedIntegrations reads both.
// The module also exports a ready-made instance under the seed's names, so code (and tests) written
// against the seed's module import `integrationCache` and `getCachedIntegrations` from here unchanged.
import {
  CacheError,
  CacheErrorType,
  createCache,
  sentenceLogger,
  syncView,
  type Cache,
  type CacheOptions,
  type Duration,
  type Logger,
} from 'larder-cache';
import type { Integration as UpstreamIntegration } from '../upstreams/integrations.js';

export { CacheError, CacheErrorType };

/** One integration as the seed's lists hold it: an id and a provider, plus the status the service adds. */
export interface Integration {
  id: string;
  provider: string;
  status?: UpstreamIntegration['status'];
  lastSyncAt?: string;
}

/** Default cache TTL: 5 minutes. */
export const CACHE_TTL = 5 * 60 * 1000;

/** Seed 002's retry configuration. */
export interface RetryConfig {
  maxRetries: number;
  initialDelay: number;
  maxDelay: number;
  backoffFactor: number;
}

/** Seed 002's default retries: 3 retries after 100, 200, 400 ms, never more than 2 s apart. */
export const DEFAULT_RETRY_CONFIG: RetryConfig = {
  maxRetries: 3,
  initialDelay: 100,
  maxDelay: 2000,
  backoffFactor: 2,
};

/** The seed's `integrationCache` instance methods: synchronous, over this instance's memory. */
export interface IntegrationCache {
  /** The user's cached list, or null on a miss or after expiry. */
  get(userId: number): Integration[] | null;
  /** Caches the user's list for `ttl` ms (default {@link CACHE_TTL}). */
  set(userId: number, data: Integration[], ttl?: number): void;
  /** Whether a fresh list is cached for the user. */
  has(userId: number): boolean;
  /** Drops the user's list (here and, with a shared tier, everywhere). */
  invalidate(userId: number): void;
  /** Drops every list. */
  clear(): void;
  /** Entries held, expired ones not yet swept included. */
  size(): number;
  /** Entries held, how many of them have expired, how many are live. */
  getStats(): { size: number; expired: number; active: number };
  /** Ms until the user's list expires, or null when none is cached. */
  getTimeToExpiry(userId: number): number | null;
}

/** A function that fetches a user's integrations on a miss. */
export type FetchIntegrations = () => Promise<Integration[]>;

/** Shared settings, warm restarts, the sizing advisor, and the TTL (default {@link CACHE_TTL}). */
export interface IntegrationCacheOptions extends Pick<
  CacheOptions,
  'l2' | 'logger' | 'clock' | 'persist' | 'advisor'
> {
  ttl?: Duration;
  /**
   * Write the seed's log lines (`Cache hit { userId, itemCount, duration }`, `Cache miss, fetching fresh
   * data`, `Retry attempt`, `Fresh data fetched and cached`) to `logger` through Larder's sentenceLogger;
   * false keeps Larder's own lines. Default true.
   */
  seedLogLines?: boolean;
}

/** The log line of a load that failed for good, as the seed writes it. */
export const FAILURE_MESSAGE = 'Failed to get cached integrations';

/** Seed 002's log lines over `logger`: the key as `userId`, the list's length as `itemCount`. */
export function integrationLogger(logger: Logger, peek: (userId: unknown) => unknown): Logger {
  return sentenceLogger(logger, {
    keyField: 'userId',
    failureMessage: FAILURE_MESSAGE,
    describe: (userId) => {
      const list = peek(userId);
      return Array.isArray(list) ? { itemCount: list.length } : undefined;
    },
  });
}

/**
 * Seed 002's table gives every FETCH_FAILED as retryable. Larder marks a failure it chose not to retry
 * (not a network error) `retryable: false`; the seed's API reports retryability by type, so such an
 * error is re-raised with the type's own (the original stays its `cause`).
 */
function asSeedError(error: unknown): never {
  if (error instanceof CacheError && error.type === CacheErrorType.FETCH_FAILED && !error.retryable) {
    throw new CacheError(error.type, error.message, { cause: error.cause });
  }
  throw error;
}

/** The seed's schedule exactly (100, 200, 400 ms …): without Larder's default ±10 % jitter. */
const seedRetry = (config: RetryConfig) => ({ jitter: 0, ...config });

/** Builds the integration cache and the seed's read-through functions over it. */
export function createIntegrationCache(options: IntegrationCacheOptions = {}) {
  const { ttl = CACHE_TTL, seedLogLines = true, logger, ...shared } = options;
  // The logger reads the list through the view, which exists once the cache does.
  let peek: (userId: unknown) => unknown = () => undefined;
  const cache: Cache<Integration[]> = createCache<Integration[]>({
    ...shared,
    logger: logger === undefined || !seedLogLines ? logger : integrationLogger(logger, (id) => peek(id)),
    name: 'integrations',
    ttl,
    maxEntries: 10_000,
    maxBytes: 16 * 2 ** 20,
  });
  const view = syncView(cache);
  peek = (userId) => (typeof userId === 'number' ? view.peek(userId) : undefined);

  const integrationCache: IntegrationCache = {
    get: (userId) => view.get(userId) ?? null,
    set: (userId, data, entryTtl) =>
      view.set(userId, data, entryTtl === undefined ? undefined : { ttl: entryTtl }),
    has: (userId) => view.has(userId),
    invalidate: (userId) => {
      view.delete(userId);
    },
    clear: () => view.clear(),
    size: () => view.size(),
    getStats: () => {
      const { size, expired, active } = cache.stats();
      return { size, expired, active };
    },
    getTimeToExpiry: (userId) => view.ttlRemaining(userId) ?? null,
  };

  /** Cached integrations, fetched on a miss with retries; throws a CacheError when all attempts fail. */
  const getCachedIntegrations = (
    userId: number,
    fetchFn: FetchIntegrations,
    retryConfig: RetryConfig = DEFAULT_RETRY_CONFIG,
  ): Promise<Integration[]> =>
    cache.getOrSet(userId, () => fetchFn(), { retry: seedRetry(retryConfig) }).catch(asSeedError);

  /** Like getCachedIntegrations, but never throws: the answer is `[]` when nothing can be had. */
  const getCachedIntegrationsWithFallback = (
    userId: number,
    fetchFn: FetchIntegrations,
    retryConfig: RetryConfig = DEFAULT_RETRY_CONFIG,
  ): Promise<Integration[]> =>
    cache.getOrSet(userId, () => fetchFn(), { retry: seedRetry(retryConfig), fallback: [] });

  return { cache, view, integrationCache, getCachedIntegrations, getCachedIntegrationsWithFallback };
}

// The seed's module-level instance: `import { integrationCache, getCachedIntegrations } from …`.
// Its memory-only cache costs one unref'ed sweep timer; the demo service builds its own with options.
const moduleInstance = createIntegrationCache();

/** The seed's `integrationCache`: the module's own instance (5-minute TTL, memory only). */
export const integrationCache: IntegrationCache = moduleInstance.integrationCache;
/** The seed's `getCachedIntegrations` over the module's instance. */
export const getCachedIntegrations = moduleInstance.getCachedIntegrations;
/** The seed's `getCachedIntegrationsWithFallback` over the module's instance. */
export const getCachedIntegrationsWithFallback = moduleInstance.getCachedIntegrationsWithFallback;
