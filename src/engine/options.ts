// Validation of MemoryCache options and per-entry arguments. Every check throws a TypeError or
// RangeError whose message names the offending option, before the cache changes any state.
import { parseDuration } from '../util/duration.js';
import { coarseNow } from '../util/clock.js';
import type { Logger } from '../observability/logger.js';
import type { CacheKey, EvictionPolicy, EvictionReason, MemoryCacheOptions } from './types.js';

/** The entry bound used when neither `maxEntries` nor `maxBytes` is given. */
export const DEFAULT_MAX_ENTRIES = 10_000;
/** Default period of the background sweep of expired entries, in milliseconds. */
export const DEFAULT_CLEANUP_INTERVAL = 60_000;

/** MemoryCache options after validation, with defaults filled in and durations in milliseconds. */
export interface ResolvedOptions<K extends CacheKey, V> {
  maxEntries: number;
  maxBytes: number;
  /** Whether entry sizes are measured and summed (a byte budget or a `sizeOf` was given). */
  trackBytes: boolean;
  sizeOf: ((value: V, key: K) => number) | undefined;
  ttl: number;
  policy: EvictionPolicy;
  jitter: number;
  cleanupInterval: number;
  onEvict: ((key: K, value: V, reason: EvictionReason) => void) | undefined;
  clock: () => number;
  logger: Logger | undefined;
  name: string;
}

/** Checks `options` and returns them resolved; throws a TypeError/RangeError naming a bad option. */
export function resolveOptions<K extends CacheKey, V>(
  options: MemoryCacheOptions<K, V> | undefined,
): ResolvedOptions<K, V> {
  const o = options ?? {};
  if (typeof o !== 'object') throw new TypeError(`options must be an object, got ${typeof o}`);
  const maxEntries = optionalPositiveInteger(o.maxEntries, 'maxEntries');
  const maxBytes = optionalPositiveInteger(o.maxBytes, 'maxBytes');
  const policy = o.policy ?? 'tinylfu';
  if (policy !== 'tinylfu' && policy !== 'lru') {
    throw new RangeError(`policy must be 'tinylfu' or 'lru', got ${JSON.stringify(policy)}`);
  }
  const jitter = o.jitter ?? 0;
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter < 1)) {
    throw new RangeError(`jitter must be a number in [0, 1), got ${String(jitter)}`);
  }
  return {
    maxEntries: maxEntries ?? (maxBytes === undefined ? DEFAULT_MAX_ENTRIES : Infinity),
    maxBytes: maxBytes ?? Infinity,
    trackBytes: maxBytes !== undefined || o.sizeOf !== undefined,
    sizeOf: optionalFunction(o.sizeOf, 'sizeOf'),
    ttl: o.ttl === undefined ? 0 : parseDuration(o.ttl, 'ttl'),
    policy,
    jitter,
    cleanupInterval:
      o.cleanupInterval === undefined
        ? DEFAULT_CLEANUP_INTERVAL
        : parseDuration(o.cleanupInterval, 'cleanupInterval'),
    onEvict: optionalFunction(o.onEvict, 'onEvict'),
    clock: optionalFunction(o.clock, 'clock') ?? coarseNow,
    logger: o.logger,
    name: o.name === undefined ? 'memory' : String(o.name),
  };
}

/** Throws a TypeError unless `key` is a string or a finite number. */
export function checkKey(key: unknown): asserts key is CacheKey {
  if (typeof key === 'number') {
    if (!Number.isFinite(key)) refuseNonFiniteKey(key);
  } else if (typeof key !== 'string') {
    throw new TypeError(`key must be a string or a number, got ${key === null ? 'null' : typeof key}`);
  }
}

/**
 * Throws the TypeError for a NaN or ±Infinity key. Such a key is refused everywhere: it cannot
 * round-trip through a snapshot or the shared tier, and NaN would be one key under many spellings.
 */
export function refuseNonFiniteKey(key: number): never {
  throw new TypeError(`key must be a string or a finite number, got ${String(key)}`);
}

/** Checks a size in bytes (from the `size` option or from `sizeOf`), naming `what` if it is bad. */
export function checkSize(size: unknown, what: string): number {
  if (typeof size !== 'number' || !Number.isFinite(size) || size < 0) {
    throw new RangeError(`${what} must be a finite number of bytes >= 0, got ${String(size)}`);
  }
  return size;
}

/** Checks the `tags` option of set: an array of strings. */
export function checkTags(tags: unknown): readonly string[] {
  if (!Array.isArray(tags)) throw new TypeError(`tags must be an array of strings, got ${typeof tags}`);
  for (const tag of tags) {
    if (typeof tag !== 'string') throw new TypeError(`tags must be an array of strings, got a ${typeof tag}`);
  }
  return tags as readonly string[];
}

function optionalPositiveInteger(value: unknown, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number')
    throw new TypeError(`${what} must be a positive integer, got ${typeof value}`);
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`${what} must be a positive integer, got ${value}`);
  }
  return value;
}

function optionalFunction<F>(value: F | undefined, what: string): F | undefined {
  if (value !== undefined && typeof value !== 'function') {
    throw new TypeError(`${what} must be a function, got ${typeof value}`);
  }
  return value;
}
