// createCache({ l2 }) over the in-process tier: two caches are two instances sharing one L2 and one
// bus. Read-through L2 with promotion at the remaining TTL, every kind of cross-instance invalidation,
// own messages ignored, serialization failures, resync, outages, the lock, managers and close().
import { describe, expect, it, vi } from 'vitest';
import { createCache, createCacheManager } from '../../src/index.js';
import type { Cache } from '../../src/index.js';
import { MemoryBusHub } from '../../src/tiers/bus.js';
import type { MemoryBus } from '../../src/tiers/bus.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { memoryTier } from '../../src/tiers/redis-tier.js';
import { SharedTier } from '../../src/tiers/shared-tier.js';
import { deferred } from '../helpers/deferred.js';
import { ChaosDriver } from './chaos-driver.js';

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/** Two instances (caches named `plans`) over one store and bus; `now` drives every clock. */
function instances(options: { lock?: boolean } = {}) {
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
      l2: memoryTier({
        driver,
        hub,
        instanceId: id,
        clock,
        lock: options.lock ? { pollInterval: 2 } : false,
      }),
    });
  return { a: make('A'), b: make('B'), time, driver, hub };
}

/** Keys L1 holds (the admin view lists L1 only). */
const inL1 = (cache: Cache): string[] => cache.entries().map((e) => e.key);

describe('createCache({ l2 }) across instances', () => {
  it('reads through L2 and promotes with the remaining TTL, not a fresh one', async () => {
    const { a, b, time } = instances();
    await a.set('p:1', { id: 1, at: new Date(3) }, { ttl: '10s' });
    time.now += 4000;
    expect(inL1(b)).toEqual([]);
    expect(await b.get('p:1')).toEqual({ id: 1, at: new Date(3) });
    expect(inL1(b)).toEqual(['p:1']);
    expect(await b.ttlRemaining('p:1')).toBe(6000);
    time.now += 6000;
    expect(await b.get('p:1')).toBeUndefined();
  });

  it('getOrSet on an L1 miss answers from L2 without calling the loader', async () => {
    const { a, b } = instances();
    await a.getOrSet('k', () => 'from A');
    const loader = vi.fn(() => 'from B');
    expect(await b.getOrSet('k', loader)).toBe('from A');
    expect(loader).not.toHaveBeenCalled();
  });

  it('a set on A evicts B’s L1 copy, and B then reads the new value', async () => {
    const { a, b } = instances();
    await a.set('k', 'v1');
    expect(await b.get('k')).toBe('v1');
    await a.set('k', 'v2');
    await tick();
    expect(inL1(b)).toEqual([]);
    expect(await b.get('k')).toBe('v2');
  });

  it('delete, tags, pattern, namespace clear and clear on A reach B’s L1 and L2', async () => {
    const { a, b } = instances();
    const seed = async (): Promise<void> => {
      await a.set('d', 1);
      await a.set('t', 2, { tags: ['org:acme'] });
      await a.set('plans_list_acme_1', 3);
      await a.namespace('images').set('x', 4);
      await a.set('keep', 5);
      for (const key of ['d', 't', 'plans_list_acme_1', 'keep']) await b.get(key);
      await b.namespace('images').get('x');
    };
    await seed();
    expect(inL1(b).sort()).toEqual(['d', 'images:x', 'keep', 'plans_list_acme_1', 't']);
    await a.delete('d');
    await a.invalidateTags(['org:acme']);
    await a.invalidatePattern('plans_list_acme_*');
    await a.namespace('images').clear();
    await tick();
    expect(inL1(b)).toEqual(['keep']);
    for (const key of ['d', 't', 'plans_list_acme_1']) expect(await b.get(key)).toBeUndefined();
    expect(await b.namespace('images').get('x')).toBeUndefined();
    await a.clear();
    await tick();
    expect(inL1(b)).toEqual([]);
    expect(await b.get('keep')).toBeUndefined();
  });

  it('an instance ignores its own messages: its L1 keeps what it just wrote', async () => {
    const { a } = instances();
    await a.set('k', 'v');
    await tick();
    expect(inL1(a)).toEqual(['k']);
    a.resetStats();
    expect(await a.get('k')).toBe('v');
    expect(a.stats().hits).toBe(1);
  });

  it('numeric keys are invalidated across instances too', async () => {
    const { a, b } = instances();
    await a.set(42, 'answer');
    expect(await b.get(42)).toBe('answer');
    await a.delete(42);
    await tick();
    expect(await b.get(42)).toBeUndefined();
  });

  it('a value L2 cannot store is served from L1, reported as SERIALIZATION_FAILED, and evicted elsewhere', async () => {
    const { a, b } = instances();
    const errors: unknown[] = [];
    a.on('cache:error', (e) => errors.push(e.error));
    await a.set('k', 'old');
    expect(await b.get('k')).toBe('old');
    const value = { render: () => 'x' };
    await a.set('k', value);
    expect(await a.get('k')).toBe(value);
    expect(errors[0]).toMatchObject({ type: 'SERIALIZATION_FAILED' });
    await tick();
    expect(await b.get('k')).toBeUndefined();
  });

  it('a bus resync drops the instance’s L1', async () => {
    const time = { now: 1_000 };
    const hub = new MemoryBusHub();
    let bus: MemoryBus | undefined;
    const connect = hub.connect.bind(hub);
    hub.connect = (id?: string) => (bus = connect(id));
    const cache = createCache({ name: 'c', clock: () => time.now, l2: memoryTier({ hub }) });
    await cache.set('a', 1);
    await cache.set('b', 2);
    bus!.disconnect();
    bus!.reconnect();
    expect(inL1(cache)).toEqual([]);
    expect(await cache.get('a')).toBe(1); // L2 still has it
  });

  it('with L2 failing, calls answer from L1 or the loader and health says why', async () => {
    const chaos = new ChaosDriver(new MemoryDriver());
    const cache = createCache({
      name: 'c',
      retry: false,
      l2: new SharedTier({ driver: chaos, timeout: 20, breaker: { threshold: 2, resetAfter: '1m' } }),
    });
    await cache.set('warm', 'w');
    chaos.mode = 'hang';
    const started = Date.now();
    expect(await cache.get('warm')).toBe('w');
    expect(await cache.getOrSet('cold', () => 'loaded')).toBe('loaded');
    await cache.set('x', 'y');
    expect(await cache.delete('x')).toBe(true);
    expect(await cache.getOrSet('cold2', () => 'loaded2')).toBe('loaded2');
    expect(Date.now() - started).toBeLessThan(3000);
    const health = cache.health();
    expect(health.status).toBe('degraded');
    expect(health.reason).toMatch(/circuit open|L2 failing/);
    expect(health.l2).toMatchObject({ status: 'down' });
    await cache.close();
  });

  it('a tier without a logger logs outages to the caches’ logger: once per outage, not per cache or call', async () => {
    const chaos = new ChaosDriver(new MemoryDriver());
    const logger = { error: vi.fn(), warn: vi.fn(), info: vi.fn(), debug: vi.fn() };
    const tier = new SharedTier({ driver: chaos, timeout: 20, breaker: { threshold: 2, resetAfter: 10 } });
    const quiet = createCache({ name: 'quiet', l2: tier }); // bound first, but has no logger
    const manager = createCacheManager({ logger, caches: { one: {}, two: {} }, l2: tier });
    const [one, two] = [manager.get('one'), manager.get('two')];
    chaos.mode = 'fail';
    for (let i = 0; i < 20; i++) {
      for (const cache of [quiet, one, two]) expect(await cache.getOrSet(`k${i}`, () => i)).toBe(i);
    }
    expect(logger.error).toHaveBeenCalledTimes(1);
    expect(logger.error.mock.calls[0]![0]).toMatch(/L2 chaos unavailable/);
    expect(logger.info).not.toHaveBeenCalled();
    chaos.mode = 'ok';
    await vi.waitFor(async () => {
      await one.get('probe');
      expect(logger.info).toHaveBeenCalledTimes(1);
    });
    expect(logger.info.mock.calls[0]![0]).toMatch(/L2 chaos recovered/);
    expect(logger.error).toHaveBeenCalledTimes(1);
    await manager.close();
    await quiet.close();
  });

  it('the tier’s own logger wins; otherwise the first open cache with a logger gets the lines', async () => {
    const chaos = new ChaosDriver(new MemoryDriver());
    const logger = () => ({ error: vi.fn(), warn: vi.fn(), info: vi.fn() });
    let misses = 0;
    const outage = async (cache: Cache): Promise<void> => {
      chaos.mode = 'fail';
      for (let i = 0; i < 5; i++) await cache.getOrSet(`k${misses++}`, () => i);
      chaos.mode = 'ok';
      await vi.waitFor(() => cache.get('probe').then(() => expect(cache.health().l2?.status).toBe('ok')));
    };
    const options = { driver: chaos, timeout: 20, breaker: { threshold: 2, resetAfter: 10 } };
    const own = logger();
    const cacheLog = logger();
    const owned = createCache({
      name: 'c',
      logger: cacheLog,
      l2: new SharedTier({ ...options, logger: own }),
    });
    await outage(owned);
    expect(own.error).toHaveBeenCalledTimes(1);
    expect(cacheLog.error).not.toHaveBeenCalled();
    await owned.close();

    const [first, second] = [logger(), logger()];
    const tier = new SharedTier(options);
    const a = createCache({ name: 'a', logger: first, l2: tier });
    const b = createCache({ name: 'b', logger: second, l2: tier });
    await outage(b);
    expect([first.error.mock.calls.length, second.error.mock.calls.length]).toEqual([1, 0]);
    await a.close(); // its logger goes with it
    await outage(b);
    expect([first.error.mock.calls.length, second.error.mock.calls.length]).toEqual([1, 1]);
    await b.close();
  });

  it('lock: true makes concurrent misses on two instances call the loader once', async () => {
    const { a, b, driver, hub } = instances({ lock: true });
    const tries = vi.spyOn(driver, 'add');
    // The waiter's polls read L2 only once the bus has carried the loader's write (and B has applied
    // it), so the copy B promotes to L1 comes after that message, whatever the timing of the polls.
    const carried = deferred();
    const observer = hub.connect('observer');
    await observer.start({ message: (m) => void (m.kind === 'set' && carried.resolve()), resync: () => {} });
    let reads: Promise<void> | undefined = undefined;
    const get = driver.get.bind(driver);
    const getMany = driver.getMany.bind(driver);
    vi.spyOn(driver, 'get').mockImplementation(async (key) => {
      await reads;
      return get(key);
    });
    vi.spyOn(driver, 'getMany').mockImplementation(async (keys) => {
      await reads;
      return getMany(keys);
    });
    const finish = deferred();
    let calls = 0;
    const loader = async (): Promise<string> => {
      calls++;
      await finish.promise;
      return 'once';
    };
    const both = Promise.all([a.getOrSet('k', loader), b.getOrSet('k', loader)]);
    // The loader finishes only once both instances have tried the lock, so one is waiting on it.
    await vi.waitFor(() => expect(tries).toHaveBeenCalledTimes(2));
    reads = carried.promise;
    finish.resolve();
    expect(await both).toEqual(['once', 'once']);
    expect(calls).toBe(1);
    expect(inL1(b)).toEqual(['k']);
  });

  it('a manager binds every cache to the tier and close() releases it', async () => {
    const tier = memoryTier();
    const manager = createCacheManager({ caches: { url: { ttl: '1h' }, user: { ttl: '30m' } }, l2: tier });
    await manager.get('url').set('u', 1);
    expect(manager.health()).toMatchObject({ status: 'ok' });
    expect(manager.get('user').health().l2).toMatchObject({ status: 'ok' });
    await manager.close();
    expect(tier.health().l2).toMatchObject({ status: 'down', reason: 'closed' });
  });

  it('refuses an l2 that is not a tier, and a cache name the tier cannot key', () => {
    expect(() => createCache({ l2: { get() {}, bind() {} } as any })).toThrow(/l2 is not a recognised tier/);
    expect(() => createCache({ name: 'a:b', l2: memoryTier() })).toThrow(/cache name/);
  });
});
