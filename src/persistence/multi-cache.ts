// Snapshot and restore of named caches (a manager's, or one cache's under its own name): gathers each
// cache's dump() into one file, and hands each cache its own entries back from a file. Caches named in
// the file but not configured are skipped (logged, and named in the result; a manager's start keeps
// their sections for create(), see cache/snapshots.ts), new caches simply start empty.
import { resolve } from 'node:path';
import { SILENT_LOG } from '../observability/log-sink.js';
import { putOwn } from '../util/records.js';
import type { LoadResult } from './entries.js';
import type { SnapshotContent } from './format.js';
import {
  readSnapshotStrict,
  readSnapshotSync,
  writeSnapshot,
  type SnapshotIo,
  type SnapshotWriteResult,
} from './snapshot.js';
import type { SnapshotEntry } from './types.js';

/** What a snapshot writes of a cache: its name and its dump(). */
export interface Dumpable {
  /** The name the cache is stored under in the file. */
  readonly name: string;
  /** Live entries, most valuable first. */
  dump(): SnapshotEntry[];
}

/** What a cache offers to snapshots: the facade's dump() and load(). */
export interface Persistable extends Dumpable {
  /** Loads entries within the cache's bounds. */
  load(entries: readonly SnapshotEntry[]): LoadResult;
}

/** What a restore did. */
export interface RestoreResult {
  /** The file read. */
  path: string;
  /** False when there was no file or it was refused (see the log); the caches were left as they were. */
  restored: boolean;
  /** Totals over all caches. */
  loaded: number;
  expired: number;
  dropped: number;
  /** Entries left out because a field was missing or out of range (in the file or at load). */
  invalid: number;
  /** Per cache name. */
  caches: Record<string, LoadResult>;
  /** Caches the file holds that are not configured here: their entries were not loaded. */
  unknown: string[];
}

// The last write asked for per resolved path (settled or not), so writes of one file run one at a time.
const writes = new Map<string, Promise<unknown>>();

/**
 * Writes one snapshot holding every cache in `caches`. Writes to one `path` in this process (however
 * it is spelled: `a.snap`, `./a.snap` and its absolute path are one file) run in the order they were
 * asked for, each dumping its caches only once the previous one is done: a slower write of an older
 * dump can never rename over a newer one, so a snapshot asked for after a delete never leaves the file
 * holding what the delete removed.
 */
export function snapshotCaches(
  path: string,
  caches: Iterable<Dumpable>,
  io: SnapshotIo = {},
): Promise<SnapshotWriteResult> {
  const write = (): Promise<SnapshotWriteResult> => {
    const content = new Map<string, SnapshotEntry[]>();
    for (const cache of caches) content.set(cache.name, cache.dump());
    return writeSnapshot(path, content, io);
  };
  const file = queueKey(path);
  const before = writes.get(file);
  const run = before === undefined ? write() : before.then(write);
  const settled = run.catch(() => undefined);
  writes.set(file, settled);
  void settled.then(() => {
    if (writes.get(file) === settled) writes.delete(file);
  });
  return run;
}

// The file a path names, for the write queue: resolved, or as spelled when the working folder is gone
// (process.cwd() throws then; the write itself fails, and is reported, like any other).
function queueKey(path: string): string {
  try {
    return resolve(path);
  } catch {
    return path;
  }
}

/**
 * Reads `path` and loads each cache's entries into the cache of that name (`lookup`): an explicit
 * restore, so a file that cannot be read or is refused rejects (see readSnapshotStrict) and no cache
 * is touched.
 */
export async function restoreCaches(
  path: string,
  lookup: (name: string) => Persistable | undefined,
  io: SnapshotIo = {},
): Promise<RestoreResult> {
  return applySnapshot(path, await readSnapshotStrict(path, io), lookup, io);
}

/** {@link restoreCaches}, reading the file synchronously (at creation, before the first request). */
export function restoreCachesSync(
  path: string,
  lookup: (name: string) => Persistable | undefined,
  io: SnapshotIo = {},
): RestoreResult {
  return applySnapshot(path, readSnapshotSync(path, io), lookup, io);
}

/**
 * Loads decoded snapshot `content` (undefined: none, or refused) into the caches `lookup` finds by name;
 * what is in the file for an unknown name is skipped and reported (a warning, or, when the caller
 * keeps those sections for caches created later, `unknownKept`, an info line).
 */
export function applySnapshot(
  path: string,
  content: SnapshotContent | undefined,
  lookup: (name: string) => Persistable | undefined,
  io: SnapshotIo,
  unknownKept = false,
): RestoreResult {
  const result: RestoreResult = {
    path,
    restored: false,
    loaded: 0,
    expired: 0,
    dropped: 0,
    invalid: content?.invalid ?? 0,
    caches: {},
    unknown: [],
  };
  if (content === undefined) return result;
  result.restored = true;
  const log = io.log ?? SILENT_LOG;
  for (const [name, entries] of content.caches) {
    const cache = lookup(name);
    if (cache === undefined) {
      result.unknown.push(name);
      if (unknownKept) {
        if (log.infoOn)
          log.info('Cache RESTORE keeps the entries of a cache not created yet, for create()', {
            path,
            cache: name,
            entries: entries.length,
          });
      } else if (log.warnOn)
        log.warn('Cache RESTORE skipped an unknown cache', { path, cache: name, entries: entries.length });
      continue;
    }
    const loaded = cache.load(entries);
    // result.invalid already holds what decoding left out; add what load() refused, then report both per cache.
    result.invalid += loaded.invalid;
    loaded.invalid += content.invalidByCache.get(name) ?? 0;
    putOwn(result.caches, name, loaded);
    result.loaded += loaded.loaded;
    result.expired += loaded.expired;
    result.dropped += loaded.dropped;
  }
  if (log.infoOn) {
    const { caches: _caches, unknown: _unknown, ...totals } = result;
    log.info('Cache RESTORE', {
      ...totals,
      snapshotAgeMs: Math.max(0, (io.clock ?? Date.now)() - content.createdAt),
    });
  }
  return result;
}
