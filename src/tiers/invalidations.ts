// Every way a cache can invalidate L2, in one table. Each kind (set, delete, tags, pattern, prefix,
// clear) says once what it does in L2, what the bus carries, what the backlog keeps when L2 or the bus
// is down, and what the cache's bindings hear. The live path (Invalidator.invalidate/write), the outage
// replay (Backlog, through #replayActions) and the inbound bus handler (bus-listener.ts, through
// fromBusMessage and Invalidator.heard) all read it, so a kind cannot mean different things in each.
import type { Codec } from '../codec/codec.js';
import { serializationError } from '../codec/serializer.js';
import type { BusMessage, InvalidationBus } from './bus.js';
import type { GuardedDriver } from './guarded-driver.js';
import { cachePrefix, entryKey, fenceKey } from './keys.js';
import { Backlog } from './pending.js';
import type { PendingInvalidations, ReplayActions } from './pending.js';
import type { PublishBatcher } from './publish-batcher.js';
import { fenceStamp, frame, stampMs, unframe } from './stamp.js';
import type { StampClock } from './stamp.js';
import type { TagClock } from './tag-clock.js';
import type { BindingListeners, BoundCache } from './tier-binding.js';
import { entryTags, storedRecord } from './tier-entry.js';
import type { TierLog } from './tier-log.js';
import type { RemoteInvalidation, TierEntry } from './types.js';
import type { ValueLimit } from './value-limit.js';
import type { BulkScope, WriteFence } from './write-fence.js';

const NO_TAGS: readonly string[] = [];

/** One invalidation of a cache. `at` (ms) is when it happened: a tag's time, or a bulk fence's. */
export type Invalidation =
  | { kind: 'set'; keys: readonly string[] }
  | { kind: 'delete'; keys: readonly string[] }
  | { kind: 'tags'; tags: readonly string[]; at: number }
  | { kind: 'pattern'; pattern: string; at: number }
  | { kind: 'prefix'; prefix: string; at: number }
  | { kind: 'clear'; at: number };

/** An invalidation as a binding asks for it: the time is the invalidator's to take. */
export type InvalidationRequest =
  | { kind: 'delete'; keys: readonly string[] }
  | { kind: 'tags'; tags: readonly string[] }
  | { kind: 'pattern'; pattern: string }
  | { kind: 'prefix'; prefix: string }
  | { kind: 'clear' };

type Kind = Invalidation['kind'];
type Of<K extends Kind> = Extract<Invalidation, { kind: K }>;

/** What a kind's L2 change may use. */
interface L2Ops {
  readonly driver: GuardedDriver;
  /** Deletes entries (tombstones on a versioned store); resolves how many held a live value. */
  deleteKeys(cache: string, keys: readonly string[]): Promise<number>;
  /** The fence side of a bulk delete (see Invalidator.bulk). */
  bulk(cache: string, scope: BulkScope, at: number, deleting: Promise<number>): Promise<number>;
  /** The tag clock of a cache (bound in this process or not: a replayed outbox may name any). */
  tagsOf(cache: string): TagClock;
}

/** The meaning of one kind of invalidation. */
interface Rule<I extends Invalidation> {
  /** Where its time comes from: the clock (tags), a fresh stamp (bulk fences), or none. */
  readonly at?: 'clock' | 'stamp';
  /** Its change in L2; resolves how many entries it reached (0 where not counted). A set has none: the write is it. */
  apply?(l2: L2Ops, cache: string, inv: I): Promise<number>;
  /** What the bus carries to other instances. */
  message(cache: string, inv: I): Omit<BusMessage, 'source'>;
  /** What the backlog keeps when L2 or the bus failed (a failed set is replayed as a delete). */
  remember(pending: PendingInvalidations, cache: string, inv: I): void;
  /** What the cache's bindings hear (siblings at once, other instances through the bus). */
  event(inv: I): RemoteInvalidation;
  /** The keys a bulk invalidation reaches, for its fence. */
  scope?(inv: I): BulkScope;
}

const RULES: { readonly [K in Kind]: Rule<Of<K>> } = {
  set: {
    message: (cache, { keys }) => ({ cache, kind: 'set', keys: [...keys] }),
    remember: (pending, cache, { keys }) => pending.keys(cache, keys),
    event: ({ keys }) => ({ kind: 'set', keys }),
  },
  delete: {
    apply: (l2, cache, { keys }) => l2.deleteKeys(cache, keys),
    message: (cache, { keys }) => ({ cache, kind: 'delete', keys: [...keys] }),
    remember: (pending, cache, { keys }) => pending.keys(cache, keys),
    event: ({ keys }) => ({ kind: 'delete', keys }),
  },
  tags: {
    at: 'clock',
    apply: async (l2, cache, { tags, at }) => {
      await l2.tagsOf(cache).invalidate(tags, at);
      return 0;
    },
    message: (cache, { tags, at }) => ({ cache, kind: 'tags', tags: [...tags], at }),
    remember: (pending, cache, { tags, at }) => pending.tags(cache, tags, at),
    event: ({ tags }) => ({ kind: 'tags', tags }),
  },
  pattern: {
    at: 'stamp',
    apply: (l2, cache, { pattern, at }) =>
      l2.bulk(cache, { kind: 'pattern', pattern }, at, l2.driver.deletePattern(cachePrefix(cache) + pattern)),
    message: (cache, { pattern, at }) => ({ cache, kind: 'pattern', pattern, at }),
    remember: (pending, cache, { pattern }) => pending.pattern(cache, pattern),
    event: ({ pattern }) => ({ kind: 'pattern', pattern }),
    scope: ({ pattern }) => ({ kind: 'pattern', pattern }),
  },
  prefix: {
    at: 'stamp',
    apply: (l2, cache, { prefix, at }) =>
      l2.bulk(cache, { kind: 'prefix', prefix }, at, l2.driver.clear(cachePrefix(cache) + prefix)),
    message: (cache, { prefix, at }) => ({ cache, kind: 'prefix', prefix, at }),
    remember: (pending, cache, { prefix }) => pending.prefix(cache, prefix),
    // The cache layer's name for a prefix invalidation (it clears a namespace).
    event: ({ prefix }) => ({ kind: 'prefix', prefix }),
    scope: ({ prefix }) => ({ kind: 'prefix', prefix }),
  },
  clear: {
    at: 'stamp',
    apply: (l2, cache, { at }) => l2.bulk(cache, { kind: 'all' }, at, l2.driver.clear(cachePrefix(cache))),
    message: (cache, { at }) => ({ cache, kind: 'clear', at }),
    remember: (pending, cache) => pending.clear(cache),
    event: () => ({ kind: 'clear' }),
    scope: () => ({ kind: 'all' }),
  },
};

function firstOf<T>(results: readonly [T, ...unknown[]]): T {
  return results[0];
}

/** The rule of `inv`'s kind. */
function ruleOf(inv: Invalidation): Rule<Invalidation> {
  return RULES[inv.kind] as Rule<Invalidation>;
}

/**
 * The invalidation a bus message announces. `at` defaults to `now` for senders that leave it out; the
 * legacy kind `namespace-clear` (its prefix in `pattern`) is read as `prefix`.
 */
export function fromBusMessage(message: BusMessage, now: () => number): Invalidation {
  switch (message.kind) {
    case 'set':
    case 'delete':
      return { kind: message.kind, keys: message.keys ?? [] };
    case 'tags':
      return { kind: 'tags', tags: message.tags ?? [], at: message.at ?? now() };
    case 'pattern':
      return { kind: 'pattern', pattern: message.pattern ?? '', at: message.at ?? now() };
    case 'prefix':
      return { kind: 'prefix', prefix: message.prefix ?? '', at: message.at ?? now() };
    case 'namespace-clear':
      return { kind: 'prefix', prefix: message.pattern ?? '', at: message.at ?? now() };
    case 'clear':
      return { kind: 'clear', at: message.at ?? now() };
  }
}

/** What the invalidator needs of its tier. */
export interface InvalidatorParts {
  driver: GuardedDriver;
  codec: Codec;
  /** The bound on a value's encoded size: one larger is not written. */
  limit: ValueLimit;
  /** The guarded bus (replay publishes on it directly), if any. */
  bus: InvalidationBus | undefined;
  /** The live path's publisher (batches key messages), if there is a bus. */
  publisher: PublishBatcher | undefined;
  /** True when the bus publishes on the driver's ordered connection (one round trip with the write). */
  publishInOrder: boolean;
  stamps: StampClock;
  fence: WriteFence;
  log: TierLog;
  clock: () => number;
  /** Upper bound on pending invalidations. */
  maxPending: number;
  /** Delay before a failed replay is tried again, ms. */
  retryMs: number;
  tagsOf(cache: string): TagClock;
}

/** Runs invalidations and writes against L2 and the bus, and keeps what fails for replay. */
export class Invalidator implements L2Ops {
  /** What failed to reach L2 or the bus, replayed when it is back. */
  readonly backlog: Backlog;
  readonly driver: GuardedDriver;
  /** The tag clock of a cache. */
  readonly tagsOf: (cache: string) => TagClock;
  readonly #parts: InvalidatorParts;

  constructor(parts: InvalidatorParts) {
    this.#parts = parts;
    this.driver = parts.driver;
    this.tagsOf = parts.tagsOf;
    this.backlog = new Backlog({
      max: parts.maxPending,
      retryMs: parts.retryMs,
      log: parts.log,
      tier: parts.driver.name,
      actions: this.#replayActions(),
    });
  }

  /**
   * Invalidates in L2, on this cache's other bindings here and on every other instance. Resolves how
   * many L2 entries it reached (0 when L2 was unreachable: then it is kept for replay, never thrown).
   */
  async invalidate(
    cache: BoundCache,
    request: InvalidationRequest,
    origin?: BindingListeners,
  ): Promise<number> {
    const rule = ruleOf(request as Invalidation);
    cache.tellOthers(origin, rule.event(request as Invalidation));
    const inv = this.#timed(request);
    const done = await this.#run(cache.name, inv, () => rule.apply!(this, cache.name, inv));
    return done?.result ?? 0;
  }

  /**
   * Writes an entry stamped with `entry.version` (the start of its load) or, without one, now.
   * Resolves false when it was not stored because a write or invalidation newer than its stamp is
   * known (in L2, or as a bulk fence): the caller must not keep serving it either. A value that cannot
   * be serialized is reported and its key deleted instead. One whose encoding is larger than
   * maxValueBytes is logged (at warn, rate limited) and a tombstone with its stamp is written in its
   * place, as the value would have been (refused by a newer write, published as a set).
   */
  async write(cache: BoundCache, key: string, entry: TierEntry, origin?: BindingListeners): Promise<boolean> {
    const { driver, codec, limit, fence, log, clock, stamps } = this.#parts;
    const now = clock();
    if (entry.expiresAt !== 0 && entry.expiresAt <= now) {
      await this.invalidate(cache, { kind: 'delete', keys: [key] }, origin);
      return true;
    }
    const stamp = entry.version ?? stamps.next();
    // A load that began before a bulk invalidation (or too long ago to be vouched for by tombstones).
    if (entry.version !== undefined && !fence.admits(cache.name, key, stamp)) return false;
    let data;
    try {
      data = codec.encode(storedRecord(entry));
    } catch (error) {
      const failure = serializationError(key, 'serialize', error);
      // Only to a logger of the tier's own: the caches bound to it log the failure as `Cache ERROR`.
      log.tierLogger?.error('L2 cannot store a value; it stays in L1 only', {
        cache: cache.name,
        key,
        error: failure.message,
      });
      cache.reportError(failure, key);
      // The old L2 value (and other instances' L1 copies) must not outlive this write.
      await this.invalidate(cache, { kind: 'delete', keys: [key] }, origin);
      return true;
    }
    data = frame(stamp, data);
    const name = cache.name;
    let ttl = entry.expiresAt === 0 ? 0 : entry.expiresAt - now;
    let tags = entryTags(entry);
    const oversized = limit.over(data);
    if (oversized !== undefined) {
      limit.writeSkipped(name, key, oversized);
      // The old L2 value must not outlive this write, nor a load older than it land after it: the
      // value's stamp on a tombstone, written (and announced) as the value would have been.
      data = frame(stamp);
      ttl = fence.retentionMs;
      tags = NO_TAGS;
    }
    if (cache.members.size > 1) cache.tellOthers(origin, { kind: 'set', keys: [key] });
    // Before it is sent: a bulk fence heard while it travels must find it (see write-fence.ts).
    fence.remember(name, key, stamp);
    // A set() is made now: it replaces whatever is held. A load's result only lands on older data.
    // (The guarded driver never throws: a failure is a rejection, handled below.)
    const setting = driver.setIfNewer(entryKey(name, key), data, ttl, entry.version === undefined);
    let stored: Promise<unknown> = setting;
    if (tags.length > 0) {
      let held: Promise<unknown> | undefined;
      try {
        held = cache.tags.hold(tags, entry.createdAt, entry.expiresAt);
      } catch (error) {
        held = Promise.reject(error);
      }
      if (held !== undefined) stored = Promise.all([setting, held]).then(firstOf);
    }
    // The live path of the `set` rule (as #run), without building the invalidation unless it fails:
    // the key goes out in this turn's batched bus message.
    const { publisher, publishInOrder } = this.#parts;
    let result: unknown;
    try {
      if (publisher === undefined) result = await stored;
      else {
        // In order: the PUBLISH follows the write on the same connection. Else it waits for the write.
        const published = publishInOrder ? publisher.publishKey(name, 'set', key) : undefined;
        result = await stored;
        const outcome = await (published ?? publisher.publishKey(name, 'set', key));
        if (outcome !== undefined) throw outcome.error;
      }
    } catch {
      RULES.set.remember(this.backlog.pending, name, { kind: 'set', keys: [key] });
      await this.backlog.failed(name);
      return true;
    }
    if (result === 'refused') return false;
    // A pending delete of this key (from an earlier failed write) would now remove the newer value.
    if (this.backlog.pending.settle(name, key)) void this.backlog.save([name]);
    return true;
  }

  /** What an invalidation heard from another instance does here, besides telling the bindings. */
  heard(cache: BoundCache, inv: Invalidation): void {
    if (inv.kind === 'tags') cache.tags.note(inv.tags, inv.at);
    // A sender widens a tag invalidation it cannot fit on the bus (a tag beyond the bounds) to a clear:
    // the tag's entries stay in L2, hidden only by its time there, which the one held here predates.
    else if (inv.kind === 'clear') cache.tags.forget();
    const scope = ruleOf(inv).scope?.(inv);
    if (scope !== undefined && 'at' in inv) this.heardBulk(cache.name, scope, inv.at);
  }

  /** What the bindings of a cache hear about `inv`. */
  eventOf(inv: Invalidation): RemoteInvalidation {
    return ruleOf(inv).event(inv);
  }

  /**
   * A bulk invalidation at `at` heard from elsewhere (bus, or the fence key after a resync). A time
   * ahead of this host's clock (a skewed sender, or a forged message) is taken as now: a fence in the
   * future would refuse every load's result until then, and nothing written later can predate it.
   */
  heardBulk(cache: string, scope: BulkScope, heardAt: number): void {
    const at = Math.min(heardAt, this.#parts.clock());
    const reached = this.#parts.fence.bulk(cache, scope, at);
    if (reached.length === 0 || !this.driver.versioned) return;
    // Best effort: when L2 is unreachable now, the outage bound covers what stays.
    this.#tombstone(
      reached.map((key) => entryKey(cache, key)),
      fenceStamp(at),
    ).catch(() => {});
  }

  /** After a bus resync (messages may have been missed): learn each cache's latest bulk fence from L2. */
  async refreshFences(caches: readonly BoundCache[]): Promise<void> {
    if (!this.driver.versioned || caches.length === 0) return;
    const raws = await this.driver.getMany(caches.map((cache) => fenceKey(cache.name)));
    for (let i = 0; i < caches.length; i++) {
      const raw = raws[i];
      if (raw === undefined) continue;
      const fence = unframe(raw);
      if (fence.stamp !== undefined) this.heardBulk(caches[i]!.name, { kind: 'all' }, stampMs(fence.stamp));
    }
  }

  /**
   * Deletes entries; resolves how many held a live value. With a versioned store each key gets a
   * tombstone stamped now (kept `fenceRetention`), so a load that began earlier cannot store over it.
   */
  async deleteKeys(cache: string, keys: readonly string[]): Promise<number> {
    const full = keys.map((key) => entryKey(cache, key));
    if (!this.driver.versioned)
      return full.length === 1 ? Number(await this.driver.delete(full[0]!)) : this.driver.deleteMany(full);
    return this.#tombstone(full, this.#parts.stamps.next(), true);
  }

  /**
   * The fence side of a bulk invalidation at `at` (ms) whose L2 delete is `deleting`: the fence is
   * known here at once (loads of this instance that began earlier are not stored), written to the
   * store's fence key (read after a bus resync), and once the delete is done, this instance's recent
   * stores it reaches get a tombstone at `at` in case they landed after the delete passed them.
   * By cache name: a replayed backlog may concern a cache not bound in this process.
   */
  async bulk(cache: string, scope: BulkScope, at: number, deleting: Promise<number>): Promise<number> {
    const { fence } = this.#parts;
    const reached = fence.bulk(cache, scope, at);
    const count = await deleting;
    if (!this.driver.versioned) return count;
    const stamp = fenceStamp(at);
    await Promise.all([
      this.driver.setIfNewer(fenceKey(cache), frame(stamp), fence.retentionMs),
      this.#tombstone(
        reached.map((key) => entryKey(cache, key)),
        stamp,
      ),
    ]);
    return count;
  }

  /**
   * Writes a tombstone stamped `stamp` on each full key; counts the live values it replaced. A delete
   * made now replaces `always`; a fence's tombstone spares values newer than it.
   */
  async #tombstone(full: readonly string[], stamp: number, always = false): Promise<number> {
    const tombstone = frame(stamp);
    const ttl = this.#parts.fence.retentionMs;
    const results = await Promise.all(full.map((key) => this.driver.setIfNewer(key, tombstone, ttl, always)));
    return results.filter((result) => result === 'replaced').length;
  }

  /** `request` with its time, taken as its kind's rule says. */
  #timed(request: InvalidationRequest): Invalidation {
    switch (RULES[request.kind].at) {
      case 'clock':
        return { ...request, at: this.#parts.clock() } as Invalidation;
      case 'stamp':
        return { ...request, at: stampMs(this.#parts.stamps.next()) } as Invalidation;
      default:
        return request as Invalidation;
    }
  }

  /**
   * Runs an L2 change and publishes `inv`; resolves `{ result }` of the change, or undefined when it
   * failed: then it is kept for replay (and in the outbox file, before this resolves) instead of thrown.
   */
  async #run<T>(
    cache: string,
    inv: Invalidation,
    change: () => Promise<T>,
  ): Promise<{ result: T } | undefined> {
    const { publisher, publishInOrder } = this.#parts;
    const rule = ruleOf(inv);
    try {
      let result: T;
      if (publisher === undefined) result = await change();
      else if (publishInOrder) {
        // Same connection, same order: the PUBLISH reaches Redis after the write, in the same round trip.
        const [changed, published] = await Promise.allSettled([
          change(),
          publisher.publish(rule.message(cache, inv)),
        ]);
        if (changed.status === 'rejected') throw changed.reason;
        if (published.status === 'rejected') throw published.reason;
        result = changed.value;
      } else {
        result = await change();
        await publisher.publish(rule.message(cache, inv));
      }
      return { result };
    } catch {
      rule.remember(this.backlog.pending, cache, inv);
      await this.backlog.failed(cache);
      return undefined;
    }
  }

  /** How the backlog replays each kind: the same L2 change and message as the live path, in order. */
  #replayActions(): ReplayActions {
    const replay = async (cache: string, inv: Invalidation): Promise<void> => {
      const rule = ruleOf(inv);
      await rule.apply!(this, cache, inv);
      if (this.#parts.bus !== undefined) await this.#parts.bus.publish(rule.message(cache, inv));
    };
    // A bulk kind takes a fresh fence time when it is replayed, and so does a tag: the store keeps the
    // last time written, not the latest, so the time it was invalidated at (before the outage) would
    // rewind a newer invalidation made meanwhile and bring back the entries that one hid. Now hides
    // more (colder), never less.
    return {
      clear: (cache) => replay(cache, this.#timed({ kind: 'clear' })),
      deleteKeys: (cache, keys) => replay(cache, { kind: 'delete', keys }),
      tags: (cache, tags, at) => replay(cache, { kind: 'tags', tags, at: Math.max(at, this.#parts.clock()) }),
      pattern: (cache, pattern) => replay(cache, this.#timed({ kind: 'pattern', pattern })),
      prefix: (cache, prefix) => replay(cache, this.#timed({ kind: 'prefix', prefix })),
    };
  }
}
