// Times up to MAX_TIME (the largest Date) are valid in a snapshot entry, but the engine takes TTLs of
// at most MAX_DURATION (about 35,000 years): an entry ending later than that from now made load()
// throw halfway, and a persisted cache's creation with it (a start that fails on its snapshot, again at
// every restart). Such an entry is held for MAX_DURATION, which shortens its life and never extends it;
// the same holds for a set whose ttl at the limit plus grace went past it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { MemoryCache } from '../../src/engine/memory-cache.js';
import { createCache } from '../../src/cache/create-cache.js';
import { MAX_TIME } from '../../src/persistence/entries.js';
import { writeSnapshot } from '../../src/persistence/snapshot.js';
import { MAX_DURATION } from '../../src/util/duration.js';
import { entry, scratchDir } from './helpers.js';

let scratch: ReturnType<typeof scratchDir>;
beforeEach(() => {
  scratch = scratchDir();
});
afterEach(() => scratch.remove());

const now = Date.UTC(2026, 0, 1);
const far = entry('far', { createdAt: now, staleAt: MAX_TIME, expiresAt: MAX_TIME, frequency: 1 });
const near = entry('near', { createdAt: now, staleAt: now + 60_000, expiresAt: now + 60_000 });

describe('a snapshot entry ending more than MAX_DURATION from now', () => {
  it('MemoryCache.load loads it (held for MAX_DURATION) with the rest', () => {
    const cache = new MemoryCache<string, unknown>({ clock: () => now, cleanupInterval: 0 });
    expect(cache.load([far, near])).toEqual({ loaded: 2, expired: 0, dropped: 0, invalid: 0 });
    expect(cache.ttlRemaining('far')).toBe(MAX_DURATION);
    expect(cache.get('near')).toBe('v:near');
  });

  it('is restored when a persisted cache starts, instead of failing its creation', async () => {
    const path = join(scratch.dir, 'c.snap');
    await writeSnapshot(path, new Map([['c', [far, near]]]));
    const cache = createCache({ name: 'c', clock: () => now, cleanupInterval: 0, persist: { path } });
    expect(await cache.get('far')).toBe('v:far');
    expect(await cache.get('near')).toBe('v:near');
    await cache.close();
  });

  it('a set whose ttl is at the limit, plus grace, is stored', async () => {
    const cache = createCache<string>({ clock: () => now, cleanupInterval: 0 });
    await cache.set('k', 'v', { ttl: MAX_DURATION, grace: '1d' });
    expect(await cache.get('k')).toBe('v');
    await cache.close();
  });
});
