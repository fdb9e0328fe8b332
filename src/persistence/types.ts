// Public shapes of snapshots and warm restarts: one entry as `cache.dump()` returns it and
// `cache.load()` takes it, the `persist` option, and the file-system seam the writer goes through
// (tests inject a failing one to simulate a crash at every stage of writing).
import type { Duration } from '../util/duration.js';
import type { CacheKey } from '../engine/types.js';
import type { Serializer } from '../tiers/serializer.js';

/** One live entry of a snapshot. Times are absolute (ms since the epoch, per the cache's clock). */
export interface SnapshotEntry<V = unknown> {
  /** The key as stored (a namespace's prefix included). */
  key: CacheKey;
  /** The value. */
  value: V;
  /** When the value was written. */
  createdAt: number;
  /** When the value goes stale; 0 = never. */
  staleAt: number;
  /** When the entry must be gone (end of its grace window); 0 = never. Restore drops it at or past this. */
  expiresAt: number;
  /** Tags given at write time. */
  tags: readonly string[];
  /** Size in bytes as the cache accounted it (0 when the cache does not measure sizes). */
  size: number;
  /** How valuable the entry is to the eviction policy (0..15, higher = hotter); restore keeps it hot. */
  hint: number;
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

/** An open file as the snapshot writer uses it (node:fs/promises FileHandle satisfies it). */
export interface SnapshotFileHandle {
  /** Writes all of `data` (FileHandle.writeFile loops until every byte is written). */
  writeFile(data: Uint8Array): Promise<void>;
  /** fsync: the bytes are on disk when it resolves. */
  sync(): Promise<void>;
  /** Releases the descriptor. */
  close(): Promise<void>;
}

/** The file operations the snapshot writer and reader use; node:fs by default, injectable for tests. */
export interface SnapshotFs {
  /** Opens a file (the writer uses flag `'wx'`: a fresh temporary file). */
  open(path: string, flags: string): Promise<SnapshotFileHandle>;
  /** Atomically replaces `to` with `from`. */
  rename(from: string, to: string): Promise<void>;
  /** Removes a file. */
  unlink(path: string): Promise<void>;
  /** Reads a whole file. */
  readFile(path: string): Promise<Uint8Array>;
  /** Reads a whole file synchronously (restore at start, before the first request). */
  readFileSync(path: string): Uint8Array;
  /** Makes a rename durable by syncing the folder; optional (not every platform allows it). */
  syncDir?(path: string): Promise<void>;
  /** Lists a folder's file names (start-up cleanup of crashed writes); optional: without it none is done. */
  readdirSync?(path: string): string[];
  /** Removes a file synchronously (start-up cleanup of crashed writes); optional, as readdirSync. */
  unlinkSync?(path: string): void;
}
