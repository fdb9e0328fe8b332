// A restore on a clock that reads earlier than the snapshot's (set back across the restart, or a file
// from a host whose clock is ahead): an entry written "after now" has an unknown age, and keeping its
// absolute expiry would serve it for as long again as the clock went back. It is left out as expired
// (and predictive warming fetches it again instead), never served past its TTL.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { MemoryCache } from '../../src/engine/memory-cache.js';
import { createCache } from '../../src/cache/create-cache.js';
import { manualClock } from '../helpers/clock.js';
import { scratchDir } from './helpers.js';

let scratch: ReturnType<typeof scratchDir>;
beforeEach(() => {
  scratch = scratchDir();
});
afterEach(() => scratch.remove());

const T = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

describe('a restore on a clock set back', () => {
  it('MemoryCache.load leaves out entries written after its now, instead of extending their TTL', () => {
    const ahead = new MemoryCache<string, string>({ clock: () => T + 60_000, cleanupInterval: 0 });
    ahead.set('written later', 'v', { ttl: HOUR });
    const before = new MemoryCache<string, string>({ clock: () => T, cleanupInterval: 0 });
    before.set('written earlier', 'w', { ttl: HOUR });
    const entries = [...ahead.dump(), ...before.dump()];

    const behind = new MemoryCache<string, string>({ clock: () => T, cleanupInterval: 0 });
    expect(behind.load(entries)).toEqual({ loaded: 1, expired: 1, dropped: 0, invalid: 0 });
    expect(behind.get('written later')).toBeUndefined();
    expect(behind.ttlRemaining('written earlier')).toBe(HOUR);
  });

  it('a persisted cache does not serve it after the restart; persist.warm fetches it again', async () => {
    const path = join(scratch.dir, 'url.snap');
    const clock = manualClock(T + 60_000);
    const first = createCache<string>({
      name: 'url',
      clock: clock.now,
      cleanupInterval: 0,
      persist: { path },
    });
    await first.set('/a', 'old', { ttl: HOUR });
    await first.set('/forever', 'old'); // no TTL
    await first.close(); // the snapshot, taken at T + 1 min

    clock.advance(-60_000); // the next start's clock reads a minute earlier
    const fetched: unknown[] = [];
    const second = createCache<string>({
      name: 'url',
      clock: clock.now,
      cleanupInterval: 0,
      persist: { path, onShutdown: false },
    });
    expect(await second.get('/a')).toBeUndefined();
    expect(await second.get('/forever')).toBeUndefined();
    await second.close();

    const warmed = createCache<string>({
      name: 'url',
      clock: clock.now,
      cleanupInterval: 0,
      persist: {
        path,
        onShutdown: false,
        warm: { top: 10, loader: (key) => (fetched.push(key), 'new') },
      },
    });
    await warmed.ready;
    expect(fetched.sort()).toEqual(['/a', '/forever']);
    expect(await warmed.get('/a')).toBe('new');
    expect(await warmed.ttlRemaining('/a')).toBeLessThanOrEqual(HOUR);
    // Refetched with the lifetime it had: none.
    clock.advance(10 * HOUR);
    expect(await warmed.get('/forever')).toBe('new');
    await warmed.close();
  });
});
