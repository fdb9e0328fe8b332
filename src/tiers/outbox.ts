// The outbox: pending invalidations (pending.ts) kept in a file, so a delete made while L2 was
// unreachable survives the process and is replayed by the next one before it serves. Each cache's
// backlog goes to the file its cache chose (beside its snapshot); files are replaced atomically
// (util/atomic-write.ts) and written one at a time per path, the latest state winning.
import {
  nodeSnapshotFs,
  removeStaleTemporaries,
  writeFileAtomic,
  type SnapshotFs,
} from '../util/atomic-write.js';
import type { PendingInvalidations, PendingRecord } from './pending.js';

/** Version tag of the file format (JSON: `{ larderOutbox: 1, caches: { name: PendingRecord } }`). */
const FORMAT = 1;

/** What a cache's outbox file says is still pending: per cache name (the file may hold several). */
export type OutboxContent = Map<string, PendingRecord>;

/** Reads an outbox file synchronously; a missing file is empty. Throws on an unreadable or foreign file. */
export function readOutbox(path: string, fs: SnapshotFs = nodeSnapshotFs): OutboxContent {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') return new Map();
    throw error;
  }
  const parsed = JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown;
  if (
    parsed === null ||
    typeof parsed !== 'object' ||
    (parsed as { larderOutbox?: unknown }).larderOutbox !== FORMAT
  )
    throw new TypeError(`${path} is not a Larder outbox file (format ${FORMAT})`);
  const caches = (parsed as { caches?: unknown }).caches;
  const out: OutboxContent = new Map();
  if (caches === null || typeof caches !== 'object') return out;
  for (const [name, raw] of Object.entries(caches)) {
    const record = toRecord(raw);
    if (record !== undefined) out.set(name, record);
  }
  return out;
}

/** Encodes the backlogs of `caches` as an outbox file's bytes. */
export function encodeOutbox(pending: PendingInvalidations, caches: Iterable<string>): Uint8Array {
  const out: Record<string, PendingRecord> = {};
  for (const cache of caches) {
    const record = pending.export(cache);
    if (record !== undefined) out[cache] = record;
  }
  return Buffer.from(JSON.stringify({ larderOutbox: FORMAT, caches: out }));
}

/** Where each cache's backlog is persisted, and the writer of those files. */
export class OutboxFiles {
  readonly #pathOf = new Map<string, string>();
  readonly #fsOf = new Map<string, SnapshotFs>();
  readonly #writing = new Map<string, Promise<void>>();
  readonly #dirty = new Set<string>();

  /** Whether any cache's backlog is persisted. */
  get enabled(): boolean {
    return this.#pathOf.size > 0;
  }

  /** The file `cache`'s backlog is persisted to, if any. */
  pathOf(cache: string): string | undefined {
    return this.#pathOf.get(cache);
  }

  /**
   * Persists `cache`'s backlog at `path` from now on; returns what an earlier process left there
   * (every cache in the file, so a cache not bound yet still gets its deletes replayed) after removing
   * the temporary files of interrupted writes. Throws when the old file cannot be read.
   */
  attach(cache: string, path: string, fs: SnapshotFs = nodeSnapshotFs): OutboxContent {
    // Registered first: even when the old file cannot be read, new backlogs are persisted (over it).
    this.#fsOf.set(path, fs);
    this.#pathOf.set(cache, path);
    removeStaleTemporaries(path, fs);
    const content = readOutbox(path, fs);
    for (const name of content.keys()) if (!this.#pathOf.has(name)) this.#pathOf.set(name, path);
    return content;
  }

  /**
   * Writes the current backlogs to every file (or only those of `caches`); resolves once the bytes
   * are on disk. Concurrent calls coalesce: a call made during a write is served by the next write.
   */
  async save(pending: PendingInvalidations, caches?: Iterable<string>): Promise<void> {
    const paths = new Set<string>();
    if (caches === undefined) for (const path of this.#pathOf.values()) paths.add(path);
    else
      for (const cache of caches) {
        const path = this.#pathOf.get(cache);
        if (path !== undefined) paths.add(path);
      }
    await Promise.all([...paths].map((path) => this.#write(pending, path)));
  }

  async #write(pending: PendingInvalidations, path: string): Promise<void> {
    this.#dirty.add(path);
    for (;;) {
      const running = this.#writing.get(path);
      if (running === undefined) break;
      await running.catch(() => {});
      if (!this.#dirty.has(path)) return; // A write that started after our call has covered it.
    }
    this.#dirty.delete(path);
    const names = [...this.#pathOf].filter(([, p]) => p === path).map(([name]) => name);
    const write = writeFileAtomic(path, encodeOutbox(pending, names), this.#fsOf.get(path));
    this.#writing.set(path, write);
    try {
      await write;
    } finally {
      this.#writing.delete(path);
    }
  }
}

function toRecord(raw: unknown): PendingRecord | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  const r = raw as Partial<Record<keyof PendingRecord, unknown>>;
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x) => typeof x === 'string') : []);
  const tags: Array<[string, number]> = [];
  if (Array.isArray(r.tags)) {
    for (const pair of r.tags as unknown[]) {
      if (!Array.isArray(pair) || typeof pair[0] !== 'string') continue;
      const at = pair[1];
      if (typeof at === 'number' && Number.isFinite(at)) tags.push([pair[0], at]);
    }
  }
  return {
    clear: r.clear === true,
    keys: strings(r.keys),
    tags,
    patterns: strings(r.patterns),
    prefixes: strings(r.prefixes),
  };
}
