// Read-through for one cache view: what getOrSet does after the hit path — single-flight loads, fail-safe
// stale answers with a backoff, soft timeouts, refresh-ahead, fallback, negative caching, and the
// pass-through used when caching is off or the cache layer itself fails (the cache is never the reason
// a request fails: seed 001's non-breaking design).
import { CacheError, CacheErrorType } from '../errors.js';
import type { CacheKey } from '../engine/types.js';
import { errorMessage } from '../observability/log-sink.js';
import type { CacheCore, Flight, LoadOutcome } from './core.js';
import { inGrace, isFresh, type Envelope } from './envelope.js';
import { LoadContext, runLoader, type LoadSettings } from './loader-runner.js';
import { resolveCall, type CallSettings, type ViewConfig } from './options.js';
import type { GetOrSetOptions, Loader } from './types.js';

/** What read-through needs from its view. */
export interface ReadThroughView {
  readonly name: string;
  readonly config: ViewConfig;
  write(
    key: CacheKey,
    value: unknown,
    ttl: number,
    grace: number,
    jitter: number,
    tags: readonly string[],
    method: string,
    version?: number,
  ): Promise<void>;
  recordHit(key: CacheKey, started: number): void;
  recordMiss(key: CacheKey, started: number): void;
  recordCoalesced(key: CacheKey, started: number): void;
}

const SOFT_TIMEOUT = Symbol('soft timeout');

function ignore(): void {}

/** The miss side of getOrSet for one view. */
export class ReadThrough {
  readonly #core: CacheCore;
  readonly #view: ReadThroughView;

  constructor(core: CacheCore, view: ReadThroughView) {
    this.#core = core;
    this.#view = view;
  }

  /** A miss (or a stale entry): join or start the key's load, apply fail-safe, soft timeout, fallback. */
  async miss<T>(
    full: CacheKey,
    key: CacheKey,
    envelope: Envelope | undefined,
    loader: Loader<T>,
    options: GetOrSetOptions<T> | undefined,
  ): Promise<T> {
    const core = this.#core;
    const call = resolveCall(this.#view.config, options);
    const started = core.log.debugOn ? performance.now() : 0;
    // Taken before the L2 read: a write that lands after it makes L2 refuse this load's result.
    const version = core.store.stamp();
    if (envelope === undefined && core.store.hasRemote) {
      try {
        envelope = await core.store.get(full);
      } catch (error) {
        return this.#cacheFailedWith(error, key, loader, call);
      }
    }
    const now = core.clock();
    if (envelope !== undefined && isFresh(envelope, now)) {
      this.#view.recordHit(key, started);
      return envelope.value as T;
    }
    const stale = envelope !== undefined && inGrace(envelope, now) ? envelope : undefined;
    // Fail-safe backoff: the loader failed recently for this key, so do not hammer a dead upstream.
    if (stale !== undefined && stale.retryAt !== undefined && now < stale.retryAt) {
      this.#view.recordMiss(key, started);
      return this.#answerStale(key, stale, undefined) as T;
    }
    // Only a flight no write has reached is in the map (see CacheCore.detach), so joining is safe.
    let flight = core.inflight.get(full);
    if (flight === undefined) {
      this.#view.recordMiss(key, started);
      flight = this.#startFlight(full, key, stale, loader, call, false, version);
    } else {
      this.#view.recordCoalesced(key, started);
    }
    try {
      let outcome: LoadOutcome | typeof SOFT_TIMEOUT;
      if (stale !== undefined && call.softTimeout > 0)
        outcome = await raceSoft(flight.promise, call.softTimeout);
      else outcome = await flight.promise;
      if (outcome === SOFT_TIMEOUT) return this.#answerStale(key, stale!, undefined) as T;
      if (outcome.stale) core.counters.staleHits++;
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
  ): void {
    const core = this.#core;
    if (core.inflight.has(full)) return;
    // After a failed refresh, wait out the fail-safe backoff instead of refreshing on every hit.
    if (envelope.retryAt !== undefined && core.clock() < envelope.retryAt) return;
    let call: CallSettings<T>;
    try {
      call = resolveCall(this.#view.config, options);
    } catch (error) {
      this.#reportError(key, error, 'refresh');
      return;
    }
    core.counters.refreshes++;
    if (core.log.debugOn) core.log.debug('Cache REFRESH', { cache: this.#view.name, key });
    if (core.events.any) core.events.emit('cache:refresh', { cache: this.#view.name, key });
    this.#startFlight(full, key, envelope, loader, call, true, core.store.stamp());
  }

  /** Caching is off (disabled or closed): call the loader with retries and timeouts, store nothing. */
  async direct<T>(key: CacheKey, loader: Loader<T>, options: GetOrSetOptions<T> | undefined): Promise<T> {
    return this.#directWith(key, loader, resolveCall(this.#view.config, options));
  }

  /** The cache layer itself failed: log it and answer from the loader directly. */
  async cacheFailed<T>(
    error: unknown,
    key: CacheKey,
    loader: Loader<T>,
    options: GetOrSetOptions<T> | undefined,
  ): Promise<T> {
    return this.#cacheFailedWith(error, key, loader, resolveCall(this.#view.config, options));
  }

  #cacheFailedWith<T>(error: unknown, key: CacheKey, loader: Loader<T>, call: CallSettings<T>): Promise<T> {
    this.#reportError(key, error, 'read');
    return this.#directWith(key, loader, call);
  }

  async #directWith<T>(key: CacheKey, loader: Loader<T>, call: CallSettings<T>): Promise<T> {
    const controller = new AbortController();
    const ctx = new LoadContext<T>(key, controller.signal, undefined);
    try {
      return (await runLoader(loader, ctx, controller, this.#settings(call))).value as T;
    } catch (error) {
      if (call.hasFallback) return call.fallback as T;
      throw error;
    }
  }

  #startFlight<T>(
    full: CacheKey,
    key: CacheKey,
    stale: Envelope | undefined,
    loader: Loader<T>,
    call: CallSettings<T>,
    refresh: boolean,
    version: number | undefined,
  ): Flight {
    const core = this.#core;
    const flight: Flight = {
      promise: undefined as unknown as Promise<LoadOutcome>,
      controller: new AbortController(),
      detached: false,
    };
    core.inflight.set(full, flight);
    flight.promise = this.#load(flight, full, key, stale, loader, call, refresh, version).finally(() => {
      if (core.inflight.get(full) === flight) core.inflight.delete(full);
    });
    // Callers that answered stale (soft timeout) or a refresh nobody awaits must not leave an unhandled rejection.
    flight.promise.catch(ignore);
    return flight;
  }

  async #load<T>(
    flight: Flight,
    full: CacheKey,
    key: CacheKey,
    stale: Envelope | undefined,
    loader: Loader<T>,
    call: CallSettings<T>,
    refresh: boolean,
    version: number | undefined,
  ): Promise<LoadOutcome> {
    const core = this.#core;
    const ctx = new LoadContext<T>(key, flight.controller.signal, stale?.value as T | undefined);
    let fromPeer: Envelope | undefined;
    try {
      // With a shared tier's lock, one instance loads and stores; the others get its entry from L2.
      fromPeer = await core.store.exclusive(full, () =>
        this.#loadAndStore(flight, key, ctx, loader, call, version),
      );
    } catch (error) {
      return this.#loadFailed(key, stale, call, refresh, error);
    }
    return { value: fromPeer === undefined ? ctx.value : fromPeer.value, stale: false };
  }

  async #loadAndStore<T>(
    flight: Flight,
    key: CacheKey,
    ctx: LoadContext<T>,
    loader: Loader<T>,
    call: CallSettings<T>,
    version: number | undefined,
  ): Promise<void> {
    const core = this.#core;
    await runLoader(loader, ctx, flight.controller, this.#settings(call));
    const value = ctx.value;
    const storable = !ctx.skipped && (value !== undefined || call.cacheUndefined);
    const tags = ctx.tags ?? call.tags;
    // A detached flight's result may be what a write removed or replaced: answer it, never store it.
    if (storable && !flight.detached && !core.closed) {
      const ttl =
        ctx.ttl ?? (value === undefined && call.negativeTtl !== undefined ? call.negativeTtl : call.ttl);
      try {
        await this.#view.write(key, value, ttl, call.grace, call.jitter, tags, 'getOrSet', version);
      } catch {
        // write() has logged and emitted the failure; the caller still gets the loaded value.
      }
    }
  }

  #loadFailed<T>(
    key: CacheKey,
    stale: Envelope | undefined,
    call: CallSettings<T>,
    refresh: boolean,
    error: unknown,
  ): LoadOutcome {
    const core = this.#core;
    const now = core.clock();
    // Fail-safe: a value still within grace answers instead of the error, and the key backs off.
    if (stale !== undefined && !core.closed && now < stale.graceUntil) {
      stale.retryAt = now + call.failSafeBackoff;
      if (refresh) {
        if (core.log.warnOn) {
          core.log.warn('Cache REFRESH failed', { cache: this.#view.name, key, error: errorMessage(error) });
        }
        if (core.events.any) core.events.emit('cache:error', { cache: this.#view.name, key, error });
      } else {
        if (core.log.warnOn) {
          core.log.warn('Cache STALE', {
            cache: this.#view.name,
            key,
            error: errorMessage(error),
            retryInMs: call.failSafeBackoff,
          });
        }
        if (core.events.any) core.events.emit('cache:stale', { cache: this.#view.name, key, error });
      }
      return { value: stale.value, stale: true };
    }
    if (error instanceof CacheError && error.type === CacheErrorType.RETRY_EXHAUSTED) {
      // DESIGN.md: exhausted retries are a warning (the retries were logged at info); other failures are errors.
      if (core.log.warnOn) {
        core.log.warn('Cache RETRY exhausted', {
          cache: this.#view.name,
          key,
          error: errorMessage(error.cause ?? error),
        });
      }
      if (core.events.any) core.events.emit('cache:error', { cache: this.#view.name, key, error });
    } else {
      this.#reportError(key, error, 'load');
    }
    throw error;
  }

  #answerStale(key: CacheKey, stale: Envelope, error: unknown): unknown {
    const core = this.#core;
    core.counters.staleHits++;
    if (core.log.debugOn) core.log.debug('Cache STALE', { cache: this.#view.name, key });
    if (core.events.any) {
      core.events.emit(
        'cache:stale',
        error === undefined ? { cache: this.#view.name, key } : { cache: this.#view.name, key, error },
      );
    }
    return stale.value;
  }

  #reportError(key: CacheKey, error: unknown, operation: string): void {
    this.#core.reportError(this.#view.name, key, operation, error);
  }

  #settings(call: CallSettings<unknown>): LoadSettings {
    const core = this.#core;
    return {
      cache: this.#view.name,
      retry: call.retry,
      hardTimeout: call.hardTimeout,
      log: core.log,
      onAttempt: core.onAttempt,
      random: core.random,
    };
  }
}

/** Waits for a load, or answers SOFT_TIMEOUT after `ms` (the load continues); clears its timer either way. */
function raceSoft(promise: Promise<LoadOutcome>, ms: number): Promise<LoadOutcome | typeof SOFT_TIMEOUT> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(SOFT_TIMEOUT), ms);
    promise.then(
      (outcome) => {
        clearTimeout(timer);
        resolve(outcome);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
