// Public types of the async facade (createCache / createCacheManager). This file is the contract the
// HTTP layer, the admin API, the Redis tier and the demo code against; implementations live beside it.
import type { L2Tier } from '../tiers/types.js';
import type { Duration } from '../util/duration.js';
import type { Logger } from '../observability/logger.js';
import type { LoggerStyle } from '../observability/log-sink.js';
import type { LatencySummary } from '../observability/latency.js';
import type { CacheKey, EngineStats, EvictionPolicy, EvictionReason } from '../engine/types.js';
import type { PersistOptions, SnapshotEntry } from '../persistence/types.js';
import type { LoadResult } from '../persistence/entries.js';
import type { RestoreResult } from '../persistence/multi-cache.js';
import type { SnapshotWriteResult } from '../persistence/snapshot.js';
import type { Advice, AdvisorOptions } from '../advisor/types.js';
import type { AutoSizeOptions } from '../advisor/auto-size.js';

export type { PersistOptions, SnapshotEntry, LoadResult, RestoreResult, SnapshotWriteResult };
export type { Advice, AdviceCurvePoint, AdvisorOptions } from '../advisor/types.js';
export type { AutoSizeOptions } from '../advisor/auto-size.js';

/** Retry policy of a loader (seed 002's RetryConfig); `false` disables retries. */
export interface RetryOptions {
  /** Retries after the first attempt (default 3). */
  maxRetries?: number;
  /** Delay before the first retry, ms (default 100). */
  initialDelay?: Duration;
  /** Upper bound on a delay, ms (default 2000). */
  maxDelay?: Duration;
  /** Multiplier per retry (default 2). */
  backoffFactor?: number;
  /** Random spread of each delay, fraction in [0, 1] (default 0.1). */
  jitter?: number;
  /** Overrides the built-in classification of retryable errors. */
  retryOn?: (error: unknown, attempt: number) => boolean;
}

/** Soft and hard timeouts of a loader call. */
export interface TimeoutOptions {
  /** With a stale value at hand: answer it after this long and let the loader finish in the background. */
  soft?: Duration;
  /**
   * Bounds the whole call, retries included; throws CacheError TIMEOUT (default 60 s, so a loader that
   * never settles cannot hold its callers forever; `0` or `false` turns it off).
   */
  hard?: Duration | false;
}

/** What a loader may do besides returning a value. */
export interface LoaderContext<V = unknown> {
  /** The key being loaded (as given, without namespace prefix). */
  readonly key: CacheKey;
  /** Aborted when the call is given up (hard timeout, cache closed). */
  readonly signal: AbortSignal;
  /** 0 for the first attempt, then 1, 2, … for retries. */
  readonly attempt: number;
  /** The stale value, when one is held in grace. */
  readonly stale: V | undefined;
  /** Overrides the entry's TTL. */
  setTtl(ttl: Duration): void;
  /** Overrides the entry's tags. */
  setTags(tags: readonly string[]): void;
  /** Answers the loaded value but does not cache it. */
  skip(): void;
  /**
   * What the cache held for the key before this load (fresh on a refresh, stale, in grace, or kept
   * after expiry for revalidation), with the upstream validators stored with it; undefined when nothing
   * is held. Send `previous.etag` as If-None-Match, `previous.lastModified` as If-Modified-Since.
   */
  readonly previous: PreviousEntry<V> | undefined;
  /**
   * Records the upstream's validators (ETag, Last-Modified) with the value this load returns, for the
   * next load's conditional request. Called with neither, it drops the validators held.
   */
  setValidators(validators: UpstreamValidators): void;
  /**
   * The upstream answered "not modified" (HTTP 304): returns `previous.value`, which the loader returns
   * in turn; the entry is renewed (a fresh TTL) with the same value and its validators (unless
   * setValidators gave new ones). Throws a TypeError when there is no previous value.
   */
  notModified(): V;
}

/** Upstream validators of a value (what HTTP calls ETag and Last-Modified). */
export interface UpstreamValidators {
  /** The entity tag as the upstream sent it, quotes included (`"v42"`, `W/"v42"`); `undefined`: none. */
  etag?: string | undefined;
  /** The Last-Modified date as the upstream sent it (an HTTP date); `undefined`: none. */
  lastModified?: string | undefined;
}

/** The value a cache held for a key before a load, as the loader sees it in `ctx.previous`. */
export interface PreviousEntry<V = unknown> extends Readonly<UpstreamValidators> {
  /** The value held. */
  readonly value: V;
  /** When it was stored (ms, per the cache's clock). */
  readonly storedAt: number;
  /** Whether it was still fresh (a refresh-ahead or forceFresh load). */
  readonly fresh: boolean;
}

/**
 * Adaptive TTL of getOrSet (cache option or per call): each refresh of a key compares the loaded value
 * with the one it replaces and updates an estimate of how often the key changes. The TTL aims at
 * √(change interval × min) within [min, max]: an unchanged refresh grows it (by `factor` at most), a
 * changed one shortens it. A key's first load uses the call's `ttl` clamped to [min, max] (`min` when
 * there is no ttl). See docs/guides/adaptive-ttl.md.
 */
export interface AdaptiveTtlOptions {
  /** Shortest TTL a key gets. */
  min: Duration;
  /** Longest TTL a key gets; the entry is also kept (never served) this long after it goes stale, for the comparison. */
  max: Duration;
  /** Most growth per unchanged refresh, > 1 (default 2). */
  factor?: number;
  /**
   * Whether two values are the same; default: a 53-bit hash of the value's JSON form (Map, Set, BigInt and
   * typed arrays included), computed once per load.
   */
  equals?: (previous: unknown, next: unknown) => boolean;
  /**
   * Stretch TTLs while the upstream struggles: a load slower than `latency` (by the cache's clock), or
   * one of `inFlight` loads running at once in this cache (or namespace), writes its key with the TTL ×
   * `stretch` (default 2, still at most `max`). The key's own adapted TTL is not changed by it.
   */
  underLoad?: { latency?: Duration; inFlight?: number; stretch?: number };
}

/** A loader: computes the value for a key on a miss. */
export type Loader<V> = (ctx: LoaderContext<V>) => V | Promise<V>;

/** What a batch loader of {@link Cache.getOrSetMany} is handed besides the keys. */
export interface BatchLoaderContext<V = unknown> {
  /** The keys being loaded (as given, without namespace prefix): the same array as the first argument. */
  readonly keys: readonly CacheKey[];
  /** Aborted when the batch is given up (hard timeout, cache closed); never by one caller's own signal. */
  readonly signal: AbortSignal;
  /** 0 for the first attempt, then 1, 2, … for retries. */
  readonly attempt: number;
  /** The values held in grace (or, with forceFresh, still held) for keys of the batch, by key. */
  readonly stale: ReadonlyMap<CacheKey, V>;
}

/**
 * A batch loader (the DataLoader pattern): computes the values of every key it is given in one call.
 * Answers a Map by key, or an array aligned with `keys`; a key left out (or `undefined`) answers
 * `undefined` and is not cached unless `cacheUndefined` is set.
 */
export type BatchLoader<V> = (
  keys: readonly CacheKey[],
  ctx: BatchLoaderContext<V>,
) =>
  | ReadonlyMap<CacheKey, V | undefined>
  | ReadonlyArray<V | undefined>
  | Promise<ReadonlyMap<CacheKey, V | undefined> | ReadonlyArray<V | undefined>>;

/**
 * A Standard Schema (https://standardschema.dev: zod, valibot, arktype, …) as far as validation on read
 * needs it: only synchronous validation is supported.
 */
export interface StandardSchemaLike {
  readonly '~standard': {
    readonly version: number;
    readonly validate: (value: unknown) => unknown;
  };
}

/**
 * Checks a value read from the cache: a predicate (`true` = the value fits), or a Standard Schema. A
 * value that does not fit is treated as a miss and replaced by the loader's.
 */
export type ValueValidator = ((value: unknown) => boolean) | StandardSchemaLike;

/** One entry of {@link Cache.setMany}: `[key, value]`, or `[key, value, options]`. */
export type SetManyEntry<V> = readonly [CacheKey, V] | readonly [CacheKey, V, CacheSetOptions];

/** Per-entry write options of the facade. */
export interface CacheSetOptions {
  /** Time to live; `0` means no expiry. */
  ttl?: Duration;
  /** Tags for invalidateTags. */
  tags?: readonly string[];
  /** Fail-safe window after expiry during which the value may be served stale. */
  grace?: Duration;
  /** Spread the TTL by ± this fraction. */
  jitter?: number;
}

/**
 * `T`, in a place TypeScript does not infer `T` from: the built-in `NoInfer` (TypeScript 5.4), written
 * so that the published declarations still compile on TypeScript 5.0 to 5.3.
 */
export type NotInferred<T> = [T][T extends unknown ? 0 : never];

/** Options of {@link Cache.getOrSet}. */
export interface GetOrSetOptions<V = unknown> extends CacheSetOptions {
  /** Soft/hard timeouts. */
  timeout?: TimeoutOptions;
  /** Fraction of the TTL after which a hit triggers one background refresh (e.g. 0.8). */
  refreshAhead?: number;
  /** Retry policy, or `false` for none (`undefined`: the cache's). */
  retry?: RetryOptions | false | undefined;
  /** When given, getOrSet never throws: it answers this value when nothing else can be had. */
  fallback?: V;
  /** Cache `undefined` results too (negative caching). */
  cacheUndefined?: boolean;
  /** TTL for cached `undefined` results; implies cacheUndefined. */
  negativeTtl?: Duration;
  /** After a failed load served stale, how long to keep serving it before calling the loader again (default 5 s). */
  failSafeBackoff?: Duration;
  /**
   * Run the loader even when a fresh value is held (a revalidation), joining a load of the key already in
   * flight. The held value, fresh or in grace, is the loader's `ctx.stale` and the fail-safe answer if
   * the load fails; the fail-safe backoff does not apply.
   */
  forceFresh?: boolean;
  /**
   * Abandons this caller's wait when aborted: the call rejects with the signal's reason, while a load
   * other callers share goes on (and is still stored). An already-aborted signal rejects at once.
   */
  signal?: AbortSignal;
  /** Overrides the cache's {@link CacheOptions.validate} for this call. */
  validate?: ValueValidator;
  /** Overrides the cache's {@link CacheOptions.slowLoad} for this call. */
  slowLoad?: Duration;
  /** Overrides the cache's {@link CacheOptions.adaptiveTtl} for this call (`false`: a fixed TTL). */
  adaptiveTtl?: AdaptiveTtlOptions | false;
}

/** Options of {@link createCache}. */
export interface CacheOptions<V = unknown> extends Omit<CacheSetOptions, 'tags'> {
  /** Name used in stats, logs and metrics labels. */
  name?: string;
  /** Engine bounds and policy for L1. */
  maxEntries?: number;
  maxBytes?: number;
  sizeOf?: (value: V, key: CacheKey) => number;
  policy?: EvictionPolicy;
  cleanupInterval?: Duration;
  /** Start disabled (getOrSet calls the loader directly, get misses). */
  enabled?: boolean;
  /** Defaults for getOrSet (`undefined`: the default policy). */
  retry?: RetryOptions | false | undefined;
  timeout?: TimeoutOptions;
  refreshAhead?: number;
  /** The shared tier (e.g. `redisTier({ url })`). */
  l2?: L2Tier;
  /** A pino-style or console-style logger; nothing is logged by default. */
  logger?: Logger;
  /**
   * How the logger takes arguments; detected when absent (pino: `isLevelEnabled`/`levels` present;
   * winston, which has those too, takes `(message, meta)` and is detected as console-style).
   */
  loggerStyle?: LoggerStyle;
  /** Time source in ms, for tests. */
  clock?: () => number;
  /** Entries to put in the cache at creation (seed 000's cache warming); `cache.ready` settles when done. */
  warmOnStart?: WarmSource<V>;
  /** After a failed load served stale, how long to keep serving it before calling the loader again (default 5 s). */
  failSafeBackoff?: Duration;
  /** Warm restarts: restore from this snapshot file at creation, snapshot periodically and on close. */
  persist?: PersistOptions;
  /** Keep a sampled model of the access stream for `advise()` (off by default; needs maxEntries). */
  advisor?: boolean | AdvisorOptions;
  /**
   * Adaptive sizing (opt-in; turns the advisor on): the advisor moves `maxEntries` within
   * [min, max] when its curve says the change pays (a gain of 2 points or more, or a loss under 1
   * point for a smaller size), never to a size whose estimated memory exceeds `memoryBudget` bytes.
   * Each change is logged as `Cache RESIZE`. Needs `maxEntries` within the bounds, at creation and in
   * configure(). A large shrink evicts at most 10,000 entries per turn of the event loop.
   */
  autoSize?: AutoSizeOptions;
  /**
   * Put keys (and invalidated tags and patterns) in the `larder:*` tracing channel contexts and so in
   * larder-cache/otel spans. Off by default: keys often hold user ids, emails or tokens.
   */
  traceKeys?: boolean;
  /**
   * Checks every value read from L1 or L2 (getOrSet, get, getMany, getOrSetMany): one that does not fit
   * is a miss (get answers undefined; getOrSet loads and replaces it). The safe way to change a value's
   * shape between deploys. Costs nothing when absent.
   */
  validate?: ValueValidator;
  /**
   * A load (retries included) that takes longer than this is logged at warn as `Cache SLOW` with the
   * cache, key and durationMs, and emitted as `cache:slow` (off by default).
   */
  slowLoad?: Duration;
  /**
   * Adaptive TTL for getOrSet loads (off by default): a key's TTL follows how often its value really
   * changes, within [min, max]. set(), warm() and getOrSetMany write the fixed `ttl`.
   */
  adaptiveTtl?: AdaptiveTtlOptions | false;
}

/** Entries for {@link Cache.warm}: pairs, or an (async) iterable of pairs or loader-like producers. */
export type WarmSource<V> =
  | Iterable<readonly [CacheKey, V] | readonly [CacheKey, V, CacheSetOptions]>
  | AsyncIterable<readonly [CacheKey, V] | readonly [CacheKey, V, CacheSetOptions]>
  | (() =>
      | AsyncIterable<readonly [CacheKey, V] | readonly [CacheKey, V, CacheSetOptions]>
      | Iterable<readonly [CacheKey, V] | readonly [CacheKey, V, CacheSetOptions]>);

/** Runtime-changeable settings (seed 000's configureTTL / setCacheEnabled). */
export interface CacheConfigUpdate {
  ttl?: Duration;
  /**
   * With `ttl`: the new TTL also reaches the entries already cached, as if each had been written with it
   * at its original write time (an entry now past its new lifetime is removed). Default false: only
   * entries written from now on get the new TTL. Applies to this instance's in-memory tier; with a
   * shared tier, entries whose lifetime is shortened are removed from every tier instead.
   */
  applyToExisting?: boolean;
  enabled?: boolean;
  grace?: Duration;
  jitter?: number;
  refreshAhead?: number;
  failSafeBackoff?: Duration;
  /**
   * New entry bound of the in-memory tier (root cache only): shrinking evicts in the policy's order
   * (counted as capacity evictions), growing needs no rebuild.
   */
  maxEntries?: number;
  /** New byte bound of the in-memory tier (root cache only; the cache must have been created with maxBytes). */
  maxBytes?: number;
  /** Replaces the logger (also re-reads which levels are on, e.g. after changing a pino level). */
  logger?: Logger;
  loggerStyle?: LoggerStyle;
}

/** Statistics of one cache (DESIGN.md "Stats"). */
export interface CacheStats extends EngineStats {
  /** Requests answered fresh from a tier (L1, or L2 without a loader call). */
  hits: number;
  /** Requests that started a load (or found only a value in fail-safe backoff). */
  misses: number;
  /** Requests that joined a load another caller had started: no upstream call of their own. */
  coalesced: number;
  /** Every get/getOrSet counted: hits + misses + coalesced. */
  totalRequests: number;
  /**
   * Percent of requests that cost no upstream call, two decimals: (hits + coalesced) / totalRequests;
   * 0 when there were none. 50 concurrent callers sharing one load are 1 miss and 49 coalesced: 98%.
   */
  hitRate: number;
  name: string;
  enabled: boolean;
  /** Default TTL in ms (0 = none). */
  ttl: number;
  staleHits: number;
  loads: number;
  loadErrors: number;
  refreshes: number;
  loadTime: LatencySummary;
}

/** One entry as the admin API and dashboard show it (values are not included). */
export interface CacheEntrySummary {
  key: string;
  /** `'number'` when the key is the number `123`, not the string `'123'` (both list as `key: '123'`). */
  keyType?: 'string' | 'number';
  ageMs: number;
  ttlRemainingMs: number | undefined;
  size: number;
  tags: readonly string[];
  stale: boolean;
  /** The key's current adaptive TTL, ms (before any stretch under load); absent without adaptiveTtl. */
  adaptiveTtlMs?: number;
  /** Whether the entry holds upstream validators (its next load can be a conditional request). */
  revalidatable?: boolean;
}

/** Health of a cache: ok, or degraded with the reason (e.g. L2 circuit open). */
export interface CacheHealth {
  status: 'ok' | 'degraded';
  reason?: string;
  l2?: { status: 'ok' | 'degraded' | 'down'; reason?: string; [k: string]: unknown };
  bus?: { status: 'ok' | 'degraded' | 'down'; reason?: string; [k: string]: unknown };
}

/** Events emitted by a cache (namespaced names). */
export interface CacheEvents {
  'cache:hit': { cache: string; key: CacheKey; stale?: boolean };
  'cache:miss': { cache: string; key: CacheKey };
  'cache:set': { cache: string; key: CacheKey };
  'cache:delete': { cache: string; key: CacheKey };
  'cache:evict': { cache: string; key: CacheKey; reason: EvictionReason };
  'cache:stale': { cache: string; key: CacheKey; error?: unknown };
  'cache:refresh': { cache: string; key: CacheKey };
  'cache:invalidate': { cache: string; tags?: readonly string[]; pattern?: string; count: number };
  'cache:clear': { cache: string };
  'cache:config': { cache: string; changes: CacheConfigUpdate };
  'cache:error': { cache: string; key?: CacheKey; error: unknown };
  /** One loader attempt finished (ok or not); durationMs is its wall time. */
  'cache:load': { cache: string; key: CacheKey; durationMs: number; ok: boolean };
  /**
   * A load took longer than `slowLoad` (once per load, retries included, measured with the cache's
   * clock). A batch load of getOrSetMany reports its first key as `key` and every key in `keys`.
   */
  'cache:slow': {
    cache: string;
    key: CacheKey;
    keys?: readonly CacheKey[];
    durationMs: number;
    thresholdMs: number;
  };
}

/** The async facade services call. */
export interface Cache<V = unknown> {
  readonly name: string;
  readonly enabled: boolean;
  /** The default TTL of new entries, ms (0 = no expiry). Cheap to read, unlike `stats().ttl`. */
  readonly ttl: number;
  /** Settles when `warmOnStart` has been applied (absent on caches without one). */
  readonly ready?: Promise<void>;
  /** Read-through: the cached value, or the loader's (one loader call per key at a time). */
  getOrSet<T extends V = V>(
    key: CacheKey,
    loader: Loader<T>,
    options?: GetOrSetOptions<NotInferred<T>>,
  ): Promise<T>;
  get<T extends V = V>(key: CacheKey): Promise<T | undefined>;
  /**
   * The fresh values of `keys`, in order (`undefined` where none): L1 first, then one L2 round trip for
   * the keys L1 does not hold. Counts a hit or miss per key, like {@link Cache.get}.
   */
  getMany<T extends V = V>(keys: readonly CacheKey[]): Promise<Array<T | undefined>>;
  /**
   * Read-through for many keys (the DataLoader pattern): answers in key order; fresh keys come from the
   * cache, keys whose load is in flight join it, and the rest go to ONE call of `loadMany` with only
   * those keys. Each result is stored (unless a write reached its key meanwhile) and answers the key's
   * waiters; a failed batch fails every key it covered, except those with a value in grace (fail-safe).
   */
  getOrSetMany<T extends V = V>(
    keys: readonly CacheKey[],
    loadMany: BatchLoader<T>,
    options?: GetOrSetOptions<T>,
  ): Promise<Array<T | undefined>>;
  /**
   * Writes a value. Like every write below, once it resolves no get/getOrSet started afterwards answers
   * what it replaced: loads in flight that it reaches are detached (their waiting callers still get
   * them, later callers load afresh, and their results are never stored). While the cache is disabled
   * nothing is stored, but the value the key held is removed from every tier all the same.
   */
  set(key: CacheKey, value: V, options?: CacheSetOptions): Promise<void>;
  /**
   * Writes several values, each to every tier, as {@link Cache.set} does (`options` applies to every
   * entry, and an entry's own options override it field by field: `[key, value, { ttl }]` keeps the
   * call's tags; a key given twice keeps its last value). With a shared tier the
   * writes go out together and other instances hear of them in one bus message (per 500 keys).
   */
  setMany(entries: Iterable<SetManyEntry<V>>, options?: CacheSetOptions): Promise<void>;
  has(key: CacheKey): Promise<boolean>;
  /** Removes a key; read-your-writes as for {@link Cache.set}. */
  delete(key: CacheKey): Promise<boolean>;
  /**
   * Removes several keys from every tier (their L2 deletes sent together, pipelined on Redis) with one
   * bus message; read-your-writes as for {@link Cache.set}. Resolves how many entries were removed (with L2, the larger of L1's and L2's counts).
   */
  deleteMany(keys: readonly CacheKey[]): Promise<number>;
  /** Removes every entry (of this namespace, on a namespace); read-your-writes as for {@link Cache.set}. */
  clear(): Promise<void>;
  /**
   * Removes entries carrying any of the tags; read-your-writes as for {@link Cache.set}. A load's tags
   * are known only when it returns (ctx.setTags), so every load in flight in this view is detached.
   */
  invalidateTags(tags: readonly string[]): Promise<number>;
  /** Removes keys matching a glob; read-your-writes as for {@link Cache.set}. */
  invalidatePattern(pattern: string): Promise<number>;
  /** Ms until `key` goes stale; Infinity if never; undefined if absent, stale or failing `validate`. */
  ttlRemaining(key: CacheKey): Promise<number | undefined>;
  /**
   * Removes the entries of this cache (of this namespace, on a namespace) whose time in L1 has ended
   * (TTL plus grace) now instead of at the next sweep or read; returns how many.
   */
  prune(): number;
  /**
   * Changes this cache's (or namespace's) settings at run time: `ttl` (with `applyToExisting` to re-time
   * the entries held), `enabled`, `grace`, `jitter`, `refreshAhead`, the bounds (root only), `logger`.
   */
  configure(update: CacheConfigUpdate): void;
  /**
   * The child cache `name`: its keys are stored as `<name>:<key>` under this cache's, with settings
   * copied from this one. `name` may not hold `:` (nest with `.namespace(a).namespace(b)`) or glob
   * characters (a `TypeError`). The same object while it is held, or once it was configured or memoized
   * into; otherwise it may be collected, and a later call makes a new one from the current settings.
   */
  namespace(name: string): Cache<V>;
  warm(source: WarmSource<V>): Promise<number>;
  stats(): CacheStats;
  resetStats(): void;
  entries(): CacheEntrySummary[];
  /**
   * The entries {@link entries} lists, each summarised only when the iteration reaches it: a reader
   * that wants the first few stops early and pays for those. Do not write to the cache meanwhile.
   */
  eachEntry(): IterableIterator<CacheEntrySummary>;
  /** How many entries {@link entries} would list, without summarising them. */
  entryCount(): number;
  health(): CacheHealth;
  on<E extends keyof CacheEvents>(event: E, listener: (payload: CacheEvents[E]) => void): this;
  off<E extends keyof CacheEvents>(event: E, listener: (payload: CacheEvents[E]) => void): this;
  close(): Promise<void>;
  /** Live entries of this cache (or namespace), most valuable first, with absolute expiry times. */
  dump(): SnapshotEntry<V>[];
  /**
   * Loads entries into L1: expired ones dropped, TTLs kept, the most valuable first within the bounds
   * (each entry fitted at no less than this cache's sizeOf, whatever size it declares, and kept at its
   * declared size). A key whose
   * live value was written after the entry (a later `createdAt`) keeps it (counted in `dropped`); a key
   * deleted since the entry was dumped is loaded again, as deletions leave no trace to check.
   */
  load(entries: readonly SnapshotEntry<V>[]): LoadResult;
  /** The sizing advisor's curve and recommendation; undefined when the `advisor` option is off. */
  advise(): Advice | undefined;
}

/** Options of {@link createCacheManager}. */
export interface CacheManagerOptions {
  /** Options every cache starts from. */
  defaults?: CacheOptions;
  /** Named caches and their options. */
  caches?: Record<string, CacheOptions>;
  /** Shared tier for every cache. */
  l2?: L2Tier;
  logger?: Logger;
  clock?: () => number;
  /**
   * Warm restarts of every cache through one snapshot file (see {@link CacheOptions.persist}). A section
   * of the file read at start whose cache is not configured is kept: a cache of that name made later
   * with create() is restored from it, and until then every snapshot writes it again (its expired
   * entries left out), so it is dropped only once all its entries have expired.
   */
  persist?: PersistOptions;
}

/** Aggregate statistics of a manager. */
export interface ManagerStats {
  overall: Omit<CacheStats, 'name' | 'enabled' | 'ttl' | 'policy'>;
  caches: Record<string, CacheStats>;
}

/** A set of named caches (seed 004's cache types, seed 000's resource kinds). */
export interface CacheManager {
  get<V = unknown>(name: string): Cache<V>;
  has(name: string): boolean;
  names(): string[];
  /**
   * Adds a cache built from the defaults and `options`. With `persist`, its section of the snapshot
   * read at start (if any) is restored into it now, as the configured caches were at start.
   */
  create<V = unknown>(name: string, options?: CacheOptions<V>): Cache<V>;
  stats(): ManagerStats;
  health(): CacheHealth;
  clear(name?: string): Promise<void>;
  /** Removes entries carrying any of the tags from every cache; resolves with the total removed. */
  invalidateTags(tags: readonly string[]): Promise<number>;
  /** Removes `key` from every cache; resolves with how many caches held it. */
  delete(key: CacheKey): Promise<number>;
  close(): Promise<void>;
  /**
   * Writes every cache to one snapshot file (default: the `persist.path`), with the sections read at
   * start that still wait for their cache (see {@link CacheManagerOptions.persist}).
   */
  snapshot(path?: string): Promise<SnapshotWriteResult>;
  /**
   * Writes every cache to one snapshot file at `path` (atomically: a crash leaves the old file whole),
   * with the sections read at start that still wait for their cache, as snapshot() does.
   */
  backup(path: string): Promise<SnapshotWriteResult>;
  /**
   * Loads each cache's entries from a snapshot file (default: the `persist.path`), matched by name
   * (names not configured here are listed in `unknown`); a missing, foreign or damaged file rejects
   * and no cache is changed. Entries load as {@link Cache.load} loads them: a key written after the
   * file's entry for it keeps its live value.
   */
  restore(path?: string): Promise<RestoreResult>;
  /** Settles when `persist.warm` has warmed every cache (absent without it); never rejects. */
  readonly ready?: Promise<void>;
}

export type { LatencySummary } from '../observability/latency.js';
