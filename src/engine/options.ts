// Validation of MemoryCache options and per-entry arguments. Every check throws a TypeError or
// RangeError whose message names the offending option, before the cache changes any state.
import { parseDuration } from '../util/duration.js';
import { coarseNow } from '../util/clock.js';
import {
  assertFraction,
  assertFunction,
  assertKnownOptions,
  assertPositiveInteger,
  optionNames,
} from '../util/validate.js';
import type { Logger } from '../observability/logger.js';
import type {
  CacheKey,
  EvictionPolicy,
  EvictionReason,
  MemoryCacheBounds,
  MemoryCacheOptions,
} from './types.js';

/** The entry bound used when neither `maxEntries` nor `maxBytes` is given. */
export const DEFAULT_MAX_ENTRIES = 10_000;
/** Default period of the background sweep of expired entries, in milliseconds. */
export const DEFAULT_CLEANUP_INTERVAL = 60_000;

// Every key MemoryCacheOptions declares (optionNames holds the list to the type). An unknown key is
// refused rather than ignored, so a typo (`maxEntrys`) or an option of createCache passed to the bare
// engine does not silently fall back to the defaults.
const KNOWN_OPTIONS = optionNames<MemoryCacheOptions>({
  maxEntries: true,
  maxBytes: true,
  sizeOf: true,
  ttl: true,
  policy: true,
  jitter: true,
  cleanupInterval: true,
  onEvict: true,
  clock: true,
  logger: true,
  name: true,
});

// Options of createCache that the engine does not take, with where they belong.
const CACHE_ONLY_OPTIONS: ReadonlySet<string> = new Set([
  'autoSize',
  'advisor',
  'l2',
  'persist',
  'warmOnStart',
  'retry',
  'timeout',
  'refreshAhead',
  'grace',
  'adaptiveTtl',
  'failSafeBackoff',
  'validate',
  'slowLoad',
  'traceKeys',
  'loggerStyle',
  'enabled',
]);

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
  for (const key of Object.keys(o)) {
    if (CACHE_ONLY_OPTIONS.has(key))
      throw new TypeError(`MemoryCache: ${key} is an option of createCache, not of MemoryCache`);
  }
  assertKnownOptions(o, KNOWN_OPTIONS, 'MemoryCache');
  const maxEntries =
    o.maxEntries === undefined ? undefined : assertPositiveInteger(o.maxEntries, 'maxEntries');
  const maxBytes = o.maxBytes === undefined ? undefined : assertPositiveInteger(o.maxBytes, 'maxBytes');
  const policy = o.policy ?? 'tinylfu';
  if (policy !== 'tinylfu' && policy !== 'lru') {
    throw new RangeError(`policy must be 'tinylfu' or 'lru', got ${JSON.stringify(policy)}`);
  }
  const jitter = o.jitter === undefined ? 0 : assertFraction(o.jitter, 'jitter', false);
  return {
    maxEntries: maxEntries ?? (maxBytes === undefined ? DEFAULT_MAX_ENTRIES : Infinity),
    maxBytes: maxBytes ?? Infinity,
    trackBytes: maxBytes !== undefined || o.sizeOf !== undefined,
    sizeOf: o.sizeOf === undefined ? undefined : assertFunction(o.sizeOf, 'sizeOf'),
    ttl: o.ttl === undefined ? 0 : parseDuration(o.ttl, 'ttl'),
    policy,
    jitter,
    cleanupInterval:
      o.cleanupInterval === undefined
        ? DEFAULT_CLEANUP_INTERVAL
        : parseDuration(o.cleanupInterval, 'cleanupInterval'),
    onEvict: o.onEvict === undefined ? undefined : assertFunction(o.onEvict, 'onEvict'),
    clock: o.clock === undefined ? coarseNow : assertFunction(o.clock, 'clock'),
    logger: o.logger,
    name: o.name === undefined ? 'memory' : String(o.name),
  };
}

const BOUNDS = optionNames<MemoryCacheBounds>({
  maxEntries: true,
  maxBytes: true,
});

/** Checks that resize() was given an object of known bounds (their values are checked by the caller). */
export function assertBounds(bounds: unknown): asserts bounds is object {
  if (typeof bounds !== 'object' || bounds === null)
    throw new TypeError(`resize bounds must be an object, got ${bounds === null ? 'null' : typeof bounds}`);
  assertKnownOptions(bounds, BOUNDS, 'resize');
}

/** Checks an entry's reload `cost`: a finite number >= 0 (TypeError for a non-number, else RangeError). */
export function assertCost(cost: unknown): number {
  if (typeof cost !== 'number') throw new TypeError(`cost must be a finite number >= 0, got ${typeof cost}`);
  if (!Number.isFinite(cost) || cost < 0)
    throw new RangeError(`cost must be a finite number >= 0, got ${cost}`);
  return cost;
}
