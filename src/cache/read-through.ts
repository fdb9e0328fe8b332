// The read-through handler of one cache view: everything getOrSet does after the hit path, top to
// bottom. Reads go L1, then L2 (the view's hit path has read L1; a miss continues here, and get()/has()
// read here), then the key's single-flight load with fail-safe stale answers and their backoff, soft
// timeouts, refresh-ahead, fallback and negative caching; and the pass-through used when caching is off
// or the cache layer itself fails, since the cache must never be the reason a request fails. It also
// holds the view's one write path. Calls go down only: to the tier stack, the flights, the loader runner.
import { raceTimeout, TIMED_OUT } from '../util/time.js';
import { CacheError, CacheErrorType } from '../errors.js';
import type { CacheKey } from '../engine/types.js';
import { errorMessage } from '../observability/log-sink.js';
import type { OperationTraceContext } from '../observability/tracing.js';
import { inGrace, isFresh, type Envelope, type LoadMeta } from './envelope.js';
import { adaptTtl } from './adaptive-ttl.js';
import { ownLoadError, type Flight, type LoadOutcome } from './flights.js';
import {
  BackoffHold,
  hardTimeoutError,
  LoaderCall,
  runLoader,
  type LoaderRunOptions,
} from './loader-runner.js';
import {
  resolveCall,
  type ResolvedCacheSettings,
  type ResolvedCallOptions,
  type ResolvedWriteOptions,
} from './options.js';
import type { SharedCacheState } from './shared-state.js';
import type { GetOrSetOptions, Loader, PreviousEntry } from './types.js';
import type { ValueCheck } from './validate-value.js';
import { scopedTag } from './tag-scope.js';
import { keyInNamespace, namespacedKey, namespaceGlobs } from './namespace-keys.js';
import { MAX_GLOB_LENGTH } from '../util/glob.js';

/** A view's name and place in the key space: how its keys and tags are stored (the root's as given). */
export class KeySpace {
  /** Name used in stats, logs and events (`root:namespace` for namespaces). */
  readonly name: string;
  /** '' for the root; `<parent prefix><namespace>:` for a namespace. */
  readonly prefix: string;
  /** Whether a full key belongs to this view: undefined (every key) for the root. */
  readonly inScope: ((key: CacheKey) => boolean) | undefined;

  constructor(name: string, prefix: string) {
    this.name = name;
    this.prefix = prefix;
    this.inScope = prefix === '' ? undefined : (key) => typeof key === 'string' && key.startsWith(prefix);
  }

  /** Whether this is the root's key space (no prefix). */
  get isRoot(): boolean {
    return this.prefix === '';
  }

  /** The full store key of a caller's key (namespace prefix applied, the key's type kept: namespace-keys.ts). */
  fullKey(key: CacheKey): CacheKey {
    return this.prefix === '' ? key : namespacedKey(this.prefix, key);
  }

  /** The caller's key behind a full key of this view (one `inScope` accepts). */
  callerKey(full: CacheKey): CacheKey {
    return this.prefix === '' || typeof full !== 'string' ? full : keyInNamespace(full, this.prefix.length);
  }

  /**
   * The full-key globs that match the keys of this view that a caller's `pattern` matches. In a
   * namespace they are longer than `pattern`; one over the glob limit is refused here, with the
   * caller's length and the namespace's own limit, before any tier is touched.
   */
  globs(pattern: string): string[] {
    if (this.prefix === '') return [pattern];
    const globs = namespaceGlobs(this.prefix, pattern);
    const added = Math.max(...globs.map((glob) => glob.length)) - pattern.length;
    if (pattern.length + added > MAX_GLOB_LENGTH) {
      throw new RangeError(
        `invalidatePattern(pattern) is ${pattern.length} characters long; in namespace "${this.name}" ` +
          `(whose stored keys add ${added}) a glob pattern may have at most ${MAX_GLOB_LENGTH - added}`,
      );
    }
    return globs;
  }

  /**
   * Tags as stored: a namespace also stores scoped copies (tag-scope.ts), so that its invalidateTags
   * reaches only its own entries, while the root's, which looks up the tags as given, reaches them all.
   * `below` is the prefix, relative to this view, of a namespace under it that the entry belongs to (a
   * restored entry's SnapshotEntry.scope, see snapshot-envelopes.ts).
   */
  storedTags(tags: readonly string[], below = ''): readonly string[] {
    const prefix = this.prefix + below;
    if (prefix === '' || tags.length === 0) return tags;
    return [...tags, ...tags.map((t) => scopedTag(prefix, t))];
  }

  /** Tags as this view's invalidateTags looks them up: a namespace's scoped copies. */
  scopedTags(tags: readonly string[]): readonly string[] {
    const prefix = this.prefix;
    return prefix === '' ? tags : tags.map((t) => scopedTag(prefix, t));
  }
}

/** One getOrSet load, resolved once and handed whole through startFlight → load → loadAndStore. */
interface LoadRequest<T> {
  /** The key as the caller gave it (logs, events, the loader's ctx.key). */
  readonly key: CacheKey;
  /** The key as stored (namespace prefix applied). */
  readonly full: CacheKey;
  readonly loader: Loader<T>;
  readonly options: ResolvedCallOptions<T>;
  /** The entry in grace, answered if the load fails (fail-safe); undefined when there is none. */
  readonly stale: Envelope | undefined;
  /**
   * What the tiers held for the key in any state (fresh on a forced load or refresh, stale, in grace,
   * or kept past grace): the loader's ctx.previous, and what adaptive TTL compares the new value with.
   */
  readonly previous: Envelope | undefined;
  /** A background refresh-ahead: nobody awaits it, and its failure is a warning. */
  readonly refresh: boolean;
  /** The shared tier's write stamp from before the L2 read: L2 refuses the result over a newer write. */
  readonly version: number | undefined;
}

/** The miss side of getOrSet, and the reads and writes, of one view. */
export class ReadThrough {
  readonly #state: SharedCacheState;
  readonly #keys: KeySpace;
  /** Loads of this view in flight (adaptive TTL's `underLoad.inFlight`). */
  #loading = 0;

  constructor(state: SharedCacheState, keys: KeySpace) {
    this.#state = state;
    this.#keys = keys;
  }

  /**
   * A getOrSet that the hit path could not answer: `envelope` is what L1 held for `full` (missing, or
   * stale). Reads L2 when L1 missed, then joins or starts the key's load and applies fail-safe, the
   * soft timeout and the fallback.
   */
  async miss<T>(
    full: CacheKey,
    key: CacheKey,
    envelope: Envelope | undefined,
    loader: Loader<T>,
    options: GetOrSetOptions<T> | undefined,
    settings: ResolvedCacheSettings,
    trace?: OperationTraceContext,
  ): Promise<T> {
    const state = this.#state;
    // Checked before any await: called back from its own loader's synchronous start, it would wait for itself.
    if (state.flights.starting(full)) throw ownLoadError('getOrSet', key, this.#keys.name);
    const tiers = state.tiers;
    const call = resolveCall(settings, options);
    const started = state.log.debugOn ? performance.now() : 0;
    // Taken before the L2 read: a write that lands after it makes L2 refuse this load's result.
    const version = tiers.stamp();
    // A held value that does not pass `validate` is no value at all: not an answer, not a stale one.
    const validate = call.validate;
    if (envelope !== undefined && validate !== undefined && !validate(envelope.value)) envelope = undefined;
    // L1, then L2: only a key L1 does not hold at all is looked up in the shared tier.
    if (envelope === undefined && tiers.hasRemote) {
      try {
        envelope = await tiers.getRemote(full);
      } catch (error) {
        return this.#bypassAfterCacheError(error, key, loader, call);
      }
      if (envelope !== undefined && validate !== undefined && !validate(envelope.value)) envelope = undefined;
      if (trace !== undefined) trace.tier = 'l2';
    }
    const now = state.clock();
    const cache = this.#keys.name;
    if (envelope !== undefined && isFresh(envelope, now) && !call.forceFresh) {
      state.recordHit(cache, key, started);
      if (trace !== undefined) {
        trace.outcome = 'hit';
        trace.tier ??= 'l1';
      }
      return envelope.value as T;
    }
    if (trace !== undefined) trace.outcome = 'miss';
    // A forced load keeps whatever is still held (fresh or in grace) as its fail-safe answer.
    const stale =
      envelope === undefined
        ? undefined
        : call.forceFresh
          ? now < envelope.expiresAt || envelope.expiresAt === 0
            ? envelope
            : undefined
          : inGrace(envelope, now)
            ? envelope
            : undefined;
    // Fail-safe backoff: the loader failed recently for this key, so do not hammer a dead upstream.
    if (stale !== undefined && !call.forceFresh && stale.retryAt !== undefined && now < stale.retryAt) {
      state.recordMiss(cache, key, started);
      if (trace !== undefined) trace.outcome = 'stale';
      return this.answerStale(key, stale, undefined) as T;
    }
    // Only a flight no write has reached is in the map (see Flights.detach), so joining is safe.
    let flight = state.flights.get(full);
    if (flight === undefined) {
      state.recordMiss(cache, key, started);
      flight = this.#startFlight({
        key,
        full,
        loader,
        options: call,
        stale,
        previous: envelope,
        refresh: false,
        version,
      });
    } else {
      state.recordCoalesced(cache, key, started);
      if (trace !== undefined) trace.coalesced = true;
      // A refresh-ahead nobody awaited until now: this caller does, so its backoff holds the process.
      flight.hold?.();
    }
    try {
      let outcome: LoadOutcome | typeof TIMED_OUT;
      if (stale !== undefined && call.softTimeout > 0)
        outcome = await raceTimeout(flight.promise, call.softTimeout);
      else outcome = await flight.promise;
      if (outcome === TIMED_OUT) {
        // A write that removed or replaced the value in grace meanwhile: it is not answered; wait.
        if (this.staleHeld(full, flight, stale)) {
          if (trace !== undefined) trace.outcome = 'stale';
          return this.answerStale(key, stale!, undefined) as T;
        }
        outcome = await flight.promise;
      }
      if (outcome.stale) {
        if (trace !== undefined) trace.outcome = 'stale';
        state.countStaleHit();
      }
      return outcome.value as T;
    } catch (error) {
      if (call.hasFallback) return call.fallback as T;
      throw error;
    }
  }

  /** Starts one background refresh of a fresh entry past its refresh-ahead point (one per key at a time). */
  refreshAhead<T>(
    full: CacheKey,
    key: CacheKey,
    envelope: Envelope,
    loader: Loader<T>,
    options: GetOrSetOptions<T> | undefined,
    settings: ResolvedCacheSettings,
  ): void {
    const state = this.#state;
    if (state.flights.has(full)) return;
    // After a failed refresh, wait out the fail-safe backoff instead of refreshing on every hit.
    if (envelope.retryAt !== undefined && state.clock() < envelope.retryAt) return;
    let call: ResolvedCallOptions<T>;
    try {
      call = resolveCall(settings, options);
    } catch (error) {
      this.reportError(key, error, 'refresh');
      return;
    }
    const cache = this.#keys.name;
    state.countRefresh();
    if (state.log.debugOn) state.log.debug('Cache REFRESH', { cache, key });
    if (state.events.any) state.events.emit('cache:refresh', { cache, key });
    const version = state.tiers.stamp();
    this.#startFlight({
      key,
      full,
      loader,
      options: call,
      stale: envelope,
      previous: envelope,
      refresh: true,
      version,
    });
  }

  /** Caching is off (disabled or closed): call the loader with retries and timeouts, store nothing. */
  async direct<T>(
    key: CacheKey,
    loader: Loader<T>,
    options: GetOrSetOptions<T> | undefined,
    settings: ResolvedCacheSettings,
  ): Promise<T> {
    return this.#loadUncached(key, loader, resolveCall(settings, options));
  }

  /** The cache layer itself failed (`error`): log it and answer from the loader directly. */
  async cacheFailed<T>(
    error: unknown,
    key: CacheKey,
    loader: Loader<T>,
    options: GetOrSetOptions<T> | undefined,
    settings: ResolvedCacheSettings,
  ): Promise<T> {
    return this.#bypassAfterCacheError(error, key, loader, resolveCall(settings, options));
  }

  /** get(): the fresh value of a caller's key, or undefined (a value in grace is not returned); counts a hit or miss. */
  async get<T>(key: CacheKey, validate?: ValueCheck, trace?: OperationTraceContext): Promise<T | undefined> {
    const state = this.#state;
    const tiers = state.tiers;
    const started = state.log.debugOn ? performance.now() : 0;
    const full = this.#keys.fullKey(key);
    let envelope;
    try {
      envelope = tiers.getLocal(full);
      if (trace !== undefined) trace.tier = envelope !== undefined || !tiers.hasRemote ? 'l1' : 'l2';
      if (envelope === undefined && tiers.hasRemote) envelope = await tiers.getRemote(full);
    } catch (error) {
      throw this.storeError(CacheErrorType.CACHE_GET_FAILED, 'get', key, error);
    }
    if (
      envelope !== undefined &&
      isFresh(envelope, state.clock()) &&
      (validate === undefined || validate(envelope.value))
    ) {
      if (state.advisor !== undefined) state.advisor.recordHit(full, envelope);
      state.recordHit(this.#keys.name, key, started);
      if (trace !== undefined) trace.outcome = 'hit';
      return envelope.value as T;
    }
    if (state.advisor !== undefined) state.advisor.record(full);
    state.recordMiss(this.#keys.name, key, started);
    if (trace !== undefined) trace.outcome = 'miss';
    return undefined;
  }

  /** What the tiers hold for a caller's key, read without touching L1's recency (has, ttlRemaining). */
  async peek(key: CacheKey): Promise<Envelope | undefined> {
    const tiers = this.#state.tiers;
    const full = this.#keys.fullKey(key);
    try {
      return tiers.peekLocal(full) ?? (tiers.hasRemote ? await tiers.getRemote(full) : undefined);
    } catch (error) {
      throw this.storeError(CacheErrorType.CACHE_GET_FAILED, 'read', key, error);
    }
  }

  /**
   * Stores a value for a caller's key in every tier, logs SET and emits cache:set: the one write path of
   * the view (set, warm, and getOrSet's loads). `method` names the caller in a CACHE_SET_FAILED error;
   * `below` a namespace under the view whose entry this is (KeySpace.storedTags; predictive warming).
   */
  async write(
    key: CacheKey,
    value: unknown,
    options: ResolvedWriteOptions,
    method: string,
    version?: number,
    below?: string,
  ): Promise<void> {
    const state = this.#state;
    const keys = this.#keys;
    const started = state.log.debugOn ? performance.now() : 0;
    try {
      await state.tiers.write(
        keys.fullKey(key),
        value,
        options,
        keys.storedTags(options.tags, below),
        version,
      );
    } catch (error) {
      throw this.storeError(CacheErrorType.CACHE_SET_FAILED, method, key, error);
    }
    if (state.log.debugOn) state.logTimed('Cache SET', keys.name, key, started);
    if (state.events.any) state.events.emit('cache:set', { cache: keys.name, key });
  }

  /**
   * Predictive warming's load of a caller's key (warm.ts): a flight no caller joins, so the writes and
   * invalidations that reach the key detach it as they detach getOrSet's loads, and close() aborts it.
   * Stores the result unless detached or aborted (also by `until`, warming's deadline); resolves whether
   * it stored. A load of the key already in progress will store it: then `load` is not called. `scope`
   * names the namespace below this view the key belongs to (its tags are scoped to it, see write).
   */
  async warmLoad(
    key: CacheKey,
    load: (signal: AbortSignal) => unknown,
    write: ResolvedWriteOptions,
    until: AbortSignal,
    scope?: string,
  ): Promise<boolean> {
    const state = this.#state;
    if (state.closed || until.aborted) return false;
    let stored = false;
    const flight = state.flights.startBackground(this.#keys.fullKey(key), async (flight) => {
      const signal = flight.controller.signal;
      const onDeadline = (): void => flight.controller.abort(until.reason);
      until.addEventListener('abort', onDeadline, { once: true });
      let value: unknown;
      try {
        value = await load(signal);
      } finally {
        until.removeEventListener('abort', onDeadline);
      }
      if (!flight.detached && !signal.aborted && !state.closed) {
        await this.write(key, value, write, 'warm', undefined, scope);
        stored = true;
      }
      return { value, stale: false };
    });
    if (flight === undefined) return false;
    await flight.promise;
    return stored;
  }

  #bypassAfterCacheError<T>(
    error: unknown,
    key: CacheKey,
    loader: Loader<T>,
    call: ResolvedCallOptions<T>,
  ): Promise<T> {
    this.reportError(key, error, 'read');
    return this.#loadUncached(key, loader, call);
  }

  async #loadUncached<T>(key: CacheKey, loader: Loader<T>, call: ResolvedCallOptions<T>): Promise<T> {
    const controller = new AbortController();
    const ctx = new LoaderCall<T>(key, controller.signal, undefined);
    try {
      return (await runLoader(loader, ctx, controller, this.runOptions(call))).value as T;
    } catch (error) {
      if (call.hasFallback) return call.fallback as T;
      throw error;
    }
  }

  #startFlight<T>(request: LoadRequest<T>): Flight {
    return this.#state.flights.start(request.full, (flight) => this.#load(flight, request));
  }

  async #load<T>(flight: Flight, request: LoadRequest<T>): Promise<LoadOutcome> {
    // Nobody awaits a refresh-ahead: its retry backoff keeps the process alive only once a caller joins.
    let backoff: BackoffHold | undefined;
    if (request.refresh) {
      const hold = (backoff = new BackoffHold());
      flight.hold = () => hold.hold();
    }
    const ctx = new LoaderCall<T>(
      request.key,
      flight.controller.signal,
      request.stale?.value as T | undefined,
      request.previous === undefined ? undefined : previousEntry<T>(request.previous, this.#state.clock()),
    );
    const slowLoad = request.options.slowLoad;
    const startedAt = slowLoad > 0 ? this.#state.clock() : 0;
    const tiers = this.#state.tiers;
    let fromPeer: Envelope | undefined;
    this.#loading++;
    try {
      if (!tiers.lockEnabled) {
        await tiers.exclusive(request.full, () => this.#loadAndStore(flight, ctx, request, backoff));
      } else {
        // With a shared tier's lock, one instance loads and stores; the others get its entry from L2.
        // The hard timeout bounds the whole call: what a wait for another instance's lock took is
        // taken from what the loader is given, and a wait that outlasts it all fails the load.
        const began = performance.now();
        let loading!: () => void;
        const loaderStarted = new Promise<void>((resolve) => (loading = resolve));
        const work = tiers.exclusive(
          request.full,
          () => {
            loading();
            return this.#loadAndStore(flight, ctx, request, backoff, began);
          },
          (entry) => this.#peerAnswers(entry, request),
          flight.controller.signal,
        );
        fromPeer = await this.#boundLockWait(work, loaderStarted, flight.controller, request);
      }
    } catch (error) {
      if (slowLoad > 0) this.reportSlow(request.key, undefined, startedAt, slowLoad);
      if (request.stale !== undefined && !this.staleHeld(request.full, flight, request.stale)) {
        return this.loadFailed({ ...request, stale: undefined }, error);
      }
      return this.loadFailed(request, error);
    } finally {
      this.#loading--;
    }
    if (slowLoad > 0) this.reportSlow(request.key, undefined, startedAt, slowLoad);
    return { value: fromPeer === undefined ? ctx.value : fromPeer.value, stale: false };
  }

  /**
   * Settles like `work`, a load under the distributed lock, but gives up its wait for another instance's
   * lock (until `loaderStarted`: from then on runLoader bounds the loader with what is left) when the
   * load's hard timeout, counted from now, passes: the load is aborted with the CacheError TIMEOUT a hung
   * loader gets; or when the load is aborted otherwise (close()). The abort also stops the lock's polls.
   * Its timer is unref'ed and cleared as soon as the wait ends.
   */
  #boundLockWait<T>(
    work: Promise<Envelope | undefined>,
    loaderStarted: Promise<void>,
    controller: AbortController,
    request: LoadRequest<T>,
  ): Promise<Envelope | undefined> {
    const signal = controller.signal;
    const hard = request.options.hardTimeout;
    return new Promise((resolve, reject) => {
      let waiting = true;
      let stop!: () => void;
      const stopped = new Promise<void>((done) => (stop = done));
      const endWait = (): void => {
        waiting = false;
        stop();
      };
      const onAbort = (): void => {
        if (!waiting) return;
        endWait();
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      void loaderStarted.then(endWait);
      if (hard > 0) {
        void raceTimeout(stopped, hard).then((outcome) => {
          if (outcome !== TIMED_OUT || !waiting) return;
          const where = ' waiting for another instance’s lock';
          controller.abort(hardTimeoutError(request.key, this.#keys.name, hard, where));
        });
      }
      work.then(
        (entry) => {
          endWait();
          signal.removeEventListener('abort', onAbort);
          resolve(entry);
        },
        (error: unknown) => {
          endWait();
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

  /**
   * Whether an entry a lock waiter finds in L2 is the lock holder's answer to this load: a fresh value
   * that passes the call's `validate`, and not the write the load started from. That one (in grace, a
   * value `validate` refused, or the fresh value a forced load replaces) is still in L2 while the holder
   * loads: answered, it would end the load with what the load was started to replace.
   */
  #peerAnswers<T>(entry: Envelope, request: LoadRequest<T>): boolean {
    const held = request.previous;
    if (
      held !== undefined &&
      entry.createdAt === held.createdAt &&
      entry.staleAt === held.staleAt &&
      entry.expiresAt === held.expiresAt &&
      // L1 may not know the stamp the shared tier gave a set() (nor a write of a build without stamps).
      (entry.version === undefined || held.version === undefined || entry.version === held.version)
    ) {
      return false;
    }
    const validate = request.options.validate;
    return isFresh(entry, this.#state.clock()) && (validate === undefined || validate(entry.value));
  }

  /**
   * Logs `Cache SLOW` at warn and emits cache:slow when a load that began at `startedAt` (the cache's
   * clock) took longer than `thresholdMs`; `keys` lists a batch's keys (`key` is then its first).
   */
  reportSlow(
    key: CacheKey,
    keys: readonly CacheKey[] | undefined,
    startedAt: number,
    thresholdMs: number,
  ): void {
    const state = this.#state;
    const durationMs = state.clock() - startedAt;
    if (!(durationMs > thresholdMs)) return;
    const cache = this.#keys.name;
    if (state.log.warnOn) {
      state.log.warn(
        'Cache SLOW',
        keys === undefined
          ? { cache, key, durationMs, thresholdMs }
          : { cache, keys, durationMs, thresholdMs },
      );
    }
    if (state.events.any) {
      state.events.emit(
        'cache:slow',
        keys === undefined
          ? { cache, key, durationMs, thresholdMs }
          : { cache, key, keys, durationMs, thresholdMs },
      );
    }
  }

  async #loadAndStore<T>(
    flight: Flight,
    ctx: LoaderCall<T>,
    request: LoadRequest<T>,
    backoff: BackoffHold | undefined,
    began?: number,
  ): Promise<void> {
    const state = this.#state;
    const call = request.options;
    const startedAt = call.adaptiveTtl === undefined ? 0 : state.clock();
    const run = this.runOptions(call);
    if (backoff !== undefined) run.keepAlive = backoff;
    // After a wait for another instance's lock, the loader has what is left of the hard timeout.
    if (began !== undefined) run.startedAt = began;
    await runLoader(request.loader, ctx, flight.controller, run);
    const value = ctx.value;
    const storable = !ctx.skipped && (value !== undefined || call.cacheUndefined);
    // A detached flight's result may be what a write removed or replaced: answer it, never store it.
    if (storable && !flight.detached && !state.closed) {
      const previous = request.previous;
      // "Not modified" renews the held value; a loader that then returned another value simply loaded it.
      const renewed = ctx.unchanged && previous !== undefined && value === previous.value;
      const negative = value === undefined && call.negativeTtl !== undefined;
      let ttl = negative ? call.negativeTtl! : call.ttl;
      const validators =
        ctx.validators === undefined
          ? renewed
            ? previous.validators
            : undefined
          : (ctx.validators ?? undefined);
      const adaptive = call.adaptiveTtl;
      let adapted: LoadMeta['adaptive'];
      // Jitter spreads an adapted TTL within [min, max], never past the longest TTL the option allows.
      let ttlRange: readonly [number, number] | undefined;
      if (adaptive !== undefined) {
        const decision = adaptTtl(adaptive, {
          value,
          previous,
          notModified: renewed,
          ttl: call.ttl,
          durationMs: state.clock() - startedAt,
          inFlight: this.#loading,
          now: state.clock(),
        });
        if (!negative) {
          ttl = decision.ttl;
          ttlRange = [adaptive.min, adaptive.max];
        }
        adapted = decision.state;
      }
      if (ctx.ttl !== undefined) {
        ttl = ctx.ttl;
        ttlRange = undefined;
      }
      // Kept past staleness (never served) for the next load to compare with or revalidate.
      const meta: LoadMeta | undefined =
        validators === undefined && adapted === undefined
          ? undefined
          : { validators, adaptive: adapted, keepFor: Math.max(adaptive?.max ?? 0, ttl) };
      const tags = ctx.tags ?? call.tags;
      try {
        const write: ResolvedWriteOptions =
          meta === undefined
            ? { ttl, grace: call.grace, jitter: call.jitter, tags, cost: ctx.loadMs }
            : { ttl, grace: call.grace, jitter: call.jitter, tags, meta, cost: ctx.loadMs };
        if (ttlRange !== undefined) write.ttlRange = ttlRange;
        await this.write(request.key, value, write, 'getOrSet', request.version);
      } catch {
        // write() has logged and emitted the failure; the caller still gets the loaded value.
      }
    }
    if (request.refresh && !flight.detached) this.#refreshed(request.full, request.stale, call);
  }

  /**
   * After a refresh-ahead that left the value it refreshed in place (it stored nothing: the loader
   * answered undefined uncached or called ctx.skip(), or the write failed or was refused), no refresh
   * starts again until failSafeBackoff has passed, as after a failed one, though never past the value's
   * staleAt (its fail-safe backoff is for failed loads): else every hit would start one.
   */
  #refreshed(full: CacheKey, held: Envelope | undefined, call: ResolvedCallOptions<unknown>): void {
    if (held === undefined || held.staleAt === 0) return;
    try {
      if (this.#state.tiers.peekLocal(full) !== held) return;
    } catch {
      return;
    }
    held.retryAt = Math.min(this.#state.clock() + call.failSafeBackoff, held.staleAt);
  }

  /**
   * A load failed: fail-safe answers the value still in grace (and backs the key off), else the error is
   * reported and thrown. Also the per-key end of a failed getOrSetMany batch (`quiet`: reported once).
   */
  loadFailed<T>(
    request: Pick<LoadRequest<T>, 'key' | 'stale' | 'options' | 'refresh'>,
    error: unknown,
    quiet = false,
  ): LoadOutcome {
    const state = this.#state;
    const { key, stale } = request;
    const cache = this.#keys.name;
    const now = state.clock();
    // Fail-safe: a value still within grace answers instead of the error, and the key backs off.
    if (stale !== undefined && !state.closed && (stale.expiresAt === 0 || now < stale.expiresAt)) {
      const backoff = request.options.failSafeBackoff;
      stale.retryAt = now + backoff;
      if (request.refresh) {
        if (state.log.warnOn) {
          state.log.warn('Cache REFRESH failed', { cache, key, error: errorMessage(error) });
        }
        if (state.events.any) state.events.emit('cache:error', { cache, key, error });
      } else {
        if (state.log.warnOn) {
          state.log.warn('Cache STALE', { cache, key, error: errorMessage(error), retryInMs: backoff });
        }
        if (state.events.any) state.events.emit('cache:stale', { cache, key, error });
      }
      return { value: stale.value, stale: true };
    }
    if (quiet) throw error;
    if (error instanceof CacheError && error.type === CacheErrorType.RETRY_EXHAUSTED) {
      // Exhausted retries are a warning (each retry was logged at info); other load failures are errors.
      if (state.log.warnOn) {
        state.log.warn('Cache RETRY exhausted', { cache, key, error: errorMessage(error.cause ?? error) });
      }
      if (state.events.any) state.events.emit('cache:error', { cache, key, error });
    } else {
      this.reportError(key, error, 'load');
    }
    throw error;
  }

  /**
   * Whether the value in grace a load of `full` started with may still be answered (fail-safe, soft
   * timeout): while its grace lasts, unless a write detached the load and the tiers no longer hold that
   * entry. What a delete, set, clear or invalidation removed or replaced is never served again, not even
   * to callers that were already waiting; a load detached by a write that left the entry in place keeps
   * it. Nor is a value whose grace ended while the load ran (a soft timeout outlasting it).
   */
  staleHeld(full: CacheKey, flight: Flight, stale: Envelope | undefined): boolean {
    if (stale === undefined) return false;
    if (stale.expiresAt !== 0 && this.#state.clock() >= stale.expiresAt) return false;
    if (!flight.detached) return true;
    try {
      return this.#state.tiers.peekLocal(full) === stale;
    } catch {
      return false;
    }
  }

  /** Answers a value in grace (fail-safe backoff, soft timeout): counts, logs and emits it as stale. */
  answerStale(key: CacheKey, stale: Envelope, error: unknown): unknown {
    const state = this.#state;
    const cache = this.#keys.name;
    state.countStaleHit();
    if (state.log.debugOn) state.log.debug('Cache STALE', { cache, key });
    if (state.events.any) {
      state.events.emit('cache:stale', error === undefined ? { cache, key } : { cache, key, error });
    }
    return stale.value;
  }

  /** Logs `Cache ERROR` and emits cache:error for a failure the caller does not see thrown. */
  reportError(key: CacheKey | undefined, error: unknown, operation: string): void {
    this.#state.reportError(this.#keys.name, key, operation, error);
  }

  /** Reports a failed read or write of the tiers and wraps it as the CacheError the caller sees. */
  storeError(type: CacheErrorType, method: string, key: CacheKey, error: unknown): CacheError {
    const cache = this.#keys.name;
    this.#state.reportError(cache, key, method, error);
    const message = `${method} of key ${JSON.stringify(key)} in cache "${cache}" failed: ${errorMessage(error)}`;
    return new CacheError(type, message, { cause: error });
  }

  /** What runLoader needs for one call of this view (retry policy, hard timeout, hooks). */
  runOptions(call: ResolvedCallOptions<unknown>): LoaderRunOptions {
    const state = this.#state;
    return {
      cache: this.#keys.name,
      root: state.name,
      retry: call.retry,
      hardTimeout: call.hardTimeout,
      log: state.log,
      onAttempt: state.onAttempt,
      random: state.random,
      traceKeys: state.traceKeys,
    };
  }
}

/** The loader's view of what the tiers held for its key (ctx.previous). */
function previousEntry<V>(held: Envelope, now: number): PreviousEntry<V> {
  return {
    value: held.value as V,
    storedAt: held.createdAt,
    fresh: isFresh(held, now),
    etag: held.validators?.etag,
    lastModified: held.validators?.lastModified,
  };
}
