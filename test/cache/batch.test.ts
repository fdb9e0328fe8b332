// getMany, setMany and deleteMany (issue 14): L1 first then one L2 round trip, writes to every tier with
// one bus message, read-your-writes for loads in flight, namespaces kept apart, keys checked like the
// single operations. Races are driven by deferreds, time by a manual clock.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildCache } from '../../src/cache/create-cache.js';
import { MemoryBus, MemoryBusHub, type BusMessage } from '../../src/tiers/bus.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { memoryTier } from '../../src/tiers/redis-tier.js';
import { manualClock } from '../helpers/clock.js';
import { deferred } from '../helpers/deferred.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** Lets the in-process bus deliver what it batched this turn. */
const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/** Two "instances" sharing one L2 store and one bus hub; publishes of instance A are recorded. */
function twoInstances() {
  const driver = new MemoryDriver();
  const hub = new MemoryBusHub();
  const published: Array<Omit<BusMessage, 'source'>> = [];
  const original = MemoryBus.prototype.publish;
  vi.spyOn(MemoryBus.prototype, 'publish').mockImplementation(function (this: MemoryBus, message) {
    if (this.instanceId === 'A') published.push(message);
    return original.call(this, message);
  });
  const a = buildCache<string>({
    name: 'c',
    ttl: '1m',
    retry: false,
    l2: memoryTier({ driver, hub, instanceId: 'A' }),
  });
  const b = buildCache<string>({
    name: 'c',
    ttl: '1m',
    retry: false,
    l2: memoryTier({ driver, hub, instanceId: 'B' }),
  });
  return { driver, a, b, published };
}

describe('getMany', () => {
  it('answers in key order from L1, undefined where nothing is held, counting a hit or miss per key', async () => {
    const cache = buildCache<string>();
    await cache.set('a', 'A');
    await cache.set(2, 'two');
    expect(await cache.getMany(['a', 'missing', 2, 'a'])).toEqual(['A', undefined, 'two', 'A']);
    expect(await cache.getMany([])).toEqual([]);
    const stats = cache.stats();
    expect(stats.hits).toBe(3);
    expect(stats.misses).toBe(1);
    await cache.close();
  });

  it('reads only the keys L1 misses from L2, in one round trip, and promotes them', async () => {
    const { driver, a, b } = twoInstances();
    await b.setMany([
      ['x', 'X'],
      ['y', 'Y'],
    ]);
    await tick(); // B's bus message reaches A before A reads
    await a.set('local', 'L');
    const many = vi.spyOn(driver, 'getMany');
    const one = vi.spyOn(driver, 'get');
    expect(await a.getMany(['local', 'x', 'nope', 'y'])).toEqual(['L', 'X', undefined, 'Y']);
    expect(one).not.toHaveBeenCalled();
    expect(many).toHaveBeenCalledTimes(1);
    expect(many.mock.calls[0]![0]).toEqual(['c:x', 'c:nope', 'c:y'].map((k) => expect.stringContaining(k)));
    expect(many.mock.calls[0]![0]).toHaveLength(3);
    // Promoted: the next read is answered by L1 alone.
    many.mockClear();
    expect(await a.getMany(['x', 'y'])).toEqual(['X', 'Y']);
    expect(many).not.toHaveBeenCalled();
    await a.close();
    await b.close();
  });

  it('does not answer L2 entries whose tags were invalidated, checking every tag in one batched read', async () => {
    const { driver, a, b } = twoInstances();
    await a.setMany(
      [
        ['p1', 'plan 1', { tags: ['org:1'] }],
        ['p2', 'plan 2', { tags: ['org:2'] }],
        ['p3', 'plan 3'],
      ],
      { ttl: '1h' },
    );
    await tick();
    await a.invalidateTags(['org:1']);
    await tick();
    const many = vi.spyOn(driver, 'getMany');
    expect(await b.getMany(['p1', 'p2', 'p3'])).toEqual([undefined, 'plan 2', 'plan 3']);
    expect(many.mock.calls.length).toBeLessThanOrEqual(2); // the entries, then (at most) the tags' times
    await a.close();
    await b.close();
  });

  it('does not answer a value past its TTL (even in grace), and keeps namespaces apart', async () => {
    const clock = manualClock();
    const cache = buildCache<string>({ clock: clock.now, ttl: '10s', grace: '1m' });
    const users = cache.namespace('users');
    await users.set('1', 'ann');
    await cache.set('1', 'root one');
    expect(await users.getMany(['1', '2'])).toEqual(['ann', undefined]);
    expect(await cache.getMany(['1', 'users:1'])).toEqual(['root one', 'ann']);
    clock.advance(10_000);
    expect(await users.getMany(['1'])).toEqual([undefined]);
    await cache.close();
  });

  it('refuses a bad key with a TypeError naming its index, and a non-array', async () => {
    const cache = buildCache<string>();
    await expect(cache.getMany(['a', null as never])).rejects.toThrow(
      /^getMany: keys\[1\]: key must be a string or a number, got null$/,
    );
    await expect(cache.getMany(['a', NaN])).rejects.toThrow(TypeError);
    await expect(cache.getMany('ab' as never)).rejects.toThrow(/^getMany\(keys\) must be an array/);
    await cache.close();
  });
});

describe('setMany', () => {
  it("an entry's own options override the call's field by field: invalidating the call's tags reaches it", async () => {
    const clock = manualClock();
    const cache = buildCache<string>({ clock: clock.now, ttl: '10m' });
    await cache.setMany(
      [
        ['1', 'Ada'],
        ['2', 'Grace', { ttl: '5m' }],
        ['3', 'Edsger', { tags: ['other'] }],
      ],
      { tags: ['users'], ttl: '1m' },
    );
    expect(await cache.ttlRemaining('2')).toBe(300_000);
    expect(await cache.ttlRemaining('3')).toBe(60_000);
    expect(await cache.invalidateTags(['users'])).toBe(2);
    expect(await cache.getMany(['1', '2', '3'])).toEqual([undefined, undefined, 'Edsger']);
    await cache.close();
  });

  it('writes every entry with its own options or the shared ones; a key given twice keeps its last value', async () => {
    const clock = manualClock();
    const cache = buildCache<string>({ clock: clock.now, ttl: '1m' });
    await cache.setMany(
      [
        ['a', 'A'],
        ['b', 'B', { ttl: '10s', tags: ['t'] }],
        ['a', 'A2'],
      ],
      { ttl: '30s' },
    );
    expect(await cache.getMany(['a', 'b'])).toEqual(['A2', 'B']);
    clock.advance(10_000);
    expect(await cache.getMany(['a', 'b'])).toEqual(['A2', undefined]);
    clock.advance(20_000);
    expect(await cache.get('a')).toBeUndefined();
    // A Map is an iterable of [key, value] pairs too.
    await cache.setMany(new Map([['m', 'M']]));
    expect(await cache.get('m')).toBe('M');
    expect(await cache.invalidateTags(['t'])).toBe(0); // b has expired already
    await cache.close();
  });

  it('checks every entry before writing any, naming the bad one', async () => {
    const cache = buildCache<string>();
    await expect(
      cache.setMany([
        ['ok', 'v'],
        [undefined as never, 'v'],
      ]),
    ).rejects.toThrow(/^setMany: entries\[1\]: key must be a string or a number, got undefined$/);
    await expect(cache.setMany([['ok', 'v'], 'x' as never])).rejects.toThrow(
      /^setMany: entries\[1\] must be/,
    );
    await expect(cache.setMany([['ok', 'v', { ttl: 'soon' }]])).rejects.toThrow(
      /ttl is not a readable duration/,
    );
    await expect(cache.setMany(42 as never)).rejects.toThrow(TypeError);
    expect(await cache.get('ok')).toBeUndefined();
    await cache.close();
  });

  it('detaches loads in flight for its keys: their results are not stored, later calls do not join them', async () => {
    const cache = buildCache<string>({ retry: false });
    const gate = deferred<string>();
    const loading = cache.getOrSet('k', () => gate.promise);
    await cache.setMany([
      ['k', 'written'],
      ['other', 'o'],
    ]);
    let ran = false;
    const after = cache.getOrSet('k', () => {
      ran = true;
      return 'fresh';
    });
    gate.resolve('old');
    expect(await loading).toBe('old');
    expect(await after).toBe('written');
    expect(ran).toBe(false);
    expect(await cache.get('k')).toBe('written');
    await cache.close();
  });

  it('writes L2 and tells other instances in one bus message', async () => {
    const { a, b, published } = twoInstances();
    await b.setMany([
      ['k1', 'old1'],
      ['k2', 'old2'],
    ]);
    expect(await b.getMany(['k1', 'k2'])).toEqual(['old1', 'old2']); // now in B's L1
    await a.setMany([
      ['k1', 'new1'],
      ['k2', 'new2'],
      ['k3', 'new3'],
    ]);
    await tick();
    const sets = published.filter((m) => m.kind === 'set');
    expect(sets).toHaveLength(1);
    expect([...sets[0]!.keys!].sort()).toEqual(['k1', 'k2', 'k3']);
    // B dropped its old copies and reads the new values from L2.
    expect(await b.getMany(['k1', 'k2', 'k3'])).toEqual(['new1', 'new2', 'new3']);
    await a.close();
    await b.close();
  });

  it('is a no-op while disabled', async () => {
    const cache = buildCache<string>({ enabled: false });
    await cache.setMany([['k', 'v']]);
    cache.configure({ enabled: true });
    expect(await cache.get('k')).toBeUndefined();
    await cache.close();
  });
});

describe('deleteMany', () => {
  it('removes the keys from L1 and counts them, within the namespace only', async () => {
    const cache = buildCache<string>();
    const ns = cache.namespace('ns');
    await cache.setMany([
      ['a', 'root a'],
      ['b', 'root b'],
    ]);
    await ns.setMany([
      ['a', 'ns a'],
      ['b', 'ns b'],
    ]);
    expect(await ns.deleteMany(['a', 'b', 'missing', 'a'])).toBe(2);
    expect(await ns.getMany(['a', 'b'])).toEqual([undefined, undefined]);
    expect(await cache.getMany(['a', 'b'])).toEqual(['root a', 'root b']);
    expect(await cache.deleteMany([])).toBe(0);
    await cache.close();
  });

  it('deletes in L2 with one call and one bus message; other instances drop their copies', async () => {
    const { driver, a, b, published } = twoInstances();
    await a.setMany([
      ['k1', 'v1'],
      ['k2', 'v2'],
    ]);
    expect(await b.getMany(['k1', 'k2'])).toEqual(['v1', 'v2']);
    published.length = 0;
    const setIfNewer = vi.spyOn(driver, 'setIfNewer');
    expect(await a.deleteMany(['k1', 'k2'])).toBe(2);
    await tick();
    const deletes = published.filter((m) => m.kind === 'delete');
    expect(deletes).toHaveLength(1);
    expect([...deletes[0]!.keys!].sort()).toEqual(['k1', 'k2']);
    expect(setIfNewer).toHaveBeenCalledTimes(2); // a tombstone per key, sent together
    expect(await b.getMany(['k1', 'k2'])).toEqual([undefined, undefined]);
    await a.close();
    await b.close();
  });

  it('detaches loads in flight for its keys', async () => {
    const cache = buildCache<string>({ retry: false });
    const gate = deferred<string>();
    const loading = cache.getOrSet('k', () => gate.promise);
    await cache.deleteMany(['k']);
    gate.resolve('loaded before the delete');
    expect(await loading).toBe('loaded before the delete');
    expect(await cache.get('k')).toBeUndefined();
    await cache.close();
  });

  it('refuses a bad key naming its index', async () => {
    const cache = buildCache<string>();
    await expect(cache.deleteMany(['a', {} as never])).rejects.toThrow(/^deleteMany: keys\[1\]: key must be/);
    await cache.close();
  });
});
