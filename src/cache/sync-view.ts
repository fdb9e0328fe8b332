// syncView: a synchronous face on a cache, for code written against a synchronous cache API (seed
// 002's `integrationCache`: `get` answers the value or null, `has`, `set`, `size`, `getTimeToExpiry`).
// Reads see the in-memory tier (L1) only: a value only the shared tier (L2) holds is a miss here, until a
// getOrSet or get of the async facade brings it into L1. Writes take the cache's own write path: L1 is
// written before the call returns, L2 and the bus follow in the background, and their failures are
// reported (a `Cache ERROR` line and a `cache:error` event) instead of thrown.
import { CacheError, CacheErrorType } from '../errors.js';
import type { CacheKey } from '../engine/types.js';
import { errorMessage } from '../observability/log-sink.js';
import { assertKey } from '../util/validate.js';
import { isFresh, type Envelope } from './envelope.js';
import { resolveSetOptions, type ResolvedCacheSettings } from './options.js';
import type { KeySpace } from './read-through.js';
import type { SharedCacheState } from './shared-state.js';
import type { Cache, CacheSetOptions } from './types.js';

/** The door a cache view opens for {@link syncView}: `view[SYNC_ACCESS]()`. Not part of the public API. */
export const SYNC_ACCESS: unique symbol = Symbol('larder.syncAccess');

/** What a view hands syncView: its shared state, key space, and its settings as they are now. */
export interface SyncAccess {
  readonly state: SharedCacheState;
  readonly keys: KeySpace;
  /** The view's current settings (configure() replaces them). */
  settings(): ResolvedCacheSettings;
}

/** The synchronous operations of {@link syncView}; every read answers from L1 alone. */
export interface SyncCacheView<V = unknown> {
  /** The cache this view reads and writes. */
  readonly cache: Cache<V>;
  /** The fresh value in L1, or undefined; counted as a hit or miss like `cache.get`. */
  get<T extends V = V>(key: CacheKey): T | undefined;
  /** The fresh value in L1 without counting it or touching its recency (for log fields, dashboards). */
  peek<T extends V = V>(key: CacheKey): T | undefined;
  /** Whether L1 holds a fresh value for `key` (not counted). */
  has(key: CacheKey): boolean;
  /** Writes as `cache.set` does: L1 at once; L2 in the background, its failure reported, not thrown. */
  set(key: CacheKey, value: V, options?: CacheSetOptions): void;
  /** Removes `key` from every tier as `cache.delete` does; true when L1 held it. */
  delete(key: CacheKey): boolean;
  /** Removes every entry of the cache (of the namespace, for a namespace), as `cache.clear` does. */
  clear(): void;
  /** Entries L1 holds for this cache (a namespace's are counted by a scan), expired ones not yet swept included. */
  size(): number;
  /** Ms until `key` goes stale in L1; Infinity when it never does; undefined when absent or stale. */
  ttlRemaining(key: CacheKey): number | undefined;
}

type Door = { [SYNC_ACCESS]?: () => SyncAccess };

/**
 * A synchronous view of `cache` (one made by `createCache`, a manager, or one of their namespaces).
 * Reads answer from L1 only, so with a shared tier a value written by another instance is seen once a
 * getOrSet/get of this instance has read it; writes are the cache's own (`set`, `delete`, `clear`),
 * applied to L1 before the call returns and to L2 in the background. Bad arguments throw at once.
 */
export function syncView<V>(cache: Cache<V>): SyncCacheView<V> {
  const door = (cache as unknown as Door | null | undefined)?.[SYNC_ACCESS];
  if (typeof door !== 'function') {
    throw new TypeError('syncView(cache) needs a cache made by createCache or a cache manager');
  }
  const { state, keys, settings } = door.call(cache);
  const tiers = state.tiers;
  const name = keys.name;

  /** The fresh, valid envelope L1 holds for `key`, read with `read` (counted or not). */
  const fresh = (key: CacheKey, where: string, read: (full: CacheKey) => Envelope | undefined) => {
    assertKey(key, where);
    const config = settings();
    if (!config.enabled || state.closed) return undefined;
    const full = keys.fullKey(key);
    let envelope: Envelope | undefined;
    try {
      envelope = read(full);
    } catch (error) {
      state.reportError(name, key, where, error);
      throw new CacheError(
        CacheErrorType.CACHE_GET_FAILED,
        `${where} of key ${JSON.stringify(key)} in cache "${name}" failed: ${errorMessage(error)}`,
        { cause: error },
      );
    }
    if (envelope === undefined || !isFresh(envelope, state.clock())) return undefined;
    return config.validate === undefined || config.validate(envelope.value) ? envelope : undefined;
  };
  const peekLocal = (full: CacheKey) => tiers.peekLocal(full);
  const getLocal = (full: CacheKey) => tiers.getLocal(full);
  // The write already reported a failed store (Cache ERROR, cache:error); only its rejection is left.
  const settled = () => undefined;

  return {
    cache,
    get<T extends V>(key: CacheKey): T | undefined {
      const started = state.log.debugOn ? performance.now() : 0;
      assertKey(key, 'get');
      // Disabled or closed: nothing is read, nothing is counted (as cache.get).
      if (!settings().enabled || state.closed) return undefined;
      const envelope = fresh(key, 'get', getLocal);
      const full = keys.fullKey(key);
      if (envelope === undefined) {
        if (state.advisor !== undefined) state.advisor.record(full);
        state.recordMiss(name, key, started);
        return undefined;
      }
      if (state.advisor !== undefined) state.advisor.recordHit(full, envelope);
      state.recordHit(name, key, started);
      return envelope.value as T;
    },
    peek: <T extends V>(key: CacheKey) => fresh(key, 'peek', peekLocal)?.value as T | undefined,
    has: (key) => fresh(key, 'has', peekLocal) !== undefined,
    set(key, value, options) {
      assertKey(key, 'set');
      // Checked here so a bad option throws now rather than rejecting a promise nobody holds.
      resolveSetOptions(settings(), options);
      // cache.set writes L1 before its first await; the rest (L2, the bus) runs on.
      cache.set(key, value, options).catch(settled);
    },
    delete(key) {
      assertKey(key, 'delete');
      const held = !state.closed && tiers.peekLocal(keys.fullKey(key)) !== undefined;
      cache.delete(key).catch((error: unknown) => state.reportError(name, key, 'delete', error));
      return held;
    },
    clear() {
      cache.clear().catch((error: unknown) => state.reportError(name, undefined, 'clear', error));
    },
    size() {
      if (keys.isRoot) return tiers.stats().size;
      let count = 0;
      for (const info of tiers.entries()) {
        if (keys.inScope!(info.key)) count++;
      }
      return count;
    },
    ttlRemaining(key) {
      const envelope = fresh(key, 'ttlRemaining', peekLocal);
      if (envelope === undefined) return undefined;
      return envelope.staleAt === 0 ? Infinity : envelope.staleAt - state.clock();
    },
  };
}
