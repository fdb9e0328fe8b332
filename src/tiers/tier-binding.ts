// One cache's handle on a shared tier, and the record the tier keeps per bound cache. The binding is
// the only object the cache layer calls; it holds its cache's record and calls the tier's parts (the
// reader, the invalidator, the backlog, the lock) directly. None of its methods throws because L2 or
// the bus is down; a key, tag or pattern the store could never take is refused up front (a RangeError),
// so a bad argument never counts as an outage nor waits in the replay backlog.
import type { CacheError } from '../errors.js';
import type { LogSink } from '../observability/log-sink.js';
import type { SnapshotFs } from '../util/atomic-write.js';
import type { BusHealth } from './bus.js';
import type { EntryReader, RestoredStamp } from './entry-reader.js';
import type { Invalidator } from './invalidations.js';
import { cachePrefix, entryKey, lockKey, tagKey } from './keys.js';
import type { DistributedLock } from './lock.js';
import type { Backlog } from './pending.js';
import type { SharedTier } from './shared-tier.js';
import type { StampClock } from './stamp.js';
import type { TagClock } from './tag-clock.js';
import type { TierLog } from './tier-log.js';
import type { RemoteInvalidation, TierEntry, TierHealth } from './types.js';
import { entryTags } from './tier-entry.js';
import { isWellFormed } from '../util/validate.js';

/** One binding's listeners, as its cache's record holds them. */
export interface BindingListeners {
  readonly remote: Set<(event: RemoteInvalidation) => void>;
  readonly errors: Set<(error: CacheError, key: string) => void>;
}

/** Most tags remembered as invalidated while reads are out (see BoundCache.tagsChanged). */
const MAX_TAGS_HEARD = 10_000;

/** Where an L2 read of one key started, for {@link BoundCache.readRaced}. */
export interface ReadStart {
  readonly changes: number;
  readonly tagMessages: number;
}

/** What a tier keeps per bound cache name: its tag clock, its bindings' listeners, its read epoch. */
export class BoundCache {
  /** The cache name (the middle of its L2 keys, see keys.ts). */
  readonly name: string;
  /** Invalidation times of this cache's tags. */
  readonly tags: TagClock;
  /** The listeners of each open binding of this cache in this process. */
  readonly members = new Set<BindingListeners>();
  /**
   * Bumped by every remote invalidation that may concern any key (pattern, prefix, clear, resync), so
   * a read that raced one can be retried; one of named keys or tags fails only the reads out whose key
   * it names or whose entry carries one of its tags (see {@link readStart}), so writes elsewhere in the
   * cache never fail a read.
   */
  epoch = 0;
  /** Keys with L2 reads out: how many, and how many remote invalidations named the key meanwhile. */
  readonly #reading = new Map<string, { reads: number; changes: number }>();
  /** Tags heard invalidated while reads were out, each with the count of tag messages then. */
  readonly #tagsHeard = new Map<string, number>();
  #tagMessages = 0;

  constructor(name: string, tags: TagClock) {
    this.name = name;
    this.tags = tags;
  }

  /** Marks a read of `key` out; returns what {@link readRaced} compares with when it is back. */
  readStart(key: string): ReadStart {
    let slot = this.#reading.get(key);
    if (slot === undefined) this.#reading.set(key, (slot = { reads: 0, changes: 0 }));
    slot.reads++;
    return { changes: this.epoch + slot.changes, tagMessages: this.#tagMessages };
  }

  /**
   * Ends a read of `key` begun at `start` ({@link readStart}) that found an entry carrying `tags`; true
   * when a remote invalidation that may concern it landed meanwhile (its answer may be stale: read again).
   */
  readRaced(key: string, start: ReadStart, tags: readonly string[]): boolean {
    const slot = this.#reading.get(key);
    let raced = this.epoch + (slot?.changes ?? 0) !== start.changes;
    if (!raced && start.tagMessages !== this.#tagMessages) {
      for (const tag of tags) if ((this.#tagsHeard.get(tag) ?? 0) > start.tagMessages) raced = true;
    }
    if (slot !== undefined && --slot.reads === 0) {
      this.#reading.delete(key);
      if (this.#reading.size === 0) this.#tagsHeard.clear();
    }
    return raced;
  }

  /** A remote invalidation of `keys` (set, delete): the reads of those keys that are out raced it. */
  keysChanged(keys: readonly string[]): void {
    if (this.#reading.size === 0) return;
    for (const key of keys) {
      const slot = this.#reading.get(key);
      if (slot !== undefined) slot.changes++;
    }
  }

  /** A remote invalidation of `tags`: the reads out whose entry carries one of them raced it. */
  tagsChanged(tags: readonly string[]): void {
    if (this.#reading.size === 0) return;
    // Reads are out all the time on a busy instance: past a bound, every read out races instead.
    if (this.#tagsHeard.size + tags.length > MAX_TAGS_HEARD) {
      this.#tagsHeard.clear();
      this.epoch++;
      return;
    }
    const seq = ++this.#tagMessages;
    for (const tag of tags) this.#tagsHeard.set(tag, seq);
  }

  /** Tells the other bindings of this cache in this process (the bus skips our own instance). */
  tellOthers(origin: BindingListeners | undefined, event: RemoteInvalidation): void {
    if (this.members.size < 2) return;
    for (const member of this.members) if (member !== origin) notify(member.remote, event);
  }

  /** Tells every binding of this cache in this process (an invalidation heard from elsewhere). */
  tellAll(event: RemoteInvalidation): void {
    for (const member of this.members) notify(member.remote, event);
  }

  /** Reports an error worth surfacing (a serialization failure) to every binding. */
  reportError(error: CacheError, key: string): void {
    for (const member of this.members) {
      for (const listener of member.errors) {
        try {
          listener(error, key);
        } catch {
          // A listener's failure must not stop the others from hearing of the error.
        }
      }
    }
  }
}

function notify(listeners: Set<(event: RemoteInvalidation) => void>, event: RemoteInvalidation): void {
  for (const listener of listeners) {
    try {
      listener(event);
    } catch {
      // A listener's failure must not stop the others from hearing the invalidation.
    }
  }
}

/** The parts of a tier its bindings call. */
export interface TierParts {
  readonly tier: SharedTier;
  readonly stamps: StampClock;
  readonly reader: EntryReader;
  readonly invalidator: Invalidator;
  readonly backlog: Backlog;
  readonly lock: DistributedLock | undefined;
  readonly log: TierLog;
  /** The driver's own refusals (TierDriver.keyProblem), when it has any. */
  readonly keyProblem: ((key: string, pattern?: boolean) => string | undefined) | undefined;
  /** Called by a binding that closed: closes the tier once no cache is bound to it. */
  release(binding: TierBinding): Promise<void>;
}

/** One cache's handle on a {@link SharedTier}. No method throws because L2 or the bus is down. */
export class TierBinding {
  readonly #cache: BoundCache;
  readonly #parts: TierParts;
  readonly #listeners: BindingListeners = { remote: new Set(), errors: new Set() };
  #closed = false;

  /** Made by {@link SharedTier.bind}. */
  constructor(cache: BoundCache, parts: TierParts) {
    this.#cache = cache;
    this.#parts = parts;
    cache.members.add(this.#listeners);
  }

  /** The cache name this binding is for. */
  get cache(): string {
    return this.#cache.name;
  }

  /** The tier underneath. */
  get tier(): SharedTier {
    return this.#parts.tier;
  }

  /** A write stamp for now (a load takes one before its L2 read; see {@link TierEntry.version}). */
  stamp(): number {
    return this.#parts.stamps.next();
  }

  /**
   * Throws a RangeError naming `key` and the limit when the store can never take it: a string that is
   * not well-formed UTF-16 (stores encode a lone surrogate as U+FFFD, so two keys would share one
   * entry), or one the driver refuses (memcached: over 250 bytes; PostgreSQL: NUL); `tags` (a write's)
   * are checked too. Every method taking keys checks them; the cache calls this before a write reaches L1.
   */
  checkKey(key: string, tags: readonly string[] = []): void {
    const cache = this.#cache.name;
    let problem = this.#problem('key', key, entryKey(cache, key));
    for (let i = 0; problem === undefined && i < tags.length; i++)
      problem = this.#problem('tag', tags[i]!, tagKey(cache, tags[i]!));
    if (problem !== undefined) throw new RangeError(problem);
  }

  /** The entry in L2, or `undefined` (also when L2 is unreachable, or its tags were invalidated). */
  get(key: string): Promise<TierEntry | undefined> {
    const refused = this.#refuseKeys([key]);
    return refused ?? this.#parts.reader.read(this.#cache, key);
  }

  /** {@link get} for several keys in one round trip, in the order asked. */
  getMany(keys: readonly string[]): Promise<Array<TierEntry | undefined>> {
    const refused = this.#refuseKeys(keys);
    return refused ?? this.#parts.reader.readMany(this.#cache, keys);
  }

  /**
   * Writes the entry to L2 (held until its grace ends) and tells other instances to drop the key.
   * Resolves false when a newer write or invalidation than the entry's `version` is known: not stored.
   */
  set(key: string, entry: TierEntry): Promise<boolean> {
    const refused = this.#refuseKeys([key]) ?? this.#refuseTags(entryTags(entry));
    return refused ?? this.#parts.invalidator.write(this.#cache, key, entry, this.#listeners);
  }

  /** Deletes keys in L2 and on every other instance; resolves how many L2 held. */
  delete(...keys: string[]): Promise<number> {
    const refused = this.#refuseKeys(keys);
    return (
      refused ?? this.#parts.invalidator.invalidate(this.#cache, { kind: 'delete', keys }, this.#listeners)
    );
  }

  /** Invalidates tags in L2 (O(1) per tag) and on every other instance. */
  async invalidateTags(tags: readonly string[]): Promise<void> {
    await this.#refuseTags(tags);
    await this.#parts.invalidator.invalidate(this.#cache, { kind: 'tags', tags }, this.#listeners);
  }

  /** Deletes the keys matching a glob (`*`, `?`) in L2 (by SCAN) and on every other instance; resolves L2's count. */
  invalidatePattern(pattern: string): Promise<number> {
    const refused = this.#refusePattern('pattern', pattern);
    return (
      refused ??
      this.#parts.invalidator.invalidate(this.#cache, { kind: 'pattern', pattern }, this.#listeners)
    );
  }

  /** Deletes the keys starting with `prefix` (a namespace) in L2 and on every other instance; resolves L2's count. */
  invalidatePrefix(prefix: string): Promise<number> {
    const refused = this.#refusePattern('prefix', prefix);
    return (
      refused ?? this.#parts.invalidator.invalidate(this.#cache, { kind: 'prefix', prefix }, this.#listeners)
    );
  }

  /** Deletes every key of this cache in L2 and on every other instance. */
  async clear(): Promise<void> {
    await this.#parts.invalidator.invalidate(this.#cache, { kind: 'clear' }, this.#listeners);
  }

  /**
   * Keeps this cache's undelivered invalidations in the file `path` across restarts, and replays what
   * an earlier process left there before the next read is answered.
   */
  keepOutbox(path: string, fs?: SnapshotFs): void {
    this.#parts.backlog.attachOutbox(this.#cache.name, path, fs);
  }

  /**
   * Which of `items` (restored from a local snapshot) L2 still holds unchanged and uninvalidated
   * (false where L2 could not be asked).
   */
  verifyRestored(items: readonly RestoredStamp[]): Promise<boolean[]> {
    return this.#parts.reader.verifyRestored(this.#cache, items);
  }

  /** Whether {@link lockedLoad} coordinates across instances (`lock: true`). */
  get lockEnabled(): boolean {
    return this.#parts.lock !== undefined;
  }

  /**
   * Loads under the distributed lock: one instance runs `load` (its result is written to L2 before
   * the lock is released); the others get that entry from L2 (`loaded: false`). `accept` tells the
   * holder's entry from what L2 held before (a waiter's first polls still find that): an entry it
   * refuses is waited past, as if L2 held none. `signal` gives up a wait for another instance's lock.
   */
  async lockedLoad(
    key: string,
    load: () => Promise<TierEntry | undefined>,
    accept?: (entry: TierEntry) => boolean,
    signal?: AbortSignal,
  ): Promise<{ entry: TierEntry | undefined; loaded: boolean }> {
    const { lock, reader, invalidator } = this.#parts;
    this.checkKey(key);
    if (lock === undefined) return { entry: await load(), loaded: true };
    let loaded = false;
    const entry = await lock.run(
      lockKey(this.#cache.name, key),
      async () => {
        const found = await reader.readNow(this.#cache, key);
        return found === undefined || accept === undefined || accept(found) ? found : undefined;
      },
      async () => {
        loaded = true;
        const fresh = await load();
        // Waiters poll L2, so the value must be there before the lock is released.
        if (fresh !== undefined) await invalidator.write(this.#cache, key, fresh, this.#listeners);
        return fresh as TierEntry;
      },
      signal,
    );
    return { entry, loaded };
  }

  /** Listens for invalidations from other instances; returns the unsubscribe function. */
  onRemote(listener: (event: RemoteInvalidation) => void): () => void {
    this.#listeners.remote.add(listener);
    return () => this.#listeners.remote.delete(listener);
  }

  /**
   * Offers the cache's log sink, read at each line: the tier logs outages there when it has no logger
   * of its own (the first bound cache whose sink has the line's level on gets it, once).
   */
  offerLog(sink: () => LogSink): void {
    if (!this.#closed) this.#parts.log.offer(this, sink);
  }

  /** Listens for errors worth surfacing (serialization failures); returns the unsubscribe function. */
  onError(listener: (error: CacheError, key: string) => void): () => void {
    this.#listeners.errors.add(listener);
    return () => this.#listeners.errors.delete(listener);
  }

  /** Health of L2 and the bus. */
  health(): { l2: TierHealth; bus?: BusHealth } {
    return this.#parts.tier.health();
  }

  /** A rejection for the first of `keys` the store could never take, or undefined. */
  #refuseKeys(keys: readonly string[]): Promise<never> | undefined {
    const cache = this.#cache.name;
    for (const key of keys) {
      const problem = this.#problem('key', key, entryKey(cache, key));
      if (problem !== undefined) return Promise.reject(new RangeError(problem));
    }
    return undefined;
  }

  /** A rejection for the first of `tags` the store could never take (as its tag key), or undefined. */
  #refuseTags(tags: readonly string[]): Promise<never> | undefined {
    const cache = this.#cache.name;
    for (const tag of tags) {
      const problem = this.#problem('tag', tag, tagKey(cache, tag));
      if (problem !== undefined) return Promise.reject(new RangeError(problem));
    }
    return undefined;
  }

  #refusePattern(what: 'pattern' | 'prefix', text: string): Promise<never> | undefined {
    const problem = this.#problem(what, text, cachePrefix(this.#cache.name) + text, true);
    return problem === undefined ? undefined : Promise.reject(new RangeError(problem));
  }

  /** Why the store could never take `text` (stored as `storeKey`), naming it, or undefined. */
  #problem(what: string, text: string, storeKey: string, pattern = false): string | undefined {
    if (!isWellFormed(text)) {
      return `${what} ${shown(text)} is not well-formed UTF-16 (a lone surrogate); stores encode it as U+FFFD, so two ${what}s could share one entry`;
    }
    const driver = this.#parts.keyProblem;
    const problem = driver === undefined ? undefined : driver(storeKey, pattern);
    return problem === undefined
      ? undefined
      : `${what} ${shown(text)} cannot be used with this shared tier: ${problem}`;
  }

  /** Unbinds; the tier closes when its last binding does. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.remote.clear();
    this.#listeners.errors.clear();
    this.#cache.members.delete(this.#listeners);
    try {
      await this.#parts.release(this);
    } finally {
      // After the tier's close: what it drops is logged to this cache's sink when it has no logger.
      this.#parts.log.revoke(this);
    }
  }
}

/** A key, tag or pattern in an error message: quoted and escaped (NUL, lone surrogates), cut at 100 characters. */
function shown(text: string): string {
  return text.length <= 100
    ? JSON.stringify(text)
    : `${JSON.stringify(text.slice(0, 100))}… (${text.length} characters)`;
}
