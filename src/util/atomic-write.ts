// Crash-safe file replacement: the new content goes to a temporary file in the same folder, is
// fsync'ed, and is renamed over the target (rename within one file system is atomic), then the folder
// is synced so the rename itself survives a power cut. A failure at any step leaves the old file as it
// was and removes the temporary one. A process killed mid-write leaves its temporary file behind;
// removeStaleTemporaries() deletes those when persistence starts.
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, readdirSync, readFileSync, readSync, unlinkSync } from 'node:fs';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

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
  /**
   * A file's first `length` bytes (fewer when it is shorter) and its size, read before the whole file
   * so that a file whose header is wrong is refused without reading it; optional.
   */
  readHead?(path: string, length: number): Promise<FileHead>;
  /** {@link SnapshotFs.readHead}, synchronously; optional. */
  readHeadSync?(path: string, length: number): FileHead;
  /** Makes a rename durable by syncing the folder; optional (not every platform allows it). */
  syncDir?(path: string): Promise<void>;
  /** Lists a folder's file names (start-up cleanup of crashed writes); optional: without it none is done. */
  readdirSync?(path: string): string[];
  /** Removes a file synchronously (start-up cleanup of crashed writes); optional, as readdirSync. */
  unlinkSync?(path: string): void;
}

/** The first bytes of a file and its size in bytes (SnapshotFs.readHead). */
export interface FileHead {
  head: Uint8Array;
  size: number;
}

/** The real file system. */
export const nodeSnapshotFs: SnapshotFs = {
  open: (path, flags) => open(path, flags),
  rename,
  unlink,
  readFile: (path) => readFile(path),
  readFileSync: (path) => readFileSync(path),
  async readHead(path, length) {
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      const head = Buffer.alloc(Math.min(length, size));
      const { bytesRead } = await handle.read(head, 0, head.length, 0);
      return { head: head.subarray(0, bytesRead), size };
    } finally {
      await handle.close();
    }
  },
  readHeadSync(path, length) {
    const fd = openSync(path, 'r');
    try {
      const { size } = fstatSync(fd);
      const head = Buffer.alloc(Math.min(length, size));
      const bytesRead = readSync(fd, head, 0, head.length, 0);
      return { head: head.subarray(0, bytesRead), size };
    } finally {
      closeSync(fd);
    }
  },
  readdirSync: (path) => readdirSync(path),
  unlinkSync: (path) => unlinkSync(path),
  async syncDir(path) {
    const handle = await open(path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
};

/** The temporary file a write of `path` goes through (same folder, so the rename stays atomic). */
export function temporaryPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * The writer's pid when `name` (a file name in the folder of `path`) is one of {@link temporaryPath}'s
 * names for `path`, else undefined; the two functions are the only places that know the format.
 */
export function temporaryWriterOf(path: string, name: string): number | undefined {
  const prefix = `.${basename(path)}.`;
  if (!name.startsWith(prefix)) return undefined;
  // The rest must be exactly `<pid>.<8 hex>.tmp`, so `.url.snap.bak` or another file's temp never match.
  const match = /^(\d+)\.[0-9a-f]{8}\.tmp$/.exec(name.slice(prefix.length));
  return match === null ? undefined : Number(match[1]);
}

/** Whether a process with this pid exists (EPERM: it does, under another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** What {@link removeStaleTemporaries} did. */
export interface StaleTemporaries {
  /** Temporary files deleted. */
  removed: string[];
  /** Temporary files left because a live process may still be writing them. */
  kept: string[];
  /** Temporary files that could not be deleted, with the reason. */
  failed: { path: string; error: unknown }[];
}

/**
 * Deletes the temporary files that interrupted writes of `path` left beside it (a crash between open
 * and rename). Run once when persistence starts, before this process writes `path` itself, so a file
 * carrying our own pid is a predecessor's (containers reuse pids across restarts). A file whose writer
 * is another live process is kept: it may be mid-write. Needs `fs.readdirSync` and `fs.unlinkSync`
 * (without them nothing is done); a missing folder means nothing to clean.
 */
export function removeStaleTemporaries(
  path: string,
  fs: SnapshotFs = nodeSnapshotFs,
  isAlive: (pid: number) => boolean = processAlive,
): StaleTemporaries {
  const result: StaleTemporaries = { removed: [], kept: [], failed: [] };
  if (fs.readdirSync === undefined || fs.unlinkSync === undefined) return result;
  const dir = dirname(path);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') return result;
    throw error;
  }
  for (const name of names) {
    const pid = temporaryWriterOf(path, name);
    if (pid === undefined) continue;
    const tmp = join(dir, name);
    if (pid !== process.pid && isAlive(pid)) {
      result.kept.push(tmp);
      continue;
    }
    try {
      fs.unlinkSync(tmp);
      result.removed.push(tmp);
    } catch (error) {
      // Gone already (another starting process cleaned it): that is the outcome we wanted.
      if ((error as NodeJS.ErrnoException | null)?.code !== 'ENOENT')
        result.failed.push({ path: tmp, error });
    }
  }
  return result;
}

/** Replaces `path` with `data` atomically (see the file comment); rejects with the failing step's error. */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array,
  fs: SnapshotFs = nodeSnapshotFs,
): Promise<void> {
  const tmp = temporaryPath(path);
  let handle: SnapshotFileHandle | undefined;
  try {
    handle = await fs.open(tmp, 'wx');
    await handle.writeFile(data);
    await handle.sync();
    const closing = handle;
    handle = undefined;
    await closing.close();
    await fs.rename(tmp, path);
  } catch (error) {
    if (handle !== undefined) await handle.close().catch(ignore);
    await fs.unlink(tmp).catch(ignore);
    throw error;
  }
  // Best effort: some platforms cannot open a folder; the file itself is already complete and renamed.
  if (fs.syncDir !== undefined) await fs.syncDir(dirname(path)).catch(ignore);
}

function ignore(): void {
  // Cleanup after a failure must not hide the failure itself.
}
