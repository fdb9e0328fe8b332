// Public shapes of snapshots and warm restarts: one entry as `cache.dump()` returns it and
// `cache.load()` takes it, the `persist` option, and the file-system seam the writer goes through
// (tests inject a failing one to simulate a crash at every stage of writing).
import type { Duration } from '../util/duration.js';
import type { CacheKey } from '../engine/types.js';
import type { Serializer } from '../codec/serializer.js';
import type { PortableEntry } from '../util/stored-entry.js';

/**
 * One live entry of a snapshot: the stored entry's portable fields (see util/stored-entry.ts; times
 * are absolute, ms since the epoch per the cache's clock) with its key, size and frequency.
 */
export interface SnapshotEntry<V = unknown> extends PortableEntry<V> {
  /** The key as stored (a namespace's prefix included). */
  key: CacheKey;
  /** Size in bytes as the cache accounted it (0 when the cache does not measure sizes). */
  size: number;
  /** How valuable the entry is to the eviction policy (0..15, higher = hotter); restore keeps it hot. */
  frequency: number;
}

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
}

/** Bounds a restore must respect (the cache's own). */
export interface LoadBounds {
  /** Entry bound; Infinity when none. */
  maxEntries: number;
  /** Byte bound; Infinity when none. */
  maxBytes: number;
}

export type { SnapshotFileHandle, SnapshotFs } from '../util/atomic-write.js';
