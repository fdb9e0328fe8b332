import { describe, expect, it, vi } from 'vitest';
import { createStatsCache } from '../../../demo/seeds/stats-cache.js';

describe('seed 001: stats cache', () => {
  it('keeps stats 3 s and the orchestrator 2 s, with one expensive call per window', async () => {
    let now = 0;
    const cache = createStatsCache({ clock: () => now });
    const docker = vi.fn(async () => ({ cpu: 1 }));
    const orchestrator = vi.fn(async () => ({ ok: true }));
    await Promise.all([1, 2, 3].map(() => cache.cached('stats:total', docker)));
    expect(docker).toHaveBeenCalledTimes(1);
    await cache.cached('orchestrator:status', orchestrator);
    now += 2001;
    await cache.cached('stats:total', docker);
    await cache.cached('orchestrator:status', orchestrator);
    expect(docker).toHaveBeenCalledTimes(1);
    expect(orchestrator).toHaveBeenCalledTimes(2);
    now += 1000;
    await cache.cached('stats:total', docker);
    expect(docker).toHaveBeenCalledTimes(2);
    await cache.cache.close();
  });

  it('drops stats and orchestrator (not vpn) on an engine change, and reports the seed /cache/stats shape', async () => {
    let now = 0;
    const cache = createStatsCache({ clock: () => now });
    await cache.cached('stats:total', async () => 1);
    await cache.cached('orchestrator:status', async () => 2);
    await cache.cached('vpn:status', async () => 3);
    now += 1500;
    await cache.cached('vpn:status', async () => 3);
    const before = cache.stats();
    expect(before).toMatchObject({ size: 3, hits: 1, misses: 3, hit_rate: 25 });
    expect(before.entries).toContainEqual({ key: 'stats:total', age: 1.5, ttl_remaining: 1.5 });
    await cache.onEngineChange();
    expect(cache.stats().entries.map((e) => e.key)).toEqual(['vpn:status']);
    await cache.clear();
    expect(cache.stats().size).toBe(0);
    await cache.cache.close();
  });
});
