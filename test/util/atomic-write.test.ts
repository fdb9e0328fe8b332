// Temporary files of interrupted writes: recognised only in the exact format temporaryPath() makes,
// deleted at start-up unless a live process may still be writing them, and deleted when a cache or
// manager with `persist` is created, before it restores.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createCache } from '../../src/cache/create-cache.js';
import { createCacheManager } from '../../src/cache/manager.js';
import {
  nodeSnapshotFs,
  processAlive,
  removeStaleTemporaries,
  temporaryPath,
  temporaryWriterOf,
} from '../../src/util/atomic-write.js';
import { writeSnapshot } from '../../src/persistence/snapshot.js';
import { entry, recordingLogger, scratchDir } from '../persistence/helpers.js';

// Above Linux's PID_MAX_LIMIT (2^22) and macOS's 99,999: no process can have it.
const DEAD_PID = 2 ** 22 + 1;

let scratch: ReturnType<typeof scratchDir>;
beforeEach(() => {
  scratch = scratchDir();
});
afterEach(() => scratch.remove());

const touch = (name: string, content = 'partial') => writeFileSync(join(scratch.dir, name), content);
const files = () => readdirSync(scratch.dir).sort();

describe('temporaryWriterOf', () => {
  it('reads the pid from the names temporaryPath makes, and from nothing else', () => {
    const path = join(scratch.dir, 'url.snap');
    expect(temporaryWriterOf(path, basename(temporaryPath(path)))).toBe(process.pid);
    expect(temporaryWriterOf(path, '.url.snap.123.deadbeef.tmp')).toBe(123);
    for (const name of [
      'url.snap',
      '.url.snap.123.tmp',
      '.url.snap.abc.deadbeef.tmp',
      '.url.snap.123.deadbeef.tmp.bak',
      '.url.snap.old.123.deadbeef.tmp', // a temp of `url.snap.old`, not of `url.snap`
      '.other.snap.123.deadbeef.tmp',
      '.url.snap.123.DEADBEEF.tmp',
    ]) {
      expect(temporaryWriterOf(path, name), name).toBeUndefined();
    }
  });

  it('tells a live process from a gone one', () => {
    expect(processAlive(process.pid)).toBe(true);
    expect(processAlive(DEAD_PID)).toBe(false);
  });
});

describe('removeStaleTemporaries', () => {
  it("deletes a dead writer's and our own pid's temporary files, keeps a live writer's and every other file", () => {
    const path = join(scratch.dir, 'url.snap');
    touch('url.snap', 'the snapshot');
    touch(`.url.snap.${DEAD_PID}.0badf00d.tmp`);
    touch(`.url.snap.${process.pid}.00000001.tmp`); // a predecessor that had our pid (container restart)
    touch('.url.snap.4242.cafebabe.tmp'); // a live writer, per the injected check
    touch('.other.snap.77.deadbeef.tmp'); // another snapshot's
    touch('notes.txt');
    const result = removeStaleTemporaries(path, nodeSnapshotFs, (pid) => pid === 4242);
    expect(result.removed.map((p) => basename(p)).sort()).toEqual(
      [`.url.snap.${DEAD_PID}.0badf00d.tmp`, `.url.snap.${process.pid}.00000001.tmp`].sort(),
    );
    expect(result.kept.map((p) => basename(p))).toEqual(['.url.snap.4242.cafebabe.tmp']);
    expect(result.failed).toEqual([]);
    expect(files()).toEqual(
      ['.other.snap.77.deadbeef.tmp', '.url.snap.4242.cafebabe.tmp', 'notes.txt', 'url.snap'].sort(),
    );
    expect(readFileSync(path, 'utf8')).toBe('the snapshot');
  });

  it('does nothing for a folder that does not exist yet, or without a listing seam', () => {
    expect(removeStaleTemporaries(join(scratch.dir, 'missing', 'url.snap')).removed).toEqual([]);
    touch(`.url.snap.${DEAD_PID}.0badf00d.tmp`);
    const { readdirSync: _r, unlinkSync: _u, ...withoutListing } = nodeSnapshotFs;
    expect(removeStaleTemporaries(join(scratch.dir, 'url.snap'), withoutListing).removed).toEqual([]);
    expect(files()).toEqual([`.url.snap.${DEAD_PID}.0badf00d.tmp`]);
  });

  it('reports a file it could not delete and goes on with the others', () => {
    touch(`.url.snap.${DEAD_PID}.00000001.tmp`);
    touch(`.url.snap.${DEAD_PID}.00000002.tmp`);
    const fs = {
      ...nodeSnapshotFs,
      unlinkSync(p: string) {
        if (p.endsWith('00000001.tmp')) throw Object.assign(new Error('denied'), { code: 'EACCES' });
        nodeSnapshotFs.unlinkSync!(p);
      },
    };
    const result = removeStaleTemporaries(join(scratch.dir, 'url.snap'), fs);
    expect(result.removed.map((p) => basename(p))).toEqual([`.url.snap.${DEAD_PID}.00000002.tmp`]);
    expect(result.failed.map((f) => basename(f.path))).toEqual([`.url.snap.${DEAD_PID}.00000001.tmp`]);
  });
});

describe('persistence start-up', () => {
  it("a cache with `persist` deletes a crashed write's temporary file, logs it, and still restores", async () => {
    const path = join(scratch.dir, 'plans.snap');
    await writeSnapshot(path, new Map([['plans', [entry('acme', { value: ['basic'] })]]]));
    const stale = `.plans.snap.${DEAD_PID}.0badf00d.tmp`;
    touch(stale, 'half a snapshot');
    const { logger, lines } = recordingLogger();
    const cache = createCache<string[]>({ name: 'plans', logger, persist: { path, onShutdown: false } });
    expect(files()).toEqual(['plans.snap']);
    expect(await cache.get('acme')).toEqual(['basic']);
    const line = lines.find(
      (l) => l.message === 'Cache SNAPSHOT removed temporary files of interrupted writes',
    );
    expect(line?.level).toBe('info');
    expect(line?.fields).toMatchObject({ path, removed: [join(scratch.dir, stale)] });
    await cache.close();
  });

  it('a manager with `persist` does the same, and its first snapshot is unaffected', async () => {
    const path = join(scratch.dir, 'caches.snap');
    touch(`.caches.snap.${DEAD_PID}.0badf00d.tmp`);
    const manager = createCacheManager({ caches: { url: {} }, persist: { path } });
    expect(files()).toEqual([]);
    await manager.get('url').set('code_1', 'https://example.com');
    await manager.close();
    expect(files()).toEqual(['caches.snap']);
  });
});
