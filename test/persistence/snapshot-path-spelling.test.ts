// Writes of one snapshot file run in the order they were asked for, however its path is spelled:
// `dir/caches.snap`, `dir/./caches.snap` and `dir/sub/../caches.snap` are one file. The queue was
// keyed by the path as spelled, so a backup(path) spelled otherwise than persist.path, asked for after
// a delete, could be renamed over by an earlier, slower snapshot holding what the delete removed.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createCacheManager } from '../../src/cache/manager.js';
import { gatedFs, scratchDir } from './helpers.js';

let scratch: ReturnType<typeof scratchDir>;
beforeEach(() => {
  scratch = scratchDir();
});
afterEach(() => scratch.remove());

describe('snapshots of one file spelled two ways', () => {
  it('run in call order: a backup after a delete is never overwritten by an earlier snapshot', async () => {
    mkdirSync(join(scratch.dir, 'sub'));
    const spelled = `${scratch.dir}/sub/../caches.snap`;
    const path = join(scratch.dir, 'caches.snap');
    const gated = gatedFs();
    const caches = { url: { maxEntries: 100 } };
    const manager = createCacheManager({
      caches,
      persist: { path: spelled, onShutdown: false, fs: gated.fs } as never,
    });
    const url = manager.get<string>('url');
    await url.set('/gone', 'removed');
    await url.set('/kept', 'K');

    const earlier = manager.snapshot(); // dumps both keys, then its rename waits
    await gated.renaming;
    await url.delete('/gone');
    const later = manager.backup(path); // the same file, asked for after the delete
    // Run alongside (the bug), the later write renames before the earlier one; in order, it waits.
    if (gated.opens() === 2) await gated.renamed;
    gated.release();
    await Promise.all([earlier, later]);
    await manager.close();

    const next = createCacheManager({ caches, persist: { path, onShutdown: false } });
    expect(await next.get('url').get('/kept')).toBe('K');
    expect(await next.get('url').get('/gone')).toBeUndefined();
    await next.close();
  });
});
