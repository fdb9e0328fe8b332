// CacheCore: the state a cache shares with its namespaces — the tier stack, counters, loader latency,
// in-flight loads (single-flight map), events and the logger. Views (cache.ts) hold per-namespace
// settings and call into this; keeping shared state here is what makes a namespace cost one object.
import type { CacheKey, EvictionReason } from '../engine/types.js';
import { EventHub } from '../observability/events.js';
import { LatencyRecorder } from '../observability/latency.js';
import { errorMessage, type LogSink } from '../observability/log-sink.js';
import type { Envelope } from './envelope.js';
import type { TierStack } from './store.js';
import type { CacheEvents } from './types.js';
import type { SizingAdvisor } from '../advisor/advisor.js';
import type { SnapshotSchedule } from '../persistence/persist.js';

/** Counters the facade keeps on top of the engine's (hits and misses are counted here, not by L1). */
export interface FacadeCounters {
  hits: number;
  misses: number;
  /** Callers that joined a load already in flight (neither a hit nor a miss: they cost no upstream call). */
  coalesced: number;
  staleHits: number;
  loads: number;
  loadErrors: number;
  refreshes: number;
}

/** What a load resolves to for every caller that shares it. */
export interface LoadOutcome {
  value: unknown;
  /** True when the value is a stale one served by fail-safe. */
  stale: boolean;
}

/** One in-flight load of a key (single-flight). */
export interface Flight {
  promise: Promise<LoadOutcome>;
  controller: AbortController;
  /**
   * Set when a write reached the key while it loaded: the flight has left the single-flight map (later
   * callers start a fresh load), its result still answers the callers already waiting, and is not stored.
   */
  detached: boolean;
}

/** State shared by a cache and its namespaces. */
export class CacheCore {
  /** Name of the root cache. */
  readonly name: string;
  /** Where entries live (L1, later L2). */
  readonly store: TierStack;
  /** Time source, ms. */
  readonly clock: () => number;
  /** Randomness for jitter (injectable for tests). */
  readonly random: () => number;
  /** Current log sink (replaced by configure({ logger })). */
  log: LogSink;
  /** Event listeners. */
  readonly events = new EventHub<CacheEvents>();
  /** Facade counters. */
  readonly counters: FacadeCounters = {
    hits: 0,
    misses: 0,
    coalesced: 0,
    staleHits: 0,
    loads: 0,
    loadErrors: 0,
    refreshes: 0,
  };
  /** Loader latency. */
  readonly latency = new LatencyRecorder();
  /** Loads in progress by full key; a write removes the ones it reaches (see detach). */
  readonly inflight = new Map<CacheKey, Flight>();
  /** Set by close(). */
  closed = false;
  /** The sizing advisor fed by reads (the `advisor` option); undefined when off. */
  advisor: SizingAdvisor | undefined = undefined;
  /** Periodic and on-close snapshots (the `persist` option); undefined when off. */
  persistence: SnapshotSchedule | undefined = undefined;
  /** When the cache was created (for uptime). */
  readonly createdAt: number;

  constructor(name: string, store: TierStack, clock: () => number, log: LogSink, random: () => number) {
    this.name = name;
    this.store = store;
    this.clock = clock;
    this.log = log;
    this.random = random;
    this.createdAt = clock();
  }

  /** Engine eviction hook: logs EVICT (capacity/expiry) and emits cache:evict. */
  readonly onEvict = (key: CacheKey, _envelope: Envelope, reason: EvictionReason): void => {
    if (this.log.debugOn && (reason === 'capacity' || reason === 'expired')) {
      this.log.debug('Cache EVICT', { cache: this.name, key, reason });
    }
    if (this.events.any) this.events.emit('cache:evict', { cache: this.name, key, reason });
  };

  /** Loader hook: counts the attempt, records its latency, emits cache:load. */
  readonly onAttempt = (durationMs: number, ok: boolean, key: CacheKey): void => {
    this.counters.loads++;
    if (!ok) this.counters.loadErrors++;
    this.latency.record(durationMs);
    if (this.events.any) this.events.emit('cache:load', { cache: this.name, key, durationMs, ok });
  };

  /** Logs `Cache ERROR` and emits cache:error for a failure the caller will not see as an exception. */
  reportError(cache: string, key: CacheKey | undefined, operation: string, error: unknown): void {
    if (this.log.errorOn) {
      const fields: Record<string, unknown> = { cache };
      if (key !== undefined) fields.key = key;
      fields.operation = operation;
      fields.error = errorMessage(error);
      this.log.error('Cache ERROR', fields);
    }
    if (this.events.any) {
      this.events.emit('cache:error', key === undefined ? { cache, error } : { cache, key, error });
    }
  }

  /** Resets facade counters and latency. */
  resetCounters(): void {
    const c = this.counters;
    c.hits = c.misses = c.coalesced = c.staleHits = c.loads = c.loadErrors = c.refreshes = 0;
    this.latency.reset();
  }

  /**
   * Detaches the load of one key (read-your-writes): it leaves the single-flight map, so a call started
   * after the write loads afresh, and its result is not stored. Its waiting callers still get it.
   */
  detach(key: CacheKey): void {
    const flight = this.inflight.get(key);
    if (flight === undefined) return;
    flight.detached = true;
    this.inflight.delete(key);
  }

  /** Detaches every load whose key matches (every load when `matches` is undefined); see detach. */
  detachWhere(matches?: (key: CacheKey) => boolean): void {
    if (this.inflight.size === 0) return;
    for (const [key, flight] of this.inflight) {
      if (matches !== undefined && !matches(key)) continue;
      flight.detached = true;
      this.inflight.delete(key);
    }
  }

  /** Aborts every load in progress; their results will not be stored. */
  abortAll(reason: unknown): void {
    for (const flight of this.inflight.values()) {
      flight.detached = true;
      flight.controller.abort(reason);
    }
    this.inflight.clear();
  }
}
