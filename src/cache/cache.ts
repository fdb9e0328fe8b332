// CacheView: the async facade services call (the `Cache` interface). A root cache and each of its
// namespaces are views over one SharedCacheState; a view owns its key space and settings (ttl, enabled,
// grace, …). The getOrSet hit path is kept free of closures and extra promises; everything past it goes
// down to the view's read-through handler (read-through.ts), which reads and writes the tier stack.
import { CacheError, CacheErrorType } from '../errors.js';
import type { CacheKey } from '../engine/types.js';
import { globToRegExp } from '../util/glob.js';
import { assertKey, keyProblem } from '../util/validate.js';
import { copyCallerTags } from './tag-scope.js';
import type { LatencyRecorder } from '../observability/latency.js';
import { LogSink, errorMessage } from '../observability/log-sink.js';
import { hitRatePercent } from '../observability/numbers.js';
import {
  deleteChannel,
  getChannel,
  getOrSetChannel,
  invalidateChannel,
  operationContext,
  setChannel,
  type InvalidateTraceContext,
  type OperationTraceContext,
} from '../observability/tracing.js';
import { entryLoadState, isFresh } from './envelope.js';
import { detachAround } from './flights.js';
import { abandonable, abortReason } from './abortable.js';
import { BatchOps, checkKeys } from './batch.js';
import { valueFits } from './validate-value.js';
import { applyConfigUpdate, checkSignal, resolveSetOptions, type ResolvedCacheSettings } from './options.js';
import { KeySpace, ReadThrough } from './read-through.js';
import type { SharedCacheState } from './shared-state.js';
import { since } from '../util/time.js';
import type {
  Cache,
  CacheConfigUpdate,
  CacheEntrySummary,
  CacheEvents,
  CacheHealth,
  CacheSetOptions,
  CacheStats,
  BatchLoader,
  GetOrSetOptions,
  Loader,
  NotInferred,
  SetManyEntry,
  WarmSource,
} from './types.js';
import { readWarmSource, WARM_KEY } from './warm.js';
import { adviseCache } from './advise.js';
import type { Advice } from '../advisor/types.js';
import { assertWithinAutoSize } from '../advisor/auto-size.js';
import type { LoadResult } from '../persistence/entries.js';
import { dumpEnvelopes } from './snapshot-envelopes.js';
import { loadIntoView } from './snapshots.js';
import { retimeEntries } from './retime.js';
import type { SnapshotEntry } from '../persistence/types.js';
import { SYNC_ACCESS, type SyncAccess } from './sync-view.js';
import { addToTotals, RESET_TOTALS, type CounterTotals } from './stats-totals.js';
import { KEEP_NAMESPACE } from './namespace-keys.js';

// A namespace's keys are `<name>:<key>`. A name with ':' would overlap another namespace's keys
// (ns('a:b') key 'k' is ns('a') key 'b:k'), and glob characters would let its clear() or
// invalidatePattern() reach into other namespaces; nesting is .namespace('a').namespace('b').
const NAMESPACE_NAME_RE = /^[^:*?[\]]+$/;

// A parent holds its namespace views weakly: per-tenant or per-user namespaces (`namespace(tenantId)`)
// would otherwise keep a view (about 840 bytes) per name ever used. A view nothing holds is collected
// and its name forgotten here; namespace(name) then makes a new one from the parent's settings of that
// time. What only a view carries is not lost with it: a view that was configured, or memoized into
// (memoize.ts keys its prefix claims by view), is kept by its parent for good (keep()); a nested view
// holds its parent, so the parent stays the same object; a load in flight holds its view (below).
interface ChildRecord {
  readonly children: Map<string, WeakRef<object>>;
  readonly name: string;
  readonly ref: WeakRef<object>;
}
const forgetChild = new FinalizationRegistry<ChildRecord>(({ children, name, ref }) => {
  // The name may have a newer view by now.
  if (children.get(name) === ref) children.delete(name);
});
// A namespace's in-flight loads hold its ReadThrough (their frames), which holds the view through this
// map (a WeakMap value lives as long as its key): the view's count of loads in flight, adaptive TTL's
// underLoad.inFlight, must not restart at 0 in a new view of the name while they run.
const viewOfReadThrough = new WeakMap<ReadThrough, object>();

/** A cache or one of its namespaces. */
export class CacheView<V = unknown> implements Cache<V> {
  /** Name used in stats, logs and metrics (`root:namespace` for namespaces). */
  readonly name: string;
  /** Settles when warmOnStart has been applied. */
  ready?: Promise<void>;
  readonly #state: SharedCacheState;
  readonly #keys: KeySpace;
  /** The key space's prefix and whether it is the root's, read by the hit path without a call. */
  readonly #prefix: string;
  readonly #isRoot: boolean;
  /** The namespace views made by namespace(), held weakly (see forgetChild above). */
  readonly #children = new Map<string, WeakRef<CacheView<V>>>();
  /** The parent of a namespace (undefined at the root), held so that it stays the same object. */
  readonly #parent: CacheView<V> | undefined;
  /** Children with state of their own (see keep()): held strongly. */
  #kept: Set<CacheView<V>> | undefined;
  /** Whether the parent holds this view strongly. */
  #isKept = false;
  readonly #readThrough: ReadThrough;
  /** getMany, setMany, deleteMany, getOrSetMany (batch.ts). */
  readonly #batch: BatchOps;
  #config: ResolvedCacheSettings;

  constructor(
    state: SharedCacheState,
    name: string,
    prefix: string,
    config: ResolvedCacheSettings,
    parent?: CacheView<V>,
  ) {
    this.#state = state;
    this.#parent = parent;
    this.name = name;
    this.#keys = new KeySpace(name, prefix);
    this.#prefix = prefix;
    this.#isRoot = prefix === '';
    this.#config = config;
    this.#readThrough = new ReadThrough(state, this.#keys);
    this.#batch = new BatchOps(state, this.#keys, this.#readThrough);
    if (parent !== undefined) viewOfReadThrough.set(this.#readThrough, this);
  }

  /** Whether caching is on for this view. */
  get enabled(): boolean {
    return this.#config.enabled;
  }

  /** The default TTL of new entries in this view, ms (0 = no expiry); `configure({ ttl })` changes it. */
  get ttl(): number {
    return this.#config.ttl;
  }

  /** Loader latency of the cache (shared with its namespaces); the manager merges these. */
  get latency(): LatencyRecorder {
    return this.#state.latency;
  }

  /** Read-through: the fresh cached value, else the loader's (single-flight, retries, fail-safe). */
  getOrSet<T extends V = V>(
    key: CacheKey,
    loader: Loader<T>,
    options?: GetOrSetOptions<NotInferred<T>>,
  ): Promise<T> {
    // A throwing options getter or Proxy must reject, never throw: the try costs a hit nothing measurable.
    try {
      // Tracing (observability/tracing.ts) costs the untraced call this one property read.
      if (getOrSetChannel.hasSubscribers) {
        const trace = operationContext('getOrSet', this.name, key, this.#state.traceKeys, this.#state.name);
        return getOrSetChannel.tracePromise(() => this.#getOrSet(key, loader, options, trace), trace);
      }
      return this.#getOrSet(key, loader, options, undefined);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** getOrSet; `trace` is the `larder:getOrSet` context to fill with the outcome, when traced. */
  #getOrSet<T extends V>(
    key: CacheKey,
    loader: Loader<T>,
    options: GetOrSetOptions<T> | undefined,
    trace: OperationTraceContext | undefined,
  ): Promise<T> {
    if (typeof key !== 'string' && (typeof key !== 'number' || !Number.isFinite(key))) {
      return Promise.reject(new TypeError(`getOrSet: ${keyProblem(key)}`));
    }
    if (typeof loader !== 'function')
      return Promise.reject(new TypeError('getOrSet: loader must be a function'));
    // A caller's signal abandons only this caller's wait (abortable.ts); the call itself runs without it.
    if (options?.signal !== undefined) return this.#withSignal(key, loader, options, trace);
    const state = this.#state;
    const config = this.#config;
    if (!config.enabled || state.closed) return this.#readThrough.direct(key, loader, options, config);
    const full = this.#isRoot ? key : this.#keys.fullKey(key);
    let envelope;
    try {
      envelope = state.tiers.getLocal(full);
    } catch (error) {
      return this.#readThrough.cacheFailed(error, key, loader, options, config);
    }
    // Validation on read costs the hit path nothing unless a validate option is set.
    let fits = true;
    if (envelope !== undefined && (config.validate !== undefined || options?.validate !== undefined)) {
      try {
        fits = valueFits(envelope.value, options, config.validate);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    // Without grace the engine expires an envelope exactly at staleAt, so what it returns is fresh and
    // the hit path needs no clock read; with grace, or a record kept for revalidation (keepUntil), a
    // returned envelope may be logically stale.
    if (
      envelope !== undefined &&
      ((envelope.staleAt === envelope.expiresAt && envelope.keepUntil === undefined) ||
        state.clock() < envelope.staleAt) &&
      options?.forceFresh !== true &&
      fits
    ) {
      state.countHit();
      if (state.advisor !== undefined) state.advisor.recordHit(full, envelope);
      if (trace !== undefined) {
        trace.outcome = 'hit';
        trace.tier = 'l1';
      }
      const ahead = options?.refreshAhead ?? config.refreshAhead;
      if (ahead > 0 && envelope.staleAt !== 0) {
        if (state.clock() >= envelope.createdAt + (envelope.staleAt - envelope.createdAt) * ahead) {
          this.#readThrough.refreshAhead(full, key, envelope, loader, options, config);
        }
      }
      if (state.log.debugOn) state.log.debug('Cache HIT', { cache: this.name, key, durationMs: 0 });
      // Per-event test: a cache:load listener (the Prometheus histogram) must not cost every hit a payload.
      if (state.events.any && state.events.has('cache:hit'))
        state.events.emit('cache:hit', { cache: this.name, key });
      return Promise.resolve(envelope.value as T);
    }
    if (state.advisor !== undefined) state.advisor.record(full);
    return this.#readThrough.miss(full, key, envelope, loader, options, config, trace);
  }

  /** The fresh value for `key`, or undefined (a value in grace is not returned); counts a hit or miss. */
  get<T extends V = V>(key: CacheKey): Promise<T | undefined> {
    if (!getChannel.hasSubscribers) return this.#get<T>(key, undefined);
    const trace = operationContext('get', this.name, key, this.#state.traceKeys, this.#state.name);
    return getChannel.tracePromise(() => this.#get<T>(key, trace), trace);
  }

  async #get<T extends V>(key: CacheKey, trace: OperationTraceContext | undefined): Promise<T | undefined> {
    assertKey(key, 'get');
    if (!this.#config.enabled || this.#state.closed) return undefined;
    return this.#readThrough.get<T>(key, this.#config.validate, trace);
  }

  /**
   * The fresh values of `keys` in order (undefined where none, or where a value fails `validate`): L1
   * first, then one L2 round trip for the keys L1 does not hold. Counts a hit or miss per key.
   */
  async getMany<T extends V = V>(keys: readonly CacheKey[]): Promise<Array<T | undefined>> {
    checkKeys(keys, 'getMany');
    if (!this.#config.enabled || this.#state.closed) return keys.map(() => undefined);
    return this.#batch.getMany(keys, this.#config.validate) as Promise<Array<T | undefined>>;
  }

  /**
   * Read-through for many keys (the DataLoader pattern): values in key order. Fresh keys are answered
   * by the cache, keys with a load in flight join it, and the remaining keys go to ONE call of
   * `loadMany(missingKeys, ctx)`, which returns a Map or an array aligned with its keys. Each result is
   * stored (unless a write reached its key meanwhile); a key the loader leaves out answers undefined
   * (cached only with `cacheUndefined`). A failed batch fails every key it covered, except those with
   * a value in grace (fail-safe). Each key's load is registered like getOrSet's, so a concurrent
   * getOrSet(key) joins the batch. `options.signal` abandons this caller's wait only.
   */
  getOrSetMany<T extends V = V>(
    keys: readonly CacheKey[],
    loadMany: BatchLoader<T>,
    options?: GetOrSetOptions<T>,
  ): Promise<Array<T | undefined>> {
    let signal: AbortSignal | undefined;
    try {
      checkKeys(keys, 'getOrSetMany');
      if (typeof loadMany !== 'function') throw new TypeError('getOrSetMany: loadMany must be a function');
      signal = checkSignal(options?.signal, 'getOrSetMany: signal');
    } catch (error) {
      return Promise.reject(error);
    }
    if (signal?.aborted === true) return Promise.reject(abortReason(signal));
    const work = this.#batch.getOrSetMany(keys, loadMany, options, this.#config);
    return signal === undefined ? work : abandonable(work, signal);
  }

  /**
   * Stores a value (no-op while closed). While disabled nothing is stored, but the value the key held is
   * removed, so it is not served once caching is on again. A load of the key in flight is detached (also
   * while disabled): it cannot overwrite this value, and calls started after set() resolves do not join it.
   */
  set(key: CacheKey, value: V, options?: CacheSetOptions): Promise<void> {
    if (!setChannel.hasSubscribers) return this.#set(key, value, options);
    const trace = operationContext('set', this.name, key, this.#state.traceKeys, this.#state.name);
    return setChannel.tracePromise(() => this.#set(key, value, options), trace);
  }

  async #set(key: CacheKey, value: V, options?: CacheSetOptions): Promise<void> {
    assertKey(key, 'set');
    const write = resolveSetOptions(this.#config, options);
    const state = this.#state;
    if (state.closed) return;
    const full = this.#keys.fullKey(key);
    // Disabled, nothing is stored, but the value this write replaces is removed from every tier and a
    // load already in flight is detached: either would otherwise be served once caching is on again.
    if (!this.#config.enabled) {
      await detachAround(
        () => state.flights.detach(full),
        () => state.tiers.delete(full),
      );
      return;
    }
    // detachAround, inlined (no closures on the write path): detached before the write and after it.
    state.flights.detach(full);
    try {
      await this.#readThrough.write(key, value, write, 'set');
    } finally {
      state.flights.detach(full);
    }
  }

  /**
   * Stores several values in every tier, each as {@link set} would (`options` for entries without their
   * own). Every entry is checked before anything is written; loads in flight for the keys are detached
   * before and after the writes; with a shared tier other instances hear of them in one bus message.
   */
  async setMany(entries: Iterable<SetManyEntry<V>>, options?: CacheSetOptions): Promise<void> {
    await this.#batch.setMany(entries, options, this.#config);
  }

  /** Whether a fresh value is held (not counted). */
  async has(key: CacheKey): Promise<boolean> {
    assertKey(key, 'has');
    const envelope = await this.#peek(key);
    if (envelope === undefined || !isFresh(envelope, this.#state.clock())) return false;
    // A value that fails `validate` is not held, as get() does not answer it.
    const validate = this.#config.validate;
    return validate === undefined || validate(envelope.value);
  }

  /**
   * Removes `key`; true if an entry was removed. A load in flight for it is detached: its result is not
   * stored, and calls started after delete() resolves load afresh instead of joining it.
   */
  delete(key: CacheKey): Promise<boolean> {
    if (!deleteChannel.hasSubscribers) return this.#delete(key);
    const trace = operationContext('delete', this.name, key, this.#state.traceKeys, this.#state.name);
    return deleteChannel.tracePromise(() => this.#delete(key), trace);
  }

  async #delete(key: CacheKey): Promise<boolean> {
    assertKey(key, 'delete');
    const state = this.#state;
    if (state.closed) return false;
    const started = state.log.debugOn ? performance.now() : 0;
    const full = this.#keys.fullKey(key);
    const removed = await detachAround(
      () => state.flights.detach(full),
      () => state.tiers.delete(full),
    );
    if (state.log.debugOn) state.logTimed('Cache DELETE', this.name, key, started);
    if (state.events.any) state.events.emit('cache:delete', { cache: this.name, key });
    return removed;
  }

  /**
   * Removes several keys from every tier (L2 deletes sent together, one bus message); loads in flight for them are
   * detached as by {@link delete}. Resolves how many entries were removed.
   */
  async deleteMany(keys: readonly CacheKey[]): Promise<number> {
    checkKeys(keys, 'deleteMany');
    return this.#batch.deleteMany(keys);
  }

  /** Removes every entry of this cache (of this namespace only, for a namespace). */
  clear(): Promise<void> {
    if (!invalidateChannel.hasSubscribers) return this.#clear();
    return invalidateChannel.tracePromise(() => this.#clear(), this.#invalidateTrace('clear'));
  }

  async #clear(): Promise<void> {
    const state = this.#state;
    if (state.closed) return;
    const started = state.log.debugOn ? performance.now() : 0;
    // Loads still running are detached (all of them for the root, the namespace's own for a namespace).
    const inScope = this.#keys.inScope;
    await detachAround<unknown>(
      () => state.flights.detachWhere(inScope),
      () => (this.#isRoot ? state.tiers.clear() : state.tiers.invalidatePrefix(this.#prefix)),
    );
    if (state.log.debugOn) state.logTimed('Cache CLEAR', this.name, undefined, started);
    if (state.events.any) state.events.emit('cache:clear', { cache: this.name });
  }

  /** Removes entries carrying any of the tags; returns the count. */
  invalidateTags(tags: readonly string[]): Promise<number> {
    if (!invalidateChannel.hasSubscribers) return this.#invalidateTags(tags);
    const trace = this.#invalidateTrace('tags');
    if (this.#state.traceKeys && Array.isArray(tags)) trace.tags = [...tags];
    return invalidateChannel.tracePromise(() => this.#invalidateTags(tags), trace);
  }

  async #invalidateTags(tags: readonly string[]): Promise<number> {
    const checked = copyCallerTags(tags, 'invalidateTags(tags)');
    const state = this.#state;
    if (state.closed || checked.length === 0) return 0;
    const started = state.log.debugOn ? performance.now() : 0;
    const stored = this.#keys.scopedTags(checked);
    // Which tags a load's result will carry is known only when its loader returns (ctx.setTags may
    // change them), so no rule that looks at tags can tell a later caller whether joining is safe without
    // making it wait on that loader, which may never settle. Every load in the view's scope (all of them
    // for the root, whose tags reach into namespaces) is detached instead: the cost is at most one extra
    // loader call per key in flight, and invalidations are rare next to reads.
    const inScope = this.#keys.inScope;
    const count = await detachAround(
      () => state.flights.detachWhere(inScope),
      () => state.tiers.invalidateTags(stored),
    );
    if (state.log.debugOn) {
      state.log.debug('Cache INVALIDATE', {
        cache: this.name,
        tags: checked,
        count,
        durationMs: since(started),
      });
    }
    if (state.events.any) state.events.emit('cache:invalidate', { cache: this.name, tags: checked, count });
    return count;
  }

  /** Removes keys matching a glob (`*`) pattern, relative to the namespace; returns the count. */
  invalidatePattern(pattern: string): Promise<number> {
    if (!invalidateChannel.hasSubscribers) return this.#invalidatePattern(pattern);
    const trace = this.#invalidateTrace('pattern');
    if (this.#state.traceKeys && typeof pattern === 'string') trace.pattern = pattern;
    return invalidateChannel.tracePromise(() => this.#invalidatePattern(pattern), trace);
  }

  async #invalidatePattern(pattern: string): Promise<number> {
    if (typeof pattern !== 'string' || pattern === '') {
      throw new TypeError('invalidatePattern(pattern) must be a non-empty string');
    }
    const state = this.#state;
    if (state.closed) return 0;
    const started = state.log.debugOn ? performance.now() : 0;
    // A namespace may need two full-key globs (its number keys are marked: namespace-keys.ts). They are
    // compiled only when loads are in flight (most invalidations find none).
    const globs = this.#keys.globs(pattern);
    let matchers: ReturnType<typeof globToRegExp>[] | undefined;
    const matches = (key: CacheKey): boolean =>
      (matchers ??= globs.map((glob) => globToRegExp(glob))).some((m) => m.test(String(key)));
    const count = await detachAround(
      () => state.flights.detachWhere(matches),
      async () => {
        let removed = 0;
        for (const glob of globs) removed += await state.tiers.invalidatePattern(glob);
        return removed;
      },
    );
    if (state.log.debugOn) {
      state.log.debug('Cache INVALIDATE', { cache: this.name, pattern, count, durationMs: since(started) });
    }
    if (state.events.any) state.events.emit('cache:invalidate', { cache: this.name, pattern, count });
    return count;
  }

  /**
   * Ms until `key` goes stale; Infinity if it never does; undefined if absent, stale, or failing
   * `validate` (a value get() does not answer, as {@link has} says).
   */
  async ttlRemaining(key: CacheKey): Promise<number | undefined> {
    assertKey(key, 'ttlRemaining');
    const envelope = await this.#peek(key);
    const now = this.#state.clock();
    if (envelope === undefined || !isFresh(envelope, now)) return undefined;
    const validate = this.#config.validate;
    if (validate !== undefined && !validate(envelope.value)) return undefined;
    return envelope.staleAt === 0 ? Infinity : envelope.staleAt - now;
  }

  /**
   * Removes the L1 entries of this cache (of this namespace only, for a namespace) whose time has
   * ended, TTL plus grace, now rather than at the next sweep or read; returns how many.
   */
  prune(): number {
    const state = this.#state;
    if (state.closed) return 0;
    const count = state.tiers.prune(this.#keys.inScope);
    if (state.log.debugOn) state.log.debug('Cache PRUNE', { cache: this.name, count });
    return count;
  }

  /** Changes settings at run time (validated first, logged as CONFIG, emitted as cache:config). */
  configure(update: CacheConfigUpdate): void {
    const next = applyConfigUpdate(this.#config, update);
    if (update.applyToExisting !== undefined && typeof update.applyToExisting !== 'boolean')
      throw new TypeError('applyToExisting must be a boolean');
    const state = this.#state;
    // The logger is shared with the namespaces; building the sink checks it before anything changes.
    const log = 'logger' in update ? new LogSink(update.logger, update.loggerStyle) : state.log;
    // Each bound is read once: the value checked against autoSize is the one the tier takes.
    const { maxEntries, maxBytes } = update;
    if (maxEntries !== undefined || maxBytes !== undefined) {
      // Bounds belong to the shared in-memory tier, so only the root may change them; the engine
      // validates both before it changes anything.
      if (this.#prefix !== '')
        throw new TypeError('maxEntries and maxBytes can be configured only on the root cache');
      if (typeof maxEntries === 'number' && state.autoSize !== undefined)
        assertWithinAutoSize(maxEntries, state.autoSize);
      state.tiers.resize({ maxEntries, maxBytes });
      // The advisor models the entry bound: re-centred on the one the tier ends with (a cache:evict
      // listener may have configured another meanwhile), or advise() would go on describing (and
      // recommending from) the old size.
      const advisor = state.advisor;
      if (advisor !== undefined && maxEntries !== undefined) {
        const bound = state.tiers.stats().maxEntries;
        if (bound !== undefined && bound !== advisor.capacity) advisor.rebase(bound);
      }
    }
    this.#config = next;
    state.useLog(log);
    const { logger: _logger, ...changes } = update;
    // Seed 000's configureTTL: the new TTL reaches the entries already cached (retime.ts).
    const retimed =
      update.applyToExisting === true && update.ttl !== undefined ? this.#retime(next) : undefined;
    if (state.log.debugOn) state.log.debug('Cache CONFIG', { cache: this.name, ...changes, ...retimed });
    if (state.events.any) state.events.emit('cache:config', { cache: this.name, changes });
    // Settings of its own: a new view of the name would copy the parent's instead.
    this.#keep();
  }

  /**
   * The child cache `name`, keys stored as `<prefix><name>:<key>`; `name` may not contain `:` (nest with
   * `.namespace(a).namespace(b)`) or glob characters. The same object on every call while it is held
   * anywhere, or once it has been configured or memoized into; otherwise it may be garbage collected,
   * and a later call makes a new one with the settings this cache has then.
   */
  namespace(name: string): Cache<V> {
    if (typeof name !== 'string' || !NAMESPACE_NAME_RE.test(name)) {
      const got = typeof name === 'string' ? JSON.stringify(name) : String(name);
      throw new TypeError(
        `namespace(name) must be a non-empty string without : * ? [ ] (nest with .namespace(a).namespace(b)), got ${got}`,
      );
    }
    let child = this.#children.get(name)?.deref();
    if (child === undefined) {
      child = new CacheView<V>(
        this.#state,
        `${this.name}:${name}`,
        `${this.#prefix}${name}:`,
        { ...this.#config },
        this,
      );
      const ref = new WeakRef(child);
      this.#children.set(name, ref);
      forgetChild.register(child, { children: this.#children, name, ref });
    }
    return child;
  }

  /** memoize's prefix claims are keyed by this view (memoize.ts): it is kept, as keep() says. */
  [KEEP_NAMESPACE](): void {
    this.#keep();
  }

  /**
   * Has the parent (and its parents) hold this namespace view for good: it carries state a new view of
   * its name would not have. A no-op at the root, which the caller holds.
   */
  #keep(): void {
    const parent = this.#parent;
    if (parent === undefined || this.#isKept) return;
    this.#isKept = true;
    (parent.#kept ??= new Set()).add(this);
    parent.#keep();
  }

  /** Writes the entries of a warm source; returns how many were written. */
  async warm(source: WarmSource<V>): Promise<number> {
    const state = this.#state;
    const started = performance.now();
    let count = 0;
    // A disabled cache stores nothing, as set() does; the source is not read.
    if (!this.#config.enabled) return 0;
    for await (const item of readWarmSource(source)) {
      const write = resolveSetOptions(this.#config, item.options, 'warm');
      if (state.closed) break;
      // A warmed value replaces whatever a load in flight would store, as set() does.
      state.flights.detach(this.#keys.fullKey(item.key));
      await this.#readThrough.write(item.key, item.value, write, 'warm');
      count++;
    }
    if (state.log.infoOn)
      state.log.info('Cache WARM', { cache: this.name, count, durationMs: since(started) });
    return count;
  }

  /**
   * Engine counters plus the facade's hits, misses, coalesced, staleHits, loads, loadErrors, refreshes,
   * loadTime; hitRate is the share of requests that cost no upstream call (see CacheStats.hitRate).
   */
  stats(): CacheStats {
    const state = this.#state;
    const engine = state.tiers.stats();
    const c = state.counters;
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
      loadTime: state.latency.summary(),
    };
  }

  /**
   * Zeroes every counter and the load-time window. Exported counters (larder-cache/prometheus) keep
   * counting: what is zeroed here is added to the totals they read (stats-totals.ts).
   */
  resetStats(): void {
    addToTotals(this.#state.resetTotals, this.stats());
    this.#state.tiers.resetStats();
    this.#state.resetCounters();
  }

  /** The entries of this cache (or namespace) without their values. */
  entries(): CacheEntrySummary[] {
    return [...this.eachEntry()];
  }

  /** The entries {@link entries} lists, each summarised only when the iteration reaches it. */
  *eachEntry(): IterableIterator<CacheEntrySummary> {
    const now = this.#state.clock();
    for (const info of this.#state.tiers.eachEntry()) {
      if (!this.#isRoot && !String(info.key).startsWith(this.#prefix)) continue;
      const key = this.#keys.callerKey(info.key);
      const envelope = info.value;
      yield {
        key: String(key),
        keyType: typeof key === 'number' ? 'number' : 'string',
        ageMs: Math.max(0, now - envelope.createdAt),
        ttlRemainingMs: envelope.staleAt === 0 ? undefined : Math.max(0, envelope.staleAt - now),
        size: info.size,
        tags: envelope.tags,
        stale: !isFresh(envelope, now),
        ...entryLoadState(envelope),
      };
    }
  }

  /** How many entries {@link entries} would list, without summarising them. */
  entryCount(): number {
    const tiers = this.#state.tiers;
    if (this.#isRoot) return tiers.stats().active;
    let count = 0;
    for (const info of tiers.eachEntry()) if (String(info.key).startsWith(this.#prefix)) count++;
    return count;
  }

  /** ok, or degraded with the reason (closed, a tier down). */
  health(): CacheHealth {
    if (this.#state.closed) return { status: 'degraded', reason: 'closed' };
    const below = this.#state.tiers.health();
    const down = [below.l2, below.bus].find((h) => h !== undefined && h.status !== 'ok');
    return down === undefined
      ? { status: 'ok', ...below }
      : { status: 'degraded', reason: down.reason ?? 'a tier is unhealthy', ...below };
  }

  /** Live entries of this view, most valuable first, with absolute expiry times (src/persistence). */
  dump(): SnapshotEntry<V>[] {
    return dumpEnvelopes(
      this.#state.tiers.hottest(),
      this.#prefix,
      this.#state.clock(),
    ) as SnapshotEntry<V>[];
  }

  /** Loads snapshot entries into L1 within the cache's bounds (src/persistence). */
  load(entries: readonly SnapshotEntry<V>[]): LoadResult {
    return loadIntoView(this.#state.tiers, this.#keys, entries, this.#state.clock());
  }

  /** The sizing advisor's curve and recommendation for the whole cache; undefined when it is off. */
  advise(): Advice | undefined {
    const state = this.#state;
    if (state.advisor === undefined) return undefined;
    const stats = this.stats();
    return adviseCache(state.advisor, state.name, stats.policy, stats, () => state.tiers.entries());
  }

  /** Adds an event listener. */
  on<E extends keyof CacheEvents>(event: E, listener: (payload: CacheEvents[E]) => void): this {
    this.#state.events.on(event, listener);
    return this;
  }

  /** Removes an event listener. */
  off<E extends keyof CacheEvents>(event: E, listener: (payload: CacheEvents[E]) => void): this {
    this.#state.events.off(event, listener);
    return this;
  }

  /** Predictive warming's load of `key` (warm.ts WarmTarget): stored unless a write reached the key. */
  async [WARM_KEY](
    key: CacheKey,
    load: (signal: AbortSignal) => unknown,
    options: CacheSetOptions,
    until: AbortSignal,
    scope: string | undefined,
  ): Promise<boolean> {
    const write = resolveSetOptions(this.#config, options, 'warm');
    if (!this.#config.enabled) return false;
    return this.#readThrough.warmLoad(key, load, write, until, scope);
  }

  /** The counts resetStats() zeroed so far, for monotonic exports (stats-totals.ts). */
  [RESET_TOTALS](): Readonly<CounterTotals> {
    return this.#state.resetTotals;
  }

  /** The door of syncView (sync-view.ts): this view's shared state, key space and current settings. */
  [SYNC_ACCESS](): SyncAccess {
    return { state: this.#state, keys: this.#keys, settings: () => this.#config };
  }

  /**
   * Closes the cache: loads in progress are aborted and their results ignored, tiers and timers are
   * released. Afterwards getOrSet calls the loader directly and get/has miss. On a namespace this is a
   * no-op: the root owns the resources.
   */
  async close(): Promise<void> {
    const state = this.#state;
    if (!this.#isRoot) return;
    // A second close() waits for the first one, shutdown snapshot included, instead of resolving first.
    if (state.closed) return state.close(undefined);
    await state.close(
      new CacheError(CacheErrorType.FETCH_FAILED, `cache "${this.name}" was closed`, { retryable: false }),
    );
    if (state.log.debugOn) state.log.debug('Cache CLOSE', { cache: this.name });
  }

  /** getOrSet with a caller's signal: the same call without it, whose wait the signal can abandon. */
  #withSignal<T extends V>(
    key: CacheKey,
    loader: Loader<T>,
    options: GetOrSetOptions<T>,
    trace: OperationTraceContext | undefined,
  ): Promise<T> {
    let signal: AbortSignal;
    try {
      signal = checkSignal(options.signal, 'getOrSet: signal')!;
    } catch (error) {
      return Promise.reject(error);
    }
    if (signal.aborted) return Promise.reject(abortReason(signal));
    const { signal: _signal, ...rest } = options;
    return abandonable(this.#getOrSet(key, loader, rest, trace), signal);
  }

  /**
   * Re-times this view's L1 entries to `config`'s TTL; removes from every tier those past their new
   * lifetime (L1 at once, L2 in the background: a failure there is logged). Returns the counts.
   */
  #retime(config: ResolvedCacheSettings): { retimed: number; removed: number } {
    const state = this.#state;
    if (state.closed) return { retimed: 0, removed: 0 };
    // A namespace's entries follow the namespace's own TTL, not this view's.
    const inScope = this.#keys.inScope;
    // Only the namespaces that still have a view: one collected is made afresh with this view's settings.
    const children: string[] = [];
    for (const [name, ref] of this.#children)
      if (ref.deref() !== undefined) children.push(`${this.#prefix}${name}:`);
    const own = (key: CacheKey): boolean =>
      (inScope === undefined || inScope(key)) &&
      !(typeof key === 'string' && children.some((prefix) => key.startsWith(prefix)));
    const { retimed, remove } = retimeEntries(state.tiers, own, config, state.clock(), state.random);
    if (remove.length > 0) {
      // deleteMany removes the L1 entries before its first await, so no reader sees them after this.
      state.tiers.deleteMany(remove).catch((error: unknown) => {
        if (state.log.warnOn)
          state.log.warn('Cache CONFIG could not remove re-timed entries from the shared tier', {
            cache: this.name,
            error: errorMessage(error),
          });
      });
    }
    return { retimed, removed: remove.length };
  }

  /** A `larder:invalidate` context for this view (built only when the channel has subscribers). */
  #invalidateTrace(kind: InvalidateTraceContext['kind']): InvalidateTraceContext {
    const trace: InvalidateTraceContext = { operation: 'invalidate', cache: this.name, kind };
    if (this.#state.name !== this.name) trace.root = this.#state.name;
    return trace;
  }

  async #peek(key: CacheKey) {
    if (!this.#config.enabled || this.#state.closed) return undefined;
    return this.#readThrough.peek(key);
  }
}
