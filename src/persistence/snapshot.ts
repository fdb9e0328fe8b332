// Reading and writing snapshot files: encodes caches (format.ts) and replaces the file atomically
// (atomic-write.ts); reads refuse a badly framed file with one clear log line and answer "nothing to
// restore", and skip (and log) single entries that fail validation, so a damaged snapshot can never
// stop a service from starting.
import { msgpackSerializer, type Serializer } from '../codec/serializer.js';
import { errorMessage, SILENT_LOG, type LogSink } from '../observability/log-sink.js';
import type { CacheKey } from '../engine/types.js';
import { nodeSnapshotFs, writeFileAtomic, type FileHead } from '../util/atomic-write.js';
import {
  checkHeader,
  decodeSnapshot,
  encodeSnapshot,
  HEADER_BYTES,
  refusalReasonOf,
  type SnapshotContent,
} from './format.js';
import type { SnapshotEntry, SnapshotFs } from './types.js';
import { since } from '../util/time.js';

/** The collaborators of snapshot I/O; every one has a default. */
export interface SnapshotIo {
  /** File operations (tests inject failing ones). */
  fs?: SnapshotFs;
  /** Value encoding; default msgpackr with structured clone. */
  serializer?: Serializer;
  /** Where refusals, skipped values and timings are logged. */
  log?: LogSink;
  /** Time source for the snapshot's timestamp. */
  clock?: () => number;
}

/** What writing a snapshot did. */
export interface SnapshotWriteResult {
  /** The file written. */
  path: string;
  /** Entries written, over all caches. */
  entries: number;
  /** Entries left out because their value could not be serialized. */
  skipped: number;
  /** Size of the file. */
  bytes: number;
}

let defaultSerializer: Serializer | undefined;

/** The serializer snapshots use when none is given (shared, created on first use). */
export function snapshotSerializer(io: SnapshotIo): Serializer {
  return io.serializer ?? (defaultSerializer ??= msgpackSerializer());
}

/** Writes `caches` to `path` crash-safely; rejects (after logging) when the file could not be written. */
export async function writeSnapshot(
  path: string,
  caches: ReadonlyMap<string, readonly SnapshotEntry[]>,
  io: SnapshotIo = {},
): Promise<SnapshotWriteResult> {
  const log = io.log ?? SILENT_LOG;
  const started = performance.now();
  const onSkip = (cache: string, key: CacheKey, error: unknown): void => {
    if (log.warnOn) log.warn('Cache SNAPSHOT skipped a value', { cache, key, error: errorMessage(error) });
  };
  const encoded = encodeSnapshot(caches, snapshotSerializer(io), (io.clock ?? Date.now)(), onSkip);
  try {
    await writeFileAtomic(path, encoded.bytes, io.fs ?? nodeSnapshotFs);
  } catch (error) {
    if (log.errorOn) log.error('Cache SNAPSHOT failed', { path, error: errorMessage(error) });
    throw error;
  }
  const result = { path, entries: encoded.entries, skipped: encoded.skipped, bytes: encoded.bytes.length };
  if (log.infoOn) {
    log.info('Cache SNAPSHOT', { ...result, caches: [...caches.keys()], durationMs: since(started) });
  }
  return result;
}

/** Reads and checks a snapshot at start (synchronously, before the first request); see {@link readSnapshot}. */
export function readSnapshotSync(path: string, io: SnapshotIo = {}): SnapshotContent | undefined {
  const fs = io.fs ?? nodeSnapshotFs;
  let data: Uint8Array;
  try {
    const head = fs.readHeadSync?.(path, HEADER_BYTES);
    if (head !== undefined && !headerSound(path, head, io)) return undefined;
    data = fs.readFileSync(path);
  } catch (error) {
    return unreadable(path, error, io);
  }
  return decoded(path, data, io);
}

/**
 * Reads and checks a snapshot. Answers undefined when there is none (logged at info) or when it is
 * refused (foreign, future version, truncated, corrupt: logged at error, with the reason).
 */
export async function readSnapshot(path: string, io: SnapshotIo = {}): Promise<SnapshotContent | undefined> {
  const fs = io.fs ?? nodeSnapshotFs;
  let data: Uint8Array;
  try {
    const head = await fs.readHead?.(path, HEADER_BYTES);
    if (head !== undefined && !headerSound(path, head, io)) return undefined;
    data = await fs.readFile(path);
  } catch (error) {
    return unreadable(path, error, io);
  }
  return decoded(path, data, io);
}

/**
 * Reads and checks a snapshot for an explicit restore: rejects with the file system's error (a missing
 * file included) or a {@link SnapshotRefusedError} naming why the file was refused, before anything
 * could be loaded. Entries that fail validation inside a sound file are skipped and logged, as at start.
 */
export async function readSnapshotStrict(path: string, io: SnapshotIo = {}): Promise<SnapshotContent> {
  const fs = io.fs ?? nodeSnapshotFs;
  const head = await fs.readHead?.(path, HEADER_BYTES);
  if (head !== undefined) checkHeader(head.head, head.size);
  const data = await fs.readFile(path);
  return reportSkipped(path, decodeSnapshot(data, snapshotSerializer(io)), io);
}

// Logs what decoding left out of a sound file (values the serializer could not read, invalid entries).
function reportSkipped(path: string, content: SnapshotContent, io: SnapshotIo): SnapshotContent {
  const log = io.log ?? SILENT_LOG;
  if (content.skipped > 0 && log.warnOn) {
    log.warn('Cache RESTORE skipped unreadable values', { path, skipped: content.skipped });
  }
  if (content.invalid > 0 && log.warnOn) {
    log.warn('Cache RESTORE skipped invalid entries', {
      path,
      invalid: content.invalid,
      caches: Object.fromEntries(content.invalidByCache),
      examples: content.problems,
    });
  }
  return content;
}

function decoded(path: string, data: Uint8Array, io: SnapshotIo): SnapshotContent | undefined {
  try {
    return reportSkipped(path, decodeSnapshot(data, snapshotSerializer(io)), io);
  } catch (error) {
    return refused(path, error, io);
  }
}

// Checks the header before the file is read whole (a wrong one is refused, logged, at any file size).
function headerSound(path: string, { head, size }: FileHead, io: SnapshotIo): boolean {
  try {
    checkHeader(head, size);
    return true;
  } catch (error) {
    refused(path, error, io);
    return false;
  }
}

function refused(path: string, error: unknown, io: SnapshotIo): undefined {
  const log = io.log ?? SILENT_LOG;
  if (log.errorOn) {
    log.error(`Cache RESTORE refused ${path}: ${errorMessage(error)}; starting empty`, {
      path,
      reason: refusalReasonOf(error) ?? 'unreadable',
    });
  }
  return undefined;
}

function unreadable(path: string, error: unknown, io: SnapshotIo): undefined {
  const log = io.log ?? SILENT_LOG;
  if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') {
    if (log.infoOn) log.info('Cache RESTORE: no snapshot yet, starting empty', { path });
  } else if (log.errorOn) {
    log.error(`Cache RESTORE could not read ${path}: ${errorMessage(error)}; starting empty`, { path });
  }
  return undefined;
}
