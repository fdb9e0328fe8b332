// The admin API's JSON reports: stats (the `cache.stats()` objects in snake_case, plus entries with
// their age and remaining TTL in seconds), health, and a performance report per cache type. Pure functions of the caches, so the
// node:http, Express and Fastify mounts answer identically.
import { freemem, totalmem } from 'node:os';
import type { Cache, CacheEntrySummary, CacheHealth, CacheStats, ManagerStats } from '../../cache/types.js';
import { aggregateStats } from '../../cache/stats.js';
import type { CacheDirectory } from '../cache-directory.js';
import { putOwn } from '../../util/records.js';
import { walkEntries } from './scan.js';

/** Options of the stats report. */
export interface StatsQuery {
  /** Only this cache (must exist). */
  cache?: string;
  /** Only entries whose key contains this text (case-insensitive). */
  q?: string;
  /** At most this many entries per cache. */
  limit: number;
  /** Leave out every key name (the public, unauthenticated view). */
  countersOnly: boolean;
}

/** One entry as served: age and remaining TTL in seconds, as polled stats endpoints usually report them. */
export interface EntryReport {
  key: string;
  /** `number` for the number key `123`, `string` for `'123'`: invalidate the first as `"keys": [123]`. */
  key_type: 'string' | 'number';
  age: number;
  ttl_remaining: number | null;
  size: number;
  tags: readonly string[];
  stale: boolean;
  /** The key's adaptive TTL in seconds (caches with `adaptiveTtl`); absent otherwise. */
  adaptive_ttl?: number;
  /** True when the entry holds upstream validators, so its next load can be a conditional request. */
  revalidatable?: boolean;
}

type Snake = Record<string, unknown>;

/** Converts an object's keys to snake_case, recursively; `undefined` becomes `null` so the field shows. */
export function snakeCase(value: unknown): unknown {
  if (value === undefined) return null;
  if (Array.isArray(value)) return value.map(snakeCase);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value))
    putOwn(
      out,
      k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
      snakeCase(v),
    );
  return out;
}

const seconds = (ms: number): number => Math.round(ms) / 1000;

/**
 * Entries of a cache matching `q`, at most `limit`, plus how many matched in all. Without `q` the
 * iteration stops at `limit` and the total is the cache's count, so a dashboard poll of a large cache
 * summarises `limit` entries, not all of them. With `q` every key is read, in slices with a turn of the
 * event loop between them (scan.ts), so the total counts every match without holding up other requests.
 */
export async function entryReport(
  cache: Cache<unknown>,
  q: string | undefined,
  limit: number,
): Promise<{ entries: EntryReport[]; total: number }> {
  const needle = q?.toLowerCase();
  const matching: CacheEntrySummary[] = [];
  let total = 0;
  if (needle === undefined) {
    if (limit > 0) {
      await walkEntries(cache, (e) => {
        matching.push(e);
        return matching.length < limit;
      });
    }
    total = cache.entryCount();
  } else {
    await walkEntries(cache, (e) => {
      if (!e.key.toLowerCase().includes(needle)) return;
      total++;
      if (matching.length < limit) matching.push(e);
    });
  }
  return {
    total,
    entries: matching.map((e) => {
      const report: EntryReport = {
        key: e.key,
        key_type: e.keyType ?? 'string',
        age: seconds(e.ageMs),
        ttl_remaining: e.ttlRemainingMs === undefined ? null : seconds(e.ttlRemainingMs),
        size: e.size,
        tags: e.tags,
        stale: e.stale,
      };
      if (e.adaptiveTtlMs !== undefined) report.adaptive_ttl = seconds(e.adaptiveTtlMs);
      if (e.revalidatable === true) report.revalidatable = true;
      return report;
    }),
  };
}

/** Overall stats of the caches: the manager's own aggregate when all of its caches are asked for. */
export function overallStats(
  directory: CacheDirectory,
  names: readonly string[],
  perCache: readonly CacheStats[],
): ManagerStats['overall'] {
  if (directory.manager !== undefined && names.length === directory.names().length) {
    return directory.manager.stats().overall;
  }
  // Percentiles cannot be merged from summaries: the slowest cache's bound the whole.
  const count = perCache.reduce((a, s) => a + s.loadTime.count, 0);
  return aggregateStats(perCache, {
    count,
    mean: count === 0 ? 0 : perCache.reduce((a, s) => a + s.loadTime.mean * s.loadTime.count, 0) / count,
    p50: Math.max(0, ...perCache.map((s) => s.loadTime.p50)),
    p99: Math.max(0, ...perCache.map((s) => s.loadTime.p99)),
  });
}

/** The `GET stats` report (the caches' entries read in slices: see {@link entryReport}). */
export async function statsReport(
  directory: CacheDirectory,
  names: readonly string[],
  query: StatsQuery,
): Promise<Snake> {
  const perCache = names.map((n) => directory.get(n)!.stats());
  const caches: Record<string, unknown> = {};
  for (const [i, name] of names.entries()) {
    const report = snakeCase(perCache[i]) as Snake;
    if (!query.countersOnly) {
      const { entries, total } = await entryReport(directory.get(name)!, query.q, query.limit);
      report.entries = entries;
      report.entries_total = total;
    }
    putOwn(caches, name, report);
  }
  const overall = overallStats(directory, names, perCache);
  return { timestamp: Date.now() / 1000, overall: snakeCase(overall), caches };
}

/** The `GET health` report: overall status (degraded when any cache is), and each cache's. */
export function healthReport(directory: CacheDirectory): Snake & { status: CacheHealth['status'] } {
  const caches: Record<string, CacheHealth> = {};
  for (const name of directory.names()) putOwn(caches, name, directory.get(name)!.health());
  let overall: CacheHealth;
  if (directory.manager !== undefined) overall = directory.manager.health();
  else {
    const bad = Object.entries(caches).find(([, h]) => h.status !== 'ok');
    overall =
      bad === undefined
        ? { status: 'ok' }
        : { ...bad[1], reason: `${bad[0]}: ${bad[1].reason ?? 'degraded'}` };
  }
  // Caches of one manager share their tier and bus: when the overall answer names none (all ok),
  // show the first cache's, so an operator sees that L2 is there and healthy rather than absent.
  const all = Object.values(caches);
  const l2 = overall.l2 ?? all.find((h) => h.l2 !== undefined)?.l2;
  const bus = overall.bus ?? all.find((h) => h.bus !== undefined)?.bus;
  return {
    ...overall,
    ...(l2 === undefined ? {} : { l2 }),
    ...(bus === undefined ? {} : { bus }),
    caches,
    timestamp: Date.now() / 1000,
  };
}

const MB = 1024 * 1024;
const GB = 1024 * MB;
const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

/**
 * The `GET performance` report: overall figures, system info and one block per cache (keyed by
 * `instanceKey(name)`, default the name), plus the process's heap. `memory_usage_mb` is the cache's
 * `bytes`: measured per entry with a byte budget or `sizeOf`, otherwise estimated from a sample.
 */
export function performanceReport(
  directory: CacheDirectory,
  instanceKey: (cache: string) => string = (name) => name,
): Snake {
  const names = directory.names();
  const perCache = names.map((n) => directory.get(n)!.stats());
  const overall = overallStats(directory, names, perCache);
  const total = totalmem();
  const available = freemem();
  const memory = process.memoryUsage();
  const instances: Record<string, unknown> = {};
  names.forEach((name, i) => {
    const s = perCache[i]!;
    putOwn(instances, instanceKey(name), {
      hits: s.hits,
      misses: s.misses,
      hit_rate: s.hitRate,
      current_size: s.size,
      max_size: s.maxEntries ?? null,
      memory_usage_mb: round(s.bytes / MB),
      evictions: s.evictions,
      expirations: s.expirations,
      load_time_p99_ms: round(s.loadTime.p99, 3),
      uptime_seconds: round(s.uptimeMs / 1000, 1),
    });
  });
  return {
    timestamp: Date.now() / 1000,
    overall_performance: {
      total_requests: overall.totalRequests,
      total_hits: overall.hits,
      total_misses: overall.misses,
      overall_hit_rate: overall.hitRate,
      total_cache_memory_mb: round(overall.bytes / MB),
    },
    system_info: {
      system_memory_total_gb: round(total / GB),
      system_memory_available_gb: round(available / GB),
      system_memory_percent_used: round(((total - available) / total) * 100, 1),
      process_memory_mb: round(memory.rss / MB, 1),
    },
    process: { rss: memory.rss, heap_used: memory.heapUsed, heap_total: memory.heapTotal },
    cache_instances: instances,
  };
}
