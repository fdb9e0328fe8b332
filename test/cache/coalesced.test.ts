// Coalesced callers are not misses (issue 10): callers that join a load already in flight are counted
// as `coalesced`, and hitRate is the share of requests that cost no upstream call, per cache, in the
// manager's aggregate and in the Prometheus exporter.
import { Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { buildCache } from '../../src/cache/create-cache.js';
import { createCacheManager } from '../../src/cache/manager.js';
import { registerMetrics } from '../../src/entries/prometheus.js';
import { deferred } from '../helpers/deferred.js';
import { consoleLogger } from '../helpers/logger.js';

/** 50 concurrent pollers of one key sharing one load, then one more poll (a hit). */
async function poll(cache: { getOrSet: (k: string, l: () => Promise<number>) => Promise<number> }) {
  const gate = deferred<number>();
  const upstream = vi.fn(() => gate.promise);
  const polls = Array.from({ length: 50 }, () => cache.getOrSet('stats:total', upstream));
  gate.resolve(12);
  expect(await Promise.all(polls)).toEqual(Array.from({ length: 50 }, () => 12));
  await cache.getOrSet('stats:total', upstream);
  expect(upstream).toHaveBeenCalledTimes(1);
}

describe('coalesced callers', () => {
  it('50 pollers sharing one load are 1 miss and 49 coalesced; hitRate counts what cost no upstream call', async () => {
    const { logger, lines } = consoleLogger();
    const cache = buildCache<number>({ ttl: '3s', logger });
    const misses = vi.fn();
    cache.on('cache:miss', misses);
    await poll(cache);
    expect(cache.stats()).toMatchObject({
      hits: 1,
      misses: 1,
      coalesced: 49,
      totalRequests: 51,
      hitRate: 98.04, // (1 + 49) / 51
      loads: 1,
    });
    expect(misses).toHaveBeenCalledTimes(1);
    expect(lines.filter((l) => l.message === 'Cache COALESCED')).toHaveLength(49);
    cache.resetStats();
    expect(cache.stats()).toMatchObject({ coalesced: 0, totalRequests: 0, hitRate: 0 });
    await cache.close();
  });

  it('the manager sums coalesced and recomputes hitRate the same way', async () => {
    const manager = createCacheManager({ caches: { a: { ttl: '1m' }, b: { ttl: '1m' } } });
    await poll(manager.get<number>('a'));
    await manager.get<number>('b').getOrSet('x', () => 1);
    const { overall, caches } = manager.stats();
    expect(caches.a).toMatchObject({ coalesced: 49, hitRate: 98.04 });
    expect(overall).toMatchObject({ hits: 1, misses: 2, coalesced: 49, totalRequests: 52, hitRate: 96.15 });
    await manager.close();
  });

  it('Prometheus exports coalesced_total and a hit ratio that counts coalesced callers', async () => {
    const registry = new Registry();
    const cache = buildCache({ name: 'stats', ttl: '1m' });
    registerMetrics(cache, { registry });
    await poll(cache);
    const text = await registry.metrics();
    expect(text).toContain('larder_cache_coalesced_total{cache="stats"} 49');
    expect(text).toContain('larder_cache_misses_total{cache="stats"} 1');
    expect(text).toMatch(/larder_cache_hit_ratio\{cache="stats"\} 0\.980392/);
    await cache.close();
  });
});
