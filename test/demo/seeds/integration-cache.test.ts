import { describe, expect, it, vi } from 'vitest';
import {
  CACHE_TTL,
  CacheError,
  CacheErrorType,
  createIntegrationCache,
  DEFAULT_RETRY_CONFIG,
} from '../../../demo/seeds/integration-cache.js';
import type { Integration } from '../../../demo/upstreams/integrations.js';

const data: Integration[] = [{ id: '1', provider: 'instagram', status: 'connected', lastSyncAt: '' }];
const refused = () =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { code: 'ECONNREFUSED' });
const fastRetry = { ...DEFAULT_RETRY_CONFIG, initialDelay: 1, maxDelay: 2 };

describe('seed 002: integration cache', () => {
  it('has the seed constants', () => {
    expect(CACHE_TTL).toBe(300_000);
    expect(DEFAULT_RETRY_CONFIG).toEqual({
      maxRetries: 3,
      initialDelay: 100,
      maxDelay: 2000,
      backoffFactor: 2,
    });
  });

  it('gets, sets, expires and invalidates per user', async () => {
    let now = 0;
    const { integrationCache, cache } = createIntegrationCache({ clock: () => now });
    expect(await integrationCache.get(999)).toBeNull();
    await integrationCache.set(123, data);
    await integrationCache.set(124, data, 100);
    expect(await integrationCache.get(123)).toEqual(data);
    expect(await integrationCache.getTimeToExpiry(123)).toBe(CACHE_TTL);
    expect(integrationCache.size()).toBe(2);
    now += 150;
    expect(await integrationCache.has(124)).toBe(false);
    expect(await integrationCache.getTimeToExpiry(124)).toBeNull();
    expect(integrationCache.getStats()).toMatchObject({ active: 1 });
    await integrationCache.invalidate(123);
    expect(await integrationCache.get(123)).toBeNull();
    await integrationCache.set(5, data);
    await integrationCache.clear();
    expect(integrationCache.size()).toBe(0);
    await cache.close();
  });

  it('fetches once on a miss and retries network errors', async () => {
    const { getCachedIntegrations, cache } = createIntegrationCache();
    const fetchFn = vi.fn().mockRejectedValueOnce(refused()).mockResolvedValueOnce(data);
    expect(await getCachedIntegrations(123, fetchFn, fastRetry)).toEqual(data);
    expect(await getCachedIntegrations(123, fetchFn, fastRetry)).toEqual(data);
    expect(fetchFn).toHaveBeenCalledTimes(2);
    await cache.close();
  });

  it('throws RETRY_EXHAUSTED after the retries, while the fallback variant answers []', async () => {
    const { getCachedIntegrations, getCachedIntegrationsWithFallback, cache } = createIntegrationCache();
    const down = vi.fn(async () => {
      throw refused();
    });
    const error = await getCachedIntegrations(1, down, fastRetry).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CacheError);
    expect(error).toMatchObject({ type: CacheErrorType.RETRY_EXHAUSTED, retryable: false });
    expect(down).toHaveBeenCalledTimes(4);
    expect(await getCachedIntegrationsWithFallback(2, down, fastRetry)).toEqual([]);
    await cache.close();
  });
});
