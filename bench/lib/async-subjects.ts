// The read-through caches the async benchmarks compare (issue 3): Larder's getOrSet (without a logger,
// with a logger whose debug level is off, and with debug on into a no-op to show what logging costs),
// lru-cache fetch(), bentocache getOrSet (memory driver), cache-manager 7 wrap, cacheable getOrSet,
// and a floor. Each `create` wires the given loader into the library's own read-through call.

import { LRUCache } from 'lru-cache';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { createCache as createCacheManager } from 'cache-manager';
import { Cacheable } from 'cacheable';
import { createCache } from '../../src/index.js';
import type { Logger } from '../../src/observability/logger.js';

/** The loader every library calls on a miss. */
export type BenchLoader = () => Promise<unknown>;

/** One library's read-through call for a key, and how to release the instance. */
export interface ReadThroughInstance {
  /** The library's get-or-load call; resolves to the cached or loaded value. */
  getOrSet(key: string): Promise<unknown> | unknown;
  close(): Promise<void> | void;
}

/** One row of the async tables. */
export interface AsyncSubject {
  name: string;
  kind: 'larder' | 'peer' | 'floor';
  /** A fresh cache (capacity 1,000, TTL 1 h) whose misses call `loader`. */
  create(loader: BenchLoader): ReadThroughInstance;
  /** Caveat printed under the tables. */
  note?: string;
}

const CAPACITY = 1000;
const TTL_MS = 3_600_000;

/** pino-style logger at level warn: debug and info are off, which is how services run in production. */
export const debugOffLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  isLevelEnabled: (level: string) => level === 'warn' || level === 'error',
};

/** pino-style logger with every level on, writing nowhere: the cost of building and passing log lines. */
const debugOnLogger: Logger = { ...debugOffLogger, isLevelEnabled: () => true };

function larderSubject(name: string, logger: Logger | undefined): AsyncSubject {
  return {
    name,
    kind: 'larder',
    create: (loader) => {
      const cache = createCache<unknown>({ maxEntries: CAPACITY, ttl: TTL_MS, logger });
      return { getOrSet: (key) => cache.getOrSet(key, loader), close: () => cache.close() };
    },
  };
}

/** The peers and the floor. */
export const asyncPeerSubjects: readonly AsyncSubject[] = [
  {
    name: 'lru-cache fetch()',
    kind: 'peer',
    create: (loader) => {
      const cache = new LRUCache<string, object>({
        max: CAPACITY,
        ttl: TTL_MS,
        fetchMethod: () => loader() as Promise<object>,
      });
      return { getOrSet: (key) => cache.fetch(key), close: () => cache.clear() };
    },
  },
  {
    name: 'bentocache getOrSet',
    kind: 'peer',
    create: (loader) => {
      const bento = new BentoCache({
        default: 'memory',
        stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: CAPACITY })) },
      });
      return {
        getOrSet: (key) => bento.getOrSet({ key, factory: loader, ttl: TTL_MS }),
        close: () => bento.disconnectAll(),
      };
    },
    note: 'bentocache: memory driver only, default settings (entries are serialized in L1 by default).',
  },
  {
    name: 'cache-manager wrap',
    kind: 'peer',
    create: (loader) => {
      const cache = createCacheManager();
      return { getOrSet: (key) => cache.wrap(key, loader, TTL_MS), close: () => cache.disconnect() };
    },
    note: 'cache-manager 7: createCache() with its default in-memory Keyv store.',
  },
  {
    name: 'cacheable getOrSet',
    kind: 'peer',
    create: (loader) => {
      const cache = new Cacheable();
      const options = { ttl: TTL_MS };
      return { getOrSet: (key) => cache.getOrSet(key, loader, options), close: () => cache.disconnect() };
    },
  },
];

/**
 * The floor: a Map read by `await map.get(key)`, loading naively on a miss (get, await the loader,
 * set). It has no coalescing, so in the stampede every concurrent miss calls the loader.
 */
export const mapFloorSubject: AsyncSubject = {
  name: 'await Map.get() (floor)',
  kind: 'floor',
  create: (loader) => {
    const map = new Map<string, unknown>();
    return {
      getOrSet: (key) => {
        const hit = map.get(key);
        if (hit !== undefined) return hit;
        return loader().then((value) => {
          map.set(key, value);
          return value;
        });
      },
      close: () => map.clear(),
    };
  },
  note: 'floor: a bare Map, `await map.get(key)`; on a miss it awaits the loader and sets, with no coalescing.',
};

/** Larder's variants, the peers, then the floor. */
export function loadAsyncSubjects(options: { withDebugOn: boolean }): Promise<AsyncSubject[]> {
  const larder = [
    larderSubject('Larder getOrSet', undefined),
    larderSubject('Larder getOrSet, logger (debug off)', debugOffLogger),
    ...(options.withDebugOn
      ? [larderSubject('Larder getOrSet, logger (debug on, no-op sink)', debugOnLogger)]
      : []),
  ];
  return Promise.resolve([...larder, ...asyncPeerSubjects, mapFloorSubject]);
}
