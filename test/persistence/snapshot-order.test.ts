// Snapshots of one file are written in the order they were asked for: a write whose dump is older never
// replaces the file after a newer one did. Otherwise `await manager.delete(k); await manager.snapshot()`
// could resolve and still leave a file holding k (an earlier snapshot, still being written, renamed
// over it last), and the next start would serve what the delete removed.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { createCacheManager } from '../../src/cache/manager.js';
import { createCache } from '../../src/cache/create-cache.js';
import { gatedFs, scratchDir } from './helpers.js';

let scratch: ReturnType<typeof scratchDir>;
beforeEach(() => {
  scratch = scratchDir();
});
afterEach(() => scratch.remove());

/**
 * Lets the gated first write finish once the second one has either replaced the file already (it ran
 * alongside: the order the bug allowed) or has not even started (it waits its turn).
 */
async function releaseAfterSecond(gated: ReturnType<typeof gatedFs>): Promise<void> {
  if (gated.opens() === 2) await gated.renamed;
  gated.release();
}

const caches = { url: { maxEntries: 100, cleanupInterval: 0 } };

describe('snapshots of one file', () => {
  it('a snapshot asked for after a delete is never overwritten by an earlier, slower one', async () => {
    const path = join(scratch.dir, 'caches.snap');
    const gated = gatedFs();
    const manager = createCacheManager({
      caches,
      persist: { path, onShutdown: false, fs: gated.fs } as never,
    });
    const url = manager.get<string>('url');
    await url.set('/gone', 'removed');
    await url.set('/kept', 'K');

    const earlier = manager.snapshot(); // dumps both keys, then its rename waits
    await gated.renaming;
    await url.delete('/gone');
    const later = manager.snapshot(); // asked for after the delete
    await releaseAfterSecond(gated);
    await Promise.all([earlier, later]);
    await manager.close();

    const next = createCacheManager({ caches, persist: { path, onShutdown: false } });
    expect(await next.get('url').get('/kept')).toBe('K');
    expect(await next.get('url').get('/gone')).toBeUndefined();
    await next.close();
  });

  it('a manual snapshot waits for the periodic or closing one of the same file', async () => {
    const path = join(scratch.dir, 'one.snap');
    const gated = gatedFs();
    const manager = createCacheManager({ caches, persist: { path, fs: gated.fs } as never });
    const url = manager.get<string>('url');
    await url.set('/gone', 'removed');
    const backup = manager.backup(path); // the first write: its rename waits
    await gated.renaming;
    await url.delete('/gone');
    const closing = manager.close(); // the shutdown snapshot, after the delete
    await releaseAfterSecond(gated);
    await Promise.all([backup, closing]);

    const next = createCache<string>({
      name: 'url',
      cleanupInterval: 0,
      persist: { path, onShutdown: false },
    });
    expect(await next.get('/gone')).toBeUndefined();
    await next.close();
  });
});

describe('a snapshot after close()', () => {
  it('is refused, so the shutdown snapshot is never replaced by the emptied caches', async () => {
    const path = join(scratch.dir, 'closed.snap');
    const manager = createCacheManager({ caches, persist: { path } });
    await manager.get('url').set('/kept', 'K');
    await manager.close(); // the shutdown snapshot
    await expect(manager.snapshot()).rejects.toThrow(/the manager is closed/);
    await expect(manager.backup(path)).rejects.toThrow(TypeError);

    const next = createCacheManager({ caches, persist: { path, onShutdown: false } });
    expect(await next.get('url').get('/kept')).toBe('K');
    await next.close();
  });

  it('asked for while close() runs is written whole or refused, never empty', async () => {
    const path = join(scratch.dir, 'closing.snap');
    const manager = createCacheManager({ caches, persist: { path } });
    await manager.get('url').set('/kept', 'K');
    const closing = manager.close();
    const late = manager.snapshot().then(
      (written) => written.entries,
      () => 'refused',
    );
    await closing;
    expect([1, 'refused']).toContain(await late);

    const next = createCacheManager({ caches, persist: { path, onShutdown: false } });
    expect(await next.get('url').get('/kept')).toBe('K');
    await next.close();
  });
});
