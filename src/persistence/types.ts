// Public shapes of snapshots and warm restarts: one entry as `cache.dump()` returns it and
// `cache.load()` takes it, the `persist` option, and the file-system seam the writer goes through
// (tests inject a failing one to simulate a crash at every stage of writing).
import type { Duration } from '../util/duration.js';
import type { CacheKey } from '../engine/types.js';
import type { Serializer } from '../codec/serializer.js';
import type { SnapshotEntry as EngineSnapshotEntry } from '../engine/snapshot.js';

/** The `persist` option of createCache / createCacheManager. */
export interface PersistOptions {
  /** The snapshot file. Written via a temporary file in the same folder, then renamed over it. */
  path: string;
  /** Period of background snapshots (e.g. `'5m'`); absent or 0: none. The timer never keeps the process alive. */
  interval?: Duration;
  /** Take a snapshot when the cache (or manager) is closed. Default true. */
  onShutdown?: boolean;
  /** Restore the snapshot at creation, before the first request. Default true. */
  restore?: boolean;
  /** How values are encoded; default msgpackr with structured clone (the L2 serializer). */
  serializer?: Serializer;
  /**
   * Predictive warming at start (needs `restore`): the `top` keys the snapshot ranks hottest per cache
   * are warmed, those still fresh as they are, those that went stale while the process was down
   * through `loader`. Start is never blocked: `cache.ready` (and `manager.ready`) settle when done.
   */
  warm?: SnapshotWarmOptions;
}

/** What a warming loader is told about the key it fetches. */
export interface WarmLoaderContext {
  /** The cache the key belongs to (a manager's loader serves every cache). */
  cache: string;
  /** The key's stale snapshot entry: its old value, tags and times. */
  entry: SnapshotEntry;
  /** Aborted when warming ends at its timeout; the result is then discarded. */
  signal: AbortSignal;
}

/** The `persist.warm` option: which keys a start warms from the last snapshot, and how. */
export interface SnapshotWarmOptions {
  /** How many of each cache's hottest snapshot keys to warm (ranked by their recorded frequency). */
  top: number;
  /**
   * Fetches the current value of a hot key whose snapshot entry went stale. It is stored with the
   * entry's tags and its original TTL. Without a loader, stale hot keys are skipped.
   */
  loader?: (key: CacheKey, ctx: WarmLoaderContext) => unknown;
  /** Loader calls in flight at once (default 4). */
  concurrency?: number;
  /** Warming stops here: loads not started are skipped, results arriving later are discarded (default `'5s'`). */
  timeout?: Duration;
}

export type { SnapshotFileHandle, SnapshotFs } from '../util/atomic-write.js';
export type { LoadBounds } from '../engine/snapshot.js';

/** One snapshot entry as `cache.dump()` returns it and `cache.load()` takes it. */
export interface SnapshotEntry<V = unknown> extends EngineSnapshotEntry<V> {
  /**
   * For an entry written through a namespace below the view that dumped it: that namespace's key prefix
   * relative to the view (`'users:'`, `'a:b:'`), which `key` starts with. load() indexes the entry's tags
   * for that namespace again, so its invalidateTags still reaches the entry. Absent otherwise.
   */
  scope?: string;
}
