// The caches an HTTP layer works with: one Cache, a CacheManager, or a `{ name: Cache }` record,
// behind one small directory interface so the middleware and the admin API treat them alike.
import { isCacheManager } from '../cache/manager.js';
import type { Cache, CacheManager } from '../cache/types.js';

/** What the HTTP layer and the admin API accept as their caches. */
export type CacheSource = Cache<any> | CacheManager | Readonly<Record<string, Cache<any>>>;

/** Named caches, looked up by name. */
export interface CacheDirectory {
  /** The names, in a stable order. */
  names(): string[];
  /** The cache of that name, or `undefined`. */
  get(name: string): Cache<unknown> | undefined;
  /** The manager, when the source was one (its aggregate stats and health are used as they are). */
  readonly manager: CacheManager | undefined;
  /** The cache to use when a rule names none: the single cache given, else `undefined`. */
  readonly single: Cache<unknown> | undefined;
}

function isCache(value: unknown): value is Cache<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as Cache).getOrSet === 'function';
}

/** Builds the directory of `source`; a value that is none of the accepted shapes throws a TypeError naming `what`. */
export function cacheDirectory(source: CacheSource, what: string): CacheDirectory {
  if (isCache(source)) {
    return {
      names: () => [source.name],
      get: (name) => (name === source.name ? source : undefined),
      manager: undefined,
      single: source,
    };
  }
  if (isCacheManager(source)) {
    return {
      names: () => source.names(),
      get: (name) => (source.has(name) ? source.get(name) : undefined),
      manager: source,
      single: undefined,
    };
  }
  if (typeof source === 'object' && source !== null && !Array.isArray(source)) {
    const entries = Object.entries(source);
    for (const [name, cache] of entries) {
      if (!isCache(cache)) throw new TypeError(`${what}.${name} must be a Cache (from createCache)`);
    }
    if (entries.length === 0) throw new TypeError(`${what} must name at least one cache`);
    const map = new Map(entries);
    return {
      names: () => [...map.keys()],
      get: (name) => map.get(name),
      manager: undefined,
      single: undefined,
    };
  }
  throw new TypeError(`${what} must be a Cache, a CacheManager or a { name: Cache } object`);
}

/** The cache of that name; an unknown name throws a TypeError naming `what` and the known caches. */
export function requireCache(directory: CacheDirectory, name: string, what: string): Cache<unknown> {
  const cache = directory.get(name);
  if (cache === undefined) {
    throw new TypeError(
      `${what} names an unknown cache ${JSON.stringify(name)} (known: ${directory.names().join(', ')})`,
    );
  }
  return cache;
}
