// configure({ ttl, applyToExisting: true }): the new TTL reaches entries already cached, counted from
// each entry's write time; namespaces keep their own; with a shared tier a shortened entry leaves
// every tier so L2's copy cannot outlive the new TTL.
import { describe, expect, it } from 'vitest';
import { createCache } from '../../src/index.js';
import { MemoryBusHub } from '../../src/tiers/bus.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { memoryTier } from '../../src/tiers/redis-tier.js';
import { manualClock } from '../helpers/clock.js';
import { consoleLogger } from '../helpers/logger.js';

const MIN = 60_000;

describe('configure({ ttl, applyToExisting })', () => {
  it('re-times cached entries from their write time; without the flag only new entries change', async () => {
    const clock = manualClock();
    const cache = createCache<number>({ ttl: '1h', clock: clock.now });
    await cache.set('old', 1);
    clock.advance(40 * MIN);
    await cache.set('young', 2);
    cache.configure({ ttl: '30m' });
    expect(await cache.ttlRemaining('old')).toBe(20 * MIN);
    cache.configure({ ttl: '30m', applyToExisting: true });
    expect(await cache.has('old')).toBe(false);
    expect(await cache.ttlRemaining('young')).toBe(30 * MIN);
    cache.configure({ ttl: 0, applyToExisting: true });
    expect(await cache.ttlRemaining('young')).toBe(Infinity);
    await cache.close();
  });

  it('keeps an adaptive entry within adaptiveTtl.max: a longer or no TTL re-times it to max', async () => {
    const clock = manualClock();
    const cache = createCache<string>({
      ttl: '10s',
      clock: clock.now,
      adaptiveTtl: { min: '1s', max: '10s' },
    });
    await cache.getOrSet('loaded', () => 'v'); // adaptive state, TTL 10 s
    await cache.set('written', 'v'); // set() writes the fixed TTL, no adaptive state
    cache.configure({ ttl: '1d', applyToExisting: true });
    expect(await cache.ttlRemaining('loaded')).toBe(10_000);
    expect(await cache.ttlRemaining('written')).toBe(86_400_000);
    cache.configure({ ttl: 0, applyToExisting: true });
    expect(await cache.ttlRemaining('loaded')).toBe(10_000);
    clock.advance(10_000);
    expect(await cache.get('loaded')).toBeUndefined();
    cache.configure({ ttl: '1s', applyToExisting: true }); // shortening still reaches it
    await cache.getOrSet('again', () => 'v');
    cache.configure({ ttl: '500ms', applyToExisting: true });
    expect(await cache.ttlRemaining('again')).toBe(1_000); // not below min either
    await cache.close();
  });

  it('keeps each entry’s grace length, so a shortened entry can still be served by fail-safe', async () => {
    const clock = manualClock();
    const cache = createCache<number>({ ttl: '1h', grace: '10m', clock: clock.now });
    await cache.set('k', 1);
    clock.advance(35 * MIN);
    cache.configure({ ttl: '30m', applyToExisting: true });
    expect(await cache.get('k')).toBeUndefined(); // stale…
    const answer = await cache.getOrSet('k', () => Promise.reject(new Error('upstream down')));
    expect(answer).toBe(1); // …but inside its grace
    await cache.close();
  });

  it('leaves the entries of namespaces alone when the root is re-timed, and vice versa', async () => {
    const clock = manualClock();
    const root = createCache<number>({ ttl: '1h', clock: clock.now });
    const images = root.namespace('images');
    await root.set('a', 1);
    await images.set('a', 2);
    root.configure({ ttl: '2h', applyToExisting: true });
    expect(await root.ttlRemaining('a')).toBe(120 * MIN);
    expect(await images.ttlRemaining('a')).toBe(60 * MIN);
    images.configure({ ttl: '10m', applyToExisting: true });
    expect(await images.ttlRemaining('a')).toBe(10 * MIN);
    expect(await root.ttlRemaining('a')).toBe(120 * MIN);
    await root.close();
  });

  it('logs the counts in the CONFIG line and refuses a non-boolean flag before changing anything', async () => {
    const { logger, lines } = consoleLogger();
    const clock = manualClock();
    const cache = createCache<number>({ name: 'plans', ttl: '1h', clock: clock.now, logger });
    await cache.set('a', 1);
    clock.advance(20 * MIN);
    await cache.set('b', 2);
    cache.configure({ ttl: '10m', applyToExisting: true });
    expect(lines.find((l) => l.message === 'Cache CONFIG')?.fields).toEqual({
      cache: 'plans',
      ttl: '10m',
      applyToExisting: true,
      retimed: 1,
      removed: 1,
    });
    expect(() => cache.configure({ ttl: '1h', applyToExisting: 'yes' as never })).toThrow(
      /applyToExisting must be a boolean/,
    );
    expect(cache.stats().ttl).toBe(10 * MIN);
    await cache.close();
  });

  it('keeps a record held for revalidation: shortened, its next load still gets the validators', async () => {
    const clock = manualClock();
    const cache = createCache<string>({ ttl: '1h', clock: clock.now });
    const load = (body: string) => async (ctx: { setValidators(v: { etag: string }): void }) => {
      ctx.setValidators({ etag: `"${body}"` });
      return body;
    };
    await cache.getOrSet('k', load('v1'));
    clock.advance(50 * MIN);
    cache.configure({ ttl: '30m', applyToExisting: true });
    expect(await cache.get('k')).toBeUndefined();
    let seen: string | undefined;
    const answer = await cache.getOrSet('k', async (ctx) => {
      seen = ctx.previous?.etag;
      return ctx.notModified();
    });
    expect([answer, seen]).toEqual(['v1', '"v1"']);
    // Lengthened past the original hour, the renewed entry keeps answering.
    cache.configure({ ttl: '3h', applyToExisting: true });
    clock.advance(2 * 60 * MIN);
    expect(await cache.get('k')).toBe('v1');
    await cache.close();
  });

  it('with a shared tier, removes shortened entries from L2 too, so no instance serves the old times', async () => {
    const clock = manualClock();
    const driver = new MemoryDriver({ clock: clock.now });
    const hub = new MemoryBusHub();
    const make = (id: string) =>
      createCache<number>({
        name: 'plans',
        ttl: '1h',
        clock: clock.now,
        retry: false,
        l2: memoryTier({ driver, hub, instanceId: id, clock: clock.now, lock: false }),
      });
    const a = make('A');
    await a.set('k', 1);
    clock.advance(5 * MIN);
    a.configure({ ttl: '30m', applyToExisting: true });
    await a.close(); // close() waits for the pending L2 delete
    const b = make('B');
    let loads = 0;
    expect(await b.getOrSet('k', async () => ++loads + 100)).toBe(101);
    await b.close();
  });
});
