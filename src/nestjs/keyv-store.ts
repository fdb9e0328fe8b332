// A Keyv 5 storage adapter over a Larder cache: what `@nestjs/cache-manager` 12 (cache-manager 7)
// takes as a store, so `CacheModule`, `CacheInterceptor` and `@Inject(CACHE_MANAGER)` read and write
// a Larder cache — its bounds, W-TinyLFU admission, shared tier and invalidation bus included.
//
// Keyv hands the store keys already prefixed with its namespace (`keyv:` by default) and values
// already serialized (a string holding the value and its expiry), and checks that expiry itself on
// read; the store only keeps them. The shape is declared here rather than imported from `keyv`, so
// `larder-cache/nestjs` needs no Keyv of its own: the test checks it against Keyv's `KeyvStoreAdapter`.
import { EventEmitter } from 'node:events';
import type { Cache } from '../cache/types.js';

/** Options of {@link larderKeyvStore}. */
export interface LarderKeyvStoreOptions {
  /**
   * Close the Larder cache when Keyv disconnects the store (`cache-manager`'s `disconnect()`, which
   * `CacheModule` calls when its module is destroyed). Default `false`: whoever created the cache
   * closes it (`LarderModule` does on application shutdown).
   */
  closeOnDisconnect?: boolean;
}

/**
 * The Keyv storage adapter shape (`KeyvStoreAdapter` in `keyv` 5) as {@link larderKeyvStore}
 * implements it: the required operations plus `has`, `getMany`, `setMany`, `deleteMany` and `disconnect`.
 */
export interface LarderKeyvStore extends EventEmitter {
  /** Adapter options, as Keyv reads them (`{ dialect: 'larder' }`). */
  opts: { dialect: 'larder' };
  /** Set by Keyv to its namespace; `clear()` then removes only that namespace's keys. */
  namespace?: string | undefined;
  /** The stored value (Keyv's serialized form), or `undefined`. */
  get<Value>(key: string): Promise<Value | undefined>;
  /** Stores `value`; `ttl` in ms, or `undefined` for the Larder cache's default TTL. */
  set(key: string, value: unknown, ttl?: number): Promise<boolean>;
  setMany(values: { key: string; value: unknown; ttl?: number }[]): Promise<void>;
  delete(key: string): Promise<boolean>;
  /** With a namespace, removes the keys under `namespace:`; without one, the whole Larder cache. */
  clear(): Promise<void>;
  has(key: string): Promise<boolean>;
  getMany<Value>(keys: string[]): Promise<(Value | undefined)[]>;
  /** True when every key existed. */
  deleteMany(keys: string[]): Promise<boolean>;
  /** Closes the Larder cache only with `closeOnDisconnect`. */
  disconnect(): Promise<void>;
}

/**
 * A Keyv store over `cache`: `new Keyv({ store: larderKeyvStore(cache) })`, or straight into
 * `CacheModule.register({ stores: [larderKeyvStore(cache)] })`, which wraps it in Keyv itself.
 *
 * A `ttl` (ms) from Keyv or cache-manager becomes the entry's Larder TTL; no `ttl` (Keyv's "no expiry")
 * falls back to the Larder cache's own default, so give that cache `ttl: 0` where entries without a
 * TTL must stay until evicted. Give the store a cache of its own (or a `cache.namespace(…)`): Keyv's
 * `clear()` removes every key under its namespace, and the whole cache when Keyv has none.
 */
export function larderKeyvStore(cache: Cache<any>, options: LarderKeyvStoreOptions = {}): LarderKeyvStore {
  if (cache === null || typeof cache !== 'object' || typeof cache.getOrSet !== 'function') {
    throw new TypeError('larderKeyvStore: cache must be a Larder Cache (createCache or manager.get(name))');
  }
  const closeOnDisconnect = options.closeOnDisconnect ?? false;
  if (typeof closeOnDisconnect !== 'boolean') {
    throw new TypeError('larderKeyvStore: options.closeOnDisconnect must be a boolean');
  }
  const set = async (key: string, value: unknown, ttl?: number): Promise<boolean> => {
    // Keyv passes a positive ms TTL or undefined; anything else is not a TTL Keyv means.
    await cache.set(key, value, typeof ttl === 'number' && ttl > 0 ? { ttl } : undefined);
    return true;
  };
  const store = Object.assign(new EventEmitter(), {
    opts: { dialect: 'larder' as const },
    namespace: undefined as string | undefined,
    get: <Value>(key: string) => cache.get(key) as Promise<Value | undefined>,
    set,
    async setMany(values: { key: string; value: unknown; ttl?: number }[]): Promise<void> {
      await Promise.all(values.map((entry) => set(entry.key, entry.value, entry.ttl)));
    },
    delete: (key: string) => cache.delete(key),
    async clear(): Promise<void> {
      const namespace = store.namespace;
      // A glob has no escapes: a `*` or `?` in the namespace matches more than itself, so this may
      // remove more than the namespace, never less.
      if (namespace === undefined || namespace === '') await cache.clear();
      else await cache.invalidatePattern(`${namespace}:*`);
    },
    has: (key: string) => cache.has(key),
    getMany: <Value>(keys: string[]) =>
      Promise.all(keys.map((key) => cache.get(key) as Promise<Value | undefined>)),
    async deleteMany(keys: string[]): Promise<boolean> {
      const deleted = await Promise.all(keys.map((key) => cache.delete(key)));
      return deleted.every(Boolean);
    },
    async disconnect(): Promise<void> {
      if (closeOnDisconnect) await cache.close();
    },
  });
  return store;
}
