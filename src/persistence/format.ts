// The snapshot file format, versions 1 and 2. All integers big-endian:
//
//   offset  size  field
//        0     8  magic "LARDSNAP"          a file that does not start with it is foreign
//        8     2  format version (1 or 2)   a newer version is refused, never guessed at
//       10     2  flags (0, reserved)
//       12     8  payload length in bytes   a shorter file is truncated, a longer one corrupt
//       20     4  CRC-32 of bytes 8..20 and of the payload (node:zlib crc32)
//       24     …  payload: msgpack of { createdAt, caches: [{ name, entries: [entry tuple, …] }] }
//
// An entry tuple is [key, value bytes, createdAt, staleAt, expiresAt, tags, size, frequency]; the value
// bytes come from the cache's serializer, so the frame never depends on what values look like.
// Version 2 adds an optional ninth element to entries that carry a load's state: a map with the
// StoredEntry field names { validators: { etag, lastModified }, adaptive: { ttl, hash, seen, changes },
// keepUntil } (util/stored-entry.ts), so conditional revalidation and adaptive TTLs survive a restart.
// A file none of whose entries has one is written as version 1, byte for byte what earlier builds
// wrote and read; a file with one says 2, which earlier builds refuse whole rather than miscount its
// entries as malformed. Both versions are read. The load state is checked like every field but never
// costs its entry: a malformed validator, adaptive state or keepUntil (or unknown map keys) is dropped
// and the entry loads without it, so its next load simply fetches in full. The same map may hold `scope`,
// the namespace an entry was written through (SnapshotEntry.scope), so that a namespace's invalidateTags
// still reaches its entries after a restore; earlier builds ignore the key (as any unknown one), and an
// entry without it (every entry of an earlier build's file) restores as before, its tags unscoped.
// Decoding checks the frame (magic, version, length, checksum) before returning anything: a damaged
// file is refused whole. Inside a well-framed file, an entry that fails validation (a NaN key, an
// out-of-range time, a non-string tag) is left out and counted, so one bad entry never stops a start.
import type { Packr } from 'msgpackr';
import { lazyModule } from '../util/lazy-require.js';
import { CacheError, CacheErrorType } from '../errors.js';
import type { CacheKey } from '../engine/types.js';
import { assertCountsFit, type Serializer } from '../codec/serializer.js';
import { loadStateOf, type LoadState } from '../util/stored-entry.js';
import { entryProblem, MAX_TIME } from './entries.js';
import type { SnapshotEntry } from './types.js';

/** The first eight bytes of every snapshot. */
export const SNAPSHOT_MAGIC = Buffer.from('LARDSNAP', 'latin1');
/** The newest format version this build reads; it writes it when some entry carries load state. */
export const SNAPSHOT_VERSION = 2;
/** The version of a file without load state (8-element entries only): what every build reads. */
export const SNAPSHOT_BASE_VERSION = 1;
/** Bytes before the payload. */
export const HEADER_BYTES = 24;

/** The decoded content of a snapshot: entries per cache name, values already deserialized. */
export interface SnapshotContent {
  /** When the snapshot was taken (the writer's clock). */
  createdAt: number;
  /** Entries per cache, most valuable first. */
  caches: Map<string, SnapshotEntry[]>;
  /** Entries whose value could not be decoded (left out, the rest loads). */
  skipped: number;
  /**
   * Entries (and cache records) left out because a field was missing or out of range: a NaN key,
   * non-finite times, non-string tags… (see entryProblem). The rest loads.
   */
  invalid: number;
  /** `invalid` per cache name (malformed cache records, which have no usable name, are not in it). */
  invalidByCache: Map<string, number>;
  /** The first few reasons, like `cache "users" entry 3: key is NaN`, for the log. */
  problems: string[];
}

/** How many reasons for invalid entries a decoded snapshot keeps for its log line. */
export const MAX_PROBLEMS = 5;

/** What encoding produced, besides the bytes. */
export interface EncodedSnapshot {
  bytes: Buffer;
  /** Entries written. */
  entries: number;
  /** Entries left out because the serializer refused their value. */
  skipped: number;
}

/** The ninth element of an entry tuple: the load state, and the namespace scope of the entry's tags. */
type EntryExtras = LoadState & { scope?: string };

type EntryTuple = [CacheKey, Uint8Array, number, number, number, string[], number, number, EntryExtras?];

/**
 * An entry's `scope` when it is well-formed (a namespace key prefix, ending in ':', that its string key
 * starts with), else undefined: what a writer keeps and a reader trusts (SnapshotEntry.scope).
 */
export function snapshotScope(entry: { key: unknown; scope?: unknown }): string | undefined {
  const { key, scope } = entry;
  return typeof scope === 'string' &&
    scope.length > 1 &&
    scope.endsWith(':') &&
    typeof key === 'string' &&
    key.startsWith(scope)
    ? scope
    : undefined;
}

/** Elements of an entry tuple without (and, from version 2, with) the trailing load state. */
const BASE_TUPLE = 8;

// Plain msgpack for the frame: it only holds numbers, strings, arrays and byte strings.
const zlib = lazyModule<typeof import('node:zlib')>('node:zlib');
const msgpackr = lazyModule<typeof import('msgpackr')>(
  'msgpackr',
  'Writing or reading a larder-cache snapshot file',
);
let packr: Packr | undefined;
/** The frame's own msgpack codec, made on first use (see util/lazy-require.ts). */
function framePackr(): Packr {
  return (packr ??= new (msgpackr().Packr)({ useRecords: false, moreTypes: false }));
}

/** Why a snapshot was refused; the message says it in words. */
export type RefusalReason = 'foreign' | 'future-version' | 'truncated' | 'corrupt';

/** A snapshot that was refused (foreign, future version, truncated or corrupt); `reason` says which. */
export class SnapshotRefusedError extends CacheError {
  /** Why the file was refused. */
  readonly reason: RefusalReason;

  constructor(reason: RefusalReason, detail: string) {
    super(CacheErrorType.SERIALIZATION_FAILED, `snapshot refused (${reason}): ${detail}`, {
      retryable: false,
    });
    this.name = 'SnapshotRefusedError';
    this.reason = reason;
  }
}

function refuse(reason: RefusalReason, detail: string): SnapshotRefusedError {
  return new SnapshotRefusedError(reason, detail);
}

/** The refusal reason of an error thrown by {@link decodeSnapshot}, or undefined for any other error. */
export function refusalReasonOf(error: unknown): RefusalReason | undefined {
  return error instanceof SnapshotRefusedError ? error.reason : undefined;
}

/**
 * Encodes caches into snapshot bytes. A value the serializer refuses, or an entry with a field out of
 * range, is left out and counted in `skipped` (reported through `onSkip`), so one odd entry never
 * costs the whole snapshot.
 */
export function encodeSnapshot(
  caches: ReadonlyMap<string, readonly SnapshotEntry[]>,
  serializer: Serializer,
  createdAt: number,
  onSkip?: (cache: string, key: CacheKey, error: unknown) => void,
): EncodedSnapshot {
  let entries = 0;
  let skipped = 0;
  let version = SNAPSHOT_BASE_VERSION;
  const out: { name: string; entries: EntryTuple[] }[] = [];
  for (const [name, list] of caches) {
    const tuples: EntryTuple[] = [];
    for (const e of list) {
      // What the reader would leave out is not written either (a restore must read back what was dumped).
      const problem = entryProblem(e);
      if (problem !== undefined) {
        skipped++;
        onSkip?.(name, e.key, new TypeError(`snapshot entry ${problem}`));
        continue;
      }
      let value: Uint8Array;
      try {
        const data = serializer.serialize(e.value);
        value = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      } catch (error) {
        skipped++;
        onSkip?.(name, e.key, error);
        continue;
      }
      const tuple: EntryTuple = [
        e.key,
        value,
        e.createdAt,
        e.staleAt,
        e.expiresAt,
        [...e.tags],
        e.size,
        e.frequency,
      ];
      // Only what the reader would keep is written (validated, bounded): it is the reader's copy too.
      const state = loadStateOf(e);
      const scope = snapshotScope(e);
      if (state !== undefined || scope !== undefined) {
        tuple[BASE_TUPLE] = scope === undefined ? state : { ...state, scope };
        version = SNAPSHOT_VERSION;
      }
      tuples.push(tuple);
      entries++;
    }
    out.push({ name, entries: tuples });
  }
  const payload = framePackr().pack({ createdAt, caches: out });
  const header = Buffer.alloc(HEADER_BYTES);
  SNAPSHOT_MAGIC.copy(header, 0);
  header.writeUInt16BE(version, 8);
  header.writeUInt16BE(0, 10);
  header.writeBigUInt64BE(BigInt(payload.length), 12);
  header.writeUInt32BE(checksum(header, payload), 20);
  return { bytes: Buffer.concat([header, payload]), entries, skipped };
}

/**
 * Checks a snapshot's header against the size of the whole file: magic, version and payload length.
 * `head` is the file's first {@link HEADER_BYTES} bytes (all of it when shorter). Throws a
 * {@link SnapshotRefusedError}; readers run it on the header alone before reading a file whole, so a
 * foreign, truncated or padded file of any size costs 24 bytes to refuse. Answers the version.
 */
export function checkHeader(head: Uint8Array, size: number): number {
  const bytes = Buffer.from(head.buffer, head.byteOffset, Math.min(head.byteLength, size));
  if (
    bytes.length < SNAPSHOT_MAGIC.length ||
    !bytes.subarray(0, SNAPSHOT_MAGIC.length).equals(SNAPSHOT_MAGIC)
  ) {
    throw refuse('foreign', 'not a Larder snapshot (no LARDSNAP header)');
  }
  if (bytes.length < HEADER_BYTES) throw refuse('truncated', `header cut short at ${bytes.length} bytes`);
  const version = bytes.readUInt16BE(8);
  if (version > SNAPSHOT_VERSION) {
    throw refuse(
      'future-version',
      `format version ${version} is newer than this build reads (${SNAPSHOT_VERSION})`,
    );
  }
  if (version === 0) throw refuse('corrupt', 'format version 0 does not exist');
  const length = bytes.readBigUInt64BE(12);
  const actual = BigInt(size - HEADER_BYTES);
  if (actual < length) throw refuse('truncated', `payload is ${actual} of ${length} bytes`);
  if (actual > length) throw refuse('corrupt', `${actual - length} unexpected bytes after the payload`);
  return version;
}

/** Decodes snapshot bytes; throws a {@link SnapshotRefusedError} for a bad file. */
export function decodeSnapshot(data: Uint8Array, serializer: Serializer): SnapshotContent {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const version = checkHeader(bytes.subarray(0, HEADER_BYTES), bytes.length);
  const payload = bytes.subarray(HEADER_BYTES);
  if (checksum(bytes.subarray(0, HEADER_BYTES), payload) !== bytes.readUInt32BE(20)) {
    throw refuse('corrupt', 'checksum mismatch');
  }
  return readPayload(payload, serializer, version);
}

// The CRC covers the version, flags and length as well as the payload, so no header bit can flip unseen.
function checksum(header: Buffer, payload: Uint8Array): number {
  const { crc32 } = zlib();
  return crc32(payload, crc32(header.subarray(8, 20)));
}

function readPayload(payload: Buffer, serializer: Serializer, version: number): SnapshotContent {
  let frame: unknown;
  try {
    // msgpackr allocates what an array or map header declares before reading its items: checked first.
    assertCountsFit(payload);
    frame = framePackr().unpack(payload);
  } catch (error) {
    throw refuse('corrupt', `unreadable payload: ${error instanceof Error ? error.message : String(error)}`);
  }
  const f = frame as { createdAt?: unknown; caches?: unknown };
  if (typeof f !== 'object' || f === null || !Array.isArray(f.caches)) {
    throw refuse('corrupt', 'payload has no caches');
  }
  const content: SnapshotContent = {
    // Only used to report the snapshot's age: an out-of-range stamp is forgotten, not fatal.
    createdAt: isTime(f.createdAt) ? f.createdAt : 0,
    caches: new Map(),
    skipped: 0,
    invalid: 0,
    invalidByCache: new Map(),
    problems: [],
  };
  for (const [index, c] of (f.caches as { name?: unknown; entries?: unknown }[]).entries()) {
    if (typeof c?.name !== 'string' || !Array.isArray(c.entries)) {
      invalidEntry(content, `cache record ${index}`, 'malformed cache record');
      continue;
    }
    // A writer lists each cache once: a second record of a name is not read, lest it replace the first.
    if (content.caches.has(c.name)) {
      invalidEntry(content, `cache record ${index}`, `cache ${JSON.stringify(c.name)} listed again`);
      continue;
    }
    content.caches.set(c.name, readEntries(c.name, c.entries as unknown[], serializer, content, version));
  }
  return content;
}

// The entries of one cache record; bad ones are counted in `content` and left out.
function readEntries(
  name: string,
  tuples: readonly unknown[],
  serializer: Serializer,
  content: SnapshotContent,
  version: number,
): SnapshotEntry[] {
  const entries: SnapshotEntry[] = [];
  // Version 1 has no load state: a ninth element there is as malformed as a tenth in version 2.
  const longest = version >= 2 ? BASE_TUPLE + 1 : BASE_TUPLE;
  for (const [index, t] of tuples.entries()) {
    const where = `cache ${JSON.stringify(name)} entry ${index}`;
    if (!Array.isArray(t) || t.length < BASE_TUPLE || t.length > longest || !(t[1] instanceof Uint8Array)) {
      invalidEntry(content, where, 'malformed entry', name);
      continue;
    }
    const [key, bytes, createdAt, staleAt, expiresAt, tags, size, frequency, loadState] = t as unknown[];
    const entry = {
      key,
      value: undefined as unknown,
      createdAt,
      staleAt,
      expiresAt,
      tags,
      size,
      frequency,
    } as SnapshotEntry;
    const problem = entryProblem(entry);
    if (problem !== undefined) {
      invalidEntry(content, where, problem, name);
      continue;
    }
    // Untrusted like the rest: only well-formed fields are kept (copyLoadState's rules), never the record.
    const state = loadStateOf(loadState);
    if (state !== undefined) Object.assign(entry, state);
    if (typeof loadState === 'object' && loadState !== null) {
      const scope = snapshotScope({ key, scope: (loadState as EntryExtras).scope });
      if (scope !== undefined) entry.scope = scope;
    }
    try {
      // A copy of the entry's bytes: msgpackr hands binary data back as views of what it reads, so a
      // Buffer or typed array in a value read from the file itself would keep the whole file alive.
      entry.value = serializer.deserialize(Buffer.from(bytes as Uint8Array));
    } catch {
      // The checksum passed, so the bytes are what was written: a serializer that cannot read its
      // own output (changed between versions) loses this entry, not the snapshot.
      content.skipped++;
      continue;
    }
    entries.push(entry);
  }
  return entries;
}

// Counts one entry (or cache record) that failed validation; keeps the first few reasons for the log.
function invalidEntry(content: SnapshotContent, where: string, problem: string, cache?: string): void {
  content.invalid++;
  if (cache !== undefined) content.invalidByCache.set(cache, (content.invalidByCache.get(cache) ?? 0) + 1);
  if (content.problems.length < MAX_PROBLEMS) content.problems.push(`${where}: ${problem}`);
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && value >= 0 && value <= MAX_TIME;
}
