// The shutdown snapshot holds the caches as they were when close() was called, and close() resolves only
// once it is written, however often it is called. A manager used to dump its caches when the snapshot's
// turn came and close them only after it was written: a delete in between was acknowledged (true) and
// still restored at the next start. And a second close() resolved before the first one's file was
// written, so a process that exits after it restarted from an older snapshot (a single cache's too).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createCacheManager } from '../../src/cache/manager.js';
import { createCache } from '../../src/cache/create-cache.js';
import { nodeSnapshotFs } from '../../src/util/atomic-write.js';
import type { SnapshotFs } from '../../src/persistence/types.js';
import { scratchDir } from './helpers.js';

let scratch: ReturnType<typeof scratchDir>;
beforeEach(() => {
  scratch = scratchDir();
});
afterEach(() => scratch.remove());

/** node:fs whose renames wait for `release()`; `renaming` resolves when the first one waits. */
function gatedFs(): { fs: SnapshotFs; renaming: Promise<void>; release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let arrived!: () => void;
  const renaming = new Promise<void>((resolve) => (arrived = resolve));
  const fs: SnapshotFs = {
    ...nodeSnapshotFs,
    async rename(from, to) {
      arrived();
      await gate;
      await nodeSnapshotFs.rename(from, to);
    },
  };
  return { fs, renaming, release };
}

// Lets every pending callback and I/O completion of this turn run.
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('the shutdown snapshot of a manager', () => {
  it('never restores what a delete acknowledged after close() began removed', async () => {
    const path = join(scratch.dir, 'caches.snap');
    const gated = gatedFs();
    const manager = createCacheManager({ caches: { a: {} }, persist: { path, fs: gated.fs } as never });
    const a = manager.get<number>('a');
    await a.set('k', 1);
    await a.set('kept', 2);
    const closing = manager.close();
    // While the shutdown snapshot is being written:
    await gated.renaming;
    const removed = await a.delete('k');
    await a.set('late', 3);
    gated.release();
    await closing;

    const next = createCacheManager({ caches: { a: {} }, persist: { path } });
    const restored = next.get<number>('a');
    // The delete was refused (the cache was closing), not acknowledged and then undone by the restore.
    expect(removed).toBe(false);
    expect(await restored.get('k')).toBe(1);
    expect(await restored.get('kept')).toBe(2);
    expect(await restored.get('late')).toBeUndefined();
    await next.close();
  });

  it('writes what the caches held at close() when a periodic snapshot was still being written', async () => {
    const path = join(scratch.dir, 'caches.snap');
    const gated = gatedFs();
    const manager = createCacheManager({ caches: { a: {} }, persist: { path, fs: gated.fs } as never });
    const a = manager.get<number>('a');
    await a.set('k', 1);
    const periodic = manager.snapshot();
    await gated.renaming;
    // The periodic write holds k; then k is deleted and the manager closed while that write waits.
    expect(await a.delete('k')).toBe(true);
    await a.set('j', 2);
    const closing = manager.close();
    expect(await a.delete('j')).toBe(false);
    gated.release();
    await periodic;
    await closing;

    const next = createCacheManager({ caches: { a: {} }, persist: { path } });
    expect(await next.get('a').get('k')).toBeUndefined();
    expect(await next.get('a').get('j')).toBe(2);
    await next.close();
  });

  it('a second close() resolves only once the shutdown snapshot is written', async () => {
    const path = join(scratch.dir, 'caches.snap');
    const gated = gatedFs();
    const manager = createCacheManager({ caches: { a: {} }, persist: { path, fs: gated.fs } as never });
    await manager.get('a').set('k', 1);
    const first = manager.close();
    let secondDone = false;
    const second = manager.close().then(() => {
      secondDone = true;
    });
    await gated.renaming;
    await settle();
    expect(secondDone).toBe(false);
    expect(existsSync(path)).toBe(false);
    gated.release();
    await Promise.all([first, second]);
    expect(existsSync(path)).toBe(true);

    const next = createCacheManager({ caches: { a: {} }, persist: { path } });
    expect(await next.get('a').get('k')).toBe(1);
    await next.close();
  });

  it('takes no shutdown snapshot with onShutdown: false', async () => {
    const path = join(scratch.dir, 'caches.snap');
    const manager = createCacheManager({ caches: { a: {} }, persist: { path, onShutdown: false } });
    await manager.get('a').set('k', 1);
    await manager.close();
    await manager.close();
    expect(existsSync(path)).toBe(false);
  });
});

describe('the shutdown snapshot of a cache', () => {
  it('a second close() resolves only once the shutdown snapshot is written', async () => {
    const path = join(scratch.dir, 'cache.snap');
    const gated = gatedFs();
    const cache = createCache<number>({ name: 'a', persist: { path, fs: gated.fs } as never });
    await cache.set('k', 1);
    const first = cache.close();
    let secondDone = false;
    const second = cache.close().then(() => {
      secondDone = true;
    });
    await gated.renaming;
    await settle();
    expect(secondDone).toBe(false);
    expect(existsSync(path)).toBe(false);
    gated.release();
    await Promise.all([first, second]);
    expect(existsSync(path)).toBe(true);

    const next = createCache<number>({ name: 'a', persist: { path } });
    expect(await next.get('k')).toBe(1);
    await next.close();
  });

  it("a namespace's close() stays a no-op", async () => {
    const path = join(scratch.dir, 'cache.snap');
    const cache = createCache<number>({ name: 'a', persist: { path } });
    await cache.namespace('n').set('k', 1);
    await cache.namespace('n').close();
    expect(await cache.namespace('n').get('k')).toBe(1);
    await cache.close();
    await cache.close();
    expect(existsSync(path)).toBe(true);
  });
});
