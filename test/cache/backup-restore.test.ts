// manager.backup(path) / manager.restore(path): one file holds every cache; a fresh process restores
// it by cache name (names it does not know are reported, not fatal) with TTLs shortened by the time
// that passed; a missing, foreign or damaged file is refused with a clear error and changes nothing.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { createCacheManager } from '../../src/cache/manager.js';
import type { PersistOptions } from '../../src/persistence/types.js';
import { failingFs, scratchDir } from '../persistence/helpers.js';
import { manualClock } from '../helpers/clock.js';

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('./backup-child.ts', import.meta.url));

let scratch: ReturnType<typeof scratchDir>;
beforeEach(() => {
  scratch = scratchDir();
});
afterEach(() => scratch.remove());

const caches = { url: { maxEntries: 100 }, user: { maxEntries: 10 }, extra: {} };

describe('manager.backup / restore across processes', () => {
  it('a fresh process gets every value back, TTLs shortened by the time that passed', async () => {
    const path = join(scratch.dir, 'backup.snap');
    const clock = manualClock(1_700_000_000_000);
    const { stdout } = await run(process.execPath, ['--import', 'tsx', CHILD, path, String(clock.now())]);
    expect(JSON.parse(stdout)).toMatchObject({ path, entries: 4, skipped: 0 });

    clock.advance(5_000); // the restart took five seconds: /flash (2 s) has expired meanwhile
    const fresh = createCacheManager({ clock: clock.now, defaults: { cleanupInterval: 0 }, caches });
    const result = await fresh.restore(path);
    expect(result).toMatchObject({ restored: true, loaded: 2, expired: 1, dropped: 0, invalid: 0 });
    expect(result.unknown).toEqual(['legacy']);
    expect(result.caches).toEqual({
      url: { loaded: 1, expired: 1, dropped: 0, invalid: 0 },
      user: { loaded: 1, expired: 0, dropped: 0, invalid: 0 },
    });
    const url = fresh.get<string>('url');
    expect(await url.get('/docs')).toBe('https://example.com/docs');
    expect(await url.ttlRemaining('/docs')).toBe(3_600_000 - 5_000);
    expect(await url.get('/flash')).toBeUndefined();
    expect(await fresh.get('user').get('u1')).toEqual({
      name: 'Ada',
      roles: new Set(['admin']),
      since: new Date(0),
    });
    expect(await fresh.get('user').ttlRemaining('u1')).toBe(600_000 - 5_000);
    // Tags came back with the entry.
    expect(await url.invalidateTags(['links'])).toBe(1);
    expect(fresh.has('legacy')).toBe(false);
    await fresh.close();
  }, 30_000);
});

describe('manager.restore refuses a bad file and changes nothing', () => {
  async function managerWithOneEntry() {
    const manager = createCacheManager({ defaults: { cleanupInterval: 0 }, caches });
    await manager.get('url').set('/kept', 'K');
    return manager;
  }

  async function expectUnchanged(manager: ReturnType<typeof createCacheManager>): Promise<void> {
    expect(
      manager
        .get('url')
        .dump()
        .map((e) => e.key),
    ).toEqual(['/kept']);
    expect(manager.get('user').dump()).toEqual([]);
    await manager.close();
  }

  it('a corrupt backup (one flipped byte) rejects with SnapshotRefusedError', async () => {
    const path = join(scratch.dir, 'a.snap');
    const source = createCacheManager({ caches });
    await source.get('user').set('u', 'U');
    await source.get('url').set('/new', 'N');
    await source.backup(path);
    await source.close();
    const bytes = readFileSync(path);
    bytes[bytes.length - 2] = bytes[bytes.length - 2]! ^ 0x01;
    writeFileSync(path, bytes);
    const manager = await managerWithOneEntry();
    await expect(manager.restore(path)).rejects.toMatchObject({
      name: 'SnapshotRefusedError',
      reason: 'corrupt',
      message: expect.stringContaining('checksum mismatch'),
    });
    await expectUnchanged(manager);
  });

  it('a foreign file rejects as foreign, a missing one with ENOENT', async () => {
    const foreign = join(scratch.dir, 'caches.json');
    writeFileSync(foreign, JSON.stringify({ url: { '/x': 'X' } }));
    const manager = await managerWithOneEntry();
    await expect(manager.restore(foreign)).rejects.toMatchObject({ reason: 'foreign' });
    await expect(manager.restore(join(scratch.dir, 'none.snap'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expectUnchanged(manager);
  });
});

describe('manager.backup', () => {
  it('replaces the file atomically: a write that fails leaves the previous backup whole', async () => {
    const path = join(scratch.dir, 'b.snap');
    const ok = createCacheManager({ caches });
    await ok.get('url').set('/v1', 1);
    await ok.backup(path);
    const before = readFileSync(path);
    // persist.fs is the test door for file operations; restore: false so creation reads nothing.
    const persist = { path: join(scratch.dir, 'unused.snap'), restore: false, onShutdown: false };
    const failing = createCacheManager({
      caches,
      persist: { ...persist, fs: failingFs('rename') } as PersistOptions,
    });
    await failing.get('url').set('/v2', 2);
    await expect(failing.backup(path)).rejects.toThrow('injected failure at rename');
    expect(readFileSync(path).equals(before)).toBe(true);
    await Promise.all([ok.close(), failing.close()]);
  });

  it('names a missing path', async () => {
    const manager = createCacheManager({ caches });
    await expect(manager.backup('' as string)).rejects.toThrow(
      /backup\(path\): path must be a non-empty string/,
    );
    await expect(manager.backup(undefined as never)).rejects.toThrow(TypeError);
    await manager.close();
  });
});
