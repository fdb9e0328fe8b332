import { afterEach, describe, expect, it, vi } from 'vitest';
import { createProviderResourceCache } from '../../../demo/seeds/provider-resource-cache.js';
import { bracketedLogger } from '../../../src/index.js';
import { consoleLogger } from '../../helpers/logger.js';

describe('seed 000: ProviderResourceCache', () => {
  let now = 0;
  const cache = createProviderResourceCache({ clock: () => now });
  afterEach(async () => {
    await cache.clearAll();
    now = 0;
  });

  it('caches per provider with the seed TTLs (plans 1 h, marketplace 6 h, regions 24 h)', async () => {
    const fetch = vi.fn(async () => ['nanode']);
    await cache.get('uuid-1', 'plans', fetch);
    await cache.get('uuid-1', 'plans', fetch);
    await cache.get('uuid-2', 'plans', fetch);
    expect(fetch).toHaveBeenCalledTimes(2);
    now += 60 * 60 * 1000 + 1;
    await cache.get('uuid-1', 'plans', fetch);
    expect(fetch).toHaveBeenCalledTimes(3);

    const apps = vi.fn(async () => ['wordpress']);
    await cache.get('uuid-2', 'marketplace', apps);
    now += 5 * 60 * 60 * 1000;
    await cache.get('uuid-2', 'marketplace', apps);
    expect(apps).toHaveBeenCalledTimes(1);
    now += 60 * 60 * 1000 + 1;
    await cache.get('uuid-2', 'marketplace', apps);
    expect(apps).toHaveBeenCalledTimes(2);
  });

  it('invalidates a provider, a resource kind, or everything, and reports stats in the seed shape', async () => {
    const load = async () => ['x'];
    for (const id of ['uuid-1', 'uuid-2']) {
      for (const kind of ['plans', 'images', 'regions'] as const) await cache.get(id, kind, load);
    }
    await cache.get('uuid-2', 'marketplace', load);
    expect(cache.getStats()).toEqual({
      plans: { size: 2, providers: expect.arrayContaining(['uuid-1', 'uuid-2']) },
      images: { size: 2, providers: expect.arrayContaining(['uuid-1', 'uuid-2']) },
      marketplace: { size: 1, providers: ['uuid-2'] },
      regions: { size: 2, providers: expect.arrayContaining(['uuid-1', 'uuid-2']) },
    });
    expect(await cache.invalidateResource('uuid-1', 'plans')).toBe(1);
    expect(await cache.invalidateProvider('uuid-2')).toBe(4);
    expect(cache.getStats().images.providers).toEqual(['uuid-1']);
    await cache.clearAll();
    expect(Object.values(cache.getStats()).every((s) => s.size === 0)).toBe(true);
  });

  it('changes a TTL and switches a kind off and on at run time', async () => {
    const fetch = vi.fn(async () => ['img']);
    cache.configureTTL('images', 1000);
    await cache.get('uuid-1', 'images', fetch);
    now += 1001;
    await cache.get('uuid-1', 'images', fetch);
    expect(fetch).toHaveBeenCalledTimes(2);

    cache.setCacheEnabled('images', false);
    await cache.get('uuid-1', 'images', fetch);
    await cache.get('uuid-1', 'images', fetch);
    expect(fetch).toHaveBeenCalledTimes(4);
    cache.setCacheEnabled('images', true);
    cache.configureTTL('images', '1h');
  });
});

describe('seed 000: log lines', () => {
  it('logs provider and resource invalidation as [Cache INVALIDATE], never DELETE', async () => {
    const { logger, lines } = consoleLogger();
    const cache = createProviderResourceCache({ clock: () => 0, logger: bracketedLogger(logger) });
    const load = async () => ['x'];
    await cache.get('uuid-1', 'plans', load);
    await cache.get('uuid-1', 'plans', load);
    await cache.get('uuid-1', 'regions', load);
    expect(await cache.invalidateResource('uuid-1', 'plans')).toBe(1);
    expect(await cache.invalidateProvider('uuid-1')).toBe(1);
    cache.configureTTL('plans', '2h');
    await cache.clearAll();
    const messages = lines.map((l) => l.message);
    for (const op of ['HIT', 'MISS', 'SET', 'INVALIDATE', 'CLEAR', 'CONFIG']) {
      expect(messages.some((m) => m.startsWith(`[Cache ${op}] `))).toBe(true);
    }
    expect(messages).toContain('[Cache INVALIDATE] plans tags=provider:uuid-1 count=1');
    expect(messages).toContain('[Cache INVALIDATE] regions tags=provider:uuid-1 count=1');
    expect(messages.some((m) => m.includes('DELETE'))).toBe(false);
    expect(cache.getStats().regions.size).toBe(0);
  });
});
