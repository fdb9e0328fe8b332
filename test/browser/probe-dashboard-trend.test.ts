// The dashboard's windowed hit rate (trend.js, evaluated here without a browser) means what the
// server's hit_rate means: the share of lookups that cost no upstream call, so callers that joined a
// load in flight (coalesced) count as answered, as in CacheStats.hitRate and the Prometheus gauge.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';

interface Sample {
  hits: number;
  misses: number;
  total: number;
}
interface Trend {
  record(history: Map<string, unknown[]>, caches: Array<Sample & { name: string }>, now: number): void;
  hitRateSeries(samples: unknown[]): Array<[number, number | null]>;
  recent(samples: unknown[] | undefined, windowMs: number): (Sample & { seconds: number }) | undefined;
  hitRate(delta: Sample | undefined): number | undefined;
}

const source = readFileSync(new URL('../../src/http/dashboard/trend.js', import.meta.url), 'utf8');
const trend = new Function(`${source}\nreturn trend;`)() as Trend;

describe('dashboard hit rate over time', () => {
  it('counts coalesced lookups as answered, as the server’s hit_rate does', async () => {
    const cache = createCache<number>({ name: 'polled' });
    const history = new Map<string, unknown[]>();
    const sample = (now: number) => {
      const s = cache.stats();
      trend.record(
        history,
        [{ name: 'polled', hits: s.hits, misses: s.misses, total: s.totalRequests }],
        now,
      );
    };
    sample(0);
    // 50 pollers share one load: 1 miss, 49 coalesced, one upstream call.
    let release!: (value: number) => void;
    const loading = new Promise<number>((resolve) => (release = resolve));
    const polls = Array.from({ length: 50 }, () => cache.getOrSet('stats', () => loading));
    release(1);
    await Promise.all(polls);
    sample(2000);
    const stats = cache.stats();
    expect(stats).toMatchObject({ misses: 1, coalesced: 49, hitRate: 98 });

    const samples = history.get('polled')!;
    const [, rate] = trend.hitRateSeries(samples).at(-1)!;
    expect(rate).toBeCloseTo(stats.hitRate, 5);
    expect(trend.hitRate(trend.recent(samples, 60_000))).toBeCloseTo(stats.hitRate, 5);
    await cache.close();
  });

  it('has no rate where there was no traffic or the counters went backwards', () => {
    const history = new Map<string, unknown[]>();
    trend.record(history, [{ name: 'c', hits: 5, misses: 5, total: 10 }], 0);
    trend.record(history, [{ name: 'c', hits: 5, misses: 5, total: 10 }], 2000);
    trend.record(history, [{ name: 'c', hits: 0, misses: 1, total: 1 }], 4000);
    const samples = history.get('c')!;
    expect(trend.hitRateSeries(samples).map(([, rate]) => rate)).toEqual([null, null]);
    expect(trend.hitRate(trend.recent(samples, 60_000))).toBeUndefined();
    expect(trend.hitRate(undefined)).toBeUndefined();
  });
});
