// Probes of the invalidation bus as a hostile user would drive it: messages that the sender had to
// widen, and what receivers make of them; and entries read back from the store with times no writer
// could have given them.
import { describe, expect, it } from 'vitest';
import { createCache } from '../../src/index.js';
import type { Cache } from '../../src/index.js';
import { createCodec } from '../../src/codec/codec.js';
import { msgpackSerializer } from '../../src/codec/serializer.js';
import { BUS_LIMITS, MemoryBusHub } from '../../src/tiers/bus.js';
import type { BusListeners, InvalidationBus } from '../../src/tiers/bus.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { memoryTier } from '../../src/tiers/redis-tier.js';
import { SharedTier } from '../../src/tiers/shared-tier.js';
import type { TierDriver } from '../../src/tiers/driver.js';
import { ChaosDriver } from './chaos-driver.js';

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/** Two instances (caches named `plans`) over one store and bus; `now` drives every clock. */
function instances() {
  const time = { now: 1_000_000 };
  const clock = (): number => time.now;
  const driver = new MemoryDriver({ clock });
  const hub = new MemoryBusHub();
  const make = (id: string): Cache =>
    createCache({
      name: 'plans',
      ttl: '10s',
      clock,
      retry: false,
      l2: memoryTier({ driver, hub, instanceId: id, clock }),
    });
  return { a: make('A'), b: make('B'), time };
}

describe('bus probes', () => {
  it('a tag invalidation widened to a clear (a tag beyond the bus bound) hides the tag’s L2 entries on receivers at once', async () => {
    const { a, b } = instances();
    const tag = 't'.repeat(BUS_LIMITS.maxItemLength + 1);
    await a.set('k', 'v1', { tags: [tag] });
    // B reads it through L2: it now holds k in L1 and the tag's (never invalidated) time in memory.
    expect(await b.get('k')).toBe('v1');
    await a.invalidateTags([tag]);
    await tick();
    expect(await a.get('k')).toBeUndefined();
    // The bus carried a clear of `plans` instead of the tag: B dropped its L1, and must not find the
    // entry in L2 valid by the tag time it still remembers.
    expect(await b.get('k')).toBeUndefined();
  });
});

describe('entries read back with unbelievable times', () => {
  const codec = createCodec(msgpackSerializer());
  const now = 1_000_000_000_000;
  const clock = (): number => now;

  const read = async (record: Record<string, unknown>, invalidate: boolean): Promise<unknown> => {
    const driver = new MemoryDriver({ clock });
    const a = createCache<string>({ name: 'm', clock, retry: false, l2: memoryTier({ driver, clock }) });
    await driver.set('e:m:k', codec.encode({ value: 'poison', tags: ['t'], ...record }));
    if (invalidate) await a.invalidateTags(['t']);
    const got = await a.get('k');
    // On a miss, the loader's value replaces it.
    if (got === undefined) expect(await a.getOrSet('k', async () => 'fresh')).toBe('fresh');
    await a.close();
    return got;
  };

  it.each([
    ['a grace end past the largest Date', { createdAt: now, staleAt: 1e300, graceUntil: 1e300 }],
    ['a staleAt past the largest Date', { createdAt: now, staleAt: 1e300, graceUntil: 0 }],
  ])('an L2 entry with %s is a miss', async (_, times) => {
    expect(await read(times, false)).toBeUndefined();
  });

  // Unstamped (an older Larder's format): its createdAt is what its tags' times are compared with.
  it.each([
    ['far in the future', 1e300],
    ['a day ahead', now + 86_400_000],
  ])('an unstamped L2 entry created %s is a miss, not served past its tags’ invalidation', async (_, at) => {
    expect(await read({ createdAt: at, staleAt: 0, graceUntil: 0 }, true)).toBeUndefined();
  });

  it('an unstamped entry created a few seconds ahead (clock skew) is still served', async () => {
    expect(await read({ createdAt: now + 5000, staleAt: 0, graceUntil: 0 }, false)).toBe('poison');
  });
});

describe('tag invalidations replayed after an outage', () => {
  it('a replayed tag invalidation does not rewind a newer one made meanwhile (its entries stay hidden)', async () => {
    const time = { now: 1_000_000 };
    const clock = (): number => time.now;
    const driver = new MemoryDriver({ clock });
    const chaos = new ChaosDriver(driver);
    const hub = new MemoryBusHub();
    const make = (id: string, store: TierDriver): Cache<string> =>
      createCache<string>({
        name: 'plans',
        ttl: '1h',
        clock,
        retry: false,
        l2: new SharedTier({ driver: store, bus: hub.connect(id), clock }),
      });
    const a = make('A', driver);
    const b = make('B', chaos);
    // B cannot reach L2: its invalidation of `t` waits for replay.
    chaos.mode = 'fail';
    await b.invalidateTags(['t']);
    const pending = (): unknown => b.health().l2?.pending;
    expect(pending()).toBe(1);
    time.now += 1000;
    await a.set('k', 'v', { tags: ['t'] });
    time.now += 1000;
    await a.invalidateTags(['t']);
    // L2 is back; B's next call finds it and replays.
    chaos.mode = 'ok';
    time.now += 1000;
    await b.get('other');
    for (let i = 0; i < 20 && pending() !== 0; i++) await tick();
    expect(pending()).toBe(0);
    // An instance that knows nothing of either invalidation but what L2 says.
    const c = make('C', driver);
    expect(await c.get('k')).toBeUndefined();
    await Promise.all([a.close(), b.close(), c.close()]);
  });
});

describe('tag times read back from the store', () => {
  it.each([['garbage'], [''], ['-5'], ['NaN']])(
    'a tag time the store holds as %j cannot vouch for the tag’s entries (a miss, not served)',
    async (held) => {
      const time = { now: 1_000_000 };
      const clock = (): number => time.now;
      const driver = new MemoryDriver({ clock });
      const a = createCache<string>({ name: 'm', clock, retry: false, l2: memoryTier({ driver, clock }) });
      await a.set('k', 'v', { tags: ['t'] });
      await a.invalidateTags(['t']);
      await driver.set('t:{m}:t', held);
      const b = createCache<string>({ name: 'm', clock, retry: false, l2: memoryTier({ driver, clock }) });
      expect(await b.get('k')).toBeUndefined();
      // Once the tag is invalidated again, its time is readable and a newer entry is served.
      await b.invalidateTags(['t']);
      time.now += 1;
      await b.set('k2', 'v2', { tags: ['t'] });
      const c = createCache<string>({ name: 'm', clock, retry: false, l2: memoryTier({ driver, clock }) });
      expect(await c.get('k2')).toBe('v2');
      await Promise.all([a.close(), b.close(), c.close()]);
    },
  );
});

describe('untimely bus messages', () => {
  it('a tag invalidation dropped for its time still stops the tag time held in memory from vouching for L2 entries', async () => {
    const time = { now: 1_000_000 };
    const clock = (): number => time.now;
    const driver = new MemoryDriver({ clock });
    let heard: BusListeners | undefined;
    const bus: InvalidationBus = {
      instanceId: 'B',
      start: async (listeners) => {
        heard = listeners;
      },
      publish: async () => {},
      health: () => ({ status: 'ok', resyncs: 0 }),
      close: async () => {},
    };
    const a = createCache<string>({ name: 'plans', clock, retry: false, l2: memoryTier({ driver, clock }) });
    const b = createCache<string>({
      name: 'plans',
      clock,
      retry: false,
      l2: new SharedTier({ driver, bus, clock }),
    });
    await a.set('k', 'v', { tags: ['t'] });
    expect(await b.get('k')).toBe('v');
    time.now += 1;
    await a.invalidateTags(['t']);
    // What A sent arrives with a time B refuses (A's clock is far ahead): evicted, not applied.
    heard!.invalid!('at is in the future', {
      source: 'A',
      cache: 'plans',
      kind: 'tags',
      tags: ['t'],
      at: time.now + 120_000,
    });
    expect(await b.get('k')).toBeUndefined();
    await Promise.all([a.close(), b.close()]);
  });
});
