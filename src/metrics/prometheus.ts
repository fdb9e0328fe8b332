// Prometheus metrics for a Cache or a CacheManager through prom-client. Counters and gauges are read
// lazily from stats() when the registry is scraped (one stats() snapshot per cache per scrape); loader
// latency is observed into a histogram from `cache:load` events. Counters are counts since the cache
// was created: stats() plus what its resetStats() calls zeroed (stats-totals.ts), so a reset never
// makes one go down (Prometheus's rate() would read that as a restart); a count that still falls (a
// cache that is not Larder's own, whose resets are not reported) carries on from where it was. The
// only label is the cache's name as the target gives it (a manager's or a record's names), so
// cardinality is bounded by the number of caches and two caches never share a series.
import type { Histogram as PromHistogram, Registry } from 'prom-client';
import type { Cache, CacheEvents, CacheManager, CacheStats } from '../cache/types.js';
import { LOAD_DURATION_BUCKETS } from '../observability/latency.js';
import { resetTotals, type CounterField } from '../cache/stats-totals.js';
import { lazyModule } from '../util/lazy-require.js';
import { assertKnownOptions, optionNames } from '../util/validate.js';

/** prom-client (an optional peer dependency), loaded by the first registerMetrics call. */
export const promClient = lazyModule<typeof import('prom-client')>(
  'prom-client',
  'Prometheus metrics (larder-cache/prometheus, the admin API at GET metrics)',
);

/** Options of {@link registerMetrics}. */
export interface MetricsOptions {
  /** Registry to register in; default: prom-client's global registry. */
  registry?: Registry;
  /** Metric name prefix; default `larder_`. */
  prefix?: string;
  /** Histogram buckets for loader latency, in seconds: finite and strictly increasing. */
  buckets?: number[];
}

const METRICS_OPTIONS = optionNames<MetricsOptions>({ registry: true, prefix: true, buckets: true });

/** What registerMetrics returns: a way to take the metrics out again. */
export interface MetricsHandle {
  /** Removes the metrics from the registry and stops observing loads. */
  unregister(): void;
}

/** Default loader-latency buckets (seconds): 1 ms … 10 s. */
export const DEFAULT_LOAD_BUCKETS: number[] = [...LOAD_DURATION_BUCKETS];

// Counter metrics read from stats(): metric suffix → stats field.
const COUNTERS: ReadonlyArray<readonly [string, CounterField, string]> = [
  ['hits_total', 'hits', 'Lookups answered from the cache'],
  ['misses_total', 'misses', 'Lookups that started a load'],
  ['coalesced_total', 'coalesced', 'Lookups that joined a load already in flight (no upstream call)'],
  ['stale_hits_total', 'staleHits', 'Stale values served by fail-safe or soft timeout'],
  ['sets_total', 'sets', 'Entries written'],
  ['evictions_total', 'evictions', 'Entries evicted for capacity'],
  ['expirations_total', 'expirations', 'Entries removed because they expired'],
  ['invalidations_total', 'invalidations', 'Entries removed by invalidation'],
  ['loads_total', 'loads', 'Loader calls (every attempt)'],
  ['load_errors_total', 'loadErrors', 'Loader calls that failed'],
  ['refreshes_total', 'refreshes', 'Background refreshes started'],
];

const GAUGES: ReadonlyArray<readonly [string, (s: CacheStats) => number, string]> = [
  ['entries', (s) => s.size, 'Entries held'],
  ['bytes', (s) => s.bytes, 'Bytes held (as accounted by sizeOf)'],
  [
    'hit_ratio',
    (s) => (s.totalRequests === 0 ? 0 : (s.hits + s.coalesced) / s.totalRequests),
    'Share of lookups that cost no upstream call: (hits + coalesced) / lookups, 0..1',
  ],
];

/** What registerMetrics labels: one cache, a manager, or a `{ name: Cache }` record (as createAdmin takes). */
export type MetricsTarget = Cache | CacheManager | Readonly<Record<string, Cache>>;

function isManager(target: MetricsTarget): target is CacheManager {
  return (
    typeof (target as CacheManager).names === 'function' && typeof (target as Cache).getOrSet !== 'function'
  );
}

const isCache = (value: unknown): value is Cache =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as Cache).stats === 'function' &&
  typeof (value as Cache).getOrSet === 'function';

/**
 * The caches of `target` with their labels: a manager's names, a record's keys, or a single cache's own
 * name. Throws unless `target` is one of those shapes.
 */
function labelledCaches(target: MetricsTarget): () => [string, Cache][] {
  const wrong = 'registerMetrics: target must be a Cache, a CacheManager or a { name: Cache } record';
  if (target === null || typeof target !== 'object') throw new TypeError(wrong);
  if (typeof (target as Cache).stats === 'function') {
    if (isManager(target)) return () => target.names().map((name) => [name, target.get(name)]);
    const cache = target as Cache;
    return () => [[cache.name, cache]];
  }
  const entries = Object.entries(target as Record<string, unknown>);
  if (Array.isArray(target) || entries.length === 0 || !entries.every(([, cache]) => isCache(cache)))
    throw new TypeError(wrong);
  const record = entries as [string, Cache][];
  return () => record;
}

/**
 * Registers cache metrics for a Cache, a CacheManager or a `{ name: Cache }` record, labelled by the
 * manager's or record's names (a single cache by its own name); returns a handle to unregister them.
 * Throws, registering nothing, when the registry already holds one of the metric names (a second call
 * on one registry needs another `prefix`), or for bad `buckets` (TypeError / RangeError).
 */
export function registerMetrics(target: MetricsTarget, options: MetricsOptions = {}): MetricsHandle {
  const caches = labelledCaches(target);
  if (typeof options !== 'object' || options === null)
    throw new TypeError('registerMetrics: options must be an object');
  assertKnownOptions(options, METRICS_OPTIONS, 'registerMetrics');
  const { Counter, Gauge, Histogram, register: defaultRegistry } = promClient();
  const registry = options.registry ?? defaultRegistry;
  const prefix = options.prefix ?? 'larder_';
  if (typeof prefix !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$|^$/.test(prefix)) {
    throw new TypeError(`registerMetrics: prefix must be a valid metric name prefix, got ${String(prefix)}`);
  }

  const buckets = loadBuckets(options.buckets);
  if (
    typeof registry !== 'object' ||
    registry === null ||
    typeof registry.getSingleMetric !== 'function' ||
    typeof registry.removeSingleMetric !== 'function'
  ) {
    throw new TypeError('registerMetrics: registry must be a prom-client Registry');
  }
  const histogramName = `${prefix}cache_load_duration_seconds`;
  const wanted = [
    ...COUNTERS.map(([suffix]) => `${prefix}cache_${suffix}`),
    ...GAUGES.map(([suffix]) => `${prefix}cache_${suffix}`),
    histogramName,
  ];
  const taken = wanted.find((name) => registry.getSingleMetric(name) !== undefined);
  if (taken !== undefined) {
    throw new Error(
      `registerMetrics: the registry already has a metric named ${taken} (registerMetrics called twice ` +
        'on one registry?): unregister the first, or give this one another prefix or registry',
    );
  }

  // One stats() per cache per scrape: prom-client calls every collect() in the same tick.
  let snapshot: Scraped[] | undefined;
  const current = (): Scraped[] => {
    if (snapshot === undefined) {
      observeNewCaches();
      snapshot = caches().map(([label, c]) => {
        const stats = c.stats();
        return { label, stats, counts: counters.counts(label, stats, resetTotals(c)) };
      });
      queueMicrotask(() => {
        snapshot = undefined;
      });
    }
    return snapshot;
  };
  const counters = new MonotonicCounts(COUNTERS.map(([, field]) => field));

  const names: string[] = [];
  let histogram: PromHistogram<'cache'>;
  try {
    for (const [suffix, field, help] of COUNTERS) {
      const name = `${prefix}cache_${suffix}`;
      new Counter({
        name,
        help,
        labelNames: ['cache'],
        registers: [registry],
        collect() {
          this.reset();
          for (const { label, counts } of current()) this.inc({ cache: label }, counts[field]);
        },
      });
      names.push(name);
    }
    for (const [suffix, read, help] of GAUGES) {
      const name = `${prefix}cache_${suffix}`;
      new Gauge({
        name,
        help,
        labelNames: ['cache'],
        registers: [registry],
        collect() {
          this.reset();
          for (const { label, stats } of current()) this.set({ cache: label }, read(stats));
        },
      });
      names.push(name);
    }
    histogram = new Histogram({
      name: histogramName,
      help: 'Loader call duration',
      labelNames: ['cache'],
      buckets,
      registers: [registry],
    });
    names.push(histogramName);
  } catch (error) {
    // Nothing half-registered stays behind to make the next attempt fail too.
    for (const name of names) registry.removeSingleMetric(name);
    throw error;
  }

  // By label: the same Cache under two names is observed under both, as its counters are reported.
  const observed = new Map<string, [Cache, (payload: CacheEvents['cache:load']) => void]>();
  function observeNewCaches(): void {
    for (const [name, cache] of caches()) {
      const before = observed.get(name);
      if (before?.[0] === cache) continue;
      // A manager's cache that was replaced under the same name: stop observing the old one.
      before?.[0].off('cache:load', before[1]);
      // Labelled by the target's name, not the event's, so a namespace's loads count for its cache.
      const label = { cache: name };
      const listener = (payload: CacheEvents['cache:load']): void =>
        histogram.observe(label, payload.durationMs / 1000);
      cache.on('cache:load', listener);
      observed.set(name, [cache, listener]);
    }
  }
  observeNewCaches();

  return {
    unregister(): void {
      for (const [cache, listener] of observed.values()) cache.off('cache:load', listener);
      observed.clear();
      for (const name of names) registry.removeSingleMetric(name);
    },
  };
}

/** One cache's figures at a scrape: its stats() and its counters' exported counts. */
interface Scraped {
  label: string;
  stats: CacheStats;
  counts: Readonly<Record<CounterField, number>>;
}

/**
 * Counts that only go up, per label: a cache's count since creation (stats() plus what resetStats()
 * zeroed), and, should that still fall (a cache that does not say what its resets zeroed), the count
 * last exported carried on as an offset.
 */
class MonotonicCounts {
  readonly #fields: readonly CounterField[];
  // Per label: the count last read from the cache, and what is added to it.
  readonly #byLabel = new Map<string, { read: Record<string, number>; offset: Record<string, number> }>();

  constructor(fields: readonly CounterField[]) {
    this.#fields = fields;
  }

  /** The exported counts of the cache under `label`, from its `stats` and the totals its resets zeroed. */
  counts(
    label: string,
    stats: CacheStats,
    zeroed: Readonly<Record<CounterField, number>> | undefined,
  ): Record<CounterField, number> {
    let kept = this.#byLabel.get(label);
    if (kept === undefined) {
      kept = { read: {}, offset: {} };
      this.#byLabel.set(label, kept);
    }
    const out = {} as Record<CounterField, number>;
    for (const field of this.#fields) {
      const count = stats[field] + (zeroed?.[field] ?? 0);
      const before = kept.read[field] ?? 0;
      if (count < before) kept.offset[field] = (kept.offset[field] ?? 0) + before;
      kept.read[field] = count;
      out[field] = count + (kept.offset[field] ?? 0);
    }
    return out;
  }
}

/** The histogram's buckets: a copy (prom-client freezes what it is given) of finite, increasing bounds. */
function loadBuckets(buckets: unknown): number[] {
  if (buckets === undefined) return [...DEFAULT_LOAD_BUCKETS];
  if (!Array.isArray(buckets) || !buckets.every((b) => typeof b === 'number')) {
    throw new TypeError(`registerMetrics: buckets must be an array of numbers, got ${String(buckets)}`);
  }
  const copy = [...(buckets as number[])];
  copy.forEach((bound, i) => {
    if (!Number.isFinite(bound) || (i > 0 && !(bound > copy[i - 1]!))) {
      throw new RangeError(
        `registerMetrics: buckets must be finite and strictly increasing, got [${copy.join(', ')}]`,
      );
    }
  });
  return copy;
}
