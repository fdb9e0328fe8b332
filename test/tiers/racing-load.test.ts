// Issue 10, the stale-store race: a load on instance A that began before a write on instance B (a
// delete, a set, a tag or pattern invalidation) must never leave its older value in L2 once it
// finishes. Key writes are versioned in the store (stamps, tombstones, setIfNewer); bulk ones fence.
// Interleavings are driven with deferred loaders and one manual clock; A is not on B's bus (or hears
// it late), which is the window the L2 checks must close by themselves.
import { describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import type { Cache } from '../../src/index.js';
import { MemoryBusHub } from '../../src/tiers/bus.js';
import type { BusListeners, BusMessage, InvalidationBus } from '../../src/tiers/bus.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { memoryTier } from '../../src/tiers/redis-tier.js';
import { SharedTier } from '../../src/tiers/shared-tier.js';
import type { TierEntry } from '../../src/tiers/types.js';
import { deferred } from '../helpers/deferred.js';

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/** A shared store and clock; each instance gets its own bus hub unless told to share one. */
function world() {
  const time = { now: 1_000_000 };
  const clock = (): number => time.now;
  const driver = new MemoryDriver({ clock });
  const instance = (id: string, hub = new MemoryBusHub()): Cache<string> =>
    createCache<string>({
      name: 'c',
      ttl: '1m',
      clock,
      retry: false,
      l2: memoryTier({ driver, hub, instanceId: id, clock }),
    });
  return { time, clock, driver, instance };
}

/** A getOrSet on `cache` whose loader waits for `release`; resolves once the loader has been called. */
async function heldLoad(cache: Cache<string>, key: string, tags: string[] = []) {
  const value = deferred<string>();
  const called = deferred<void>();
  const answer = cache.getOrSet(
    key,
    () => {
      called.resolve();
      return value.promise;
    },
    { tags },
  );
  await called.promise;
  return { answer, release: (v: string) => value.resolve(v) };
}

describe('a load racing a write on another instance (L2 is versioned)', () => {
  it('a delete acknowledged during the load is not undone by the load’s store', async () => {
    const { time, instance } = world();
    const [a, b] = [instance('A'), instance('B')];
    const load = await heldLoad(a, 'k');
    time.now += 5;
    await b.set('k', 'before');
    time.now += 5;
    await b.delete('k');
    time.now += 5;
    load.release('old');
    expect(await load.answer).toBe('old'); // the caller that was waiting may get it
    const c = instance('C');
    expect(await c.get('k')).toBeUndefined(); // before the fix: 'old', from L2, until its TTL
    expect(await b.get('k')).toBeUndefined();
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it('a delete of a key L2 never held still fences the load (a tombstone)', async () => {
    const { time, instance } = world();
    const [a, b] = [instance('A'), instance('B')];
    const load = await heldLoad(a, 'k');
    time.now += 5;
    await b.delete('k');
    time.now += 5;
    load.release('old');
    await load.answer;
    const c = instance('C');
    expect(await c.get('k')).toBeUndefined();
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it('a set acknowledged during the load wins, everywhere, and A drops its refused value from L1', async () => {
    const { time, instance } = world();
    const [a, b] = [instance('A'), instance('B')];
    const load = await heldLoad(a, 'k');
    time.now += 5;
    await b.set('k', 'new');
    time.now += 5;
    load.release('old');
    expect(await load.answer).toBe('old');
    const c = instance('C');
    expect(await c.get('k')).toBe('new');
    expect(await a.get('k')).toBe('new'); // A's L1 let go of the value L2 refused
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it('a set in the same millisecond as the load’s start still wins (ties go to the write)', async () => {
    const { instance } = world();
    const [a, b] = [instance('A'), instance('B')];
    const load = await heldLoad(a, 'k');
    await b.set('k', 'new'); // same clock reading as the load's stamp
    load.release('old');
    await load.answer;
    const c = instance('C');
    expect(await c.get('k')).toBe('new');
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it('a tag invalidation during the load hides its entry (compared with when the load began)', async () => {
    const { time, instance } = world();
    const [a, b] = [instance('A'), instance('B')];
    const load = await heldLoad(a, 'k', ['t']);
    time.now += 5;
    await b.invalidateTags(['t']);
    time.now += 5;
    load.release('old');
    await load.answer;
    const c = instance('C');
    expect(await c.get('k')).toBeUndefined(); // before the fix: created after the tag's time, so served
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it('a load that outlived the fence retention is answered but not stored', async () => {
    const { time, instance } = world();
    const a = instance('A');
    const load = await heldLoad(a, 'k');
    time.now += 120_000; // the default fenceRetention: no tombstone could vouch for it any more
    load.release('ancient');
    expect(await load.answer).toBe('ancient');
    const c = instance('C');
    expect(await c.get('k')).toBeUndefined();
    await Promise.all([a.close(), c.close()]);
  });
});

/** A bus that holds inbound messages until flush(): a slow transport. */
class SlowBus implements InvalidationBus {
  readonly #inner: InvalidationBus;
  readonly #held: BusMessage[] = [];
  #listeners: BusListeners | undefined;
  constructor(inner: InvalidationBus) {
    this.#inner = inner;
  }
  get instanceId(): string {
    return this.#inner.instanceId;
  }
  start(listeners: BusListeners): Promise<void> {
    this.#listeners = listeners;
    return this.#inner.start({ ...listeners, message: (m) => void this.#held.push(m) });
  }
  publish(message: Omit<BusMessage, 'source'>): Promise<void> {
    return this.#inner.publish(message);
  }
  flush(): void {
    for (const message of this.#held.splice(0)) this.#listeners?.message(message);
  }
  health() {
    return this.#inner.health();
  }
  close(): Promise<void> {
    return this.#inner.close();
  }
}

describe('a load racing a bulk invalidation on another instance (fences)', () => {
  function tiers() {
    const time = { now: 1_000_000 };
    const clock = (): number => time.now;
    const driver = new MemoryDriver({ clock });
    const hub = new MemoryBusHub();
    const slow = new SlowBus(hub.connect('A'));
    const a = new SharedTier({ driver, bus: slow, clock }).bind('c');
    const b = new SharedTier({ driver, bus: hub.connect('B'), clock }).bind('c');
    const c = new SharedTier({ driver, clock }).bind('c');
    const entry = (value: string, version: number): TierEntry => ({
      value,
      createdAt: time.now,
      staleAt: time.now + 60_000,
      expiresAt: time.now + 60_000,
      tags: [],
      version,
    });
    return { time, slow, a, b, c, entry, hub };
  }

  it('a store that lands after the pattern delete is removed when the fence is heard', async () => {
    const { time, slow, a, b, c, entry } = tiers();
    const version = a.stamp(); // A's load starts (its L2 read missed)
    time.now += 5;
    expect(await b.invalidatePattern('k*')).toBe(0);
    time.now += 5;
    expect(await a.set('k1', entry('old', version))).toBe(true); // A has not heard of it yet
    expect((await c.get('k1'))?.value).toBe('old'); // the window: bounded by the bus latency
    slow.flush();
    await tick();
    expect(await c.get('k1')).toBeUndefined(); // before the fix: 'old' until its TTL
    // Once heard, a store that began before the fence is not even sent.
    expect(await a.set('k2', entry('old', version))).toBe(false);
    expect(await c.get('k2')).toBeUndefined();
    // A newer value of a key the fence reached is spared, and keys it did not reach are untouched.
    expect(await a.set('k3', entry('new', a.stamp()))).toBe(true);
    expect(await a.set('other', entry('kept', version))).toBe(true);
    expect((await c.get('k3'))?.value).toBe('new');
    expect((await c.get('other'))?.value).toBe('kept');
  });

  it('a bulk fence heard with a time ahead of this host takes effect now, not until that time', async () => {
    const { time, b, c, entry, hub } = tiers();
    const before = b.stamp(); // a load that began before the clear
    time.now += 5;
    // A forged (unsigned) clear, or one from a host whose clock runs 59 s ahead.
    await hub.connect('X').publish({ cache: 'c', kind: 'clear', at: time.now + 59_000 });
    await tick();
    expect(await b.set('k0', entry('old', before))).toBe(false); // older than the fence: refused
    time.now += 5;
    const version = b.stamp(); // a load that begins after it
    expect(await b.set('k1', entry('fresh', version))).toBe(true); // before the fix: refused for 59 s
    expect((await c.get('k1'))?.value).toBe('fresh');
  });

  it('a fence whose message was missed is read from L2 when the bus resyncs', async () => {
    const time = { now: 1_000_000 };
    const clock = (): number => time.now;
    const driver = new MemoryDriver({ clock });
    const hub = new MemoryBusHub();
    const busA = hub.connect('A');
    const a = new SharedTier({ driver, bus: busA, clock }).bind('c');
    const b = new SharedTier({ driver, bus: hub.connect('B'), clock }).bind('c');
    const c = new SharedTier({ driver, clock }).bind('c');
    const version = a.stamp();
    busA.disconnect(); // A misses B's message
    time.now += 5;
    await b.clear();
    time.now += 5;
    const at = time.now;
    expect(
      await a.set('k', {
        value: 'old',
        createdAt: at,
        staleAt: at + 60_000,
        expiresAt: at + 60_000,
        tags: [],
        version,
      }),
    ).toBe(true);
    expect((await c.get('k'))?.value).toBe('old');
    busA.reconnect(); // resync: A reads B's fence from L2 and undoes its older store
    await tick();
    expect(await c.get('k')).toBeUndefined();
  });

  it('a namespace clear fences only its prefix', async () => {
    const { time, slow, a, b, c, entry } = tiers();
    const version = a.stamp();
    time.now += 5;
    await b.invalidatePrefix('ns:');
    time.now += 5;
    await a.set('ns:1', entry('old', version));
    await a.set('x:1', entry('kept', version));
    slow.flush();
    await tick();
    expect(await c.get('ns:1')).toBeUndefined();
    expect((await c.get('x:1'))?.value).toBe('kept');
  });
});
