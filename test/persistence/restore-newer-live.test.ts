// restore() (or cache.load()) on a running cache without a shared tier: a key written after the
// snapshot's entry for it was written keeps its live value; the snapshot's older value used to replace
// it. A snapshot entry newer than the live one (another instance's backup) still replaces it, and keys
// the cache does not hold are restored as before. Ties (same write time) go to the snapshot, as before.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { createCache } from '../../src/cache/create-cache.js';
import { createCacheManager } from '../../src/cache/manager.js';
import { manualClock } from '../helpers/clock.js';
import { scratchDir } from './helpers.js';

let scratch: ReturnType<typeof scratchDir>;
beforeEach(() => {
  scratch = scratchDir();
});
afterEach(() => scratch.remove());

describe('restoring into a running cache', () => {
  it('keeps a value written after the snapshot was taken (manager.restore)', async () => {
    const path = join(scratch.dir, 'backup.snap');
    const clock = manualClock();
    const manager = createCacheManager({
      caches: { plans: {} },
      clock: clock.now,
      defaults: { cleanupInterval: 0 },
    });
    const plans = manager.get<string>('plans');
    await plans.set('k', 'old');
    await plans.set('kept', 'same');
    await manager.backup(path);
    clock.advance(1_000);
    await plans.set('k', 'new');
    await plans.delete('kept');
    const result = await manager.restore(path);
    expect(await plans.get('k')).toBe('new');
    // A key the cache no longer holds is restored: a delete after the snapshot leaves no trace to check.
    expect(await plans.get('kept')).toBe('same');
    expect(result.caches.plans).toEqual({ loaded: 1, expired: 0, dropped: 1, invalid: 0 });
    await manager.close();
  });

  it('cache.load keeps newer live values, and takes newer snapshot ones', async () => {
    const clock = manualClock();
    const a = createCache<string>({ name: 'a', clock: clock.now, cleanupInterval: 0 });
    const b = createCache<string>({ name: 'b', clock: clock.now, cleanupInterval: 0 });
    await b.set('older-live', 'b1'); // written before a's entry for it
    clock.advance(10);
    await a.set('older-live', 'a1');
    await a.set('newer-live', 'a2');
    await a.set('tie', 'a3');
    await b.set('tie', 'b3');
    clock.advance(10);
    await b.set('newer-live', 'b2');
    const entries = a.dump();
    clock.advance(10);
    expect(b.load(entries)).toEqual({ loaded: 2, expired: 0, dropped: 1, invalid: 0 });
    expect(await b.get('older-live')).toBe('a1');
    expect(await b.get('newer-live')).toBe('b2');
    expect(await b.get('tie')).toBe('a3');
    await Promise.all([a.close(), b.close()]);
  });

  it('keeps a newer value inside a namespace too', async () => {
    const clock = manualClock();
    const cache = createCache<string>({ name: 'ns', clock: clock.now, cleanupInterval: 0 });
    const users = cache.namespace('users');
    await users.set('1', 'old');
    const entries = users.dump();
    clock.advance(5);
    await users.set('1', 'new');
    users.load(entries);
    expect(await users.get('1')).toBe('new');
    await cache.close();
  });
});
