// The facade's side of snapshots: what `cache.dump()` / `cache.load()` and the `persist` option of
// createCache do, written against the small part of the cache they need (its L1 store, its key
// prefixing, its close hook), so src/cache only holds one-line delegations.
import type { Envelope } from './envelope.js';
import type { CacheKey, EngineStats, EntryInfo } from '../engine/types.js';
import { errorMessage, type LogSink } from '../observability/log-sink.js';
import { nodeSnapshotFs, removeStaleTemporaries } from '../util/atomic-write.js';
import {
  applySnapshot,
  snapshotCaches,
  type Dumpable,
  type Persistable,
} from '../persistence/multi-cache.js';
import type { LoadResult } from '../persistence/entries.js';
import { loadEnvelopes } from './snapshot-envelopes.js';
import { SnapshotSchedule, type ResolvedPersist } from '../persistence/schedule.js';
import { readSnapshotSync, type SnapshotIo } from '../persistence/snapshot.js';
import type { SnapshotContent } from '../persistence/format.js';
import { hasLapsed } from '../engine/snapshot.js';
import { planWarm } from '../persistence/warm-plan.js';
import { warmFromSnapshot, type SnapshotWarmReport, type WarmTarget } from './warm.js';
import type { SnapshotEntry } from '../persistence/types.js';
import type { TierBinding } from '../tiers/shared-tier.js';

/** The L1 side of the facade's store that snapshots read and write (TierStack satisfies it). */
export interface SnapshotStore {
  getLocal(key: CacheKey): Envelope | undefined;
  setLocal(key: CacheKey, envelope: Envelope, tags: readonly string[], size?: number): void;
  entries(): Iterable<EntryInfo<CacheKey, Envelope>>;
  stats(): EngineStats;
  /** Optional: writes a restored entry, held until a shared tier confirms it (TierStack). */
  restoreLocal?(key: CacheKey, envelope: Envelope, tags: readonly string[], size?: number): void;
  /** Optional: replays one read of a restored key, now or once it is confirmed. */
  touchRestored?(key: CacheKey): void;
  /** Optional: has the shared tier vouch for the held restored entries, then serves the survivors. */
  confirmRestored?(): Promise<void>;
  /** Optional: the size L1 would account an envelope at (0 when it does not measure sizes). */
  measure?(key: CacheKey, envelope: Envelope): number;
  /** Optional: the L1 entry of a key without counting a read (a restore keeps it when it is newer). */
  peekLocal?(key: CacheKey): Envelope | undefined;
}

/** How a view maps a caller's key and tags to stored ones (its KeySpace satisfies it). */
export interface ViewKeys {
  fullKey(key: CacheKey): CacheKey;
  /** Tags as stored for an entry of the view, or of its namespace `below` (a prefix relative to it). */
  storedTags(tags: readonly string[], below?: string): readonly string[];
}

/**
 * `cache.load(entries)`: writes entries into L1 only (a local snapshot must not be pushed to a shared
 * tier), within the engine's bounds, and replays each entry's frequency as reads. A key whose L1 entry
 * was written after the snapshot's entry (a later createdAt) keeps it: a restore into a running cache
 * never replaces a newer value with the snapshot's older one. With a shared
 * tier the entries are served only once it confirmed them (a batched check started here): until then
 * reads go to L2, so a restart never serves what other instances removed while it was down.
 */
export function loadIntoView(
  store: SnapshotStore,
  view: ViewKeys,
  entries: readonly SnapshotEntry[],
  now: number,
): LoadResult {
  const stats = store.stats();
  const write = store.restoreLocal?.bind(store) ?? store.setLocal.bind(store);
  const result = loadEnvelopes(
    entries,
    now,
    { maxEntries: stats.maxEntries ?? Infinity, maxBytes: stats.maxBytes ?? Infinity },
    {
      write: (key, envelope, size, scope) =>
        write(view.fullKey(key), envelope, view.storedTags(envelope.tags, scope), size),
      touch: (key) =>
        store.touchRestored === undefined
          ? void store.getLocal(view.fullKey(key))
          : store.touchRestored(view.fullKey(key)),
      ...(store.measure === undefined
        ? {}
        : { measure: (key: CacheKey, envelope: Envelope) => store.measure!(view.fullKey(key), envelope) }),
      ...(store.peekLocal === undefined
        ? {}
        : { peek: (key: CacheKey) => store.peekLocal!(view.fullKey(key)) }),
    },
  );
  // Never rejects: the tier logs what it could not check, and drops it.
  void store.confirmRestored?.().catch(() => {});
  return result;
}

/** Where a shared tier keeps a cache's undelivered invalidations: beside the cache's snapshot. */
export function outboxPath(persist: ResolvedPersist): string {
  return `${persist.path}.outbox`;
}

/** A cache as persistence and warming see it: dump/load, its warm-load door, and its `ready` promise. */
export interface PersistedCache extends Persistable, WarmTarget {
  ready?: Promise<void>;
}

/**
 * Wires a resolved `persist` option into a new cache: the shared tier's outbox (when `remote` is
 * given) is read and its replay started first, then the snapshot is restored (synchronously; with a
 * shared tier, restored entries are served only once L2 confirmed them), then snapshots are scheduled.
 * With `persist.warm`, the cache's `ready` settles once its hottest stale keys have been fetched again.
 */
export function attachPersistence(
  persist: ResolvedPersist,
  cache: PersistedCache,
  clock: () => number,
  log: () => LogSink,
  remote?: Pick<TierBinding, 'keepOutbox'>,
): SnapshotSchedule {
  remote?.keepOutbox(outboxPath(persist), persist.fs);
  return persistCaches(
    persist,
    () => [cache],
    (name) => (name === cache.name ? cache : undefined),
    clock,
    log,
  ).schedule;
}

/**
 * Deletes what crashed writes of the persist file left beside it (see removeStaleTemporaries), logging
 * what it removed; a failure is logged and never stops the cache from starting.
 */
function cleanStaleTemporaries(persist: ResolvedPersist, log: LogSink): void {
  const path = persist.path;
  try {
    const { removed, kept, failed } = removeStaleTemporaries(path, persist.fs ?? nodeSnapshotFs);
    if (removed.length > 0 && log.infoOn)
      log.info('Cache SNAPSHOT removed temporary files of interrupted writes', { path, removed });
    if (kept.length > 0 && log.infoOn)
      log.info('Cache SNAPSHOT left temporary files of live processes', { path, kept });
    for (const f of failed) {
      if (log.warnOn)
        log.warn('Cache SNAPSHOT could not remove a stale temporary file', {
          path: f.path,
          error: errorMessage(f.error),
        });
    }
  } catch (error) {
    if (log.warnOn)
      log.warn('Cache SNAPSHOT could not look for stale temporary files', {
        path,
        error: errorMessage(error),
      });
  }
}

/** What {@link persistCaches} started: the snapshot schedule, and the warm-up when `persist.warm` is set. */
export interface PersistedCaches {
  schedule: SnapshotSchedule;
  /** Settles (never rejects) when every cache in the snapshot has been warmed; undefined without warm. */
  warmed: Promise<SnapshotWarmReport[]> | undefined;
  /**
   * What a snapshot writes: every cache of `all()`, then the sections read at start that no cache has
   * taken yet (with `carry`), each one's entries still live at the time of the write.
   */
  dumpables(): Iterable<Dumpable>;
  /**
   * Hands a cache created after start its carried section (restored as at start: expired entries
   * skipped, warmed with `persist.warm`); the section is no longer carried. Undefined when there was none.
   */
  adopt(cache: PersistedCache): LoadResult | undefined;
}

/** How {@link persistCaches} treats the sections of the file that no cache takes at start. */
export interface PersistOptionsOfOwner {
  /**
   * Keep them (a manager, whose create() may add their cache later): until a cache of that name is
   * created, or until all their entries have expired, every snapshot writes them again. Default false:
   * skipped (a single cache has no other names to wait for).
   */
  carry?: boolean;
}

/**
 * Cleans up after crashed writes, restores `lookup`'s caches from the persist file (when asked), starts
 * predictive warming (with `persist.warm`: each warmed cache's `ready` waits for it as well) and returns
 * the schedule that snapshots `all()` periodically and on close. Shared by a single cache and a manager.
 * With `owner.carry`, the sections of the file that no cache took are kept and written by every snapshot
 * (see {@link PersistedCaches.dumpables}) until a cache of their name is created ({@link PersistedCaches.adopt}).
 */
export function persistCaches(
  persist: ResolvedPersist,
  all: () => Iterable<Persistable>,
  lookup: (name: string) => PersistedCache | undefined,
  clock: () => number,
  log: () => LogSink,
  owner: PersistOptionsOfOwner = {},
): PersistedCaches {
  const io = (): SnapshotIo => ({ fs: persist.fs, serializer: persist.serializer, clock, log: log() });
  // Before this process writes the file, so no temporary file of ours can be mistaken for a stale one.
  cleanStaleTemporaries(persist, log());
  // Sections of the file read at start with no cache of their name yet (only with owner.carry). They
  // only shrink: taken whole by adopt(), or thinned of expired entries by each write. Bounded by what
  // the file held, and never longer than their entries live, except untimed ones (until adopted).
  const unclaimed = new Map<string, SnapshotEntry[]>();
  let createdAt = 0;
  const warmCache = (cache: PersistedCache, entries: readonly SnapshotEntry[]) => {
    const warm = persist.warm;
    if (warm === undefined) return undefined;
    const run = warmFromSnapshot(cache, planWarm(entries, clock(), warm.top), warm, log());
    const before = cache.ready;
    cache.ready = (before === undefined ? run : Promise.all([before, run])).then(() => undefined);
    return run;
  };
  let warmed: Promise<SnapshotWarmReport[]> | undefined;
  if (persist.restore) {
    const content = readSnapshotSync(persist.path, io());
    const carry = owner.carry === true;
    const restored = applySnapshot(persist.path, content, lookup, io(), carry);
    if (content !== undefined && carry) {
      createdAt = content.createdAt;
      for (const name of restored.unknown) unclaimed.set(name, content.caches.get(name)!);
    }
    if (persist.warm !== undefined) {
      const runs: Promise<SnapshotWarmReport>[] = [];
      for (const [name, entries] of content?.caches ?? []) {
        const cache = lookup(name);
        const run = cache === undefined ? undefined : warmCache(cache, entries);
        if (run !== undefined) runs.push(run);
      }
      warmed = Promise.all(runs);
    }
  }
  function* carried(): Generator<Dumpable> {
    for (const name of unclaimed.keys()) {
      yield {
        name,
        dump: () => {
          // Read again at the write: adopt() may have taken it meanwhile (snapshots of a file queue).
          const entries = unclaimed.get(name);
          if (entries === undefined) return [];
          const now = clock();
          const live = entries.filter((e) => !hasLapsed(e, now));
          if (live.length === 0) unclaimed.delete(name);
          else if (live.length < entries.length) unclaimed.set(name, live);
          return live;
        },
      };
    }
  }
  const everything = function* (): Generator<Dumpable> {
    const names = new Set<string>();
    for (const cache of all()) {
      names.add(cache.name);
      yield cache;
    }
    for (const section of carried()) if (!names.has(section.name)) yield section;
  };
  const adopt = (cache: PersistedCache): LoadResult | undefined => {
    const entries = unclaimed.get(cache.name);
    if (entries === undefined) return undefined;
    unclaimed.delete(cache.name);
    const content: SnapshotContent = {
      createdAt,
      caches: new Map([[cache.name, entries]]),
      skipped: 0,
      invalid: 0,
      invalidByCache: new Map(),
      problems: [],
    };
    const result = applySnapshot(
      persist.path,
      content,
      (name) => (name === cache.name ? cache : undefined),
      io(),
    );
    void warmCache(cache, entries);
    return result.caches[cache.name];
  };
  const save = (caches: Iterable<Dumpable>): Promise<unknown> => snapshotCaches(persist.path, caches, io());
  // The shutdown snapshot is dumped when the schedule stops: a manager closes its caches right after.
  const freeze = (): (() => Promise<unknown>) => {
    const dumped = [...everything()].map((cache): Dumpable => {
      const entries = cache.dump();
      return { name: cache.name, dump: () => entries };
    });
    return () => save(dumped);
  };
  return {
    schedule: new SnapshotSchedule(() => save(everything()), persist, log, freeze),
    warmed,
    dumpables: everything,
    adopt,
  };
}
