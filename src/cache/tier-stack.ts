// TierStack: the one place where the facade reads and writes its stores: L1 (the synchronous
// MemoryCache) and, when `l2` is given, a shared tier (src/tiers) whose bus invalidations from other
// instances are applied to L1 here. A read is two halves: getLocal (sync, the getOrSet hit path) and,
// only when L1 missed, getRemote; write(entry) builds the envelope and stores it in every tier. Every
// tier holds the same record (util/stored-entry.ts), so nothing is converted between them: an entry
// found in L2 is promoted to L1 with its remaining TTL (its absolute times travel with it). With L2,
// entries restored from a local snapshot are held aside until L2 confirms them (restoreLocal), so a
// restart never serves what another instance deleted, overwrote or tag-invalidated meanwhile.
import type {
  CacheKey,
  EngineStats,
  EntryInfo,
  MemoryCacheBounds,
  MemorySetOptions,
  RankedEntryInfo,
} from '../engine/types.js';
import type { TierBinding } from '../tiers/shared-tier.js';
import type { L2Tier, RemoteInvalidation } from '../tiers/types.js';
import type { CacheHealth } from './types.js';
import { applyLoadMeta, createEnvelope, jitterTtl, storageTtl, type Envelope } from './envelope.js';
import type { ResolvedWriteOptions } from './options.js';
import { keyInNamespace, namespacedKey, namespaceGlobs } from './namespace-keys.js';
import { checkGlob } from '../util/glob.js';
import { l2ReadChannel, l2WriteChannel, traceL2, type L2TraceContext } from '../observability/tracing.js';

/** The subset of MemoryCache the facade uses; typed structurally so a test can hand in a double. */
export interface LocalEngine {
  get(key: CacheKey): Envelope | undefined;
  peek(key: CacheKey): Envelope | undefined;
  set(key: CacheKey, value: Envelope, options?: MemorySetOptions): unknown;
  delete(key: CacheKey): boolean;
  clear(): void;
  readonly size: number;
  invalidateTags(tags: readonly string[]): number;
  invalidatePrefix(prefix: string): number;
  invalidatePattern(pattern: string): number;
  /** Removes expired entries now (those `matches` selects, when given); returns how many. */
  prune(matches?: (key: CacheKey) => boolean): number;
  entries(): Iterable<EntryInfo<CacheKey, Envelope>>;
  /** Live entries, each built when the iteration reaches it (the caller must not write meanwhile). */
  eachEntry(): Iterable<EntryInfo<CacheKey, Envelope>>;
  hottest(): Iterable<RankedEntryInfo<CacheKey, Envelope>>;
  stats(): EngineStats;
  resetStats(): void;
  close(): void;
  /** Changes L1's bounds at run time (MemoryCache.resize). */
  resize?(bounds: MemoryCacheBounds): void;
  /** The size L1 would account an envelope at; 0 when it does not measure (MemoryCache.measure). */
  measure?(key: CacheKey, value: Envelope): number;
}

/** An entry restored from a snapshot, waiting for L2 to confirm it before L1 serves it. */
interface Held {
  envelope: Envelope;
  tags: readonly string[];
  size: number | undefined;
  /** Reads to replay once it is in L1 (the snapshot's frequency). */
  touches: number;
}

/** What the stack tells its owner when another instance (or a bus resync) invalidated entries. */
export type RemoteInvalidationListener = (keys: readonly CacheKey[] | undefined) => void;

/**
 * Binds `l2` (a tier from `redisTier()`/`memoryTier()`) for the cache `name`, or returns undefined when
 * there is none. Anything else is refused with a TypeError naming the option.
 */
export function bindRemoteTier(l2: L2Tier | undefined, name: string): TierBinding | undefined {
  if (l2 === undefined || l2 === null) return undefined;
  // A structural check by brand, not instanceof: the cache layer loads no tier code (see L2Tier).
  if (typeof l2 !== 'object' || (l2 as unknown as Record<symbol, unknown>)[L2_BRAND] !== true) {
    throw new TypeError(
      'l2 is not a recognised tier object: pass redisTier() from larder-cache/redis or memoryTier() from larder-cache/tiers',
    );
  }
  return l2.bind(name);
}

/** The brand every shared tier carries (tiers/shared-tier.ts SHARED_TIER, the same registered symbol). */
const L2_BRAND = Symbol.for('larder.shared-tier');

/**
 * A key as L2 stores it. L2 keys are strings and L1 keeps numbers as numbers, so `1` and `'1'` must not
 * share one L2 entry: a number key is stored as U+E000 and its digits, and a string key that starts with
 * U+E000 with one more in front, as a namespace marks its keys (namespace-keys.ts). A namespace's full
 * key is such a string already, and any other string key is stored as it is.
 */
function remoteKey(key: CacheKey): string {
  return namespacedKey('', key);
}

/**
 * The L1 keys a key heard from L2 may stand for: the key {@link remoteKey} maps to it, and, for a plain
 * string that spells a number, that number too (a build before number keys were marked in L2 named
 * them so: dropping both costs at most a miss).
 */
function localKeys(key: string): CacheKey[] {
  const local = keyInNamespace(key, 0);
  if (typeof local === 'number' || local !== key) return [local];
  const n = Number(key);
  return key !== '' && String(n) === key ? [key, n] : [key];
}

/** The L2 globs that reach every key whose `String(key)` matches `glob` as L2 stores it ({@link remoteKey}). */
function remoteGlobs(glob: string): string[] {
  const globs = namespaceGlobs('', glob);
  for (const g of globs) checkGlob(g, 'invalidatePattern(pattern) as the shared tier stores it');
  return globs;
}

/** L1 and the optional L2 behind one set of async methods, plus the sync L1 reads the hit path needs. */
export class TierStack {
  readonly #l1: LocalEngine;
  readonly #clock: () => number;
  readonly #random: () => number;
  readonly #remote: TierBinding | undefined;
  #onRemote: RemoteInvalidationListener | undefined;
  /**
   * Bumped by every local write, when it starts and when its L2 step ends; an L2 read that raced one
   * does not promote its (maybe old) answer to L1.
   */
  #localWriteGeneration = 0;
  /** Writes whose L2 step is in progress: an L2 read answered meanwhile may predate them. */
  #pending = 0;
  /** Restored entries waiting for L2's confirmation; any write or invalidation reaching one drops it. */
  #held: Map<CacheKey, Held> | undefined;
  /** Whether `larder:l2:*` trace contexts carry keys (the cache's `traceKeys` option). */
  traceKeys = false;

  constructor(
    l1: LocalEngine,
    clock: () => number,
    remote: TierBinding | undefined,
    random: () => number = Math.random,
  ) {
    this.#l1 = l1;
    this.#clock = clock;
    this.#random = random;
    this.#remote = remote;
    remote?.onRemote((event) => this.#applyRemote(event));
  }

  /** The L1 half of a read: sync (the hit path), counts as a use for the eviction policy. */
  getLocal(key: CacheKey): Envelope | undefined {
    return this.#l1.get(key);
  }

  /** Sync L1 read that does not touch recency or counters. */
  peekLocal(key: CacheKey): Envelope | undefined {
    return this.#l1.peek(key);
  }

  /** Whether a read that missed L1 goes on to a shared tier ({@link getRemote}). */
  get hasRemote(): boolean {
    return this.#remote !== undefined;
  }

  /** Whether loads coordinate across instances (`redisTier({ lock: true })`). */
  get lockEnabled(): boolean {
    return this.#remote?.lockEnabled ?? false;
  }

  /** Called with the keys (or `undefined`: many) another instance invalidated, after L1 dropped them. */
  onRemoteInvalidation(listener: RemoteInvalidationListener): void {
    this.#onRemote = listener;
  }

  /**
   * A write stamp for now, from the shared tier's clock (undefined without one). getOrSet takes it
   * before its L2 read, so L2 refuses the load's result if a write landed after that read.
   */
  stamp(): number | undefined {
    return this.#remote?.stamp();
  }

  /**
   * The L2 half of a read, for a key L1 has just missed: L2's entry, promoted to L1 with its remaining
   * TTL and tags. Undefined without a shared tier.
   */
  async getRemote(key: CacheKey): Promise<Envelope | undefined> {
    if (this.#remote === undefined) return undefined;
    const generation = this.#localWriteGeneration;
    const remote = this.#remote;
    const entry = await (l2ReadChannel.hasSubscribers
      ? this.#traceL2(
          l2ReadChannel,
          'get',
          key,
          () => remote.get(remoteKey(key)),
          (e) => e !== undefined,
        )
      : remote.get(remoteKey(key)));
    if (entry === undefined) return undefined;
    this.#promote(key, entry, generation);
    return entry;
  }

  /**
   * {@link getRemote} for several keys L1 has just missed, in one L2 round trip (an MGET on Redis):
   * L2's entries in the order asked, each promoted to L1. All undefined without a shared tier.
   */
  async getRemoteMany(keys: readonly CacheKey[]): Promise<Array<Envelope | undefined>> {
    if (this.#remote === undefined || keys.length === 0) return keys.map(() => undefined);
    const generation = this.#localWriteGeneration;
    const remote = this.#remote;
    const entries = await (l2ReadChannel.hasSubscribers
      ? this.#traceL2(
          l2ReadChannel,
          'getMany',
          keys,
          () => remote.getMany(keys.map(remoteKey)),
          (found) => found.every((e) => e !== undefined),
        )
      : remote.getMany(keys.map(remoteKey)));
    // Checked once for the whole read: each promotion moves the generation itself.
    if (generation !== this.#localWriteGeneration || this.#pending !== 0) return entries;
    for (let i = 0; i < keys.length; i++) {
      const entry = entries[i];
      if (entry !== undefined) this.setLocal(keys[i]!, entry, entry.indexTags ?? entry.tags);
    }
    return entries;
  }

  /**
   * Stores a value in every tier as a new envelope: its TTL jittered, `tags` as the caller gave them,
   * `indexTags` as L1 indexes them (a namespace adds scoped copies). `version` is getOrSet's stamp from
   * before its L2 read, so L2 refuses the value over a newer write.
   */
  write(
    key: CacheKey,
    value: unknown,
    options: ResolvedWriteOptions,
    indexTags: readonly string[],
    version?: number,
  ): Promise<void> {
    let envelope: Envelope;
    try {
      const now = this.#clock();
      let ttl = jitterTtl(options.ttl, options.jitter, this.#random);
      const range = options.ttlRange;
      if (range !== undefined) ttl = Math.min(range[1], Math.max(range[0], ttl));
      envelope = createEnvelope(value, now, ttl, options.grace, options.tags);
      if (version !== undefined) envelope.version = version;
      if (indexTags !== envelope.tags) envelope.indexTags = indexTags;
      if (options.meta !== undefined) applyLoadMeta(envelope, options.meta);
      // A key or tag L2 could never take is refused before L1 holds a value L2 would not.
      this.#remote?.checkKey(remoteKey(key), indexTags);
    } catch (error) {
      return Promise.reject(error);
    }
    // Not async itself: the write's promise is #set's, one hop fewer on every write.
    return this.#set(key, envelope, indexTags, options.cost);
  }

  /**
   * Writes an envelope to every tier; the engine holds it until its grace ends. When L2 refuses it (a
   * newer write or invalidation than its `version` is known), L1 drops it again.
   */
  async #set(key: CacheKey, envelope: Envelope, tags: readonly string[], cost?: number): Promise<void> {
    this.setLocal(key, envelope, tags, undefined, cost);
    const remote = this.#remote;
    if (remote === undefined) return;
    // #writing, inlined: every write with L2 comes through here.
    this.#pending++;
    let stored: boolean;
    try {
      stored = await (l2WriteChannel.hasSubscribers
        ? this.#traceL2(l2WriteChannel, 'set', key, () => remote.set(remoteKey(key), envelope))
        : remote.set(remoteKey(key), envelope));
    } finally {
      this.#pending--;
      this.#localWriteGeneration++;
    }
    if (!stored && this.#l1.peek(key) === envelope) this.#l1.delete(key);
  }

  /** Sync L1 write (used by write, promotion and snapshot restores, which need no remote round trip). */
  setLocal(key: CacheKey, envelope: Envelope, tags: readonly string[], size?: number, cost?: number): void {
    const now = this.#clock();
    const ttl = storageTtl(envelope, now);
    // L1 holds an entry at least 1 ms: one that ends sooner (a sub-ms TTL, a restore or re-time close to
    // its end) is marked kept that long, never served, so the getOrSet hit path reads the clock for it.
    if (ttl === 1 && envelope.expiresAt !== 0 && (envelope.keepUntil ?? envelope.expiresAt) < now + 1)
      envelope.keepUntil = now + 1;
    const options: MemorySetOptions = { ttl, tags };
    if (size !== undefined) options.size = size;
    if (cost !== undefined) options.cost = cost;
    this.#localWriteGeneration++;
    this.#held?.delete(key);
    this.#l1.set(key, envelope, options);
  }

  /**
   * Writes an entry restored from a snapshot: straight into L1 without a shared tier; with one, it is
   * held aside until {@link confirmRestored} has L2 vouch for it (never served before).
   */
  restoreLocal(key: CacheKey, envelope: Envelope, tags: readonly string[], size?: number): void {
    if (this.#remote === undefined) return this.setLocal(key, envelope, tags, size);
    (this.#held ??= new Map()).set(key, { envelope, tags, size, touches: 0 });
  }

  /** Replays one read of a restored key (now if it is in L1, else once L2 has confirmed it). */
  touchRestored(key: CacheKey): void {
    const held = this.#held?.get(key);
    if (held !== undefined) held.touches++;
    else this.#l1.get(key);
  }

  /**
   * Checks the held restored entries against L2 in batches; those L2 still holds unchanged and
   * uninvalidated, and that no write or invalidation reached meanwhile, go into L1. The rest (all of
   * them when L2 cannot be asked) are dropped: the next read goes to L2 or the loader.
   */
  async confirmRestored(): Promise<void> {
    const held = this.#held;
    if (held === undefined || this.#remote === undefined) return;
    const batch = [...held];
    const stamps = batch.map(([key, { envelope }]) => ({
      key: remoteKey(key),
      createdAt: envelope.createdAt,
      staleAt: envelope.staleAt,
      expiresAt: envelope.expiresAt,
    }));
    const ok = await this.#remote.verifyRestored(stamps);
    for (let i = 0; i < batch.length; i++) {
      const [key, record] = batch[i]!;
      if (held.get(key) !== record) continue; // written, invalidated or restored again meanwhile
      held.delete(key);
      const { envelope } = record;
      const live = envelope.expiresAt === 0 || envelope.expiresAt > this.#clock();
      if (ok?.[i] !== true || !live || this.#l1.peek(key) !== undefined) continue;
      this.setLocal(key, envelope, record.tags, record.size);
      for (let n = record.touches; n > 0; n--) this.#l1.get(key);
    }
    if (held.size === 0 && this.#held === held) this.#held = undefined;
  }

  /** Removes a key from every tier; true if L1 or L2 held it. */
  async delete(key: CacheKey): Promise<boolean> {
    this.#localWriteGeneration++;
    this.#held?.delete(key);
    const removed = this.#l1.delete(key);
    const remote = this.#remote;
    if (remote === undefined) return removed;
    return (await this.#writing(() => remote.delete(remoteKey(key)), 'delete', key)) > 0 || removed;
  }

  /**
   * Removes several keys from every tier: their L2 deletes sent together, one bus message. Resolves how many were
   * removed: L1's count, or with L2 the larger of L1's and L2's (L2 also holds other instances' writes).
   */
  async deleteMany(keys: readonly CacheKey[]): Promise<number> {
    this.#localWriteGeneration++;
    let count = 0;
    for (const key of keys) {
      this.#held?.delete(key);
      if (this.#l1.delete(key)) count++;
    }
    const remote = this.#remote;
    if (remote === undefined || keys.length === 0) return count;
    return Math.max(
      count,
      await this.#writing(() => remote.delete(...keys.map(remoteKey)), 'deleteMany', keys),
    );
  }

  /** Removes the L1 entries whose time has ended (TTL plus grace) now, those `matches` selects; returns how many. */
  prune(matches?: (key: CacheKey) => boolean): number {
    return this.#l1.prune(matches);
  }

  /** Removes every entry carrying one of the tags; returns the count removed from L1. */
  async invalidateTags(tags: readonly string[]): Promise<number> {
    this.#localWriteGeneration++;
    this.#dropHeld((_, held) => held.tags.some((tag) => tags.includes(tag)));
    const count = this.#l1.invalidateTags(tags);
    const remote = this.#remote;
    if (remote !== undefined) await this.#writing(() => remote.invalidateTags(tags), 'invalidateTags');
    return count;
  }

  /**
   * Removes every key matching a glob pattern (`*`, `?`); returns how many entries it removed: with
   * L2, the larger of L1's and L2's counts (L2 holds what L1 holds, and what other instances wrote).
   */
  async invalidatePattern(pattern: string): Promise<number> {
    // Checked before any tier is touched: a number-like glob needs a second, marked one in L2.
    const globs = this.#remote === undefined ? [] : remoteGlobs(pattern);
    this.#localWriteGeneration++;
    this.#dropHeld(() => true); // a glob is matched by the engine; held entries are simply dropped
    const count = this.#l1.invalidatePattern(pattern);
    const remote = this.#remote;
    if (remote === undefined) return count;
    let removed = 0;
    for (const glob of globs)
      removed += await this.#writing(() => remote.invalidatePattern(glob), 'invalidatePattern');
    return Math.max(count, removed);
  }

  /** Removes every key starting with `prefix` (namespace clear); returns the count, as invalidatePattern. */
  async invalidatePrefix(prefix: string): Promise<number> {
    this.#localWriteGeneration++;
    this.#dropHeld((key) => typeof key === 'string' && key.startsWith(prefix));
    const count = this.#l1.invalidatePrefix(prefix);
    const remote = this.#remote;
    if (remote === undefined) return count;
    const stored = remoteKey(prefix);
    return Math.max(count, await this.#writing(() => remote.invalidatePrefix(stored), 'invalidatePrefix'));
  }

  /** Empties every tier. */
  async clear(): Promise<void> {
    this.#localWriteGeneration++;
    this.#dropAllHeld();
    this.#l1.clear();
    const remote = this.#remote;
    if (remote !== undefined) await this.#writing(() => remote.clear(), 'clear');
  }

  /**
   * Runs `load` (which loads and stores a key) under the tier's distributed lock when `lock: true`:
   * across instances one load runs; the others answer the envelope it left in L2, promoted to L1.
   * `accept` says whether an entry L2 holds is that load's answer (not what this load started from):
   * a waiter waits past any other. Resolves undefined when this instance loaded (or there is no lock).
   * `signal` gives up a wait for another instance's lock: it rejects with the reason, `load` not run.
   */
  async exclusive(
    key: CacheKey,
    load: () => Promise<void>,
    accept?: (entry: Envelope) => boolean,
    signal?: AbortSignal,
  ): Promise<Envelope | undefined> {
    if (this.#remote === undefined || !this.#remote.lockEnabled) {
      await load();
      return undefined;
    }
    const generation = this.#localWriteGeneration;
    const { entry, loaded } = await this.#remote.lockedLoad(
      remoteKey(key),
      async () => {
        await load();
        return undefined; // load() has written L1 and L2 through write().
      },
      accept,
      signal,
    );
    if (loaded || entry === undefined) return undefined;
    this.#promote(key, entry, generation);
    return entry;
  }

  /** Live L1 entries (the admin view). */
  entries(): Iterable<EntryInfo<CacheKey, Envelope>> {
    return this.#l1.entries();
  }

  /** Live L1 entries, each built when the iteration reaches it (a reader that stops early). */
  eachEntry(): Iterable<EntryInfo<CacheKey, Envelope>> {
    return this.#l1.eachEntry();
  }

  /** Live L1 entries, most valuable first, with frequency estimates (snapshots). */
  hottest(): Iterable<RankedEntryInfo<CacheKey, Envelope>> {
    return this.#l1.hottest();
  }

  /** The size L1 would account `envelope` under `key` at; 0 when it does not measure sizes. */
  measure(key: CacheKey, envelope: Envelope): number {
    return this.#l1.measure?.(key, envelope) ?? 0;
  }

  /** L1 engine counters. */
  stats(): EngineStats {
    return this.#l1.stats();
  }

  /** Resets L1 counters. */
  resetStats(): void {
    this.#l1.resetStats();
  }

  /** Changes L1's entry/byte bounds; shrinking evicts (reason 'capacity'). Throws if L1 cannot resize. */
  resize(bounds: MemoryCacheBounds): void {
    if (this.#l1.resize === undefined) throw new TypeError('this cache engine cannot be resized');
    this.#l1.resize(bounds);
  }

  /** Health of L2 and the bus (nothing to report without L2). */
  health(): Pick<CacheHealth, 'l2' | 'bus'> {
    return this.#remote === undefined ? {} : this.#remote.health();
  }

  /** Releases every tier and its timers (the shared tier closes with its last cache). */
  async close(): Promise<void> {
    this.#l1.close();
    await this.#remote?.close();
  }

  /**
   * Copies an envelope read from L2 into L1, unless a local write started or finished since the read
   * began (`generation`) or is still writing L2: the read may then hold what that write replaces.
   */
  #promote(key: CacheKey, entry: Envelope, generation: number): void {
    if (generation === this.#localWriteGeneration && this.#pending === 0)
      this.setLocal(key, entry, entry.indexTags ?? entry.tags);
  }

  /**
   * Runs one L2 call inside `larder:l2:read` or `larder:l2:write` (observability/tracing.ts); the caller
   * checked hasSubscribers. `key` is one key or a batch (then only its size is traced without traceKeys);
   * `hit` tells a read's outcome from its answer.
   */
  #traceL2<T>(
    channel: typeof l2ReadChannel,
    method: string,
    key: CacheKey | readonly CacheKey[] | undefined,
    run: () => Promise<T>,
    hit?: (result: T) => boolean,
  ): Promise<T> {
    const context: L2TraceContext = {
      operation: channel === l2ReadChannel ? 'l2.read' : 'l2.write',
      cache: this.#remote?.cache ?? '',
      tier: 'l2',
      method,
    };
    if (Array.isArray(key)) context.keyCount = key.length;
    else if (key !== undefined && this.traceKeys) context.key = key as CacheKey;
    const describe =
      hit === undefined
        ? undefined
        : (result: T, c: L2TraceContext) => {
            c.outcome = hit(result) ? 'hit' : 'miss';
          };
    return traceL2(channel, context, run, describe);
  }

  /** Runs a write's L2 step (`method`, traced), counted in #pending; the generation moves once it is done. */
  async #writing<T>(
    step: () => Promise<T>,
    method: string,
    key?: CacheKey | readonly CacheKey[],
  ): Promise<T> {
    this.#pending++;
    try {
      return await (l2WriteChannel.hasSubscribers
        ? this.#traceL2(l2WriteChannel, method, key, step)
        : step());
    } finally {
      this.#pending--;
      this.#localWriteGeneration++;
    }
  }

  /**
   * Drops every held restored entry. The map is emptied, not only let go: a confirmRestored() in flight
   * holds it, and checks each entry against it before serving it.
   */
  #dropAllHeld(): void {
    this.#held?.clear();
    this.#held = undefined;
  }

  /** Drops the held restored entries `reaches` selects: an invalidation got to them before L2 confirmed them. */
  #dropHeld(reaches: (key: CacheKey, held: Held) => boolean): void {
    const held = this.#held;
    if (held === undefined) return;
    for (const [key, record] of held) if (reaches(key, record)) held.delete(key);
  }

  /** Applies another instance's invalidation to L1, then tells the owner (to cancel racing loads). */
  #applyRemote(event: RemoteInvalidation): void {
    // No generation bump: the tier itself re-reads when a message races an L2 read.
    const l1 = this.#l1;
    switch (event.kind) {
      case 'set':
      case 'delete': {
        const keys = event.keys.flatMap(localKeys);
        for (const key of keys) {
          this.#held?.delete(key);
          l1.delete(key);
        }
        this.#onRemote?.(keys);
        return;
      }
      case 'tags':
        this.#dropHeld((_, held) => held.tags.some((tag) => event.tags.includes(tag)));
        l1.invalidateTags(event.tags);
        break;
      case 'pattern':
        this.#dropHeld(() => true);
        l1.invalidatePattern(event.pattern);
        break;
      case 'prefix': {
        // As L2 stores it (remoteKey): a namespace whose name starts with U+E000 has one more in front.
        const local = keyInNamespace(event.prefix, 0);
        const prefix = typeof local === 'string' ? local : event.prefix;
        this.#dropHeld((key) => typeof key === 'string' && key.startsWith(prefix));
        l1.invalidatePrefix(prefix);
        break;
      }
      case 'clear':
      case 'resync':
        this.#dropAllHeld();
        l1.clear();
        break;
    }
    this.#onRemote?.(undefined);
  }
}
