// Crash-safe file replacement: the new content goes to a temporary file in the same folder, is
// fsync'ed, and is renamed over the target (rename within one file system is atomic), then the folder
// is synced so the rename itself survives a power cut. A failure at any step leaves the old file as it
// was and removes the temporary one.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { SnapshotFileHandle, SnapshotFs } from './types.js';

/** The real file system. */
export const nodeSnapshotFs: SnapshotFs = {
  open: (path, flags) => open(path, flags),
  rename,
  unlink,
  readFile: (path) => readFile(path),
  readFileSync: (path) => readFileSync(path),
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
