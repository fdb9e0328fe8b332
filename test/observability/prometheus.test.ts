import { Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import { createCacheManager } from '../../src/cache/manager.js';
import { registerMetrics } from '../../src/entries/prometheus.js';

/** Parses Prometheus text exposition into `name{labels}` → value. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

describe('registerMetrics', () => {
  it('exports a cache’s counters, gauges and loader histogram, read lazily from stats()', async () => {
    const registry = new Registry();
    const cache = createCache<number>({ name: 'plans', ttl: '1h' });
    registerMetrics(cache, { registry });
    await cache.getOrSet('a', () => 1);
    await cache.getOrSet('a', () => 1);
    await cache.getOrSet('a', () => 1);
    await cache.get('nope');
    const m = parse(await registry.metrics());
    expect(m.get('larder_cache_hits_total{cache="plans"}')).toBe(2);
    expect(m.get('larder_cache_misses_total{cache="plans"}')).toBe(2);
    expect(m.get('larder_cache_sets_total{cache="plans"}')).toBe(1);
    expect(m.get('larder_cache_loads_total{cache="plans"}')).toBe(1);
    expect(m.get('larder_cache_load_errors_total{cache="plans"}')).toBe(0);
    expect(m.get('larder_cache_entries{cache="plans"}')).toBe(1);
    expect(m.get('larder_cache_hit_ratio{cache="plans"}')).toBe(0.5);
    expect(m.get('larder_cache_load_duration_seconds_count{cache="plans"}')).toBe(1);
    expect(m.get('larder_cache_load_duration_seconds_bucket{le="+Inf",cache="plans"}')).toBe(1);
    // Counters follow stats() on every scrape.
    await cache.getOrSet('a', () => 1);
    expect(parse(await registry.metrics()).get('larder_cache_hits_total{cache="plans"}')).toBe(3);
  });

  it('labels a { name: Cache } record by its names, so caches sharing a cache.name stay apart', async () => {
    const registry = new Registry();
    const first = createCache<number>({ name: 'dup' });
    const second = createCache<number>({ name: 'dup' });
    for (let i = 0; i < 3; i++) await first.getOrSet(`a${i}`, () => i);
    for (let i = 0; i < 2; i++) await second.set(`b${i}`, i);
    const handle = registerMetrics({ first, second }, { registry });
    const m = parse(await registry.metrics());
    expect(m.get('larder_cache_entries{cache="first"}')).toBe(3);
    expect(m.get('larder_cache_entries{cache="second"}')).toBe(2);
    expect(m.get('larder_cache_misses_total{cache="first"}')).toBe(3);
    await first.getOrSet('late', () => 9);
    expect(
      parse(await registry.metrics()).get('larder_cache_load_duration_seconds_count{cache="first"}'),
    ).toBe(1);
    expect([...m.keys()].some((series) => series.includes('cache="dup"'))).toBe(false);
    expect(() => registerMetrics({ first, bad: {} } as never, { registry })).toThrow(
      /a Cache, a CacheManager or a \{ name: Cache \} record/,
    );
    handle.unregister();
    await first.close();
    await second.close();
  });

  it('labels every cache of a manager by name, including caches created later, with a custom prefix', async () => {
    const registry = new Registry();
    const caches = createCacheManager({ caches: { url: { maxEntries: 5000 }, user: {} } });
    const handle = registerMetrics(caches, { registry, prefix: 'app_' });
    await caches.get('url').set('u', 1);
    caches.create('late', {});
    await caches.get('late').getOrSet('x', () => 1);
    const m = parse(await registry.metrics());
    expect(m.get('app_cache_sets_total{cache="url"}')).toBe(1);
    expect(m.get('app_cache_sets_total{cache="user"}')).toBe(0);
    expect(m.get('app_cache_sets_total{cache="late"}')).toBe(1);
    const labels = [...m.keys()].filter((k) => k.startsWith('app_cache_entries')).sort();
    expect(labels).toEqual([
      'app_cache_entries{cache="late"}',
      'app_cache_entries{cache="url"}',
      'app_cache_entries{cache="user"}',
    ]);
    handle.unregister();
    expect(await registry.metrics()).toBe('\n');
  });

  it('rejects a target that is not a cache or manager, and a bad prefix', () => {
    expect(() => registerMetrics({} as any, { registry: new Registry() })).toThrow(/target/);
    expect(() => registerMetrics(createCache(), { registry: new Registry(), prefix: '9x' })).toThrow(
      /prefix/,
    );
    // A misspelt option would leave the global registry in use: refused, and nothing registered.
    const registry = new Registry();
    expect(() => registerMetrics(createCache(), { registy: registry } as object)).toThrow(
      new TypeError('registerMetrics: unknown option "registy"'),
    );
  });
  it('refuses a second registration on one registry up front, registering nothing, and can be retried', async () => {
    const registry = new Registry();
    const cache = createCache<number>({ name: 'plans' });
    const first = registerMetrics(cache, { registry });
    expect(() => registerMetrics(cache, { registry })).toThrow(
      /already has a metric named larder_cache_hits_total .*prefix/,
    );
    const other = registerMetrics(cache, { registry, prefix: 'other_' });
    other.unregister();
    first.unregister();

    // A name taken by something else, late in the list: nothing of Larder's is left behind.
    new Gauge({ name: 'larder_cache_entries', help: 'app', registers: [registry] });
    expect(() => registerMetrics(cache, { registry })).toThrow(/larder_cache_entries/);
    expect(registry.getMetricsAsArray().map((m) => m.name)).toEqual(['larder_cache_entries']);
    registry.removeSingleMetric('larder_cache_entries');
    registerMetrics(cache, { registry });
    expect(parse(await registry.metrics()).get('larder_cache_entries{cache="plans"}')).toBe(0);
    await cache.close();
  });

  it('refuses buckets that are not finite and strictly increasing, naming the option, and copies them', () => {
    const cache = createCache();
    const registry = new Registry();
    expect(() => registerMetrics(cache, { registry, buckets: 'x' as never })).toThrow(
      new TypeError('registerMetrics: buckets must be an array of numbers, got x'),
    );
    expect(() => registerMetrics(cache, { registry, buckets: [0.1, Number.NaN] })).toThrow(RangeError);
    expect(() => registerMetrics(cache, { registry, buckets: [1, 0.5] })).toThrow(
      /buckets must be finite and strictly increasing, got \[1, 0.5\]/,
    );
    expect(registry.getMetricsAsArray()).toEqual([]);
    const mine = [0.1, 1];
    registerMetrics(cache, { registry, buckets: mine });
    expect(Object.isFrozen(mine)).toBe(false);
  });
});
