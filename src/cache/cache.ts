// CacheView: the async facade services call (the `Cache` interface). A root cache and each of its
// namespaces are views over one CacheCore; a view owns its key prefix and settings (ttl, enabled, grace,
// …). The getOrSet hit path is kept free of closures and extra promises; misses go to read-through.
import { CacheError, CacheErrorType } from '../errors.js';
import type { CacheKey } from '../engine/types.js';
import { globToRegExp } from '../util/glob.js';
import type { LatencyRecorder } from '../observability/latency.js';
import { errorMessage, LogSink } from '../observability/log-sink.js';
import { hitRatePercent, round2 } from '../observability/numbers.js';
import type { CacheCore } from './core.js';
import { createEnvelope, isFresh, jitterTtl } from './envelope.js';
import { validateTags } from './loader-runner.js';
import { applyConfigUpdate, keyProblem, resolveSetOptions, type ViewConfig } from './options.js';
import { ReadThrough } from './read-through.js';
import type {
  Cache,
  CacheConfigUpdate,
  CacheEntrySummary,
  CacheEvents,
  CacheHealth,
  CacheSetOptions,
  CacheStats,
  GetOrSetOptions,
  Loader,
  WarmSource,
} from './types.js';
import { readWarmSource } from './warm.js';
import { adviseCache } from './advise.js';
import type { Advice } from '../advisor/types.js';
import type { LoadResult } from '../persistence/entries.js';
import { dumpEnvelopes } from './snapshot-envelopes.js';
import { loadIntoView } from './snapshots.js';
import type { SnapshotEntry } from '../persistence/types.js';

// Characters with a meaning in glob patterns cannot appear in a namespace name, or a namespace's
// clear()/invalidatePattern() would reach into other namespaces.
const NAMESPACE_NAME_RE = /^[^*?[\]]+$/;

/** Checks a key argument (string or number), naming the method in the TypeError. */
export function checkKey(key: unknown, method: string): asserts key is CacheKey {
  const problem = keyProblem(key);
  if (problem !== undefined) throw new TypeError(`${method}: ${problem}`);
}

/** A cache or one of its namespaces. */
export class CacheView<V = unknown> implements Cache<V> {
  /** Name used in stats, logs and metrics (`root:namespace` for namespaces). */
  readonly name: string;
  /** Settles when warmOnStart has been applied. */
  ready?: Promise<void>;
  readonly #core: CacheCore;
  readonly #prefix: string;
  readonly #isRoot: boolean;
  readonly #children = new Map<string, CacheView<V>>();
  readonly #readThrough: ReadThrough;
  /** Whether a full key belongs to this view: undefined (every key) for the root. */
  readonly #inScope: ((key: CacheKey) => boolean) | undefined;
  #config: ViewConfig;

  constructor(core: CacheCore, name: string, prefix: string, config: ViewConfig) {
    this.#core = core;
    this.name = name;
    this.#prefix = prefix;
    this.#isRoot = prefix === '';
    this.#config = config;
    this.#readThrough = new ReadThrough(core, this);
    this.#inScope = this.#isRoot ? undefined : (key) => typeof key === 'string' && key.startsWith(prefix);
  }

  /** Whether caching is on for this view. */
  get enabled(): boolean {
    return this.#config.enabled;
  }

  /** The view's current settings (read by read-through on every miss). */
  get config(): ViewConfig {
    return this.#config;
  }

  /** Loader latency of the cache (shared with its namespaces); the manager merges these. */
  get latency(): LatencyRecorder {
    return this.#core.latency;
  }

  /** The full store key of a caller's key (namespace prefix applied). */
  fullKey(key: CacheKey): CacheKey {
    return this.#isRoot ? key : this.#prefix + key;
  }

  /** Tags as stored: a namespace also stores scoped copies so its invalidateTags stays inside it. */
  storedTags(tags: readonly string[]): readonly string[] {
    if (this.#isRoot || tags.length === 0) return tags;
    return [...tags, ...tags.map((t) => this.#prefix + t)];
  }

  /** Read-through: the fresh cached value, else the loader's (single-flight, retries, fail-safe). */
  getOrSet<T extends V = V>(key: CacheKey, loader: Loader<T>, options?: GetOrSetOptions<T>): Promise<T> {
    if (typeof key !== 'string' && (typeof key !== 'number' || !Number.isFinite(key))) {
      return Promise.reject(new TypeError(`getOrSet: ${keyProblem(key)}`));
    }
    if (typeof loader !== 'function')
      return Promise.reject(new TypeError('getOrSet: loader must be a function'));
    const core = this.#core;
    if (!this.#config.enabled || core.closed) return this.#readThrough.direct(key, loader, options);
    const full = this.#isRoot ? key : this.#prefix + key;
    let envelope;
    try {
      envelope = core.store.getLocal(full);
    } catch (error) {
      return this.#readThrough.cacheFailed(error, key, loader, options);
    }
    // Without grace the engine expires an envelope exactly at staleAt, so what it returns is fresh and
    // the hit path needs no clock read; with grace, a returned envelope may be logically stale.
    if (
      envelope !== undefined &&
      (envelope.staleAt === envelope.graceUntil || core.clock() < envelope.staleAt)
    ) {
      core.counters.hits++;
      if (core.advisor !== undefined) core.advisor.recordHit(full, envelope);
      const ahead = options?.refreshAhead ?? this.#config.refreshAhead;
      if (ahead > 0 && envelope.staleAt !== 0) {
        if (core.clock() >= envelope.createdAt + (envelope.staleAt - envelope.createdAt) * ahead) {
          this.#readThrough.refreshAhead(full, key, envelope, loader, options);
        }
      }
      if (core.log.debugOn) core.log.debug('Cache HIT', { cache: this.name, key, durationMs: 0 });
      // Per-event test: a cache:load listener (the Prometheus histogram) must not cost every hit a payload.
      if (core.events.any && core.events.has('cache:hit'))
        core.events.emit('cache:hit', { cache: this.name, key });
      return Promise.resolve(envelope.value as T);
    }
    if (core.advisor !== undefined) core.advisor.record(full);
    return this.#readThrough.miss(full, key, envelope, loader, options);
  }

  /** The fresh value for `key`, or undefined (a value in grace is not returned); counts a hit or miss. */
  async get<T extends V = V>(key: CacheKey): Promise<T | undefined> {
    checkKey(key, 'get');
    const core = this.#core;
    if (!this.#config.enabled || core.closed) return undefined;
    const started = core.log.debugOn ? performance.now() : 0;
    const full = this.fullKey(key);
    let envelope;
    try {
      envelope = core.store.getLocal(full) ?? (core.store.hasRemote ? await core.store.get(full) : undefined);
    } catch (error) {
      throw this.#storeError(CacheErrorType.CACHE_GET_FAILED, 'get', key, error);
    }
    if (envelope !== undefined && isFresh(envelope, core.clock())) {
      if (core.advisor !== undefined) core.advisor.recordHit(full, envelope);
      this.recordHit(key, started);
      return envelope.value as T;
    }
    if (core.advisor !== undefined) core.advisor.record(full);
    this.recordMiss(key, started);
    return undefined;
  }

  /** Counts, logs (debug `Cache HIT`) and emits a hit; `started` is a performance.now() reading. */
  recordHit(key: CacheKey, started: number): void {
    const core = this.#core;
    core.counters.hits++;
    if (core.log.debugOn) this.logOp('Cache HIT', key, started);
    if (core.events.any) core.events.emit('cache:hit', { cache: this.name, key });
  }

  /** Counts and logs (debug `Cache COALESCED`) a caller that joined a load already in flight. */
  recordCoalesced(key: CacheKey, started: number): void {
    const core = this.#core;
    core.counters.coalesced++;
    if (core.log.debugOn) this.logOp('Cache COALESCED', key, started);
  }

  /** Counts, logs (debug `Cache MISS`) and emits a miss. */
  recordMiss(key: CacheKey, started: number): void {
    const core = this.#core;
    core.counters.misses++;
    if (core.log.debugOn) this.logOp('Cache MISS', key, started);
    if (core.events.any) core.events.emit('cache:miss', { cache: this.name, key });
  }

  /**
   * Stores a value (no-op while disabled or closed). A load of the key in flight is detached: it cannot
   * overwrite this value, and calls started after set() resolves do not join it.
   */
  async set(key: CacheKey, value: V, options?: CacheSetOptions): Promise<void> {
    checkKey(key, 'set');
    const write = resolveSetOptions(this.#config, options);
    const core = this.#core;
    if (!this.#config.enabled || core.closed) return;
    const full = this.fullKey(key);
    core.detach(full);
    try {
      await this.write(key, value, write.ttl, write.grace, write.jitter, write.tags, 'set');
    } finally {
      // A load that started while the write was awaiting L2 must not be joined either (see delete).
      core.detach(full);
    }
  }

  /** Stores a value as an envelope and logs SET; `method` names the caller in a CACHE_SET_FAILED error. */
  async write(
    key: CacheKey,
    value: unknown,
    ttl: number,
    grace: number,
    jitter: number,
    tags: readonly string[],
    method: string,
    version?: number,
  ): Promise<void> {
    const core = this.#core;
    const started = core.log.debugOn ? performance.now() : 0;
    const envelope = createEnvelope(value, core.clock(), jitterTtl(ttl, jitter, core.random), grace, tags);
    // getOrSet's stamp from when its load started: L2 refuses the value over a newer write.
    if (version !== undefined) envelope.version = version;
    try {
      await core.store.set(this.fullKey(key), envelope, this.storedTags(tags));
    } catch (error) {
      throw this.#storeError(CacheErrorType.CACHE_SET_FAILED, method, key, error);
    }
    if (core.log.debugOn) this.logOp('Cache SET', key, started);
    if (core.events.any) core.events.emit('cache:set', { cache: this.name, key });
  }

  /** Whether a fresh value is held (not counted). */
  async has(key: CacheKey): Promise<boolean> {
    checkKey(key, 'has');
    const envelope = await this.#peek(key);
    return envelope !== undefined && isFresh(envelope, this.#core.clock());
  }

  /**
   * Removes `key`; true if an entry was removed. A load in flight for it is detached: its result is not
   * stored, and calls started after delete() resolves load afresh instead of joining it.
   */
  async delete(key: CacheKey): Promise<boolean> {
    checkKey(key, 'delete');
    const core = this.#core;
    if (core.closed) return false;
    const started = core.log.debugOn ? performance.now() : 0;
    const full = this.fullKey(key);
    // Detached before the write so an older load cannot put the old answer back, and again after it
    // so that a load started while L2 was being written (it may have read the old L2 entry) is not joined.
    core.detach(full);
    let removed: boolean;
    try {
      removed = await core.store.delete(full);
    } finally {
      core.detach(full);
    }
    if (core.log.debugOn) this.logOp('Cache DELETE', key, started);
    if (core.events.any) core.events.emit('cache:delete', { cache: this.name, key });
    return removed;
  }

  /** Removes every entry of this cache (of this namespace only, for a namespace). */
  async clear(): Promise<void> {
    const core = this.#core;
    if (core.closed) return;
    const started = core.log.debugOn ? performance.now() : 0;
    // Loads still running are detached (all of them for the root, the namespace's own for a namespace),
    // before and after the write as in delete().
    const inScope = this.#inScope;
    core.detachWhere(inScope);
    try {
      if (this.#isRoot) await core.store.clear();
      else await core.store.invalidatePrefix(this.#prefix);
    } finally {
      core.detachWhere(inScope);
    }
    if (core.log.debugOn) this.logOp('Cache CLEAR', undefined, started);
    if (core.events.any) core.events.emit('cache:clear', { cache: this.name });
  }

  /** Removes entries carrying any of the tags; returns the count. */
  async invalidateTags(tags: readonly string[]): Promise<number> {
    const checked = validateTags(tags, 'invalidateTags(tags)');
    const core = this.#core;
    if (core.closed || checked.length === 0) return 0;
    const started = core.log.debugOn ? performance.now() : 0;
    const stored = this.#isRoot ? checked : checked.map((t) => this.#prefix + t);
    // Which tags a load's result will carry is known only when its loader returns (ctx.setTags may
    // change them), so no rule that looks at tags can tell a later caller whether joining is safe without
    // making it wait on that loader, which may never settle. Every load in the view's scope (all of them
    // for the root, whose tags reach into namespaces) is detached instead: the cost is at most one extra
    // loader call per key in flight, and invalidations are rare next to reads.
    const inScope = this.#inScope;
    core.detachWhere(inScope);
    let count: number;
    try {
      count = await core.store.invalidateTags(stored);
    } finally {
      core.detachWhere(inScope);
    }
    if (core.log.debugOn) {
      core.log.debug('Cache INVALIDATE', {
        cache: this.name,
        tags: checked,
        count,
        durationMs: since(started),
      });
    }
    if (core.events.any) core.events.emit('cache:invalidate', { cache: this.name, tags: checked, count });
    return count;
  }

  /** Removes keys matching a glob (`*`) pattern, relative to the namespace; returns the count. */
  async invalidatePattern(pattern: string): Promise<number> {
    if (typeof pattern !== 'string' || pattern === '') {
      throw new TypeError('invalidatePattern(pattern) must be a non-empty string');
    }
    const core = this.#core;
    if (core.closed) return 0;
    const started = core.log.debugOn ? performance.now() : 0;
    // The glob is compiled only when loads are in flight (most invalidations find none).
    let matcher: ReturnType<typeof globToRegExp> | undefined;
    const matches = (key: CacheKey): boolean =>
      (matcher ??= globToRegExp(this.#prefix + pattern)).test(String(key));
    core.detachWhere(matches);
    let count: number;
    try {
      count = await core.store.invalidatePattern(this.#prefix + pattern);
    } finally {
      core.detachWhere(matches);
    }
    if (core.log.debugOn) {
      core.log.debug('Cache INVALIDATE', { cache: this.name, pattern, count, durationMs: since(started) });
    }
    if (core.events.any) core.events.emit('cache:invalidate', { cache: this.name, pattern, count });
    return count;
  }

  /** Ms until `key` goes stale; Infinity if it never does; undefined if absent or stale. */
  async ttlRemaining(key: CacheKey): Promise<number | undefined> {
    checkKey(key, 'ttlRemaining');
    const envelope = await this.#peek(key);
    const now = this.#core.clock();
    if (envelope === undefined || !isFresh(envelope, now)) return undefined;
    return envelope.staleAt === 0 ? Infinity : envelope.staleAt - now;
  }

  /** Changes settings at run time (validated first, logged as CONFIG, emitted as cache:config). */
  configure(update: CacheConfigUpdate): void {
    const next = applyConfigUpdate(this.#config, update);
    const core = this.#core;
    // The logger is shared with the namespaces; building the sink checks it before anything changes.
    const log = 'logger' in update ? new LogSink(update.logger, update.loggerStyle) : core.log;
    this.#config = next;
    core.log = log;
    const { logger: _logger, ...changes } = update;
    if (core.log.debugOn) core.log.debug('Cache CONFIG', { cache: this.name, ...changes });
    if (core.events.any) core.events.emit('cache:config', { cache: this.name, changes });
  }

  /** The child cache `name` (same object on every call), keys stored as `<prefix><name>:<key>`. */
  namespace(name: string): Cache<V> {
    if (typeof name !== 'string' || !NAMESPACE_NAME_RE.test(name)) {
      throw new TypeError(`namespace(name) must be a non-empty string without * ? [ ], got ${String(name)}`);
    }
    let child = this.#children.get(name);
    if (child === undefined) {
      child = new CacheView<V>(this.#core, `${this.name}:${name}`, `${this.#prefix}${name}:`, {
        ...this.#config,
      });
      this.#children.set(name, child);
    }
    return child;
  }

  /** Writes the entries of a warm source; returns how many were written. */
  async warm(source: WarmSource<V>): Promise<number> {
    const core = this.#core;
    const started = performance.now();
    let count = 0;
    // A disabled cache stores nothing, as set() does; the source is not read.
    if (!this.#config.enabled) return 0;
    for await (const item of readWarmSource(source)) {
      const write = resolveSetOptions(this.#config, item.options);
      if (core.closed) break;
      // A warmed value replaces whatever a load in flight would store, as set() does.
      core.detach(this.fullKey(item.key));
      await this.write(item.key, item.value, write.ttl, write.grace, write.jitter, write.tags, 'warm');
      count++;
    }
    if (core.log.infoOn) core.log.info('Cache WARM', { cache: this.name, count, durationMs: since(started) });
    return count;
  }

  /**
   * Engine counters plus the facade's hits, misses, coalesced, staleHits, loads, loadErrors, refreshes,
   * loadTime; hitRate is the share of requests that cost no upstream call (see CacheStats.hitRate).
   */
  stats(): CacheStats {
    const core = this.#core;
    const engine = core.store.stats();
    const c = core.counters;
    const totalRequests = c.hits + c.misses + c.coalesced;
    return {
      ...engine,
      hits: c.hits,
      misses: c.misses,
      coalesced: c.coalesced,
      totalRequests,
      hitRate: hitRatePercent(c.hits + c.coalesced, totalRequests),
      name: this.name,
      enabled: this.#config.enabled,
      ttl: this.#config.ttl,
      staleHits: c.staleHits,
      loads: c.loads,
      loadErrors: c.loadErrors,
      refreshes: c.refreshes,
      loadTime: core.latency.summary(),
    };
  }

  /** Zeroes every counter and the load-time window. */
  resetStats(): void {
    this.#core.store.resetStats();
    this.#core.resetCounters();
  }

  /** The entries of this cache (or namespace) without their values. */
  entries(): CacheEntrySummary[] {
    const now = this.#core.clock();
    const out: CacheEntrySummary[] = [];
    for (const info of this.#core.store.entries()) {
      const key = String(info.key);
      if (!key.startsWith(this.#prefix)) continue;
      const envelope = info.value;
      out.push({
        key: key.slice(this.#prefix.length),
        keyType: typeof info.key === 'number' ? 'number' : 'string',
        ageMs: Math.max(0, now - envelope.createdAt),
        ttlRemainingMs: envelope.staleAt === 0 ? undefined : Math.max(0, envelope.staleAt - now),
        size: info.size,
        tags: envelope.tags,
        stale: !isFresh(envelope, now),
      });
    }
    return out;
  }

  /** ok, or degraded with the reason (closed, a tier down). */
  health(): CacheHealth {
    if (this.#core.closed) return { status: 'degraded', reason: 'closed' };
    const below = this.#core.store.health();
    const down = [below.l2, below.bus].find((h) => h !== undefined && h.status !== 'ok');
    return down === undefined
      ? { status: 'ok', ...below }
      : { status: 'degraded', reason: down.reason ?? 'a tier is unhealthy', ...below };
  }

  /** Live entries of this view, most valuable first, with absolute expiry times (src/persistence). */
  dump(): SnapshotEntry<V>[] {
    return dumpEnvelopes(this.#core.store.hottest(), this.#prefix, this.#core.clock()) as SnapshotEntry<V>[];
  }

  /** Loads snapshot entries into L1 within the cache's bounds (src/persistence). */
  load(entries: readonly SnapshotEntry<V>[]): LoadResult {
    return loadIntoView(this.#core.store, this, entries, this.#core.clock());
  }

  /** The sizing advisor's curve and recommendation for the whole cache; undefined when it is off. */
  advise(): Advice | undefined {
    const core = this.#core;
    if (core.advisor === undefined) return undefined;
    const stats = this.stats();
    return adviseCache(core.advisor, core.name, stats.policy, stats, () => core.store.entries());
  }

  /** Adds an event listener. */
  on<E extends keyof CacheEvents>(event: E, listener: (payload: CacheEvents[E]) => void): this {
    this.#core.events.on(event, listener);
    return this;
  }

  /** Removes an event listener. */
  off<E extends keyof CacheEvents>(event: E, listener: (payload: CacheEvents[E]) => void): this {
    this.#core.events.off(event, listener);
    return this;
  }

  /**
   * Closes the cache: loads in progress are aborted and their results ignored, tiers and timers are
   * released. Afterwards getOrSet calls the loader directly and get/has miss. On a namespace this is a
   * no-op: the root owns the resources.
   */
  async close(): Promise<void> {
    const core = this.#core;
    if (!this.#isRoot || core.closed) return;
    core.closed = true;
    core.abortAll(
      new CacheError(CacheErrorType.FETCH_FAILED, `cache "${this.name}" was closed`, { retryable: false }),
    );
    // The shutdown snapshot must be taken before the store is emptied.
    if (core.persistence !== undefined) await core.persistence.stop();
    await core.store.close();
    if (core.log.debugOn) core.log.debug('Cache CLOSE', { cache: this.name });
  }

  /** Writes one debug line `{ cache, key, durationMs }`. */
  logOp(message: string, key: CacheKey | undefined, started: number): void {
    const fields: Record<string, unknown> = { cache: this.name };
    if (key !== undefined) fields.key = key;
    fields.durationMs = since(started);
    this.#core.log.debug(message, fields);
  }

  async #peek(key: CacheKey) {
    const core = this.#core;
    if (!this.#config.enabled || core.closed) return undefined;
    const full = this.fullKey(key);
    try {
      return core.store.peekLocal(full) ?? (core.store.hasRemote ? await core.store.get(full) : undefined);
    } catch (error) {
      throw this.#storeError(CacheErrorType.CACHE_GET_FAILED, 'read', key, error);
    }
  }

  #storeError(type: CacheErrorType, method: string, key: CacheKey, error: unknown): CacheError {
    this.#core.reportError(this.name, key, method, error);
    const message = `${method} of key ${JSON.stringify(key)} in cache "${this.name}" failed: ${errorMessage(error)}`;
    return new CacheError(type, message, { cause: error });
  }
}

/** Milliseconds since a performance.now() reading, two decimals. */
export function since(started: number): number {
  return round2(performance.now() - started);
}
