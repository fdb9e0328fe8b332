// Warm restarts through the facade: cache.dump()/load(), the `persist` option of createCache and
// createCacheManager (restore before the first request, snapshot on close), manager.snapshot/restore,
// and a bad snapshot that leaves the cache empty instead of failing start-up.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCache } from '../../src/cache/create-cache.js';
import { createCacheManager } from '../../src/cache/manager.js';
import { manualClock } from '../helpers/clock.js';
import { consoleLogger } from '../helpers/logger.js';
import { scratchDir } from '../persistence/helpers.js';

let scratch: ReturnType<typeof scratchDir>;
beforeEach(() => {
  scratch = scratchDir();
});
afterEach(() => scratch.remove());

describe('cache.dump() / cache.load()', () => {
  it('round-trips entries with their freshness, grace and tags, and TTLs stay honest', async () => {
    const clock = manualClock();
    const before = createCache<unknown>({ name: 'plans', clock: clock.now, cleanupInterval: 0 });
    await before.set(
      'a',
      { plan: 'basic', since: new Date(0) },
      { ttl: '10s', grace: '1m', tags: ['org:1'] },
    );
    await before.set('b', new Map([[1, 2]]), { ttl: '1s' });
    await before.set('c', 'forever');
    const dumped = before.dump();
    expect(dumped.map((e) => e.key).sort()).toEqual(['a', 'b', 'c']);
    expect(dumped.find((e) => e.key === 'a')).toMatchObject({
      staleAt: clock.now() + 10_000,
      expiresAt: clock.now() + 70_000,
      tags: ['org:1'],
    });

    clock.advance(4_000); // the restart took four seconds: 'b' has expired meanwhile
    const after = createCache<unknown>({ name: 'plans', clock: clock.now, cleanupInterval: 0, ttl: '1h' });
    expect(after.load(dumped)).toEqual({ loaded: 2, expired: 1, dropped: 0, invalid: 0 });
    expect(await after.get('a')).toEqual({ plan: 'basic', since: new Date(0) });
    expect(await after.ttlRemaining('a')).toBe(6_000);
    expect(await after.get('b')).toBeUndefined();
    expect(await after.ttlRemaining('c')).toBe(Infinity);
    // Grace survives: after staleAt the value is stale (not fresh), yet still held for fail-safe.
    clock.advance(7_000);
    expect(await after.get('a')).toBeUndefined();
    expect(after.entries().find((e) => e.key === 'a')?.stale).toBe(true);
    expect(await after.invalidateTags(['org:1'])).toBe(1);
    await Promise.all([before.close(), after.close()]);
  });

  it('keeps a namespace inside its own key space', async () => {
    const root = createCache<string>({ name: 'root', cleanupInterval: 0 });
    const images = root.namespace('images');
    await images.set('x', 'img', { tags: ['t'] });
    await root.set('y', 'plain');
    const dumped = images.dump();
    expect(dumped.map((e) => e.key)).toEqual(['x']);
    const other = createCache<string>({ name: 'other', cleanupInterval: 0 });
    other.namespace('images').load(dumped);
    expect(await other.namespace('images').get('x')).toBe('img');
    expect(await other.get('x')).toBeUndefined();
    expect(await other.namespace('images').invalidateTags(['t'])).toBe(1);
    await Promise.all([root.close(), other.close()]);
  });

  it("keeps a namespace's tags its own across dump() and load() from the root", async () => {
    const root = createCache<string>({ name: 'root', cleanupInterval: 0 });
    const users = root.namespace('users');
    const admins = users.namespace('admins');
    await users.set('42', 'Ada', { tags: ['org:1'] });
    await admins.set('7', 'Grace', { tags: ['org:1'] });
    await root.set('plain', 'root', { tags: ['org:1'] });
    await users.set('untagged', 'x');
    const dumped = root.dump();
    const scopes = Object.fromEntries(dumped.map((e) => [e.key, e.scope]));
    expect(scopes).toEqual({
      'users:42': 'users:',
      'users:admins:7': 'users:admins:',
      plain: undefined,
      'users:untagged': undefined,
    });
    // Relative to the namespace that dumps: its own entries need none, a nested one's is relative.
    expect(users.dump().map((e) => [e.key, e.scope])).toEqual(
      expect.arrayContaining([
        ['42', undefined],
        ['admins:7', 'admins:'],
      ]),
    );

    const after = createCache<string>({ name: 'root', cleanupInterval: 0 });
    after.load(dumped);
    expect(await after.namespace('users').invalidateTags(['org:1'])).toBe(1);
    expect(await after.namespace('users').get('42')).toBeUndefined();
    expect(await after.get('plain')).toBe('root');
    expect(await after.namespace('users').namespace('admins').invalidateTags(['org:1'])).toBe(1);
    // A namespace's dump loaded into the same namespace elsewhere keeps its nested scopes too.
    const again = createCache<string>({ name: 'root', cleanupInterval: 0 });
    again.namespace('users').load(users.dump());
    expect(await again.namespace('users').namespace('admins').invalidateTags(['org:1'])).toBe(1);
    expect(await again.namespace('users').invalidateTags(['org:1'])).toBe(1);
    // A scope the key does not start with is not trusted: the entry loads with its tags unscoped.
    const forged = createCache<string>({ name: 'root', cleanupInterval: 0 });
    forged.load([{ ...dumped.find((e) => e.key === 'plain')!, scope: 'users:' }]);
    expect(await forged.namespace('users').invalidateTags(['org:1'])).toBe(0);
    await Promise.all([root.close(), after.close(), again.close(), forged.close()]);
  });

  it('into a smaller cache, keeps the most recently written entries', async () => {
    const clock = manualClock();
    const big = createCache<number>({ name: 'c', maxEntries: 50, clock: clock.now, cleanupInterval: 0 });
    for (let i = 0; i < 50; i++) {
      clock.advance(1);
      await big.set(i, i);
    }
    const small = createCache<number>({ name: 'c', maxEntries: 5, clock: clock.now, cleanupInterval: 0 });
    expect(small.load(big.dump())).toEqual({ loaded: 5, expired: 0, dropped: 45, invalid: 0 });
    expect(
      small
        .entries()
        .map((e) => Number(e.key))
        .sort((a, b) => a - b),
    ).toEqual([45, 46, 47, 48, 49]);
    await Promise.all([big.close(), small.close()]);
  });

  it('names a bad argument, and counts invalid entries instead of throwing on them', () => {
    const cache = createCache({ cleanupInterval: 0 });
    expect(() => cache.load('x' as never)).toThrow(/load\(entries\) must be an array/);
    expect(cache.load([{ key: 'k' }] as never)).toEqual({ loaded: 0, expired: 0, dropped: 0, invalid: 1 });
    void cache.close();
  });
});

describe('the persist option', () => {
  it('snapshots on close and restores before the first request of the next start', async () => {
    const path = join(scratch.dir, 'url.snap');
    const first = createCache<string>({ name: 'url', persist: { path } });
    await first.set('/a', 'A', { ttl: '1h' });
    await first.set('/b', 'B');
    expect(existsSync(path)).toBe(false);
    await first.close();
    expect(existsSync(path)).toBe(true);

    const second = createCache<string>({ name: 'url', persist: { path } });
    // No await between creation and the read: the restore happened during createCache.
    expect(
      second
        .entries()
        .map((e) => e.key)
        .sort(),
    ).toEqual(['/a', '/b']);
    expect(await second.get('/a')).toBe('A');
    await second.close();
  });

  it("restores a namespace's entries where its invalidateTags reaches them", async () => {
    const path = join(scratch.dir, 'users.snap');
    const first = createCache<string>({ name: 'app', persist: { path } });
    await first.namespace('users').set('42', 'Ada', { tags: ['org:1'] });
    await first.set('users:43', 'root-written', { tags: ['org:1'] });
    await first.close();
    const second = createCache<string>({ name: 'app', persist: { path } });
    const users = second.namespace('users');
    expect(await users.invalidateTags(['org:1'])).toBe(1);
    expect(await users.get('42')).toBeUndefined();
    expect(await users.get('43')).toBe('root-written');
    await second.close();
  });

  it("warms a namespace's stale entry back into the namespace's tag space", async () => {
    const path = join(scratch.dir, 'warm.snap');
    const clock = manualClock();
    const first = createCache<string>({ name: 'app', clock: clock.now, persist: { path } });
    await first.namespace('users').set('42', 'old', { ttl: '1s', tags: ['org:1'] });
    await first.close();
    clock.advance(5_000);
    const second = createCache<string>({
      name: 'app',
      clock: clock.now,
      persist: { path, warm: { top: 1, loader: () => 'new' } },
    });
    await second.ready;
    const users = second.namespace('users');
    expect(await users.get('42')).toBe('new');
    expect(await users.invalidateTags(['org:1'])).toBe(1);
    await second.close();
  });

  it('starts empty, with one clear log line, from a corrupt snapshot', async () => {
    const path = join(scratch.dir, 'url.snap');
    const first = createCache<string>({ name: 'url', persist: { path } });
    await first.set('k', 'v');
    await first.close();
    const bytes = readFileSync(path);
    bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0xff;
    writeFileSync(path, bytes);
    const { logger, lines } = consoleLogger();
    const second = createCache<string>({ name: 'url', persist: { path, onShutdown: false }, logger });
    expect(second.entries()).toEqual([]);
    const errors = lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/^Cache RESTORE refused .*url\.snap: snapshot refused \(corrupt\)/);
    await second.close();
  });

  it('names a bad persist option at creation', () => {
    expect(() => createCache({ persist: { path: '' } })).toThrow(/persist.path/);
    expect(() => createCache({ persist: { path: 'x', interval: 'soon' } })).toThrow(/persist.interval/);
  });
});

describe('manager snapshots', () => {
  it('snapshot() and restore() carry every cache through one file', async () => {
    const path = join(scratch.dir, 'all.snap');
    const caches = { url: { maxEntries: 100 }, user: { maxEntries: 10 } };
    const a = createCacheManager({ caches });
    await a.get('url').set('/x', 1);
    await a.get('user').set('u1', { name: 'Ada' });
    const written = await a.snapshot(path);
    expect(written.entries).toBe(2);
    const b = createCacheManager({ caches: { ...caches, extra: {} } });
    const restored = await b.restore(path);
    expect(restored).toMatchObject({ restored: true, loaded: 2 });
    expect(await b.get('user').get('u1')).toEqual({ name: 'Ada' });
    expect(await b.get('url').get('/x')).toBe(1);
    await Promise.all([a.close(), b.close()]);
  });

  it('persists on close and restores at creation with the persist option', async () => {
    const path = join(scratch.dir, 'mgr.snap');
    const a = createCacheManager({ caches: { url: {}, user: {} }, persist: { path } });
    await a.get('user').set('u', 'U');
    await a.close();
    const b = createCacheManager({ caches: { url: {}, user: {} }, persist: { path } });
    expect(await b.get('user').get('u')).toBe('U');
    await b.close();
  });

  it('refuses defaults.persist and a snapshot without a path', async () => {
    expect(() => createCacheManager({ defaults: { persist: { path: 'x' } } })).toThrow(/defaults.persist/);
    const m = createCacheManager({ caches: { a: {} } });
    await expect(m.snapshot()).rejects.toThrow(/snapshot\(path\): path must be a non-empty string/);
    await expect(m.restore()).rejects.toThrow(TypeError);
    await m.close();
  });
});
