import diagnosticsChannel from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { buildCache, createCache } from '../../src/cache/create-cache.js';
import { LOADER_CHANNEL, TRACE_CHANNELS } from '../../src/observability/tracing.js';
import { MemoryBusHub } from '../../src/tiers/bus.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { memoryTier } from '../../src/tiers/redis-tier.js';
import { manualClock } from '../helpers/clock.js';

/** Subscribes to the named channels; `events` lists `<channel> <event>` with a copy of the context. */
function record(names: readonly string[]) {
  const events: Array<{ channel: string; event: string; ctx: Record<string, unknown> }> = [];
  const subscriptions = names.map((name) => {
    const channel = diagnosticsChannel.tracingChannel(name);
    const on = (event: string) => (ctx: unknown) =>
      events.push({ channel: name, event, ctx: { ...(ctx as Record<string, unknown>) } });
    const handlers = {
      start: on('start'),
      end: on('end'),
      asyncStart: on('asyncStart'),
      asyncEnd: on('asyncEnd'),
      error: on('error'),
    };
    channel.subscribe(handlers);
    return () => channel.unsubscribe(handlers);
  });
  const done = (name: string) =>
    events.filter((e) => e.channel === name && e.event === 'asyncEnd').map((e) => e.ctx);
  return { events, done, stop: () => subscriptions.forEach((stop) => stop()) };
}

describe('larder:loader tracing channel', () => {
  it('publishes start/asyncEnd with the cache, key (traceKeys), attempt and result around loader calls', async () => {
    const seen: string[] = [];
    const channel = diagnosticsChannel.tracingChannel(LOADER_CHANNEL);
    const handlers = {
      start: (ctx: any) => seen.push(`start ${ctx.cache} ${ctx.key} ${ctx.attempt}`),
      end: () => {},
      asyncStart: () => {},
      asyncEnd: (ctx: any) => seen.push(`asyncEnd ${ctx.result ?? ''}${ctx.error ? 'error' : ''}`),
      error: (ctx: any) => seen.push(`error ${ctx.error.message}`),
    };
    channel.subscribe(handlers);
    try {
      const cache = createCache<string>({ name: 'traced', retry: false, traceKeys: true });
      await cache.getOrSet('k', () => 'v');
      await cache.getOrSet('k', () => 'v');
      await expect(
        cache.getOrSet('bad', () => {
          throw new Error('nope');
        }),
      ).rejects.toThrow();
      const quiet = createCache<string>({ name: 'quiet', retry: false });
      await quiet.getOrSet('secret', () => 'v');
    } finally {
      channel.unsubscribe(handlers);
    }
    expect(seen).toEqual([
      'start traced k 0',
      'asyncEnd v',
      'start traced bad 0',
      'error nope',
      'asyncEnd error',
      // Without traceKeys the key stays out of the context.
      'start quiet undefined 0',
      'asyncEnd v',
    ]);
  });
});

describe('larder:* operation channels', () => {
  it('reports the getOrSet outcome and tier: miss, coalesced, L1 hit, stale', async () => {
    const clock = manualClock(0);
    const cache = buildCache<string>({
      name: 'ops',
      clock: clock.now,
      ttl: 1000,
      grace: 10_000,
      retry: false,
    });
    const rec = record([TRACE_CHANNELS.getOrSet]);
    try {
      let release!: (v: string) => void;
      const first = cache.getOrSet('k', () => new Promise<string>((resolve) => (release = resolve)));
      const joined = cache.getOrSet('k', () => 'unused');
      release('v');
      await Promise.all([first, joined]);
      await cache.getOrSet('k', () => 'unused');
      clock.advance(2000); // stale, in grace: the failing loader leaves the stale value as the answer
      expect(
        await cache.getOrSet('k', () => {
          throw new Error('down');
        }),
      ).toBe('v');
    } finally {
      rec.stop();
    }
    const outcomes = rec.done(TRACE_CHANNELS.getOrSet).map((c) => [c.outcome, c.tier, c.coalesced, c.key]);
    expect(outcomes).toEqual([
      ['miss', undefined, undefined, undefined],
      ['miss', undefined, true, undefined],
      ['hit', 'l1', undefined, undefined],
      ['stale', undefined, undefined, undefined],
    ]);
    expect(
      rec.done(TRACE_CHANNELS.getOrSet).every((c) => c.cache === 'ops' && c.operation === 'getOrSet'),
    ).toBe(true);
    await cache.close();
  });

  it('traces get, set, delete, and invalidations by tags, pattern and clear, with results', async () => {
    const cache = buildCache<string>({ name: 'ops', traceKeys: true });
    const rec = record([
      TRACE_CHANNELS.get,
      TRACE_CHANNELS.set,
      TRACE_CHANNELS.delete,
      TRACE_CHANNELS.invalidate,
    ]);
    try {
      await cache.set('a', 'A', { tags: ['t'] });
      expect(await cache.get('a')).toBe('A');
      expect(await cache.get('b')).toBeUndefined();
      expect(await cache.delete('a')).toBe(true);
      await cache.set('c', 'C', { tags: ['t'] });
      expect(await cache.invalidateTags(['t'])).toBe(1);
      expect(await cache.invalidatePattern('x*')).toBe(0);
      await cache.clear();
      await expect(cache.invalidatePattern('')).rejects.toThrow(TypeError);
    } finally {
      rec.stop();
    }
    expect(rec.done(TRACE_CHANNELS.set).map((c) => c.key)).toEqual(['a', 'c']);
    expect(rec.done(TRACE_CHANNELS.get).map((c) => [c.key, c.outcome, c.tier, c.result])).toEqual([
      ['a', 'hit', 'l1', 'A'],
      ['b', 'miss', 'l1', undefined],
    ]);
    expect(rec.done(TRACE_CHANNELS.delete).map((c) => [c.key, c.result])).toEqual([['a', true]]);
    expect(
      rec.done(TRACE_CHANNELS.invalidate).map((c) => [c.kind, c.tags ?? c.pattern, c.result, 'error' in c]),
    ).toEqual([
      ['tags', ['t'], 1, false],
      ['pattern', 'x*', 0, false],
      ['clear', undefined, undefined, false],
      ['pattern', '', undefined, true],
    ]);
    await cache.close();
  });

  it('traces L2 reads with their outcome, L2 writes, and bus publish/receive between instances', async () => {
    const driver = new MemoryDriver();
    const hub = new MemoryBusHub();
    const a = buildCache<string>({ name: 'shared', l2: memoryTier({ driver, hub, instanceId: 'A' }) });
    const b = buildCache<string>({ name: 'shared', l2: memoryTier({ driver, hub, instanceId: 'B' }) });
    const rec = record([
      TRACE_CHANNELS.getOrSet,
      TRACE_CHANNELS.l2Read,
      TRACE_CHANNELS.l2Write,
      TRACE_CHANNELS.busPublish,
      TRACE_CHANNELS.busReceive,
    ]);
    try {
      await a.set('k', 'v');
      expect(await b.getOrSet('k', () => 'loaded')).toBe('v');
      expect(await b.get('missing')).toBeUndefined();
      await a.delete('k');
      await new Promise((resolve) => setTimeout(resolve, 0)); // the in-process bus delivers next turn
    } finally {
      rec.stop();
    }
    expect(rec.done(TRACE_CHANNELS.l2Write).map((c) => [c.method, c.tier, c.key])).toEqual([
      ['set', 'l2', undefined],
      ['delete', 'l2', undefined],
    ]);
    expect(rec.done(TRACE_CHANNELS.l2Read).map((c) => [c.method, c.outcome])).toEqual([
      ['get', 'hit'],
      ['get', 'miss'],
    ]);
    expect(rec.done(TRACE_CHANNELS.getOrSet).map((c) => [c.outcome, c.tier])).toEqual([['hit', 'l2']]);
    const published = rec.done(TRACE_CHANNELS.busPublish).map((c) => [c.cache, c.kind, c.keyCount]);
    expect(published).toEqual([
      ['shared', 'set', 1],
      ['shared', 'delete', 1],
    ]);
    // Receives are synchronous: they end with `end`, not `asyncEnd`.
    const received = rec.events.filter((e) => e.channel === TRACE_CHANNELS.busReceive && e.event === 'end');
    expect(received.map((e) => [e.ctx.cache, e.ctx.kind])).toEqual([
      ['shared', 'set'],
      ['shared', 'delete'],
    ]);
    await a.close();
    await b.close();
  });

  it('refuses a traceKeys that is not a boolean', () => {
    expect(() => createCache({ traceKeys: 'yes' as unknown as boolean })).toThrow(
      /traceKeys must be a boolean/,
    );
  });
});
