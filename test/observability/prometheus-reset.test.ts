// A Prometheus counter may only go up (rate() reads a drop as a process restart): the exported
// counters keep counting across cache.resetStats(), and still equal the true totals.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import type { Cache } from '../../src/cache/types.js';
import { registerMetrics } from '../../src/entries/prometheus.js';
import { manualClock, type ManualClock } from '../helpers/clock.js';
import { deferred } from '../helpers/deferred.js';

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

/** Counter series → stats field, as the exporter maps them. */
const COUNTERS = {
  hits_total: 'hits',
  misses_total: 'misses',
  coalesced_total: 'coalesced',
  stale_hits_total: 'staleHits',
  sets_total: 'sets',
  evictions_total: 'evictions',
  expirations_total: 'expirations',
  invalidations_total: 'invalidations',
  loads_total: 'loads',
  load_errors_total: 'loadErrors',
  refreshes_total: 'refreshes',
} as const;

const settle = () => new Promise((resolve) => setImmediate(resolve));

/** One round of traffic that moves every counter, the same on every cache it is run on. */
async function traffic(cache: Cache<string>, clock: ManualClock, round: number): Promise<void> {
  const key = (name: string) => `${name}${round}`;
  await cache.getOrSet(key('a'), () => 'a'); // miss, load, set
  await cache.getOrSet(key('a'), () => 'a'); // hit
  const gate = deferred<string>();
  const first = cache.getOrSet(key('c'), () => gate.promise);
  const second = cache.getOrSet(key('c'), () => 'never'); // coalesced
  gate.resolve('c');
  await Promise.all([first, second]);
  await cache.set(key('t'), 't', { tags: ['drop'] });
  await cache.invalidateTags(['drop']); // invalidation
  for (let i = 0; i < 6; i++) await cache.set(key(`e${i}`), 'e'); // evictions past maxEntries
  await cache.set(key('s'), 's');
  clock.advance(1001); // everything written so far is stale (in grace)
  await cache.getOrSet(key('s'), () => Promise.reject(new Error('down')), { retry: false }); // stale hit, load error
  await cache.set(key('x'), 'x', { ttl: 10, grace: 0 });
  clock.advance(11);
  cache.prune(); // expirations
  await cache.set(key('r'), 'r');
  clock.advance(900);
  await cache.getOrSet(key('r'), () => 'r2'); // hit past refreshAhead: a background refresh
  await settle();
}

describe('registerMetrics: counters across resetStats', () => {
  it('keep increasing after resetStats and equal the totals of a twin cache that was never reset', async () => {
    const options = {
      ttl: 1000,
      grace: '1h',
      refreshAhead: 0.8,
      maxEntries: 4,
      cleanupInterval: 0,
    } as const;
    const clock = manualClock();
    const twinClock = manualClock();
    const cache = createCache<string>({ ...options, name: 'plans', clock: clock.now });
    const twin = createCache<string>({ ...options, name: 'twin', clock: twinClock.now });
    const registry = new Registry();
    const handle = registerMetrics(cache, { registry });
    const scrape = async () => {
      const m = parse(await registry.metrics());
      return Object.fromEntries(
        Object.keys(COUNTERS).map((suffix) => [suffix, m.get(`larder_cache_${suffix}{cache="plans"}`)!]),
      ) as Record<keyof typeof COUNTERS, number>;
    };

    let before = await scrape();
    for (let round = 0; round < 4; round++) {
      await traffic(cache, clock, round);
      await traffic(twin, twinClock, round);
      if (round === 0) before = await scrape();
      // Resets after a scrape (round 1), between scrapes with traffic lost to the scrape (round 2),
      // twice in a row (round 3).
      if (round >= 1) cache.resetStats();
      if (round === 3) cache.resetStats();
      const after = await scrape();
      const truth = twin.stats();
      for (const [suffix, field] of Object.entries(COUNTERS) as [
        keyof typeof COUNTERS,
        keyof typeof truth,
      ][]) {
        expect(truth[field], `traffic moves ${field}`).toBeGreaterThan(0);
        expect(after[suffix], `${suffix} round ${round}`).toBeGreaterThanOrEqual(before[suffix]);
        expect(after[suffix], `${suffix} round ${round}`).toBe(truth[field]);
      }
      before = after;
    }
    // stats() itself still starts again from zero: only the exported counters carry on.
    expect(cache.stats().hits).toBe(0);
    handle.unregister();
    await cache.close();
    await twin.close();
  });

  it('carry on from the last exported count when a cache that does not report its resets counts down', async () => {
    const real = createCache<string>({ name: 'real' });
    let hits = 5;
    // A cache that is not Larder's own: stats() as a Cache has it, but no totals of what resets zeroed.
    const foreign = {
      stats: () => ({ ...real.stats(), hits }),
      getOrSet: real.getOrSet.bind(real),
      on: real.on.bind(real),
      off: real.off.bind(real),
    } as unknown as Cache;
    const registry = new Registry();
    registerMetrics({ foreign }, { registry });
    const hitsOf = async () =>
      parse(await registry.metrics()).get('larder_cache_hits_total{cache="foreign"}');
    expect(await hitsOf()).toBe(5);
    hits = 2; // reset, then two more
    expect(await hitsOf()).toBe(7);
    hits = 4;
    expect(await hitsOf()).toBe(9);
    await real.close();
  });
});
