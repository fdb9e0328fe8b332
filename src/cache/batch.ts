// The batch operations of one cache view: getMany, setMany, deleteMany and getOrSetMany (the DataLoader
// pattern). Reads go L1 first, then one L2 round trip for the keys L1 does not hold. Writes keep the
// coherence promise of set/delete: every key's loads in flight are detached before and after the write,
// so what a write removed or replaced is never served again. getOrSetMany registers one flight per key
// it loads, all settled by ONE batch loader call, so a concurrent getOrSet(key) joins the batch.
import { CacheError, CacheErrorType } from '../errors.js';
import type { CacheKey } from '../engine/types.js';
import { errorMessage } from '../observability/log-sink.js';
import { raceTimeout, since, TIMED_OUT } from '../util/time.js';
import { keyProblem } from '../util/validate.js';
import { inGrace, isFresh, type Envelope } from './envelope.js';
import { ownLoadError, type Flight, type LoadOutcome } from './flights.js';
import { LoaderCall, runLoader } from './loader-runner.js';
import {
  resolveCall,
  resolveSetOptions,
  type ResolvedCacheSettings,
  type ResolvedCallOptions,
  type ResolvedWriteOptions,
} from './options.js';
import type { KeySpace, ReadThrough } from './read-through.js';
import type { SharedCacheState } from './shared-state.js';
import type { BatchLoader, CacheSetOptions, GetOrSetOptions, Loader, SetManyEntry } from './types.js';
import type { ValueCheck } from './validate-value.js';

function ignore(): void {}

/** Checks that `keys` is an array of cache keys; the TypeError names the method and the bad index. */
export function checkKeys(keys: unknown, method: string): asserts keys is readonly CacheKey[] {
  if (!Array.isArray(keys)) {
    throw new TypeError(
      `${method}(keys) must be an array of keys, got ${keys === null ? 'null' : typeof keys}`,
    );
  }
  for (let i = 0; i < keys.length; i++) {
    const problem = keyProblem(keys[i]);
    if (problem !== undefined) throw new TypeError(`${method}: keys[${i}]: ${problem}`);
  }
}

/** One distinct key of a batch call, with the places it answers in the result. */
interface BatchKey {
  readonly key: CacheKey;
  readonly full: CacheKey;
  readonly slots: number[];
  envelope: Envelope | undefined;
}

/** One key a getOrSetMany call loads itself. */
interface LoadItem {
  readonly key: CacheKey;
  readonly full: CacheKey;
  /** The value in grace (or, forced, still held): the key's fail-safe answer. */
  readonly stale: Envelope | undefined;
}

/** How a batch load ended, shared by the flights of its keys. */
type BatchResult = { ok: true; values: ReadonlyMap<CacheKey, unknown> } | { ok: false; error: unknown };

/** The batch operations of one view. */
export class BatchOps {
  readonly #state: SharedCacheState;
  readonly #keys: KeySpace;
  readonly #readThrough: ReadThrough;

  constructor(state: SharedCacheState, keys: KeySpace, readThrough: ReadThrough) {
    this.#state = state;
    this.#keys = keys;
    this.#readThrough = readThrough;
  }

  /** getMany: fresh values in key order; L1 first, then one L2 round trip for what L1 does not hold. */
  async getMany(keys: readonly CacheKey[], validate: ValueCheck | undefined): Promise<unknown[]> {
    const state = this.#state;
    const started = state.log.debugOn ? performance.now() : 0;
    const out = new Array<unknown>(keys.length).fill(undefined);
    let batch: BatchKey[];
    try {
      batch = this.#distinct(keys);
      const reading = this.#read(batch);
      if (reading !== undefined) await reading;
    } catch (error) {
      const first = keys[0] ?? '';
      throw this.#readThrough.storeError(CacheErrorType.CACHE_GET_FAILED, 'getMany', first, error);
    }
    const now = state.clock();
    const cache = this.#keys.name;
    for (const item of batch) {
      const envelope = item.envelope;
      const hit =
        envelope !== undefined &&
        isFresh(envelope, now) &&
        (validate === undefined || validate(envelope.value));
      for (const slot of item.slots) {
        if (hit) {
          if (state.advisor !== undefined) state.advisor.recordHit(item.full, envelope);
          state.recordHit(cache, item.key, started);
          out[slot] = envelope.value;
        } else {
          if (state.advisor !== undefined) state.advisor.record(item.full);
          state.recordMiss(cache, item.key, started);
        }
      }
    }
    return out;
  }

  /**
   * setMany: every entry checked first (nothing is written when one is bad), then each key's loads in
   * flight detached, every value written to every tier at once (one batched bus message), and the loads
   * detached again. Rejects with the first failure once every write has settled.
   */
  async setMany(
    entries: Iterable<SetManyEntry<unknown>>,
    options: CacheSetOptions | undefined,
    config: ResolvedCacheSettings,
  ): Promise<void> {
    if (entries === null || typeof (entries as Iterable<unknown>)?.[Symbol.iterator] !== 'function') {
      throw new TypeError('setMany(entries) must be an iterable of [key, value] or [key, value, options]');
    }
    const writes = new Map<CacheKey, { key: CacheKey; value: unknown; write: ResolvedWriteOptions }>();
    let index = 0;
    for (const entry of entries) {
      if (!Array.isArray(entry)) {
        throw new TypeError(`setMany: entries[${index}] must be [key, value] or [key, value, options]`);
      }
      const [key, value, own] = entry as [unknown, unknown, CacheSetOptions | undefined];
      const problem = keyProblem(key);
      if (problem !== undefined) throw new TypeError(`setMany: entries[${index}]: ${problem}`);
      const write = resolveSetOptions(config, entryOptions(own, options), 'setMany');
      const full = this.#keys.fullKey(key as CacheKey);
      writes.delete(full); // a key given twice keeps its last value, in its last place
      writes.set(full, { key: key as CacheKey, value, write });
      index++;
    }
    const state = this.#state;
    if (state.closed || writes.size === 0) return;
    const flights = state.flights;
    for (const full of writes.keys()) flights.detach(full);
    let results: PromiseSettledResult<void>[];
    try {
      // Disabled, nothing is written, but the values the keys held are removed (see set).
      if (!config.enabled) {
        await state.tiers.deleteMany([...writes.keys()]);
        return;
      }
      results = await Promise.allSettled(
        [...writes.values()].map(({ key, value, write }) =>
          this.#readThrough.write(key, value, write, 'setMany'),
        ),
      );
    } finally {
      for (const full of writes.keys()) flights.detach(full);
    }
    for (const result of results) if (result.status === 'rejected') throw result.reason;
  }

  /** deleteMany: detaches the keys' loads, removes them from every tier in one call, detaches again. */
  async deleteMany(keys: readonly CacheKey[]): Promise<number> {
    const state = this.#state;
    if (state.closed || keys.length === 0) return 0;
    const started = state.log.debugOn ? performance.now() : 0;
    const fulls = [...new Set(keys.map((key) => this.#keys.fullKey(key)))];
    const detach = (): void => {
      for (const full of fulls) state.flights.detach(full);
    };
    detach();
    let count: number;
    try {
      count = await state.tiers.deleteMany(fulls);
    } finally {
      detach();
    }
    const cache = this.#keys.name;
    if (state.log.debugOn) {
      state.log.debug('Cache DELETE', {
        cache,
        keys,
        count,
        durationMs: since(started),
      });
    }
    if (state.events.any) for (const key of keys) state.events.emit('cache:delete', { cache, key });
    return count;
  }

  /**
   * getOrSetMany: answers in key order. Fresh keys come from L1, then L2 (one round trip); keys with a
   * load in flight join it; the rest go to ONE call of `loadMany`, each under its own flight so that a
   * concurrent getOrSet(key) joins the batch.
   */
  async getOrSetMany<T>(
    keys: readonly CacheKey[],
    loadMany: BatchLoader<T>,
    options: GetOrSetOptions<T> | undefined,
    config: ResolvedCacheSettings,
  ): Promise<Array<T | undefined>> {
    const state = this.#state;
    const call = resolveCall(config, options, 'getOrSetMany');
    if (keys.length === 0) return [];
    if (!config.enabled || state.closed) return this.#loadUncached(keys, loadMany, call);
    const tiers = state.tiers;
    const started = state.log.debugOn ? performance.now() : 0;
    const out = new Array<T | undefined>(keys.length).fill(undefined);
    // Taken before the L2 read: a write that lands after it makes L2 refuse the batch's results.
    const version = tiers.stamp();
    let batch: BatchKey[];
    try {
      batch = this.#distinct(keys);
    } catch (error) {
      this.#readThrough.reportError(undefined, error, 'read');
      return this.#loadUncached(keys, loadMany, call);
    }
    // Before any await: a key whose load is starting is this call's own loader's (it would wait for itself).
    for (const item of batch) {
      if (state.flights.starting(item.full)) throw ownLoadError('getOrSetMany', item.key, this.#keys.name);
    }
    try {
      const reading = this.#read(batch, call.validate);
      if (reading !== undefined) await reading;
    } catch (error) {
      this.#readThrough.reportError(undefined, error, 'read');
      return this.#loadUncached(keys, loadMany, call);
    }
    const now = state.clock();
    const cache = this.#keys.name;
    const waits: Array<{ item: BatchKey; flight: Flight; stale: Envelope | undefined }> = [];
    const toLoad: Array<{ item: BatchKey; load: LoadItem }> = [];
    for (const item of batch) {
      const envelope = item.envelope;
      if (envelope !== undefined && isFresh(envelope, now) && !call.forceFresh) {
        if (state.advisor !== undefined) state.advisor.recordHit(item.full, envelope);
        for (const slot of item.slots) {
          state.recordHit(cache, item.key, started);
          out[slot] = envelope.value as T;
        }
        continue;
      }
      if (state.advisor !== undefined) state.advisor.record(item.full);
      const stale = staleOf(envelope, now, call.forceFresh);
      if (stale !== undefined && !call.forceFresh && stale.retryAt !== undefined && now < stale.retryAt) {
        state.recordMiss(cache, item.key, started);
        const value = this.#readThrough.answerStale(item.key, stale, undefined) as T;
        for (const slot of item.slots) out[slot] = value;
        continue;
      }
      const flight = state.flights.get(item.full);
      if (flight !== undefined) {
        for (let n = 0; n < item.slots.length; n++) state.recordCoalesced(cache, item.key, started);
        flight.hold?.(); // a refresh-ahead nobody awaited: this call does (see getOrSet)
        waits.push({ item, flight, stale });
      } else {
        state.recordMiss(cache, item.key, started);
        for (let n = 1; n < item.slots.length; n++) state.recordCoalesced(cache, item.key, started);
        toLoad.push({ item, load: { key: item.key, full: item.full, stale } });
      }
    }
    if (toLoad.length > 0) {
      const flights = this.#startBatch(
        toLoad.map((t) => t.load),
        loadMany,
        call,
        version,
      );
      for (let i = 0; i < toLoad.length; i++) {
        const { item, load } = toLoad[i]!;
        waits.push({ item, flight: flights[i]!, stale: load.stale });
      }
    }
    await Promise.all(
      waits.map(async ({ item, flight, stale }) => {
        const value = await this.#answer(item.key, item.full, flight, stale, call);
        for (const slot of item.slots) out[slot] = value as T;
      }),
    );
    return out;
  }

  /** What one key's waiters get from its flight: soft timeout and fallback as in getOrSet. */
  async #answer(
    key: CacheKey,
    full: CacheKey,
    flight: Flight,
    stale: Envelope | undefined,
    call: ResolvedCallOptions<unknown>,
  ): Promise<unknown> {
    try {
      let outcome: LoadOutcome | typeof TIMED_OUT;
      if (stale !== undefined && call.softTimeout > 0)
        outcome = await raceTimeout(flight.promise, call.softTimeout);
      else outcome = await flight.promise;
      if (outcome === TIMED_OUT) {
        // A write that removed or replaced the value in grace meanwhile: it is not answered; wait.
        if (this.#readThrough.staleHeld(full, flight, stale)) {
          return this.#readThrough.answerStale(key, stale!, undefined);
        }
        outcome = await flight.promise;
      }
      if (outcome.stale) this.#state.countStaleHit();
      return outcome.value;
    } catch (error) {
      if (call.hasFallback) return call.fallback;
      throw error;
    }
  }

  /**
   * Registers a flight for each key (so concurrent getOrSet calls join), then runs ONE batch loader
   * call for all of them; each flight stores its key's result (unless a write detached it) and settles.
   */
  #startBatch<T>(
    items: readonly LoadItem[],
    loadMany: BatchLoader<T>,
    call: ResolvedCallOptions<unknown>,
    version: number | undefined,
  ): Flight[] {
    const state = this.#state;
    let settle!: (result: BatchResult) => void;
    const done = new Promise<BatchResult>((resolve) => (settle = resolve));
    const controller = new AbortController();
    const flights = items.map((item) =>
      state.flights.start(item.full, (flight) => this.#keyOutcome(flight, item, done, call, version)),
    );
    // Closing the cache aborts every flight: the batch is given up with them.
    for (const flight of flights) {
      const signal = flight.controller.signal;
      signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
    }
    const keys = items.map((item) => item.key);
    const stale = new Map<CacheKey, T>();
    for (const item of items) if (item.stale !== undefined) stale.set(item.key, item.stale.value as T);
    const startedAt = call.slowLoad > 0 ? state.clock() : 0;
    state.flights
      .startingWhile(flights, () => this.#runBatch(keys, loadMany, stale, controller, call))
      .then(
        (values) => settle({ ok: true, values }),
        (error: unknown) => {
          this.#reportBatchError(keys, error);
          settle({ ok: false, error });
        },
      )
      .finally(() => {
        if (call.slowLoad > 0) this.#readThrough.reportSlow(keys[0]!, keys, startedAt, call.slowLoad);
      })
      .catch(ignore); // a logger that throws must not leave an unhandled rejection behind
    return flights;
  }

  /** One key's part of a batch: its value stored and answered, or fail-safe, or the batch's error. */
  async #keyOutcome(
    flight: Flight,
    item: LoadItem,
    done: Promise<BatchResult>,
    call: ResolvedCallOptions<unknown>,
    version: number | undefined,
  ): Promise<LoadOutcome> {
    const result = await done;
    if (!result.ok) {
      const stale = this.#readThrough.staleHeld(item.full, flight, item.stale) ? item.stale : undefined;
      return this.#readThrough.loadFailed(
        { key: item.key, stale, options: call, refresh: false },
        result.error,
        true,
      );
    }
    const value = result.values.get(item.key);
    const state = this.#state;
    // A detached flight's result may be what a write removed or replaced: answer it, never store it.
    if ((value !== undefined || call.cacheUndefined) && !flight.detached && !state.closed) {
      const ttl = value === undefined && call.negativeTtl !== undefined ? call.negativeTtl : call.ttl;
      try {
        await this.#readThrough.write(
          item.key,
          value,
          { ttl, grace: call.grace, jitter: call.jitter, tags: call.tags },
          'getOrSetMany',
          version,
        );
      } catch {
        // write() has logged and emitted the failure; the caller still gets the loaded value.
      }
    }
    return { value, stale: false };
  }

  /** Calls the batch loader once (retries and the hard timeout as a loader's); its results by key. */
  async #runBatch<T>(
    keys: readonly CacheKey[],
    loadMany: BatchLoader<T>,
    stale: ReadonlyMap<CacheKey, T>,
    controller: AbortController,
    call: ResolvedCallOptions<unknown>,
  ): Promise<ReadonlyMap<CacheKey, unknown>> {
    const ctx = new LoaderCall<unknown>(batchLabel(keys), controller.signal, undefined);
    const loader: Loader<unknown> = (c) =>
      loadMany(keys, { keys, signal: c.signal, attempt: c.attempt, stale });
    const loaded = await runLoader(loader, ctx, controller, this.#readThrough.runOptions(call));
    return resultsByKey(keys, loaded.value, this.#keys.name);
  }

  /** Caching is off (disabled, closed, or the cache layer failed): one batch call, nothing stored. */
  async #loadUncached<T>(
    keys: readonly CacheKey[],
    loadMany: BatchLoader<T>,
    call: ResolvedCallOptions<unknown>,
  ): Promise<Array<T | undefined>> {
    const distinct = [...new Set(keys)];
    try {
      const values = await this.#runBatch(distinct, loadMany, new Map(), new AbortController(), call);
      return keys.map((key) => values.get(key) as T | undefined);
    } catch (error) {
      if (call.hasFallback) return keys.map(() => call.fallback as T);
      throw error;
    }
  }

  /** A failed batch is reported once, not once per key. */
  #reportBatchError(keys: readonly CacheKey[], error: unknown): void {
    const state = this.#state;
    const cache = this.#keys.name;
    if (error instanceof CacheError && error.type === CacheErrorType.RETRY_EXHAUSTED) {
      if (state.log.warnOn) {
        state.log.warn('Cache RETRY exhausted', { cache, keys, error: errorMessage(error.cause ?? error) });
      }
      if (state.events.any) state.events.emit('cache:error', { cache, key: keys[0]!, error });
    } else {
      this.#readThrough.reportError(keys[0], error, 'getOrSetMany');
    }
  }

  /** The distinct keys of a call (full keys), each with the result slots it answers. */
  #distinct(keys: readonly CacheKey[]): BatchKey[] {
    const byFull = new Map<CacheKey, BatchKey>();
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const full = this.#keys.fullKey(key);
      const known = byFull.get(full);
      if (known !== undefined) known.slots.push(i);
      else byFull.set(full, { key, full, slots: [i], envelope: undefined });
    }
    return [...byFull.values()];
  }

  /**
   * Reads each key's envelope: L1, then one L2 round trip for the keys L1 does not hold. With
   * `validate`, a value that does not fit counts as not held (it is looked up in L2 instead).
   */
  #read(batch: BatchKey[], validate?: ValueCheck): Promise<void> | undefined {
    const tiers = this.#state.tiers;
    const remote: BatchKey[] = [];
    for (const item of batch) {
      let envelope = tiers.getLocal(item.full);
      if (envelope !== undefined && validate !== undefined && !validate(envelope.value)) envelope = undefined;
      item.envelope = envelope;
      if (envelope === undefined && tiers.hasRemote) remote.push(item);
    }
    // Without an L2 read the call goes on synchronously: its flights are in the map before it returns.
    if (remote.length === 0) return undefined;
    return tiers.getRemoteMany(remote.map((item) => item.full)).then((found) => {
      for (let i = 0; i < remote.length; i++) {
        const envelope = found[i];
        remote[i]!.envelope =
          envelope !== undefined && validate !== undefined && !validate(envelope.value)
            ? undefined
            : envelope;
      }
    });
  }
}

/**
 * One setMany entry's options: its own over the call's, field by field. An entry that gives only a `ttl`
 * keeps the call's tags, so invalidating them reaches it (replacing the whole object dropped them).
 */
function entryOptions(
  own: CacheSetOptions | undefined,
  shared: CacheSetOptions | undefined,
): CacheSetOptions | undefined {
  if (own === undefined || shared === undefined) return own ?? shared;
  // Not objects: left for resolveSetOptions to refuse by name.
  if (typeof own !== 'object' || own === null || typeof shared !== 'object' || shared === null) return own;
  const merged: Record<string, unknown> = { ...shared };
  for (const [name, value] of Object.entries(own)) if (value !== undefined) merged[name] = value;
  return merged as CacheSetOptions;
}

/** The fail-safe answer a load of a key keeps: the value in grace, or (forced) whatever is still held. */
function staleOf(envelope: Envelope | undefined, now: number, forceFresh: boolean): Envelope | undefined {
  if (envelope === undefined) return undefined;
  if (forceFresh) return envelope.expiresAt === 0 || now < envelope.expiresAt ? envelope : undefined;
  return inGrace(envelope, now) ? envelope : undefined;
}

/** How a batch load names its keys in logs, errors and the cache:load event. */
function batchLabel(keys: readonly CacheKey[]): CacheKey {
  if (keys.length === 1) return keys[0]!;
  const shown = keys.slice(0, 3).map(String).join(',');
  return keys.length > 3 ? `[${shown},… ${keys.length} keys]` : `[${shown}]`;
}

/** A batch loader's answer as a map by key: a Map, or an array aligned with `keys`. */
function resultsByKey(
  keys: readonly CacheKey[],
  loaded: unknown,
  cache: string,
): ReadonlyMap<CacheKey, unknown> {
  if (loaded instanceof Map) return loaded as ReadonlyMap<CacheKey, unknown>;
  if (Array.isArray(loaded)) {
    if (loaded.length !== keys.length) {
      throw new TypeError(
        `getOrSetMany: the batch loader of cache "${cache}" returned ${loaded.length} values for ${keys.length} keys`,
      );
    }
    const out = new Map<CacheKey, unknown>();
    for (let i = 0; i < keys.length; i++) out.set(keys[i]!, loaded[i]);
    return out;
  }
  throw new TypeError(
    `getOrSetMany: the batch loader of cache "${cache}" must return a Map or an array aligned with its keys, got ${
      loaded === null ? 'null' : typeof loaded
    }`,
  );
}
