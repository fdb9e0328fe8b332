// A manager restores its caches from the snapshot at start; a cache made with create() after start gets
// its section of that snapshot as the startup caches do (expired entries skipped), and a snapshot
// written while a section read at start has no live cache keeps that section (its expired entries
// left out) instead of dropping it. Both were lost: the late cache started empty, and the next write
// of the file dropped its saved entries for good.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { createCacheManager } from '../../src/cache/manager.js';
import { readSnapshot } from '../../src/persistence/snapshot.js';
import { manualClock } from '../helpers/clock.js';
import { recordingLogger, scratchDir } from './helpers.js';

let scratch: ReturnType<typeof scratchDir>;
beforeEach(() => {
  scratch = scratchDir();
});
afterEach(() => scratch.remove());

/** Writes a snapshot of a manager with `url` and `user`; `user` holds one 10 s and one untimed entry. */
async function saved(path: string, clock: ReturnType<typeof manualClock>): Promise<void> {
  const first = createCacheManager({ caches: { url: {}, user: {} }, clock: clock.now, persist: { path } });
  await first.get('url').set('/a', 'A');
  await first.get('user').set('short', 'S', { ttl: '10s' });
  await first.get('user').set('long', 'L', { tags: ['t'] });
  await first.close();
}

describe('a cache created after the manager started', () => {
  it('gets its section of the snapshot restored, expired entries skipped', async () => {
    const path = join(scratch.dir, 'mgr.snap');
    const clock = manualClock();
    await saved(path, clock);
    clock.advance(20_000); // 'short' expires while the process is down
    const manager = createCacheManager({ caches: { url: {} }, clock: clock.now, persist: { path } });
    expect(await manager.get('url').get('/a')).toBe('A');
    const user = manager.create<string>('user');
    expect(await user.get('long')).toBe('L');
    expect(await user.get('short')).toBeUndefined();
    expect(user.stats().size).toBe(1);
    // Restored with its tags, as at start.
    expect(await user.invalidateTags(['t'])).toBe(1);
    await manager.close();
  });

  it('is warmed with persist.warm, and the start logs the kept section at info, not as skipped', async () => {
    const path = join(scratch.dir, 'mgr.snap');
    const clock = manualClock();
    await saved(path, clock);
    clock.advance(20_000);
    const { logger, lines } = recordingLogger();
    const manager = createCacheManager({
      caches: { url: {} },
      clock: clock.now,
      logger,
      persist: { path, warm: { top: 5, loader: (key) => `fetched ${String(key)}` } },
    });
    await manager.ready;
    expect(lines.some((l) => l.level === 'warn' && /unknown cache/.test(l.message))).toBe(false);
    expect(lines.some((l) => l.level === 'info' && /not created yet/.test(l.message))).toBe(true);
    const user = manager.create<string>('user');
    await user.ready;
    expect(await user.get('short')).toBe('fetched short');
    expect(await user.get('long')).toBe('L');
    await manager.close();
  });

  it('keeps its saved section in snapshots written before it exists', async () => {
    const path = join(scratch.dir, 'mgr.snap');
    const clock = manualClock();
    await saved(path, clock);
    const manager = createCacheManager({ caches: { url: {} }, clock: clock.now, persist: { path } });
    await manager.snapshot();
    clock.advance(20_000);
    await manager.snapshot(); // 'short' has expired by now: left out of the carried section
    const content = await readSnapshot(path);
    expect([...content!.caches.keys()].sort()).toEqual(['url', 'user']);
    expect(content!.caches.get('user')!.map((e) => e.key)).toEqual(['long']);
    await manager.close();

    // And the shutdown snapshot kept it too: a later start with the cache configured gets it back.
    const later = createCacheManager({ caches: { url: {}, user: {} }, clock: clock.now, persist: { path } });
    expect(await later.get('user').get('long')).toBe('L');
    await later.close();
  });

  it('writes its own entries, not the carried section, once it exists', async () => {
    const path = join(scratch.dir, 'mgr.snap');
    const clock = manualClock();
    await saved(path, clock);
    const manager = createCacheManager({ caches: { url: {} }, clock: clock.now, persist: { path } });
    const user = manager.create<string>('user');
    await user.delete('long');
    await user.set('new', 'N');
    await manager.snapshot();
    const content = await readSnapshot(path);
    expect(
      content!.caches
        .get('user')!
        .map((e) => e.key)
        .sort(),
    ).toEqual(['new', 'short']);
    await manager.close();
  });
});
