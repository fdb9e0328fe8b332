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
  /** The core's invalidation epoch when the load started; a newer epoch means "do not store". */
  epoch: number;
  /** Set when the key was deleted while loading: the result is answered but not stored. */
  cancelled: boolean;
  /**
   * Tags invalidated while the load ran; its result is not stored if it carries any of them. The
   * final tags are known only when the loader returns (ctx.setTags), hence the check at store time.
   */
  invalidatedTags: Set<string> | undefined;
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
    staleHits: 0,
    loads: 0,
    loadErrors: 0,
    refreshes: 0,
  };
  /** Loader latency. */
  readonly latency = new LatencyRecorder();
  /** Loads in progress by full key. */
  readonly inflight = new Map<CacheKey, Flight>();
  /** Bumped by every bulk invalidation so that loads started before it do not store stale results. */
  epoch = 0;
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
    c.hits = c.misses = c.staleHits = c.loads = c.loadErrors = c.refreshes = 0;
    this.latency.reset();
  }

  /** Marks the loads in progress whose key matches: they still answer their callers but do not store. */
  cancelFlights(matches: (key: CacheKey) => boolean): void {
    for (const [key, flight] of this.inflight) if (matches(key)) flight.cancelled = true;
  }

  /** Records tags invalidated while loads were running (see Flight.invalidatedTags). */
  taintFlights(tags: readonly string[]): void {
    for (const flight of this.inflight.values()) {
      flight.invalidatedTags ??= new Set();
      for (const tag of tags) flight.invalidatedTags.add(tag);
    }
  }

  /** Aborts every load in progress; their results will not be stored. */
  abortAll(reason: unknown): void {
    for (const flight of this.inflight.values()) {
      flight.cancelled = true;
      flight.controller.abort(reason);
    }
    this.inflight.clear();
  }
}
