// Read-your-writes on one instance (issue 10, items 1 and 2): once a write or invalidation has resolved,
// no getOrSet started afterwards joins a load that began before it, and that load's result is not
// stored; a loader that never settles wedges nothing. Races are driven by deferreds, not sleeps.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildCache } from '../../src/cache/create-cache.js';
import type { Cache } from '../../src/cache/types.js';
import { CacheError, CacheErrorType } from '../../src/errors.js';
import { MemoryBusHub } from '../../src/tiers/bus.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { memoryTier } from '../../src/tiers/redis-tier.js';
import { deferred } from './helpers.js';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** A loader that never settles (and ignores its abort signal). */
const hung = (): Promise<string> => new Promise<string>(() => {});

/** Lets the in-process bus deliver a message (it batches per tick), as test/tiers does. */
const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

interface WriteKind {
  name: string;
  /** The cache the race runs on and the key it loads. */
  setup: (root: Cache<string>) => { view: Cache<string>; key: string; tags?: string[] };
  /** The write that must detach the load in flight. */
  write: (root: Cache<string>, view: Cache<string>) => Promise<unknown>;
  /** What a read after the write must answer when the key is loaded again (`new`) or was set. */
  after: 'reload' | 'set';
}

const KINDS: WriteKind[] = [
  {
    name: 'delete',
    setup: (root) => ({ view: root, key: 'k' }),
    write: (_root, view) => view.delete('k'),
    after: 'reload',
  },
  {
    name: 'set',
    setup: (root) => ({ view: root, key: 'k' }),
    write: (_root, view) => view.set('k', 'written'),
    after: 'set',
  },
  {
    name: 'invalidateTags (tags chosen by the loader)',
    setup: (root) => ({ view: root, key: 'k', tags: ['org:acme'] }),
    write: (_root, view) => view.invalidateTags(['org:acme']),
    after: 'reload',
  },
  {
    name: 'invalidatePattern',
    setup: (root) => ({ view: root, key: 'plans:acme:1' }),
    write: (_root, view) => view.invalidatePattern('plans:acme:*'),
    after: 'reload',
  },
  {
    name: 'root clear()',
    setup: (root) => ({ view: root, key: 'k' }),
    write: (root) => root.clear(),
    after: 'reload',
  },
  {
    name: 'namespace clear()',
    setup: (root) => ({ view: root.namespace('images'), key: 'x' }),
    write: (_root, view) => view.clear(),
    after: 'reload',
  },
  {
    name: 'namespace invalidateTags',
    setup: (root) => ({ view: root.namespace('images'), key: 'x', tags: ['t'] }),
    write: (_root, view) => view.invalidateTags(['t']),
    after: 'reload',
  },
  {
    name: 'root invalidateTags reaching a namespace',
    setup: (root) => ({ view: root.namespace('images'), key: 'x', tags: ['t'] }),
    write: (root) => root.invalidateTags(['t']),
    after: 'reload',
  },
];

describe('read-your-writes: a write detaches the loads in flight it reaches', () => {
  for (const kind of KINDS) {
    it(`${kind.name}: a getOrSet started after it loads afresh; the older load is not stored`, async () => {
      const root = buildCache<string>({ ttl: '1m', retry: false });
      const { view, key, tags } = kind.setup(root);
      const gateA = deferred<string>();
      const loaderA = vi.fn(async (ctx: { setTags(t: readonly string[]): void }) => {
        const value = await gateA.promise;
        if (tags !== undefined) ctx.setTags(tags); // tags known only when the loader returns
        return value;
      });
      const a = view.getOrSet(key, loaderA);
      expect(loaderA).toHaveBeenCalledTimes(1);

      await kind.write(root, view);

      const loaderB = vi.fn(() => 'new');
      const b = view.getOrSet(key, loaderB);
      // Released before B is awaited: had B joined A's load, it would answer 'old'.
      gateA.resolve('old');
      const expected = kind.after === 'set' ? 'written' : 'new';
      await expect(b).resolves.toBe(expected);
      expect(loaderB).toHaveBeenCalledTimes(kind.after === 'set' ? 0 : 1);

      // The caller that was already waiting gets the old answer, but it is never stored.
      await expect(a).resolves.toBe('old');
      expect(await view.get(key)).toBe(expected);
      await root.close();
    });
  }

  it('a set() cannot be overwritten by a load that started before it, even before anyone reads', async () => {
    const cache = buildCache<string>({ ttl: '1m' });
    const gate = deferred<string>();
    const a = cache.getOrSet('k', () => gate.promise);
    await cache.set('k', 'written');
    gate.resolve('old');
    await a;
    expect(await cache.get('k')).toBe('written');
    await cache.close();
  });

  it('a load started while the write awaited its tiers is not joined after the write resolves', async () => {
    // The write's L2 step is held open; a load that starts meanwhile must be detached when it ends.
    const driver = new MemoryDriver();
    const cache = buildCache<string>({
      ttl: '1m',
      retry: false,
      l2: memoryTier({ driver, hub: new MemoryBusHub(), instanceId: 'A' }),
    });
    const gateDelete = deferred<void>();
    const original = driver.delete.bind(driver);
    vi.spyOn(driver, 'delete').mockImplementation(async (...args) => {
      await gateDelete.promise;
      return original(...args);
    });
    const deleting = cache.delete('k');
    const gateDuring = deferred<string>();
    const during = cache.getOrSet('k', () => gateDuring.promise);
    await tick(); // lets the L1-miss L2 read finish so the load is in flight
    gateDelete.resolve();
    await deleting;
    const loaderB = vi.fn(() => 'new');
    const b = cache.getOrSet('k', loaderB);
    gateDuring.resolve('during');
    await expect(b).resolves.toBe('new');
    expect(loaderB).toHaveBeenCalledTimes(1);
    await expect(during).resolves.toBe('during');
    await cache.close();
  });

  it('unrelated keys keep their loads joinable (delete, pattern and namespace scope)', async () => {
    const root = buildCache<string>({ ttl: '1m' });
    const gate = deferred<string>();
    const loader = vi.fn(() => gate.promise);
    const first = root.getOrSet('other', loader);
    const inRoot = root.getOrSet('plans:globex:1', loader);
    await root.delete('k');
    await root.invalidatePattern('plans:acme:*');
    await root.namespace('images').clear();
    const joined = root.getOrSet('other', loader);
    const joinedToo = root.getOrSet('plans:globex:1', loader);
    expect(loader).toHaveBeenCalledTimes(2);
    gate.resolve('v');
    expect(await Promise.all([first, inRoot, joined, joinedToo])).toEqual(['v', 'v', 'v', 'v']);
    expect(await root.get('other')).toBe('v');
    await root.close();
  });
});

describe('read-your-writes across instances (shared tier)', () => {
  function instances() {
    const driver = new MemoryDriver();
    const hub = new MemoryBusHub();
    const make = (id: string) =>
      buildCache<string>({
        name: 'plans',
        ttl: '1m',
        retry: false,
        l2: memoryTier({ driver, hub, instanceId: id }),
      });
    return { a: make('A'), b: make('B') };
  }

  const REMOTE: Array<[string, (a: Cache<string>) => Promise<unknown>]> = [
    ['delete', (a) => a.delete('k')],
    ['set', (a) => a.set('k', 'written')],
    ['invalidateTags', (a) => a.invalidateTags(['t'])],
    ['invalidatePattern', (a) => a.invalidatePattern('k*')],
    ['clear', (a) => a.clear()],
  ];

  for (const [name, write] of REMOTE) {
    it(`a ${name} on A detaches B's load in flight once the bus delivers it`, async () => {
      const { a, b } = instances();
      const gate = deferred<string>();
      const loaderA = vi.fn(() => gate.promise);
      const first = b.getOrSet('k', loaderA, { tags: ['t'] });
      await tick(); // B's L1 miss has read L2 and started its load
      expect(loaderA).toHaveBeenCalledTimes(1);
      await write(a);
      await tick(); // the bus message reaches B

      const loaderB = vi.fn(() => 'new');
      const expected = name === 'set' ? 'written' : 'new';
      const second = b.getOrSet('k', loaderB);
      gate.resolve('old'); // had the second call joined the first load, it would answer 'old'
      await expect(second).resolves.toBe(expected);
      expect(loaderB).toHaveBeenCalledTimes(name === 'set' ? 0 : 1);
      await expect(first).resolves.toBe('old');
      expect(await b.get('k')).toBe(expected);
      await Promise.all([a.close(), b.close()]);
    });
  }
});

describe('a hung loader never wedges a key', () => {
  for (const kind of KINDS) {
    it(`after ${kind.name}, new calls do not wait on a loader that never settles`, async () => {
      const root = buildCache<string>({ ttl: '1m', timeout: { hard: 0 } });
      const { view, key } = kind.setup(root);
      void view.getOrSet(key, hung);
      await kind.write(root, view);
      const fresh = vi.fn(() => 'new');
      const next = view.getOrSet(key, fresh);
      // Without L2 a miss calls its loader synchronously: had it joined the hung load, it would not have.
      expect(fresh).toHaveBeenCalledTimes(kind.after === 'set' ? 0 : 1);
      await expect(next).resolves.toBe(kind.after === 'set' ? 'written' : 'new');
      await root.close();
    });
  }

  it('close() resolves while a loader hangs', async () => {
    const cache = buildCache<string>({ ttl: '1m' });
    void cache.getOrSet('k', hung);
    void cache.namespace('n').getOrSet('k', hung);
    await expect(cache.close()).resolves.toBeUndefined();
  });

  it('by default a loader is given up after 60 s with a TIMEOUT error', async () => {
    vi.useFakeTimers();
    const cache = buildCache<string>({ ttl: '1m', retry: false });
    const call = cache.getOrSet('k', hung);
    const outcome = call.then(
      () => undefined,
      (error: unknown) => error,
    );
    await vi.advanceTimersByTimeAsync(59_999);
    const joiner = vi.fn(hung);
    void cache.getOrSet('k', joiner).catch(() => undefined); // still in flight: joins
    expect(joiner).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    const error = await outcome;
    expect(error).toBeInstanceOf(CacheError);
    expect((error as CacheError).type).toBe(CacheErrorType.TIMEOUT);
    // The key is free again: the next call loads.
    await expect(cache.getOrSet('k', () => 'v')).resolves.toBe('v');
    await cache.close();
  });

  it('the hard-timeout timer is unref’d, overridable, and off with 0 or false', async () => {
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const delays = (): unknown[] => spy.mock.calls.map((c) => c[1]);
    const timerOf = (ms: number): NodeJS.Timeout =>
      spy.mock.results[delays().indexOf(ms)]!.value as NodeJS.Timeout;

    const byDefault = buildCache<string>({ ttl: '1m' });
    void byDefault.getOrSet('k', hung).catch(() => undefined);
    expect(delays()).toContain(60_000);
    const timer = timerOf(60_000);
    expect(timer.hasRef()).toBe(false);
    clearTimeout(timer);

    spy.mockClear();
    const custom = buildCache<string>({ ttl: '1m', timeout: { hard: '5s' } });
    void custom.getOrSet('k', hung).catch(() => undefined);
    void custom.getOrSet('j', hung, { timeout: { hard: 250 } }).catch(() => undefined);
    expect(delays()).toEqual(expect.arrayContaining([5_000, 250]));
    clearTimeout(timerOf(5_000));
    clearTimeout(timerOf(250));

    spy.mockClear();
    const off = buildCache<string>({ ttl: '1m', timeout: { hard: false } });
    void off.getOrSet('k', hung);
    void off.getOrSet('j', hung, { timeout: { hard: 0 } });
    const perCallOff = buildCache<string>({ ttl: '1m' });
    void perCallOff.getOrSet('k', hung, { timeout: { hard: false } });
    expect(delays()).toEqual([]);

    expect(() => buildCache({ timeout: { hard: -1 } })).toThrow(/timeout\.hard/);
    await Promise.all([byDefault.close(), custom.close(), off.close(), perCallOff.close()]);
  });
});

describe('a read racing a write through L2 (issue 10, item 4)', () => {
  // TierStack counts writes whose L2 step is pending and bumps its generation again when the step
  // settles, so a read that starts while a delete is writing L2 never promotes the old L2 entry into
  // L1 (before that fix, a read started after the delete resolved then hit it).
  async function racedRead(read: (cache: Cache<string>) => Promise<unknown>): Promise<unknown> {
    const driver = new MemoryDriver();
    const hub = new MemoryBusHub();
    const cache = buildCache<string>({ ttl: '1m', l2: memoryTier({ driver, hub, instanceId: 'A' }) });
    const other = buildCache<string>({ ttl: '1m', l2: memoryTier({ driver, hub, instanceId: 'B' }) });
    await other.set('k', 'old'); // in L2, not in this instance's L1
    const gate = deferred<void>();
    // The delete's L2 step is a tombstone (setIfNewer), or a plain delete on unversioned stores.
    const setIfNewer = driver.setIfNewer.bind(driver);
    vi.spyOn(driver, 'setIfNewer').mockImplementation(async (...args) => {
      await gate.promise;
      return setIfNewer(...args);
    });
    const deleting = cache.delete('k');
    const during = read(cache); // started before the delete resolved: may answer 'old'
    await tick();
    gate.resolve();
    await deleting;
    await during;
    const after = await cache.get('k'); // started after: must not
    await Promise.all([cache.close(), other.close()]);
    return after;
  }

  it('get() started during a delete does not leave the old value in L1', async () => {
    expect(await racedRead((cache) => cache.get('k'))).toBeUndefined();
  });

  it('getOrSet() started during a delete does not leave the old value in L1', async () => {
    expect(await racedRead((cache) => cache.getOrSet('k', () => 'loaded'))).toBeUndefined();
  });
});
