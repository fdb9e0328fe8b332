// SharedTier over the in-process driver and bus hub: two tiers are two instances of one L2. Covers
// cross-instance invalidation of every kind, tags in O(1), remaining TTLs, serialization failures,
// outage replay, resync on bus reconnect, the distributed lock, and option checks.
import { gzipSync } from 'node:zlib';
import { describe, expect, it, vi } from 'vitest';
import { MemoryBusHub } from '../../src/tiers/bus.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { memoryTier } from '../../src/tiers/redis-tier.js';
import { SharedTier } from '../../src/tiers/shared-tier.js';
import type { RemoteInvalidation, TierEntry } from '../../src/tiers/types.js';
import { manualClock } from '../helpers/clock.js';
import { deferred } from '../helpers/deferred.js';
import { ChaosDriver } from './chaos-driver.js';

const flush = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

function entry<V>(value: V, now: number, ttl = 60_000, tags: string[] = [], grace = 0): TierEntry<V> {
  return { value, createdAt: now, staleAt: now + ttl, expiresAt: now + ttl + grace, tags };
}

function pair(options: { clock?: () => number; tagRetention?: string } = {}) {
  const driver = new MemoryDriver({ clock: options.clock });
  const hub = new MemoryBusHub();
  const { clock, tagRetention } = options;
  const a = memoryTier({ driver, hub, instanceId: 'A', clock, tagRetention });
  const b = memoryTier({ driver, hub, instanceId: 'B', clock, tagRetention });
  const ca = a.bind('plans');
  const cb = b.bind('plans');
  const heardByA: RemoteInvalidation[] = [];
  const heardByB: RemoteInvalidation[] = [];
  ca.onRemote((event) => heardByA.push(event));
  cb.onRemote((event) => heardByB.push(event));
  return { driver, hub, a, b, ca, cb, heardByA, heardByB };
}

describe('SharedTier across instances', () => {
  it('an entry written by A is read by B with the same metadata (remaining TTL, not a fresh one)', async () => {
    let now = 10_000;
    const { ca, cb } = pair({ clock: () => now });
    await ca.set('p:1', entry({ id: 1, at: new Date(5) }, now, 60_000, ['org:acme'], 5000));
    now += 20_000;
    const got = await cb.get('p:1');
    expect(got?.value).toEqual({ id: 1, at: new Date(5) });
    expect(got?.staleAt).toBe(70_000);
    expect(got?.expiresAt).toBe(75_000);
    expect(got?.createdAt).toBe(10_000);
  });

  it('every kind of invalidation on A reaches B (and not A itself)', async () => {
    const { ca, heardByA, heardByB } = pair();
    const now = Date.now();
    await ca.set('k1', entry('v', now));
    await ca.delete('k1', 'k2');
    await ca.invalidateTags(['org:acme']);
    await ca.invalidatePattern('plans_list_acme_*');
    await ca.invalidatePrefix('images:');
    await ca.clear();
    await flush();
    expect(heardByB).toEqual([
      { kind: 'set', keys: ['k1'] },
      { kind: 'delete', keys: ['k1', 'k2'] },
      { kind: 'tags', tags: ['org:acme'] },
      { kind: 'pattern', pattern: 'plans_list_acme_*' },
      { kind: 'prefix', prefix: 'images:' },
      { kind: 'clear' },
    ]);
    expect(heardByA).toEqual([]);
  });

  it('two bindings of one cache on one tier (one process) hear each other, not themselves', async () => {
    const tier = memoryTier();
    const one = tier.bind('c');
    const two = tier.bind('c');
    const heardOne: RemoteInvalidation[] = [];
    const heardTwo: RemoteInvalidation[] = [];
    one.onRemote((e) => heardOne.push(e));
    two.onRemote((e) => heardTwo.push(e));
    await one.delete('k');
    await two.invalidateTags(['t']);
    expect(heardTwo).toEqual([{ kind: 'delete', keys: ['k'] }]);
    expect(heardOne).toEqual([{ kind: 'tags', tags: ['t'] }]);
  });

  it("indexTags (a namespace's scoped tags) are what tag invalidation checks, and come back on read", async () => {
    let now = 1_000;
    const { ca, cb } = pair({ clock: () => now });
    await ca.set('ns:k', { ...entry('v', now, 60_000, ['t']), indexTags: ['t', 'ns:t'] });
    expect((await cb.get('ns:k'))?.indexTags).toEqual(['t', 'ns:t']);
    now += 5;
    await cb.invalidateTags(['ns:t']);
    expect(await ca.get('ns:k')).toBeUndefined();
  });

  it('messages for another cache name are not delivered', async () => {
    const { a, cb, heardByB } = pair();
    await a.bind('users').delete('u1');
    await flush();
    expect(heardByB).toEqual([]);
    void cb;
  });

  it('delete, pattern, prefix and clear remove the entries from L2 as well', async () => {
    const { ca, cb } = pair();
    const now = Date.now();
    for (const key of ['a:1', 'a:2', 'b:1', 'ns:x', 'keep']) await ca.set(key, entry(key, now));
    await ca.delete('b:1');
    await ca.invalidatePattern('a:*');
    await ca.invalidatePrefix('ns:');
    expect(await cb.get('a:1')).toBeUndefined();
    expect(await cb.get('a:2')).toBeUndefined();
    expect(await cb.get('b:1')).toBeUndefined();
    expect(await cb.get('ns:x')).toBeUndefined();
    expect((await cb.get('keep'))?.value).toBe('keep');
    await ca.clear();
    expect(await cb.get('keep')).toBeUndefined();
  });

  it('tag invalidation hides older tagged entries without touching them, and spares newer ones', async () => {
    let now = 1_000;
    const { ca, cb, driver } = pair({ clock: () => now });
    await ca.set('t1', entry('old', now, 60_000, ['org:acme']));
    await ca.set('t2', entry('other', now, 60_000, ['org:beta']));
    const sizeBefore = driver.size;
    now += 10;
    await cb.invalidateTags(['org:acme']);
    expect(driver.size).toBe(sizeBefore + 1); // one timestamp key, however many entries carry the tag
    expect(await ca.get('t1')).toBeUndefined();
    expect((await ca.get('t2'))?.value).toBe('other');
    now += 10;
    await ca.set('t1', entry('new', now, 60_000, ['org:acme']));
    expect((await cb.get('t1'))?.value).toBe('new');
  });

  it('tag timestamps expire tagRetention after the invalidation, never before a longer-lived tagged entry', async () => {
    const hour = 3_600_000;
    let now = 1_000;
    const { ca, cb, driver } = pair({ clock: () => now, tagRetention: '1h' });
    // A new instance has no remembered tag times: it sees only what the store still holds.
    const newcomer = () => memoryTier({ driver, clock: () => now, tagRetention: '1h' }).bind('plans');
    await ca.set('short', entry('s', now, 10 * 60_000, ['user:1']));
    await ca.set('long', entry('l', now, 24 * hour, ['user:2'], hour));
    await ca.set('forever', { value: 'f', createdAt: now, staleAt: 0, expiresAt: 0, tags: ['user:3'] });
    const created = now;
    now += 10;
    await cb.invalidateTags(['user:1', 'user:2', 'user:3', 'user:4']);
    // Written before the invalidation but landing after it: its hold must still extend the timestamp.
    await ca.set('late', entry('x', created, 24 * hour, ['user:4']));
    for (const key of ['short', 'long', 'forever', 'late']) expect(await ca.get(key)).toBeUndefined();
    now += 2 * hour; // past the retention
    expect(await driver.get('t:{plans}:user:1')).toBeUndefined(); // gone: tags do not pile up
    const later = newcomer();
    for (const key of ['long', 'forever', 'late']) expect(await later.get(key)).toBeUndefined();
    now += 24 * hour; // past the end of 'long' and 'late'
    expect(await driver.get('e:plans:long')).toBeUndefined();
    expect(await driver.get('t:{plans}:user:2')).toBeUndefined();
    expect(await driver.get('t:{plans}:user:4')).toBeUndefined();
    now += 100 * 24 * hour;
    expect(await newcomer().get('forever')).toBeUndefined(); // its tag's time is kept as long as it lives
  });

  it('an instance that has cached a tag time learns of a newer invalidation from the bus at once', async () => {
    let now = 1_000;
    const { ca, cb } = pair({ clock: () => now });
    await ca.set('t', entry('v', now, 60_000, ['x']));
    expect((await cb.get('t'))?.value).toBe('v'); // B now trusts "x never invalidated" for a second
    now += 5;
    await ca.invalidateTags(['x']);
    await flush();
    expect(await cb.get('t')).toBeUndefined();
  });

  it('does not return an entry whose grace has ended (and writes none that has)', async () => {
    let now = 1_000;
    const { ca, cb } = pair({ clock: () => now });
    await ca.set('g', entry('v', now, 100, [], 50));
    now += 149;
    expect((await cb.get('g'))?.value).toBe('v');
    now += 1;
    expect(await cb.get('g')).toBeUndefined();
    await ca.set('late', entry('v', 0, 100));
    expect(await cb.get('late')).toBeUndefined();
  });

  it('an entry with no expiry stays', async () => {
    const { ca, cb } = pair();
    await ca.set('forever', { value: 1, createdAt: Date.now(), staleAt: 0, expiresAt: 0, tags: [] });
    expect((await cb.get('forever'))?.value).toBe(1);
  });

  it('a value that cannot be serialized is reported as SERIALIZATION_FAILED and its old L2 copy is removed', async () => {
    const { ca, cb, heardByB } = pair();
    const errors: unknown[] = [];
    ca.onError((error) => errors.push(error));
    await ca.set('k', entry('old', Date.now()));
    await expect(ca.set('k', entry({ fn: () => 1 }, Date.now()))).resolves.toBe(true);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ type: 'SERIALIZATION_FAILED' });
    expect(String((errors[0] as Error).message)).toMatch(/key "k".*value\.fn is a function/);
    expect(await cb.get('k')).toBeUndefined();
    await flush();
    expect(heardByB.at(-1)).toEqual({ kind: 'delete', keys: ['k'] });
  });

  it('a corrupt stored value reads as a miss and is reported', async () => {
    const { ca, driver } = pair();
    const errors: unknown[] = [];
    ca.onError((error) => errors.push(error));
    await driver.set('e:plans:bad', Buffer.from([0xc1, 0xc1]));
    expect(await ca.get('bad')).toBeUndefined();
    expect(errors[0]).toMatchObject({ type: 'SERIALIZATION_FAILED' });
  });

  it('a read that races a remote invalidation reads again instead of returning the old value', async () => {
    const driver = new MemoryDriver();
    const chaos = new ChaosDriver(driver);
    const hub = new MemoryBusHub();
    const a = memoryTier({ driver, hub, instanceId: 'A' });
    const b = new SharedTier({ driver: chaos, bus: hub.connect('B') });
    const ca = a.bind('c');
    const cb = b.bind('c');
    await ca.set('k', entry('old', Date.now()));
    const replies = deferred();
    chaos.heldReplies = replies.promise;
    const calls = chaos.calls;
    const read = cb.get('k');
    await vi.waitFor(() => expect(chaos.calls).toBeGreaterThan(calls)); // B has read 'old', not yet answered
    await ca.set('k', entry('new', Date.now()));
    replies.resolve();
    expect((await read)?.value).toBe('new');
  });
});

describe('SharedTier during an outage', () => {
  /** A behind a chaos driver, B on the store directly; `clock` (default real time) is A's. */
  function outage(clock?: () => number) {
    const driver = new MemoryDriver();
    const chaos = new ChaosDriver(driver);
    const hub = new MemoryBusHub();
    const logger = { error: vi.fn(), warn: vi.fn(), info: vi.fn() };
    const a = new SharedTier({
      driver: chaos,
      bus: hub.connect('A'),
      timeout: 20,
      breaker: { threshold: 2, resetAfter: 30 },
      logger,
      clock,
    });
    const b = memoryTier({ driver, hub, instanceId: 'B' });
    return { chaos, a, b, ca: a.bind('c'), cb: b.bind('c'), logger, hub };
  }

  it('no call throws while the store is down or hangs; reads miss', async () => {
    const { chaos, ca } = outage();
    for (const mode of ['fail', 'hang'] as const) {
      chaos.mode = mode;
      expect(await ca.get('k')).toBeUndefined();
      await expect(ca.set('k', entry('v', Date.now()))).resolves.toBe(true); // kept for replay
      await expect(ca.delete('k')).resolves.toBe(0); // nothing known deleted: kept for replay
      await expect(ca.invalidateTags(['t'])).resolves.toBeUndefined();
      await expect(ca.invalidatePattern('*')).resolves.toBe(0);
      await expect(ca.clear()).resolves.toBeUndefined();
    }
    expect(ca.health().l2.status).not.toBe('ok');
  });

  it('reports down with the reason while the circuit is open, ok after recovery', async () => {
    const clock = manualClock();
    const { chaos, ca } = outage(clock.now);
    chaos.mode = 'fail';
    await ca.get('x');
    await ca.get('y');
    const health = ca.health().l2;
    expect(health.status).toBe('down');
    expect(health.reason).toMatch(/circuit open: .*chaos/);
    chaos.mode = 'ok';
    clock.advance(30); // resetAfter on the tier's clock: the next call is the probe
    await ca.get('z');
    expect(ca.health().l2).toMatchObject({ status: 'ok', breaker: 'closed' });
  });

  it('replays writes and deletes missed during the outage once the store is back', async () => {
    const { chaos, ca, cb } = outage();
    const heard: RemoteInvalidation[] = [];
    cb.onRemote((event) => heard.push(event));
    await ca.set('stale', entry('v1', Date.now()));
    await ca.set('gone', entry('v1', Date.now()));
    chaos.mode = 'fail';
    await ca.set('stale', entry('v2', Date.now())); // L2 still has v1
    await ca.delete('gone'); // L2 still has it
    expect(ca.health().l2.pending).toBe(2);
    expect((await cb.get('stale'))?.value).toBe('v1');
    chaos.mode = 'ok';
    await vi.waitFor(() => expect(ca.health().l2.pending).toBe(0), { timeout: 2000, interval: 10 });
    expect(await cb.get('stale')).toBeUndefined();
    expect(await cb.get('gone')).toBeUndefined();
    expect(heard).toContainEqual({ kind: 'delete', keys: ['stale', 'gone'] });
  });

  it('logs the outage once, not per call', async () => {
    const { chaos, ca, logger } = outage();
    chaos.mode = 'fail';
    for (let i = 0; i < 30; i++) await ca.get(`k${i}`);
    expect(logger.error).toHaveBeenCalledTimes(1);
  });

  it('a bus reconnect makes every binding resync (drop its L1) and replays the backlog', async () => {
    const driver = new MemoryDriver();
    const hub = new MemoryBusHub();
    const bus = hub.connect('A');
    const a = new SharedTier({ driver, bus });
    const events: RemoteInvalidation[] = [];
    a.bind('one').onRemote((e) => events.push(e));
    a.bind('two').onRemote((e) => events.push(e));
    bus.disconnect();
    expect(a.health().bus?.status).toBe('down');
    bus.reconnect();
    expect(events).toEqual([{ kind: 'resync' }, { kind: 'resync' }]);
    expect(a.health().bus).toMatchObject({ status: 'ok', resyncs: 1 });
  });
});

describe('SharedTier distributed lock', () => {
  it('concurrent misses on one key across instances run the loader once', async () => {
    const driver = new MemoryDriver();
    const hub = new MemoryBusHub();
    const tiers = ['A', 'B', 'C'].map((id) =>
      memoryTier({ driver, hub, instanceId: id, lock: { pollInterval: 2 } }),
    );
    const bindings = tiers.map((tier) => tier.bind('c'));
    const tries = vi.spyOn(driver, 'add');
    const finish = deferred();
    let loads = 0;
    const load = async (): Promise<TierEntry> => {
      loads++;
      await finish.promise;
      return entry('loaded', Date.now());
    };
    const loading = Promise.all(bindings.map((binding) => binding.lockedLoad('k', load)));
    // The loader finishes only once all three have tried the lock, so two of them are waiting on it.
    await vi.waitFor(() => expect(tries).toHaveBeenCalledTimes(3));
    finish.resolve();
    const results = await loading;
    expect(loads).toBe(1);
    expect(results.map((r) => r.entry?.value)).toEqual(['loaded', 'loaded', 'loaded']);
    expect(results.filter((r) => r.loaded)).toHaveLength(1);
  });

  it('waiters load themselves once the lock times out', async () => {
    const driver = new MemoryDriver();
    const a = memoryTier({ driver, lock: { timeout: 40, pollInterval: 5 } });
    const b = memoryTier({ driver, lock: { timeout: 40, pollInterval: 5 } });
    let release: () => void = () => {};
    const stuck = a
      .bind('c')
      .lockedLoad('k', () => new Promise((resolve) => (release = () => resolve(undefined))));
    await flush();
    const started = Date.now();
    const waiter = await b.bind('c').lockedLoad('k', async () => entry('mine', Date.now()));
    expect(waiter).toMatchObject({ loaded: true, entry: { value: 'mine' } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(35);
    release();
    await stuck;
  });

  it('without lock every caller loads', async () => {
    const tier = memoryTier();
    const result = await tier.bind('c').lockedLoad('k', async () => entry(1, Date.now()));
    expect(result.loaded).toBe(true);
    expect(tier.lockEnabled).toBe(false);
  });
});

describe('SharedTier options and lifecycle', () => {
  it('rejects bad options naming them', () => {
    expect(() => memoryTier({ timeout: -1 })).toThrow(/timeout/);
    expect(() => memoryTier({ breaker: { threshold: 0 } })).toThrow(/breaker\.threshold/);
    expect(() => memoryTier({ lock: { timeout: 'x' } })).toThrow(/lock\.timeout/);
    expect(() => memoryTier({ maxPending: 0 })).toThrow(/maxPending/);
    expect(() => memoryTier({ tagCacheTtl: NaN })).toThrow(/tagCacheTtl/);
    expect(() => memoryTier({ tagRetention: 'a day' })).toThrow(/tagRetention/);
    expect(() => memoryTier({ serializer: {} as never })).toThrow(/serializer/);
    expect(() => memoryTier({ compression: { algorithm: 'zip' as 'gzip' } })).toThrow(
      /compression\.algorithm/,
    );
    expect(() => new SharedTier({} as never)).toThrow(/driver/);
  });

  it('rejects cache names that would break the key layout', () => {
    const tier = memoryTier();
    expect(() => tier.bind('a:b')).toThrow(/cache name/);
    expect(() => tier.bind('')).toThrow(/cache name/);
    expect(() => tier.bind('{x}')).toThrow(/cache name/);
  });

  it('closes when its last binding closes, and refuses new bindings after', async () => {
    const tier = memoryTier();
    const one = tier.bind('one');
    const two = tier.bind('two');
    await one.close();
    expect(tier.health().l2.status).toBe('ok');
    await two.close();
    expect(tier.health().l2).toMatchObject({ status: 'down', reason: 'closed' });
    expect(() => tier.bind('three')).toThrow(/closed/);
  });

  it('stores values compressed when asked, and reads them back', async () => {
    const driver = new MemoryDriver();
    const tier = memoryTier({ driver, compression: { threshold: 100 } });
    const binding = tier.bind('c');
    const value = { text: 'x'.repeat(5000) };
    await binding.set('k', entry(value, Date.now()));
    const raw = (await driver.get('e:c:k')) as Buffer;
    expect(raw.length).toBeLessThan(500);
    expect((await binding.get('k'))?.value).toEqual(value);
  });

  it('reads a compressed value that would inflate past the limit as a corrupt miss, and removes it', async () => {
    const driver = new MemoryDriver();
    const tier = memoryTier({ driver, compression: { threshold: 100, maxDecompressedBytes: 1 << 20 } });
    const binding = tier.bind('c');
    const errors: unknown[] = [];
    binding.onError((error) => errors.push(error));
    await binding.set('k', entry({ text: 'x'.repeat(5000) }, Date.now()));
    const stored = (await driver.get('e:c:k')) as Buffer;
    // The 17-byte write stamp, the gzip flag, then 64 MiB of zeros in about 64 KB.
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
    await driver.set('e:c:k', Buffer.concat([stored.subarray(0, 17), Buffer.of(1), bomb]), 60_000);
    expect(await binding.get('k')).toBeUndefined();
    expect(String(errors[0])).toMatch(/maxDecompressedBytes/);
    await flush();
    expect(await driver.get('e:c:k')).toBeUndefined();
  });
});
