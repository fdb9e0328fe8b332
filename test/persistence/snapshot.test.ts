// Snapshot files on disk: a crash at any step of writing leaves the previous snapshot intact; a bad
// file is refused with one clear log line and nothing is loaded; a missing file means "start empty".
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LogSink } from '../../src/observability/log-sink.js';
import { writeFileAtomic } from '../../src/util/atomic-write.js';
import { readSnapshot, readSnapshotSync, writeSnapshot } from '../../src/persistence/snapshot.js';
import { entry, failingFs, recordingLogger, scratchDir, WRITE_STEPS } from './helpers.js';

let scratch: ReturnType<typeof scratchDir>;
beforeEach(() => {
  scratch = scratchDir();
});
afterEach(() => scratch.remove());

const caches = (n: number, tag: string) =>
  new Map([['c', Array.from({ length: n }, (_, i) => entry(`k${i}`, { value: { tag, i } }))]]);

describe('writeFileAtomic and writeSnapshot', () => {
  it('writes a snapshot that reads back, and leaves no temporary file', async () => {
    const path = join(scratch.dir, 'cache.snap');
    const result = await writeSnapshot(path, caches(3, 'one'));
    expect(result).toMatchObject({ path, entries: 3, skipped: 0 });
    expect(result.bytes).toBe(readFileSync(path).length);
    const back = readSnapshotSync(path)!;
    expect(back.caches.get('c')!.map((e) => e.value)).toEqual([0, 1, 2].map((i) => ({ tag: 'one', i })));
    expect(readdirSync(scratch.dir)).toEqual(['cache.snap']);
  });

  for (const step of WRITE_STEPS) {
    it(`keeps the previous snapshot intact when writing fails at ${step}`, async () => {
      const path = join(scratch.dir, 'cache.snap');
      await writeSnapshot(path, caches(5, 'old'));
      const before = readFileSync(path);
      const { logger, lines } = recordingLogger();
      await expect(
        writeSnapshot(path, caches(50, 'new'), { fs: failingFs(step), log: new LogSink(logger) }),
      ).rejects.toThrow(`injected failure at ${step}`);
      expect(readFileSync(path).equals(before)).toBe(true);
      expect(
        readSnapshotSync(path)!
          .caches.get('c')!
          .map((e) => (e.value as { tag: string }).tag),
      ).toEqual(Array(5).fill('old'));
      // The failed write cleans up after itself.
      expect(readdirSync(scratch.dir)).toEqual(['cache.snap']);
      expect(lines.some((l) => l.level === 'error' && l.message === 'Cache SNAPSHOT failed')).toBe(true);
    });
  }

  it('a crash that leaves a half-written temporary file does not affect the snapshot', async () => {
    const path = join(scratch.dir, 'cache.snap');
    await writeSnapshot(path, caches(2, 'old'));
    // What a process killed mid-write leaves behind: a partial temp file, never renamed.
    writeFileSync(join(scratch.dir, '.cache.snap.999.deadbeef.tmp'), readFileSync(path).subarray(0, 10));
    expect(readSnapshotSync(path)!.caches.get('c')).toHaveLength(2);
    await writeFileAtomic(path, readFileSync(path));
    expect(readSnapshotSync(path)!.caches.get('c')).toHaveLength(2);
  });
});

describe('readSnapshot refusals', () => {
  async function refusedWith(bytes: Uint8Array, reason: string): Promise<void> {
    const path = join(scratch.dir, 'bad.snap');
    writeFileSync(path, bytes);
    for (const read of [readSnapshotSync, readSnapshot]) {
      const { logger, lines } = recordingLogger();
      expect(await read(path, { log: new LogSink(logger) })).toBeUndefined();
      const errors = lines.filter((l) => l.level === 'error');
      expect(errors).toHaveLength(1);
      expect(errors[0]!.message).toContain(`Cache RESTORE refused ${path}`);
      expect(errors[0]!.message).toContain('starting empty');
      expect(errors[0]!.fields).toMatchObject({ path, reason });
    }
  }

  it('refuses a corrupt file (one flipped byte) with a clear log line', async () => {
    const path = join(scratch.dir, 'good.snap');
    await writeSnapshot(path, caches(20, 'x'));
    const bytes = readFileSync(path);
    const at = bytes.length >> 1;
    bytes[at] = bytes[at]! ^ 0x40;
    await refusedWith(bytes, 'corrupt');
  });

  it('refuses a truncated file', async () => {
    const path = join(scratch.dir, 'good.snap');
    await writeSnapshot(path, caches(20, 'x'));
    await refusedWith(readFileSync(path).subarray(0, 100), 'truncated');
  });

  it('refuses a foreign file', async () => {
    await refusedWith(Buffer.from('PK\u0003\u0004 some zip file'), 'foreign');
  });

  it('refuses a future-version file', async () => {
    const path = join(scratch.dir, 'good.snap');
    await writeSnapshot(path, caches(1, 'x'));
    const bytes = readFileSync(path);
    bytes.writeUInt16BE(99, 8);
    await refusedWith(bytes, 'future-version');
  });

  it('answers undefined for a missing file, logged at info, not error', async () => {
    const { logger, lines } = recordingLogger();
    expect(readSnapshotSync(join(scratch.dir, 'none.snap'), { log: new LogSink(logger) })).toBeUndefined();
    expect(lines.map((l) => l.level)).toEqual(['info']);
    expect(lines[0]!.message).toMatch(/no snapshot yet/);
  });
});
