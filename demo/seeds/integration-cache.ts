// Seed 002, the integration cache, on Larder: per-user integration status for 5 minutes, read-through
// with retries and exponential backoff, typed CacheErrors, and a variant that never throws.
// One difference from the seed: Larder's cache may sit on Redis, so get/set/has/invalidate/clear and
// getTimeToExpiry return promises; size and getStats stay synchronous.
import {
  CacheError,
  CacheErrorType,
  createCache,
  type Cache,
  type CacheOptions,
  type Duration,
} from '../../src/index.js';
import type { Integration } from '../upstreams/integrations.js';

export { CacheError, CacheErrorType };
export type { Integration };

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

/** The seed's `integrationCache` instance methods. */
export interface IntegrationCache {
  get(userId: number): Promise<Integration[] | null>;
  set(userId: number, data: Integration[], ttl?: number): Promise<void>;
  has(userId: number): Promise<boolean>;
  invalidate(userId: number): Promise<void>;
  clear(): Promise<void>;
  size(): number;
  getStats(): { size: number; expired: number; active: number };
  getTimeToExpiry(userId: number): Promise<number | null>;
}

/** A function that fetches a user's integrations on a miss. */
export type FetchIntegrations = () => Promise<Integration[]>;

/** Shared settings, warm restarts, the sizing advisor, and the TTL (default {@link CACHE_TTL}). */
export interface IntegrationCacheOptions extends Pick<
  CacheOptions,
  'l2' | 'logger' | 'clock' | 'persist' | 'advisor'
> {
  ttl?: Duration;
}

/** Builds the integration cache and the seed's read-through functions over it. */
export function createIntegrationCache(options: IntegrationCacheOptions = {}) {
  const { ttl = CACHE_TTL, ...shared } = options;
  const cache: Cache<Integration[]> = createCache<Integration[]>({
    ...shared,
    name: 'integrations',
    ttl,
    maxEntries: 10_000,
    maxBytes: 16 * 2 ** 20,
  });

  const integrationCache: IntegrationCache = {
    get: async (userId) => (await cache.get(userId)) ?? null,
    set: (userId, data, entryTtl) => cache.set(userId, data, entryTtl === undefined ? {} : { ttl: entryTtl }),
    has: (userId) => cache.has(userId),
    invalidate: async (userId) => {
      await cache.delete(userId);
    },
    clear: () => cache.clear(),
    size: () => cache.stats().size,
    getStats: () => {
      const { size, expired, active } = cache.stats();
      return { size, expired, active };
    },
    getTimeToExpiry: async (userId) => (await cache.ttlRemaining(userId)) ?? null,
  };

  /** Cached integrations, fetched on a miss with retries; throws a CacheError when all attempts fail. */
  const getCachedIntegrations = (
    userId: number,
    fetchFn: FetchIntegrations,
    retryConfig: RetryConfig = DEFAULT_RETRY_CONFIG,
  ): Promise<Integration[]> => cache.getOrSet(userId, () => fetchFn(), { retry: retryConfig });

  /** Like getCachedIntegrations, but never throws: the answer is `[]` when nothing can be had. */
  const getCachedIntegrationsWithFallback = (
    userId: number,
    fetchFn: FetchIntegrations,
    retryConfig: RetryConfig = DEFAULT_RETRY_CONFIG,
  ): Promise<Integration[]> => cache.getOrSet(userId, () => fetchFn(), { retry: retryConfig, fallback: [] });

  return { cache, integrationCache, getCachedIntegrations, getCachedIntegrationsWithFallback };
}
