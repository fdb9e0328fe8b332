// The caches the throughput and memory benchmarks compare: Larder's MemoryCache (both policies, once
// the engine is exported from src/index.ts), the JavaScript peers, and a bare Map as the floor.
// Each subject is called through its own native methods; nothing here sits on the timed path.

import { LRUCache } from 'lru-cache';
import { LRUCache as MnemonistLRUCache, LRUMap as MnemonistLRUMap } from 'mnemonist';
import QuickLRU from 'quick-lru';
import { createLRU } from 'lru.min';
import { lru as tinyLru } from 'tiny-lru';
import type { MemoryCacheOptions, MemorySetOptions } from '../../src/engine/types.js';

/** The synchronous surface every subject offers under the same names. */
export interface SyncStore {
  get(key: string): unknown;
  set(key: string, value: unknown): unknown;
}

/** A store filled with per-entry TTLs: `put` writes one entry with the subject's TTL feature. */
export interface TtlStore {
  store: SyncStore;
  put(key: string, value: unknown): void;
}

/** One row of the benchmark tables. */
export interface Subject {
  /** Row label. */
  name: string;
  /** Larder rows are checked against the targets; peers are the comparison. */
  kind: 'larder' | 'peer' | 'floor';
  /** A fresh instance holding at most `capacity` entries. */
  create(capacity: number): SyncStore;
  /** A fresh instance whose entries expire `ttlMs` after being put; absent when the library has no TTL. */
  createWithTtl?: (capacity: number, ttlMs: number) => TtlStore;
  /** Releases timers or other resources of an instance. */
  dispose?: (store: SyncStore) => void;
  /** Caveat printed under the tables. */
  note?: string;
}

/**
 * The floor: a bare Map. Eviction is FIFO — when full, the oldest inserted key is deleted; reads do
 * not reorder, and `get` is Map.prototype.get itself. The oldest key comes from one long-lived
 * `keys()` iterator advanced per eviction: a fresh `keys().next()` per eviction must skip every
 * deleted slot still at the front of V8's hash table and ran at ~0.15M sets/s here, which would
 * measure V8's tombstones rather than a floor. Map iterators are live (they skip deleted entries
 * and see new ones), so the long-lived one stays correct.
 */
class BoundedMap<K, V> extends Map<K, V> {
  readonly #capacity: number;
  #oldest: MapIterator<K> = this.keys();
  constructor(capacity: number) {
    super();
    this.#capacity = capacity;
  }
  override set(key: K, value: V): this {
    if (this.size >= this.#capacity && !this.has(key)) {
      let next = this.#oldest.next();
      if (next.done === true) {
        // A finished iterator never yields again; start over from the current oldest entry.
        this.#oldest = this.keys();
        next = this.#oldest.next();
      }
      if (next.done !== true) this.delete(next.value);
    }
    return super.set(key, value);
  }
}

/** The subset of MemoryCache the benchmarks use; typed here so the bench compiles before the engine lands. */
interface LarderEngine extends SyncStore {
  set(key: string, value: unknown, options?: MemorySetOptions): unknown;
  close(): void;
}
type LarderEngineCtor = new (options: MemoryCacheOptions<string, unknown>) => LarderEngine;

/** The MemoryCache class from src/index.ts, or undefined while the engine has not landed. */
export async function loadLarderEngine(): Promise<LarderEngineCtor | undefined> {
  const mod: Record<string, unknown> = await import('../../src/index.js');
  return typeof mod.MemoryCache === 'function' ? (mod.MemoryCache as LarderEngineCtor) : undefined;
}

function larderSubject(MemoryCache: LarderEngineCtor, policy: 'tinylfu' | 'lru'): Subject {
  return {
    name: `Larder ${policy}`,
    kind: 'larder',
    create: (capacity) => new MemoryCache({ maxEntries: capacity, policy }),
    createWithTtl: (capacity, ttlMs) => {
      const store = new MemoryCache({ maxEntries: capacity, policy });
      return { store, put: (key, value) => store.set(key, value, { ttl: ttlMs }) };
    },
    dispose: (store) => (store as LarderEngine).close(),
  };
}

/** The peers and the floor, in a fixed order (the runner shuffles it per round). */
export const peerSubjects: readonly Subject[] = [
  {
    name: 'lru-cache',
    kind: 'peer',
    create: (capacity) => new LRUCache<string, object>({ max: capacity }) as SyncStore,
    createWithTtl: (capacity, ttlMs) => {
      const store = new LRUCache<string, object>({ max: capacity });
      return {
        store: store as SyncStore,
        put: (key, value) => store.set(key, value as object, { ttl: ttlMs }),
      };
    },
  },
  {
    name: 'mnemonist LRUCache',
    kind: 'peer',
    create: (capacity) => new MnemonistLRUCache<string, unknown>(capacity),
  },
  {
    name: 'mnemonist LRUMap',
    kind: 'peer',
    create: (capacity) => new MnemonistLRUMap<string, unknown>(capacity),
  },
  {
    name: 'quick-lru',
    kind: 'peer',
    create: (capacity) => new QuickLRU<string, unknown>({ maxSize: capacity }),
    createWithTtl: (capacity, ttlMs) => {
      const store = new QuickLRU<string, unknown>({ maxSize: capacity });
      return { store, put: (key, value) => store.set(key, value, { maxAge: ttlMs }) };
    },
    note: 'quick-lru keeps two generations of up to maxSize entries each, so it may hold up to 2x the capacity; its hit ratio is not comparable.',
  },
  {
    name: 'lru.min',
    kind: 'peer',
    create: (capacity) => createLRU<string, unknown>({ max: capacity }),
  },
  {
    name: 'tiny-lru',
    kind: 'peer',
    create: (capacity) => tinyLru<unknown>(capacity),
    // tiny-lru's TTL is one value per cache, applied to every entry at set time.
    createWithTtl: (capacity, ttlMs) => {
      const store = tinyLru<unknown>(capacity, ttlMs);
      return { store, put: (key, value) => store.set(key, value) };
    },
    note: 'tiny-lru has one TTL per cache (set in the constructor), not per entry.',
  },
  {
    name: 'Map (floor)',
    kind: 'floor',
    create: (capacity) => new BoundedMap<string, unknown>(capacity),
    note: 'Map is the floor: a bare Map; when full it deletes its oldest inserted key through one long-lived keys() iterator (FIFO, reads do not reorder); no TTL.',
  },
];

/** Larder's two policies (when the engine exists) followed by the peers and the floor. */
export async function loadSubjects(): Promise<Subject[]> {
  const MemoryCache = await loadLarderEngine();
  const larder = MemoryCache
    ? [larderSubject(MemoryCache, 'tinylfu'), larderSubject(MemoryCache, 'lru')]
    : [];
  return [...larder, ...peerSubjects];
}
