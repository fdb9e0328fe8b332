// syncView: synchronous reads of L1 and writes through the cache's own write path (L1 at once, the
// shared tier in the background, failures reported rather than thrown).
import { afterEach, describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import { syncView } from '../../src/cache/sync-view.js';
import type { Cache } from '../../src/cache/types.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { memoryTier } from '../../src/tiers/redis-tier.js';
import { SharedTier } from '../../src/tiers/shared-tier.js';
import { manualClock } from '../helpers/clock.js';
import { consoleLogger } from '../helpers/logger.js';
import { ChaosDriver } from '../tiers/chaos-driver.js';

const open: Cache<any>[] = [];
const track = <C extends Cache<any>>(cache: C): C => {
  open.push(cache);
  return cache;
};
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

describe('syncView', () => {
  it('reads fresh values synchronously and counts get() as a hit or a miss', async () => {
    const clock = manualClock();
    const cache = track(createCache<string[]>({ ttl: 1000, clock: clock.now }));
    const view = syncView(cache);
    expect(view.get(1)).toBeUndefined();
    await cache.set(1, ['a']);
    expect(view.get(1)).toEqual(['a']);
    expect(view.peek(1)).toEqual(['a']);
    expect(view.has(1)).toBe(true);
    expect(view.ttlRemaining(1)).toBe(1000);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1 });
    clock.advance(999);
    expect(view.ttlRemaining(1)).toBe(1);
    clock.advance(1);
    expect([view.get(1), view.peek(1), view.has(1), view.ttlRemaining(1)]).toEqual([
      undefined,
      undefined,
      false,
      undefined,
    ]);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 2 });
  });

  it('writes L1 before set() returns, with the TTL given, visible to the async facade', async () => {
    const clock = manualClock();
    const cache = track(createCache<number>({ ttl: '5m', clock: clock.now }));
    const view = syncView(cache);
    view.set('a', 1);
    view.set('b', 2, { ttl: 100 });
    expect([view.get('a'), view.get('b')]).toEqual([1, 2]);
    expect(await cache.get('a')).toBe(1);
    expect(view.ttlRemaining('a')).toBe(300_000);
    expect(view.size()).toBe(2);
    clock.advance(100);
    expect(view.has('b')).toBe(false);
    expect(view.has('a')).toBe(true);
  });

  it('delete() and clear() take effect at once and say what L1 held', async () => {
    const cache = track(createCache<number>({ ttl: '1m' }));
    const view = syncView(cache);
    view.set('a', 1);
    view.set('b', 2);
    expect(view.delete('a')).toBe(true);
    expect(view.delete('a')).toBe(false);
    expect(view.get('a')).toBeUndefined();
    expect(await cache.get('a')).toBeUndefined();
    view.clear();
    expect(view.size()).toBe(0);
    expect(view.has('b')).toBe(false);
  });

  it('keeps a namespace to its own keys', () => {
    const root = track(createCache<number>({ ttl: '1m' }));
    const users = syncView(root.namespace('users'));
    const orgs = syncView(root.namespace('orgs'));
    users.set(1, 10);
    orgs.set(1, 20);
    expect([users.get(1), orgs.get(1)]).toEqual([10, 20]);
    expect([users.size(), orgs.size(), syncView(root).size()]).toEqual([1, 1, 2]);
    users.clear();
    expect([users.has(1), orgs.has(1)]).toEqual([false, true]);
  });

  it('answers nothing while the cache is disabled, and honours validate', () => {
    const cache = track(createCache<unknown>({ ttl: '1m', validate: (v: unknown) => typeof v === 'number' }));
    const view = syncView(cache);
    view.set('n', 1);
    view.set('s', 'not a number');
    expect([view.get('n'), view.get('s'), view.has('s')]).toEqual([1, undefined, false]);
    cache.configure({ enabled: false });
    expect([view.get('n'), view.has('n'), view.peek('n')]).toEqual([undefined, false, undefined]);
  });

  it('sees L1 only: a value only the shared tier holds is a miss until the async facade reads it', async () => {
    const driver = new MemoryDriver();
    const a = track(createCache<string>({ name: 'c', ttl: '1m', l2: memoryTier({ driver }) }));
    const b = track(createCache<string>({ name: 'c', ttl: '1m', l2: memoryTier({ driver }) }));
    syncView(a).set('k', 'from a');
    await a.set('k2', 'awaited');
    const viewB = syncView(b);
    expect(viewB.get('k2')).toBeUndefined();
    expect(await b.get('k2')).toBe('awaited');
    expect(viewB.get('k2')).toBe('awaited');
  });

  it('reports a failed shared-tier write instead of throwing; L1 keeps the value', async () => {
    const chaos = new ChaosDriver(new MemoryDriver());
    const { logger, lines } = consoleLogger();
    const cache = track(
      createCache<string>({ name: 'c', ttl: '1m', l2: new SharedTier({ driver: chaos }), logger }),
    );
    chaos.mode = 'fail';
    const view = syncView(cache);
    expect(() => view.set('k', 'v')).not.toThrow();
    expect(view.get('k')).toBe('v');
    expect(() => view.delete('k')).not.toThrow();
    expect(view.has('k')).toBe(false);
    // The write's own promise settles in the background; an unhandled rejection would fail the run.
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(lines.filter((l) => l.level === 'error').map((l) => l.message)).toEqual([
      expect.stringMatching(/^L2 chaos unavailable/),
    ]);
  });

  it('refuses bad arguments at once, naming them', () => {
    const view = syncView(track(createCache()));
    expect(() => view.get(null as never)).toThrow(/get: key must be a string or a number/);
    expect(() => view.set({} as never, 1)).toThrow(TypeError);
    expect(() => view.set('k', 1, { ttl: -5 })).toThrow(/ttl/);
    expect(() => view.has(Number.NaN)).toThrow(/has: key must be a string or a finite number/);
    expect(() => syncView({} as never)).toThrow(/syncView\(cache\) needs a cache/);
  });
});
