// MemoryCache: Larder's synchronous L1 engine. A hash index from key to an integer slot (key-index.ts)
// indexes a plain array (each slot's key and value, side by side) and typed arrays (key hash, start
// time, expiry, size) by slot; an eviction policy (W-TinyLFU or LRU) orders the slots. Optional
// features (TTL, byte budget, tags) cost nothing until used. The hot path (get, set, eviction) stays
// in this class; the cold parts beside it are the tag index (tag-index.ts) and the background expiry
// sweep (sweeper.ts).
import { parseDuration } from '../util/duration.js';
import { CacheError, CacheErrorType } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { quiet } from '../observability/log-sink.js';
import type {
  CacheKey,
  EngineStats,
  EntryInfo,
  RankedEntryInfo,
  EvictionPolicy,
  EvictionReason,
  MemoryCacheBounds,
  MemoryCacheOptions,
  MemorySetOptions,
} from './types.js';
import { assertBounds, assertCost, resolveOptions } from './options.js';
import {
  assertByteCount,
  assertKey,
  assertPositiveInteger,
  assertTags,
  refuseNonFiniteKey,
} from '../util/validate.js';
import { LruPolicy, type Policy } from './policy.js';
import { FIRST_SLOT } from './links.js';
import { KeyIndex, NO_SLOT } from './key-index.js';
import { hashKey, hashString } from './hash.js';
import { TinyLfuPolicy } from './tinylfu.js';
import type { PolicyMode } from './miniature.js';
import { estimateSize, estimateTotalBytes } from './size-of.js';
import { TagIndex } from './tag-index.js';
import { Sweeper } from './sweeper.js';
import { compileGlob } from '../util/glob.js';
import {
  checkEntries,
  dumpEntries,
  remainingTtl,
  selectForLoad,
  touchesFor,
  type LoadResult,
  type SnapshotEntry,
} from './snapshot.js';

/** Test-only door to the engine's internals: `cache[engineInternals]()`. Not part of the public API. */
export const engineInternals: unique symbol = Symbol('larder.engineInternals');

/** Slots reserved at first; the arrays double from here up to the entry bound. */
const INITIAL_SLOTS = 256;

const neverStale = (): boolean => false;

/** A key/value array holding only the reserved slots' words, as every cache starts with. */
function reservedEntries(): unknown[] {
  const entries: unknown[] = [];
  for (let i = 0; i < FIRST_SLOT; i++) entries.push(undefined, undefined);
  return entries;
}

/**
 * A synchronous in-memory cache with W-TinyLFU (default) or LRU eviction, per-entry TTLs, entry and
 * byte budgets, tags, pattern invalidation and statistics.
 */
export class MemoryCache<K extends CacheKey = CacheKey, V = unknown> {
  // Not a Map: a Map's set and delete reallocate its table every few thousand evictions, which cost
  // more than the rest of a set (key-index.ts). Not a prototype-less object either: an object is fast
  // only for keys that are already internalized strings (a benchmark's pre-built keys).
  readonly #index: KeyIndex;
  /** Each slot's key hash (hash.ts), computed once when the entry is inserted. */
  #hashes: Int32Array;
  /**
   * The last key get() missed, with its hash and the index position it would take: a read-through
   * set() of that key right after the miss neither hashes nor searches it again, unless the index
   * changed in between (its version).
   */
  #missKey: unknown = undefined;
  #missHash = 0;
  #missVacancy = 0;
  #missVersion = -1;
  #count = 0;
  /**
   * Each slot's key at 2 x slot and value at 2 x slot + 1 (undefined when the slot is free): a hit
   * reads the key (to confirm the index's match) and the value from one cache line.
   */
  #entries: unknown[] = reservedEntries();
  /** When each entry was set; allocated once the cache starts stamping entries (see #timed). */
  #starts: Float64Array | null = null;
  #expires: Float64Array | null = null;
  #sizes: Float64Array | null = null;
  /** Created by the first tagged set (tag-index.ts). */
  #tags: TagIndex | null = null;
  #free: number[] = [];
  #nextSlot = FIRST_SLOT;
  #capacity: number;
  #slotLimit: number;
  readonly #policy: Policy;
  #maxEntries: number;
  #maxBytes: number;
  #bytes = 0;
  readonly #defaultTtl: number;
  readonly #jitter: number;
  readonly #cleanupInterval: number;
  /** Created when TTLs start, unless cleanupInterval is 0 (sweeper.ts). */
  #sweeper: Sweeper | undefined;
  readonly #sizeOf: (value: V, key: K) => number;
  readonly #onEvict: ((key: K, value: V, reason: EvictionReason) => void) | undefined;
  readonly #clock: () => number;
  readonly #logger: Logger | undefined;
  readonly #name: string;
  #createdAt: number;
  #isStale: (slot: number) => boolean = neverStale;
  /**
   * Whether set() reads the clock to stamp entries. Reading it costs as much as a quarter of a set, so
   * it starts once a TTL is used or entries() (which reports ages) has been called.
   */
  #timed = false;
  #hits = 0;
  #misses = 0;
  #sets = 0;
  #deletes = 0;
  #invalidations = 0;
  #evictions = 0;
  #expirations = 0;
  #rejections = 0;

  /** Creates a cache; throws a TypeError/RangeError naming any invalid option. */
  constructor(options?: MemoryCacheOptions<K, V>) {
    const o = resolveOptions(options);
    this.#maxEntries = o.maxEntries;
    this.#maxBytes = o.maxBytes;
    this.#defaultTtl = o.ttl;
    this.#jitter = o.jitter;
    this.#cleanupInterval = o.cleanupInterval;
    this.#sizeOf = o.sizeOf ?? estimateSize;
    this.#onEvict = o.onEvict;
    this.#clock = o.clock;
    this.#logger = o.logger;
    this.#name = o.name;
    // One slot more than the bound: a new entry is inserted before the policy picks what to evict.
    this.#slotLimit = FIRST_SLOT + 1 + Math.min(o.maxEntries, o.maxBytes, 2 ** 31);
    this.#capacity = Math.min(this.#slotLimit, INITIAL_SLOTS);
    this.#index = new KeyIndex(this.#capacity);
    this.#hashes = new Int32Array(this.#capacity);
    const maximum = Number.isFinite(o.maxBytes) ? o.maxBytes : o.maxEntries;
    this.#policy =
      o.policy === 'lru'
        ? new LruPolicy(this.#capacity, Math.min(o.maxEntries, o.maxBytes))
        : new TinyLfuPolicy(this.#capacity, maximum, Math.min(this.#capacity - FIRST_SLOT, o.maxEntries));
    if (o.trackBytes) {
      this.#sizes = new Float64Array(this.#capacity);
      if (Number.isFinite(o.maxBytes)) this.#policy.setWeights(this.#sizes);
    }
    this.#createdAt = this.#clock();
    if (o.ttl > 0) this.#enableTtl();
  }

  /** Number of entries held, including expired ones not yet reclaimed. */
  get size(): number {
    return this.#count;
  }

  /** The eviction policy in use. */
  get policy(): EvictionPolicy {
    return this.#policy.name;
  }

  /** The value for `key`, or `undefined`; counts a hit or a miss and refreshes the entry's rank. */
  get(key: K): V | undefined {
    let hash: number;
    if (typeof key === 'string') hash = hashString(key);
    else if (typeof key === 'number') hash = hashKey(key);
    else {
      this.#misses++;
      return undefined;
    }
    const index = this.#index;
    const slot = index.find(this.#entries, key, hash);
    if (slot === NO_SLOT) {
      // A non-finite key is never stored, so checking it on the miss path keeps hits free.
      if (typeof key === 'number' && !Number.isFinite(key)) refuseNonFiniteKey(key);
      this.#missKey = key;
      this.#missHash = hash;
      this.#missVacancy = index.vacancy;
      this.#missVersion = index.version;
      this.#misses++;
      return undefined;
    }
    if (this.#isStale(slot)) {
      this.#removeSlot(slot, 'expired');
      this.#misses++;
      return undefined;
    }
    this.#policy.read(slot);
    this.#hits++;
    return this.#entries[2 * slot + 1] as V | undefined;
  }

  /** The value for `key` without counting a request or changing its rank. */
  peek(key: K): V | undefined {
    const slot = this.#liveSlot(key);
    return slot === undefined ? undefined : (this.#entries[2 * slot + 1] as V | undefined);
  }

  /** Whether `key` has a live entry (neither counted nor ranked). */
  has(key: K): boolean {
    return this.#liveSlot(key) !== undefined;
  }

  /**
   * Stores `value` under `key`, replacing any entry (the replaced value is not reported to onEvict),
   * then evicts by policy while over a budget. A value larger than `maxBytes` is refused: nothing is
   * stored, any previous entry for the key is removed (reason 'capacity'), and a warning is logged.
   */
  set(key: K, value: V, options?: MemorySetOptions): this {
    assertKey(key);
    let ttl = this.#defaultTtl;
    let tags: readonly string[] | undefined;
    let size: number | undefined;
    let cost = 0;
    if (options !== undefined) {
      if (options.ttl !== undefined) ttl = parseDuration(options.ttl, 'ttl');
      if (options.tags !== undefined) tags = assertTags(options.tags);
      if (options.size !== undefined) size = assertByteCount(options.size, 'size');
      if (options.cost !== undefined) cost = assertCost(options.cost);
    }
    let weight = 1;
    if (this.#sizes !== null) {
      // Every entry counts at least one byte, so a byte budget also bounds the number of entries.
      weight = Math.max(1, Math.ceil(size ?? assertByteCount(this.#sizeOf(value, key), 'sizeOf result')));
      if (weight > this.#maxBytes) {
        this.#refuse(key, weight);
        return this;
      }
    }
    // -0 and 0 are one key (SameValueZero, as in a Map), stored as 0.
    if (key === 0) key = 0 as K;
    const index = this.#index;
    let hash: number;
    let slot: number;
    let vacancy: number;
    let version: number;
    if (key === this.#missKey && this.#missVersion === index.version) {
      hash = this.#missHash;
      slot = NO_SLOT;
      vacancy = this.#missVacancy;
      version = this.#missVersion;
    } else {
      hash = hashKey(key);
      slot = index.find(this.#entries, key, hash);
      vacancy = index.vacancy;
      version = index.version;
    }
    if (slot !== NO_SLOT) {
      this.#entries[2 * slot + 1] = value;
      const tagIndex = this.#tags;
      if (tagIndex !== null && tagIndex.bySlot[slot] !== undefined) tagIndex.untag(slot);
      if (this.#sizes !== null) {
        const old = this.#sizes[slot]!;
        this.#sizes[slot] = weight;
        this.#bytes += weight - old;
        this.#policy.update(slot, old, weight, cost);
      } else {
        this.#policy.update(slot, 1, 1, cost);
      }
    } else {
      slot = this.#allocSlot();
      this.#entries[2 * slot] = key;
      this.#entries[2 * slot + 1] = value;
      this.#hashes[slot] = hash;
      // Growing the slot arrays (#allocSlot) rebuilds the index, which moves every position.
      if (index.version === version) index.insertAt(vacancy, hash, slot);
      else index.insert(hash, slot);
      this.#count++;
      if (this.#sizes !== null) {
        this.#sizes[slot] = weight;
        this.#bytes += weight;
      }
      this.#policy.add(slot, hash, weight, cost);
    }
    if (this.#timed || ttl > 0) this.#stamp(slot, ttl);
    if (tags !== undefined && tags.length > 0) (this.#tags ??= new TagIndex()).tag(slot, tags);
    this.#sets++;
    while (this.#count > this.#maxEntries || this.#bytes > this.#maxBytes) {
      this.#removeSlot(this.#policy.victim(), 'capacity');
    }
    return this;
  }

  /**
   * Changes the entry and/or byte bound at run time, without a rebuild. Growing takes effect at once
   * (storage grows as entries arrive); shrinking removes expired entries first (reason 'expired'),
   * then evicts in the policy's order until the cache fits, each eviction reported to onEvict with
   * reason 'capacity' and counted in `evictions`. A bound that is not given is kept; bounds equal to
   * those in force change nothing. `maxBytes` can be changed only on a cache created with `maxBytes`.
   * Throws a TypeError/RangeError naming an invalid bound before anything changes.
   */
  resize(bounds: MemoryCacheBounds): void {
    assertBounds(bounds);
    const maxEntries =
      bounds.maxEntries === undefined
        ? this.#maxEntries
        : assertPositiveInteger(bounds.maxEntries, 'maxEntries');
    let maxBytes = this.#maxBytes;
    if (bounds.maxBytes !== undefined) {
      maxBytes = assertPositiveInteger(bounds.maxBytes, 'maxBytes');
      if (!Number.isFinite(this.#maxBytes))
        throw new RangeError('maxBytes can only be resized on a cache created with maxBytes');
    }
    // The bounds in force (a configure() that restates them): the policy keeps what it has learnt,
    // its window share, its mode and its ghosts, which a resize starts over.
    if (maxEntries === this.#maxEntries && maxBytes === this.#maxBytes) return;
    this.#maxEntries = maxEntries;
    this.#maxBytes = maxBytes;
    this.#slotLimit = Math.max(this.#capacity, FIRST_SLOT + 1 + Math.min(maxEntries, maxBytes, 2 ** 31));
    const byBytes = Number.isFinite(maxBytes);
    this.#policy.resize(byBytes ? maxBytes : maxEntries, Math.min(this.#capacity - FIRST_SLOT, maxEntries));
    // A shrink takes what has expired first (as expired): live entries must not make way for dead ones.
    if (this.#count > this.#maxEntries || this.#bytes > this.#maxBytes) this.prune();
    while (this.#count > this.#maxEntries || this.#bytes > this.#maxBytes) {
      this.#removeSlot(this.#policy.victim(), 'capacity');
    }
  }

  /** Removes the entry for `key`; true if a live entry was removed (reason 'deleted'). */
  delete(key: K): boolean {
    const slot = this.#liveSlot(key);
    if (slot === undefined) return false;
    this.#removeSlot(slot, 'deleted');
    return true;
  }

  /** Removes every entry (reason 'cleared'); counters are kept (see resetStats). */
  clear(): void {
    const onEvict = this.#onEvict;
    const removed: [K, V][] = [];
    if (onEvict !== undefined) {
      for (const slot of this.#slots())
        removed.push([this.#entries[2 * slot] as K, this.#entries[2 * slot + 1] as V]);
    }
    this.#index.clear();
    this.#hashes.fill(0);
    this.#count = 0;
    // A new array, as a new cache starts with: #allocSlot appends two words per new slot, so words
    // left beyond the reserved slots would be appended after, and every clear() and refill would
    // lengthen the array; cut back in place, it regrew with other spare capacity than a new cache's.
    this.#entries = reservedEntries();
    this.#free = [];
    this.#nextSlot = FIRST_SLOT;
    this.#bytes = 0;
    this.#sizes?.fill(0);
    this.#tags = null;
    this.#policy.clear();
    for (const [key, value] of removed) this.#notify(key, value, 'cleared');
  }

  /** Milliseconds until `key` expires; `Infinity` if it never does, `undefined` if it is absent. */
  ttlRemaining(key: K): number | undefined {
    const slot = this.#liveSlot(key);
    if (slot === undefined) return undefined;
    const expiry = this.#expires === null ? 0 : this.#expires[slot]!;
    return expiry === 0 ? Infinity : Math.max(0, expiry - this.#clock());
  }

  /** Live keys, in no particular order, without copying (expired entries are skipped, not removed). */
  *keys(): IterableIterator<K> {
    for (let slot = FIRST_SLOT; slot < this.#nextSlot; slot++) {
      const key = this.#entries[2 * slot] as K | undefined;
      if (key !== undefined && !this.#isStale(slot)) yield key;
    }
  }

  /** Live `[key, value]` pairs, in no particular order. */
  *[Symbol.iterator](): IterableIterator<[K, V]> {
    for (let slot = FIRST_SLOT; slot < this.#nextSlot; slot++) {
      const key = this.#entries[2 * slot] as K | undefined;
      if (key !== undefined && !this.#isStale(slot)) yield [key, this.#entries[2 * slot + 1] as V];
    }
  }

  /** A snapshot of every live entry with its age, remaining TTL, size and tags. */
  entries(): EntryInfo<K, V>[] {
    return [...this.eachEntry()];
  }

  /**
   * Live entries as {@link entries} describes them, each built only when the iteration reaches it, so
   * a reader that stops early pays for what it read (ages are as of the call).
   */
  *eachEntry(): IterableIterator<EntryInfo<K, V>> {
    this.#timed = true;
    const now = this.#clock();
    for (let slot = FIRST_SLOT; slot < this.#nextSlot; slot++) {
      if (this.#entries[2 * slot] !== undefined && !this.#isStale(slot)) yield this.#info(slot, now);
    }
  }

  /**
   * Live entries, most valuable first: the reverse of the order the policy would evict them in, each
   * with the policy's frequency estimate (0..15; always 0 under LRU). Snapshots use it to keep the
   * right entries when a restore does not fit, and to carry frequency across a restart.
   */
  hottest(limit = Infinity): RankedEntryInfo<K, V>[] {
    this.#timed = true;
    const now = this.#clock();
    const policy = this.#policy;
    const out: RankedEntryInfo<K, V>[] = [];
    for (const slot of policy.retentionOrder()) {
      if (out.length >= limit) break;
      if (this.#entries[2 * slot] === undefined || this.#isStale(slot)) continue;
      const info = this.#info(slot, now) as RankedEntryInfo<K, V>;
      info.frequency = policy.frequencyOf(slot);
      out.push(info);
    }
    return out;
  }

  /** Removes every entry carrying any of `tags` (reason 'invalidated'); returns how many. */
  invalidateTags(tags: readonly string[]): number {
    assertTags(tags);
    const index = this.#tags;
    return index === null ? 0 : this.#removeAll(index.slotsWithAny(tags), 'invalidated');
  }

  /** Removes every entry whose key (as a string) starts with `prefix`; returns how many. */
  invalidatePrefix(prefix: string): number {
    if (typeof prefix !== 'string') throw new TypeError(`prefix must be a string, got ${typeof prefix}`);
    return this.#invalidateWhere((key) => key.startsWith(prefix));
  }

  /** Removes every entry whose key (as a string) matches the glob (`*` any run, `?` one char). */
  invalidatePattern(pattern: string): number {
    const glob = compileGlob(pattern);
    return this.#invalidateWhere((key) => glob.test(key));
  }

  /**
   * Removes every expired entry now (reason 'expired'), or only those whose key `matches` selects (a
   * namespace's); returns how many.
   */
  prune(matches?: (key: K) => boolean): number {
    if (this.#expires === null) return 0;
    const stale: number[] = [];
    for (const slot of this.#slots()) {
      if (this.#isStale(slot) && (matches === undefined || matches(this.#entries[2 * slot] as K)))
        stale.push(slot);
    }
    return this.#removeAll(stale, 'expired');
  }

  /** Counters since creation or the last resetStats, and gauges of the current contents. */
  stats(): EngineStats {
    let expired = 0;
    const expires = this.#expires;
    if (expires !== null) {
      // One clock read and no slot list: stats() is polled (the dashboard, metrics scrapes).
      const now = this.#clock();
      for (let slot = FIRST_SLOT; slot < this.#nextSlot; slot++) {
        const expiry = expires[slot]!;
        if (expiry !== 0 && expiry <= now && this.#entries[2 * slot] !== undefined) expired++;
      }
    }
    const totalRequests = this.#hits + this.#misses;
    return {
      hits: this.#hits,
      misses: this.#misses,
      sets: this.#sets,
      deletes: this.#deletes,
      invalidations: this.#invalidations,
      evictions: this.#evictions,
      expirations: this.#expirations,
      rejections: this.#rejections,
      totalRequests,
      hitRate: totalRequests === 0 ? 0 : Math.round((this.#hits / totalRequests) * 10_000) / 100,
      size: this.#count,
      // Without a byte budget or sizeOf, entries are not measured: estimated from a sample instead.
      bytes:
        this.#sizes !== null
          ? this.#bytes
          : estimateTotalBytes(this.#count, FIRST_SLOT, this.#nextSlot, (slot) => {
              const key = this.#entries[2 * slot] as K | undefined;
              return key === undefined ? undefined : [key, this.#entries[2 * slot + 1] as V | undefined];
            }),
      maxEntries: Number.isFinite(this.#maxEntries) ? this.#maxEntries : undefined,
      maxBytes: Number.isFinite(this.#maxBytes) ? this.#maxBytes : undefined,
      active: this.#count - expired,
      expired,
      uptimeMs: Math.max(0, this.#clock() - this.#createdAt),
      policy: this.#policy.name,
    };
  }

  /** Zeroes the counters (hits, misses, sets, …) and restarts `uptimeMs`. */
  resetStats(): void {
    this.#hits = this.#misses = this.#sets = this.#deletes = 0;
    this.#invalidations = this.#evictions = this.#expirations = this.#rejections = 0;
    this.#createdAt = this.#clock();
  }

  /** Stops the background sweep and removes every entry (reason 'cleared'). The cache stays usable. */
  close(): void {
    this.#sweeper?.stop();
    this.#sweeper = undefined;
    this.clear();
  }

  /**
   * Live entries, most valuable first (see {@link MemoryCache.hottest}), with absolute expiry times
   * per the cache's clock: what {@link MemoryCache.load} takes back, in this process or another.
   */
  dump(): SnapshotEntry<V>[] {
    return dumpEntries(this.hottest(), this.#clock());
  }

  /**
   * Loads snapshot entries (from {@link MemoryCache.dump}, here or in another process): expired ones
   * are dropped, remaining TTLs are kept (never extended), and when they do not all fit, the most
   * valuable are kept. Each entry's frequency is replayed into the policy without counting hits, so
   * hot entries stay protected. A non-array throws a TypeError before anything changes; an invalid
   * entry is left out and counted in `invalid`.
   */
  load(entries: readonly SnapshotEntry<V>[]): LoadResult {
    const now = this.#clock();
    const bounds = { maxEntries: this.#maxEntries, maxBytes: this.#maxBytes };
    const measure =
      this.#sizes === null ? undefined : (e: SnapshotEntry): number => this.measure(e.key as K, e.value as V);
    const { insert, result } = selectForLoad(checkEntries(entries), now, bounds, measure);
    for (const e of insert) {
      const ttl = remainingTtl(e, now);
      this.set(e.key as K, e.value as V, { ttl, tags: e.tags, ...(e.size > 0 ? { size: e.size } : {}) });
    }
    for (const e of insert) {
      const slot = this.#find(e.key as K);
      if (slot === NO_SLOT) continue;
      // set() spread the TTL by the cache's jitter, which would extend a remaining TTL by up to that
      // share: the entry (unless a callback replaced it since) expires when the snapshot said.
      const ttl = remainingTtl(e, now);
      if (ttl > 0 && this.#jitter !== 0 && this.#entries[2 * slot + 1] === e.value)
        this.#expires![slot] = now + ttl;
      for (let i = touchesFor(e); i > 0; i--) this.#policy.touch(slot);
    }
    return result;
  }

  /**
   * The size in bytes this cache would account `value` under `key` at (its `sizeOf`, at least 1), or 0
   * when it does not measure sizes (neither `maxBytes` nor `sizeOf` was given). Nothing is stored.
   */
  measure(key: K, value: V): number {
    if (this.#sizes === null) return 0;
    return Math.max(1, Math.ceil(assertByteCount(this.#sizeOf(value, key), 'sizeOf result')));
  }

  /** Test-only view of internal state, and a control to pin the policy's mode. */
  [engineInternals](): {
    policy: Record<string, number>;
    timer: ReturnType<typeof setInterval> | undefined;
    capacity: number;
    /** Slots the key/value array holds words for (the reserved ones included). */
    entrySlots: number;
    frequency: (key: K) => number | undefined;
    pinMode: (mode: PolicyMode | null) => void;
  } {
    const policy = this.#policy;
    return {
      policy: policy.snapshot(),
      pinMode: (mode) => {
        if (!(policy instanceof TinyLfuPolicy))
          throw new TypeError('pinMode: only the tinylfu policy has modes');
        policy.pinMode(mode);
      },
      timer: this.#sweeper?.timer,
      capacity: this.#capacity,
      entrySlots: this.#entries.length / 2,
      frequency: (key) => {
        const slot = this.#find(key);
        return slot === NO_SLOT || !(policy instanceof TinyLfuPolicy) ? undefined : policy.frequencyOf(slot);
      },
    };
  }

  #info(slot: number, now: number): EntryInfo<K, V> {
    const expiry = this.#expires === null ? 0 : this.#expires[slot]!;
    return {
      key: this.#entries[2 * slot] as K,
      value: this.#entries[2 * slot + 1] as V,
      ageMs: Math.max(0, now - (this.#starts?.[slot] || this.#createdAt)),
      ttlRemainingMs: expiry === 0 ? undefined : Math.max(0, expiry - now),
      size: this.#sizes === null ? 0 : this.#sizes[slot]!,
      tags: this.#tags?.bySlot[slot] ?? [],
    };
  }

  // The slot of the entry for `key`, live or not, or NO_SLOT. Any value may be asked for: a value that
  // is not a key (an object, say) finds nothing.
  #find(key: K): number {
    if (typeof key === 'string') return this.#index.find(this.#entries, key, hashString(key));
    if (typeof key !== 'number') return NO_SLOT;
    return this.#index.find(this.#entries, key, hashKey(key));
  }

  // The slot of a live entry for `key`; an expired entry met here is removed at once.
  #liveSlot(key: K): number | undefined {
    const slot = this.#find(key);
    if (slot === NO_SLOT) {
      if (typeof key === 'number' && !Number.isFinite(key)) refuseNonFiniteKey(key);
      return undefined;
    }
    if (!this.#isStale(slot)) return slot;
    this.#removeSlot(slot, 'expired');
    return undefined;
  }

  // Occupied slots, in slot order; a snapshot, so callers may remove entries while iterating.
  #slots(): number[] {
    const out: number[] = [];
    for (let slot = FIRST_SLOT; slot < this.#nextSlot; slot++)
      if (this.#entries[2 * slot] !== undefined) out.push(slot);
    return out;
  }

  #allocSlot(): number {
    if (this.#free.length > 0) return this.#free.pop()!;
    if (this.#nextSlot === this.#capacity) this.#grow();
    const slot = this.#nextSlot++;
    // Appending keeps the plain arrays packed.
    this.#entries.push(undefined, undefined);
    return slot;
  }

  #grow(): void {
    const capacity = Math.min(this.#slotLimit, this.#capacity * 2);
    this.#hashes = grown(this.#hashes, capacity);
    this.#index.grow(capacity, this.#nextSlot, this.#entries, this.#hashes);
    if (this.#starts !== null) this.#starts = grown(this.#starts, capacity);
    if (this.#expires !== null) this.#expires = grown(this.#expires, capacity);
    if (this.#sizes !== null) {
      this.#sizes = grown(this.#sizes, capacity);
      if (Number.isFinite(this.#maxBytes)) this.#policy.setWeights(this.#sizes);
    }
    this.#policy.grow(capacity);
    if (this.#policy instanceof TinyLfuPolicy) {
      this.#policy.ensureSketchCapacity(Math.min(capacity - FIRST_SLOT, this.#maxEntries));
    }
    this.#capacity = capacity;
  }

  #removeSlot(slot: number, reason: EvictionReason): void {
    const key = this.#entries[2 * slot] as K;
    const value = this.#entries[2 * slot + 1] as V;
    this.#index.erase(slot, this.#hashes);
    this.#count--;
    this.#policy.remove(slot);
    if (this.#sizes !== null) {
      this.#bytes -= this.#sizes[slot]!;
      this.#sizes[slot] = 0;
    }
    const index = this.#tags;
    if (index !== null && index.bySlot[slot] !== undefined) index.untag(slot);
    this.#entries[2 * slot] = undefined;
    this.#entries[2 * slot + 1] = undefined;
    this.#free.push(slot);
    switch (reason) {
      case 'capacity':
        this.#evictions++;
        break;
      case 'expired':
        this.#expirations++;
        break;
      case 'deleted':
        this.#deletes++;
        break;
      case 'invalidated':
        this.#invalidations++;
        break;
    }
    if (this.#onEvict !== undefined) this.#notify(key, value, reason);
  }

  // Removes the given slots, skipping any that an onEvict callback already freed.
  #removeAll(slots: Iterable<number>, reason: EvictionReason): number {
    const targets: [number, K][] = [];
    for (const slot of slots) targets.push([slot, this.#entries[2 * slot] as K]);
    let count = 0;
    for (const [slot, key] of targets) {
      if (this.#entries[2 * slot] !== key) continue;
      this.#removeSlot(slot, reason);
      count++;
    }
    return count;
  }

  #invalidateWhere(matches: (key: string) => boolean): number {
    const slots: number[] = [];
    for (const slot of this.#slots()) if (matches(String(this.#entries[2 * slot]))) slots.push(slot);
    return this.#removeAll(slots, 'invalidated');
  }

  #refuse(key: K, size: number): void {
    this.#rejections++;
    this.#log(
      'warn',
      { cache: this.#name, key, size, maxBytes: this.#maxBytes },
      `Cache SET refused: entry of ${size} bytes exceeds maxBytes ${this.#maxBytes}`,
    );
    // A stale value must not be served in place of the refused one.
    const slot = this.#find(key);
    if (slot !== NO_SLOT) this.#removeSlot(slot, 'capacity');
  }

  #notify(key: K, value: V, reason: EvictionReason): void {
    try {
      this.#onEvict!(key, value, reason);
    } catch (err) {
      // A failing callback must not leave the cache half-updated; the removal already happened.
      this.#log('error', { cache: this.#name, key, reason, err }, 'Cache onEvict callback failed');
    }
  }

  // Writes a line (pino-style) to the logger. A logger that throws or rejects loses the line, never
  // the operation under way: it threw out of an eviction loop (a shrink stopped over its new bound)
  // and out of a refused set before the stale value was removed.
  #log(level: 'warn' | 'error', fields: Record<string, unknown>, message: string): void {
    const logger = this.#logger;
    if (logger === undefined) return;
    try {
      quiet(logger[level]?.(fields, message));
    } catch {
      // A broken logger must never be the reason a cache call fails.
    }
  }

  // Records when the entry in `slot` was set and, with a ttl, when it expires.
  #stamp(slot: number, ttl: number): void {
    const now = this.#clock();
    this.#starts ??= new Float64Array(this.#capacity);
    this.#starts[slot] = now;
    if (ttl > 0) {
      if (this.#expires === null) this.#enableTtl();
      this.#expires![slot] =
        now + (this.#jitter === 0 ? ttl : ttl * (1 + this.#jitter * (2 * Math.random() - 1)));
    } else if (this.#expires !== null) {
      this.#expires[slot] = 0;
    }
  }

  // Swaps in the TTL hooks: before any TTL is used, the stale check is a constant `false`.
  #enableTtl(): void {
    this.#timed = true;
    this.#expires = new Float64Array(this.#capacity);
    const clock = this.#clock;
    this.#isStale = (slot: number): boolean => {
      const expiry = this.#expires![slot]!;
      return expiry !== 0 && expiry <= clock();
    };
    if (this.#cleanupInterval > 0) this.#startSweep();
  }

  // The sweeper reaches the cache through this small view: the slot range, and removal of one slot
  // if its entry has expired.
  #startSweep(): void {
    this.#sweeper = new Sweeper(
      {
        end: () => this.#nextSlot,
        expire: (slot) => {
          if (this.#entries[2 * slot] !== undefined && this.#isStale(slot)) this.#removeSlot(slot, 'expired');
        },
        failed: (err) => {
          this.#log(
            'error',
            {
              cache: this.#name,
              err: new CacheError(CacheErrorType.CLEANUP_FAILED, 'sweep failed', { cause: err }),
            },
            'Cache sweep failed',
          );
        },
      },
      this.#cleanupInterval,
    );
  }
}

function grown<T extends Float64Array | Int32Array>(array: T, capacity: number): T {
  const next = new (array.constructor as new (length: number) => T)(capacity);
  next.set(array);
  return next;
}
