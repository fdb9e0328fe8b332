// SharedCacheState: what a root cache shares with its namespaces — the tier stack, the loads in flight,
// counters, loader latency, events and the logger. Views (cache.ts) hold per-namespace settings and
// call into it; only this class writes its fields, so a namespace costs one object and one handler.
import type { CacheKey, EvictionReason } from '../engine/types.js';
import { EventHub } from '../observability/events.js';
import { LatencyRecorder } from '../observability/latency.js';
import { errorMessage, type LogSink } from '../observability/log-sink.js';
import { since } from '../util/time.js';
import type { SizingAdvisor } from '../advisor/advisor.js';
import type { AutoSizeOptions } from '../advisor/auto-size.js';
import type { SnapshotSchedule } from '../persistence/schedule.js';
import type { Envelope } from './envelope.js';
import { Flights } from './flights.js';
import { zeroTotals, type CounterTotals } from './stats-totals.js';
import type { TierStack } from './tier-stack.js';
import type { CacheEvents } from './types.js';

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

/** What a root cache is built from. */
export interface SharedCacheStateInit {
  /** Name of the root cache. */
  name: string;
  tiers: TierStack;
  /** Time source, ms. */
  clock: () => number;
  log: LogSink;
  /** Randomness for retry backoff jitter (injectable for tests). */
  random: () => number;
  /** The sizing advisor fed by reads (the `advisor` option); undefined when off. */
  advisor: SizingAdvisor | undefined;
  /** Whether tracing contexts carry keys (the `traceKeys` option); default false. */
  traceKeys?: boolean;
  /** The `autoSize` option, validated; undefined when off. */
  autoSize?: AutoSizeOptions;
}

/** State shared by a cache and its namespaces. */
export class SharedCacheState {
  /** Name of the root cache. */
  readonly name: string;
  /** Where entries live: L1, and the shared tier when there is one. */
  readonly tiers: TierStack;
  /** Time source, ms. */
  readonly clock: () => number;
  /** Randomness for retry backoff jitter. */
  readonly random: () => number;
  /** The sizing advisor fed by reads; undefined when off. */
  readonly advisor: SizingAdvisor | undefined;
  /** Whether tracing contexts (observability/tracing.ts) carry keys, tags and patterns. */
  readonly traceKeys: boolean;
  /** The bounds adaptive sizing moves the entry bound within; undefined when off. */
  readonly autoSize: AutoSizeOptions | undefined;
  /** Event listeners. */
  readonly events = new EventHub<CacheEvents>();
  /** Loader latency. */
  readonly latency = new LatencyRecorder();
  /** What resetStats() calls zeroed, per counter (stats-totals.ts): stats() plus these is since creation. */
  readonly resetTotals: CounterTotals = zeroTotals();
  /** Loads in progress by full key (single-flight); writes detach the ones they reach. */
  readonly flights = new Flights();
  /** When the cache was created (for uptime). */
  readonly createdAt: number;
  #log: LogSink;
  #closed = false;
  #closing: Promise<void> | undefined = undefined;
  #persistence: SnapshotSchedule | undefined = undefined;
  readonly #counters: FacadeCounters = {
    hits: 0,
    misses: 0,
    coalesced: 0,
    staleHits: 0,
    loads: 0,
    loadErrors: 0,
    refreshes: 0,
  };

  constructor(init: SharedCacheStateInit) {
    this.name = init.name;
    this.tiers = init.tiers;
    this.clock = init.clock;
    this.#log = init.log;
    this.random = init.random;
    this.advisor = init.advisor;
    this.traceKeys = init.traceKeys === true;
    this.autoSize = init.autoSize;
    this.createdAt = init.clock();
  }

  /** The current log sink (replaced by configure({ logger }) through useLog). */
  get log(): LogSink {
    return this.#log;
  }

  /** Whether close() has run: getOrSet then calls loaders directly and reads miss. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The facade counters (read-only: they move through the count and record methods). */
  get counters(): Readonly<FacadeCounters> {
    return this.#counters;
  }

  /** Replaces the log sink of the cache and its namespaces. */
  useLog(log: LogSink): void {
    this.#log = log;
  }

  /** Takes the snapshot schedule of the `persist` option; close() stops it before the tiers close. */
  attachPersistence(schedule: SnapshotSchedule): void {
    this.#persistence = schedule;
  }

  /** Counts a hit (the getOrSet hit path, which logs and emits by itself). */
  countHit(): void {
    this.#counters.hits++;
  }

  /** Counts a value served stale by fail-safe. */
  countStaleHit(): void {
    this.#counters.staleHits++;
  }

  /** Counts a refresh-ahead load. */
  countRefresh(): void {
    this.#counters.refreshes++;
  }

  /** Counts, logs (debug `Cache HIT`) and emits a hit; `started` is a performance.now() reading. */
  recordHit(cache: string, key: CacheKey, started: number): void {
    this.#counters.hits++;
    if (this.#log.debugOn) this.logTimed('Cache HIT', cache, key, started);
    if (this.events.any) this.events.emit('cache:hit', { cache, key });
  }

  /** Counts, logs (debug `Cache MISS`) and emits a miss. */
  recordMiss(cache: string, key: CacheKey, started: number): void {
    this.#counters.misses++;
    if (this.#log.debugOn) this.logTimed('Cache MISS', cache, key, started);
    if (this.events.any) this.events.emit('cache:miss', { cache, key });
  }

  /** Counts and logs (debug `Cache COALESCED`) a caller that joined a load already in flight. */
  recordCoalesced(cache: string, key: CacheKey, started: number): void {
    this.#counters.coalesced++;
    if (this.#log.debugOn) this.logTimed('Cache COALESCED', cache, key, started);
  }

  /** Writes one debug line `{ cache, key, durationMs }`; the caller checked log.debugOn. */
  logTimed(message: string, cache: string, key: CacheKey | undefined, started: number): void {
    const fields: Record<string, unknown> = { cache };
    if (key !== undefined) fields.key = key;
    fields.durationMs = since(started);
    this.#log.debug(message, fields);
  }

  /** Engine eviction hook: logs EVICT (capacity/expiry) and emits cache:evict. */
  readonly onEvict = (key: CacheKey, _envelope: Envelope, reason: EvictionReason): void => {
    if (this.#log.debugOn && (reason === 'capacity' || reason === 'expired')) {
      this.#log.debug('Cache EVICT', { cache: this.name, key, reason });
    }
    if (this.events.any) this.events.emit('cache:evict', { cache: this.name, key, reason });
  };

  /** Loader hook: counts the attempt, records its latency, emits cache:load. */
  readonly onAttempt = (durationMs: number, ok: boolean, key: CacheKey): void => {
    this.#counters.loads++;
    if (!ok) this.#counters.loadErrors++;
    this.latency.record(durationMs);
    if (this.events.any) this.events.emit('cache:load', { cache: this.name, key, durationMs, ok });
  };

  /** Logs `Cache ERROR` and emits cache:error for a failure the caller will not see as an exception. */
  reportError(cache: string, key: CacheKey | undefined, operation: string, error: unknown): void {
    if (this.#log.errorOn) {
      const fields: Record<string, unknown> = { cache };
      if (key !== undefined) fields.key = key;
      fields.operation = operation;
      fields.error = errorMessage(error);
      this.#log.error('Cache ERROR', fields);
    }
    if (this.events.any) {
      this.events.emit('cache:error', key === undefined ? { cache, error } : { cache, key, error });
    }
  }

  /** Resets facade counters and latency. */
  resetCounters(): void {
    const c = this.#counters;
    c.hits = c.misses = c.coalesced = c.staleHits = c.loads = c.loadErrors = c.refreshes = 0;
    this.latency.reset();
  }

  /**
   * Closes the cache once: loads in progress are aborted with `reason` (their results are not stored),
   * the shutdown snapshot is taken while the entries are still there, then the tiers are released. A
   * later call answers the first call's promise: it too resolves only once all of that is done.
   */
  close(reason: unknown): Promise<void> {
    return (this.#closing ??= this.#close(reason));
  }

  async #close(reason: unknown): Promise<void> {
    this.#closed = true;
    this.flights.abortAll(reason);
    if (this.#persistence !== undefined) await this.#persistence.stop();
    await this.tiers.close();
  }
}
