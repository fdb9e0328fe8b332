// A snapshot written without sizes (no maxBytes, no sizeOf) restored by a build that measures with a
// sizeOf of its own, which throws on a value of the old shape: the entry is left out and counted as
// invalid, and the rest loads. The sizeOf's error used to escape load(), so createCache threw at start
// (against "start-up never fails because of a snapshot") and manager.restore() rejected half done.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { MemoryCache } from '../../src/engine/memory-cache.js';
import { createCache } from '../../src/cache/create-cache.js';
import { createCacheManager } from '../../src/cache/manager.js';
import { entry, scratchDir } from './helpers.js';

interface Doc {
  payload?: string;
  text?: string;
}

// The new build's sizeOf reads a field the old values do not have.
const sizeOf = (doc: unknown): number => (doc as Doc).payload!.length;

let scratch: ReturnType<typeof scratchDir>;
beforeEach(() => {
  scratch = scratchDir();
});
afterEach(() => scratch.remove());

/** A snapshot file, written by a cache that did not measure, holding an old-shaped and a new-shaped value. */
async function oldSnapshot(path: string): Promise<void> {
  const before = createCache<Doc>({ name: 'docs', persist: { path } });
  await before.set('old', { text: 'written before payload existed' });
  await before.set('new', { payload: 'abc' });
  expect(before.dump().every((e) => e.size === 0)).toBe(true);
  await before.close();
}

describe('a restore whose sizeOf throws on a snapshot value', () => {
  it('starts a persisted cache with the entries it can measure', async () => {
    const path = join(scratch.dir, 'docs.snap');
    await oldSnapshot(path);
    const cache = createCache<Doc>({ name: 'docs', maxBytes: 10_000, sizeOf, persist: { path } });
    expect(await cache.get('new')).toEqual({ payload: 'abc' });
    expect(await cache.get('old')).toBeUndefined();
    expect(cache.stats().size).toBe(1);
    await cache.close();
  });

  it('lets manager.restore() resolve, counting the entry as invalid', async () => {
    const path = join(scratch.dir, 'docs.snap');
    await oldSnapshot(path);
    const manager = createCacheManager({ caches: { docs: { maxBytes: 10_000, sizeOf } } });
    const result = await manager.restore(path);
    expect(result).toMatchObject({ restored: true, loaded: 1, invalid: 1, dropped: 0 });
    expect(result.caches.docs).toMatchObject({ loaded: 1, invalid: 1 });
    expect(await manager.get<Doc>('docs').get('new')).toEqual({ payload: 'abc' });
    await manager.close();
  });

  it('MemoryCache.load leaves the entry out and loads the rest', () => {
    const cache = new MemoryCache<string, unknown>({ maxBytes: 1_000, sizeOf });
    const result = cache.load([
      entry('old', { value: { text: 'x' }, frequency: 3 }),
      entry('new', { value: { payload: 'abcd' } }),
    ]);
    expect(result).toEqual({ loaded: 1, expired: 0, dropped: 0, invalid: 1 });
    expect(cache.has('old')).toBe(false);
    expect(cache.get('new')).toEqual({ payload: 'abcd' });
    expect(cache.stats().bytes).toBe(4);
  });
});
