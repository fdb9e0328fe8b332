// A gigabyte file at the snapshot path (a misconfigured path, a log, a file padded by a bad copy) whose
// header is wrong is refused from its first 24 bytes: it is never read whole (which held the start for
// about 8 s and took 1 GB of memory), the cache starts empty and usable.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createCache } from '../../src/cache/create-cache.js';
import { createCacheManager } from '../../src/cache/manager.js';
import { HEADER_BYTES, SNAPSHOT_MAGIC, SnapshotRefusedError } from '../../src/persistence/format.js';
import { nodeSnapshotFs } from '../../src/util/atomic-write.js';
import type { SnapshotFs } from '../../src/persistence/types.js';
import { recordingLogger, scratchDir } from './helpers.js';

const GIB = 2 ** 30;

let scratch: ReturnType<typeof scratchDir>;
beforeEach(() => {
  scratch = scratchDir();
});
afterEach(() => scratch.remove());

/** A sparse file of `size` bytes (no disk used) starting with `head`. */
function sparseFile(name: string, head: Uint8Array, size: number): string {
  const path = join(scratch.dir, name);
  const fd = openSync(path, 'w');
  writeSync(fd, head);
  ftruncateSync(fd, size);
  closeSync(fd);
  return path;
}

/** A Larder header that says its payload is `payload` bytes long. */
function header(payload: number): Buffer {
  const head = Buffer.alloc(HEADER_BYTES);
  SNAPSHOT_MAGIC.copy(head, 0);
  head.writeUInt16BE(1, 8);
  head.writeBigUInt64BE(BigInt(payload), 12);
  return head;
}

/** node:fs that fails the test if a whole file is read. */
const noWholeReads: SnapshotFs = {
  ...nodeSnapshotFs,
  readFileSync: (path) => {
    throw new Error(`read whole: ${path}`);
  },
  readFile: (path) => Promise.reject(new Error(`read whole: ${path}`)),
};

describe('a gigabyte file with a wrong header', () => {
  it('is refused at start from its header (foreign, or padded past its payload), and the cache works', async () => {
    for (const [name, head, reason] of [
      ['foreign.snap', Buffer.from('2026-01-01 INFO a log line, not a snapshot\n'), 'foreign'],
      ['padded.snap', header(100), 'corrupt'],
    ] as const) {
      const path = sparseFile(name, head, GIB);
      const { lines, logger } = recordingLogger();
      const cache = createCache<string>({
        name: 'c',
        logger,
        cleanupInterval: 0,
        persist: { path, onShutdown: false, fs: noWholeReads } as never,
      });
      const refusal = lines.find((l) => l.message.startsWith('Cache RESTORE refused'));
      expect(refusal?.fields).toMatchObject({ reason });
      await cache.set('k', 'v');
      expect(await cache.get('k')).toBe('v');
      await cache.close();
    }
  });

  it('is rejected by manager.restore(path) from its header', async () => {
    const path = sparseFile('short.snap', header(2 * GIB), GIB);
    const manager = createCacheManager({
      caches: { c: { cleanupInterval: 0 } },
      persist: { path: join(scratch.dir, 'other.snap'), onShutdown: false, fs: noWholeReads } as never,
    });
    const error: unknown = await manager.restore(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SnapshotRefusedError);
    expect((error as SnapshotRefusedError).reason).toBe('truncated');
    await manager.close();
  });
});
