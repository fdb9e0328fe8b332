// Predictive warming at start (persist.warm): the keys the last snapshot ranks hottest are warmed,
// those still fresh as they were, those that went stale through the loader: hottest first, at most
// `concurrency` at a time, failures counted and logged instead of thrown, and never past the timeout.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { join } from 'node:path';
import { createCache } from '../../src/cache/create-cache.js';
import { createCacheManager } from '../../src/cache/manager.js';
import type { CacheKey } from '../../src/engine/types.js';
import type { PersistOptions, WarmLoaderContext } from '../../src/persistence/types.js';
import { scratchDir } from '../persistence/helpers.js';
import { manualClock, type ManualClock } from '../helpers/clock.js';
import { deferred, type Deferred } from '../helpers/deferred.js';
import { consoleLogger } from '../helpers/logger.js';

let scratch: ReturnType<typeof scratchDir>;
let path: string;
beforeEach(() => {
  scratch = scratchDir();
  path = join(scratch.dir, 'caches.snap');
});
afterEach(() => {
  vi.useRealTimers();
  scratch.remove();
});

/**
 * The previous process: `links` holds ten keys, `hot0`…`hot4` read `5 - i` extra times each (so they
 * rank hot0 first), `cold0`…`cold4` never read; hot0, hot1 and hot3 and every cold key live 1 s, the
 * rest 1 h. It shuts down (writing the snapshot) and the clock moves past the short TTLs.
 */
async function previousRun(clock: ManualClock): Promise<void> {
  const before = createCacheManager({
    clock: clock.now,
    defaults: { cleanupInterval: 0 },
    caches: { links: { maxEntries: 100 } },
    persist: { path },
  });
  const links = before.get<string>('links');
  for (let i = 0; i < 5; i++) {
    const short = i === 0 || i === 1 || i === 3;
    await links.set(`hot${i}`, `old hot${i}`, { ttl: short ? '1s' : '1h', tags: ['links'] });
    await links.set(`cold${i}`, `old cold${i}`, { ttl: '1s' });
  }
  for (let i = 0; i < 5; i++) for (let n = 0; n < 5 - i; n++) await links.get(`hot${i}`);
  await before.close();
  clock.advance(10_000);
}

type Loader = (key: CacheKey, ctx: WarmLoaderContext) => unknown;

function nextStart(clock: ManualClock, warm: PersistOptions['warm']) {
  const { logger, lines } = consoleLogger();
  const manager = createCacheManager({
    clock: clock.now,
    logger,
    defaults: { cleanupInterval: 0 },
    caches: { links: { maxEntries: 100 } },
    persist: { path, onShutdown: false, warm },
  });
  return { manager, links: manager.get<string>('links'), lines };
}

describe('persist.warm', () => {
  it('restores the hottest fresh keys as they were and fetches the hottest stale ones again', async () => {
    const clock = manualClock();
    await previousRun(clock);
    const calls: [CacheKey, string, string][] = [];
    const loader: Loader = (key, ctx) => {
      calls.push([key, ctx.cache, String(ctx.entry.value)]);
      return `new ${String(key)}`;
    };
    const { manager, links, lines } = nextStart(clock, { top: 4, loader });
    await manager.ready;
    // The top four are hot0..hot3; of those hot0, hot1 and hot3 went stale. Cold keys are never fetched.
    expect(calls).toEqual([
      ['hot0', 'links', 'old hot0'],
      ['hot1', 'links', 'old hot1'],
      ['hot3', 'links', 'old hot3'],
    ]);
    expect(await links.get('hot0')).toBe('new hot0');
    expect(await links.get('hot2')).toBe('old hot2');
    expect(await links.get('hot4')).toBe('old hot4');
    expect(await links.get('cold0')).toBeUndefined();
    // Stored with the entry's own TTL (1 s, not the cache default) and tags.
    expect(await links.ttlRemaining('hot1')).toBe(1_000);
    expect(await links.invalidateTags(['links'])).toBe(5);
    const line = lines.find((l) => l.message === 'Cache WARM');
    expect(line?.fields).toMatchObject({
      cache: 'links',
      hottest: 4,
      fresh: 1,
      refetched: 3,
      failed: 0,
      skipped: 0,
      timedOut: false,
    });
    await manager.close();
  });

  it('keeps at most `concurrency` loader calls in flight, hottest first', async () => {
    const clock = manualClock();
    await previousRun(clock);
    const pending = new Map<CacheKey, Deferred<string>>();
    let inFlight = 0;
    let most = 0;
    const loader: Loader = async (key) => {
      inFlight++;
      most = Math.max(most, inFlight);
      const d = deferred<string>();
      pending.set(key, d);
      try {
        return await d.promise;
      } finally {
        inFlight--;
      }
    };
    const { manager, links } = nextStart(clock, { top: 10, loader, concurrency: 2 });
    // Stale among the top ten, hottest first: hot0, hot1, hot3, then the cold keys.
    expect([...pending.keys()]).toEqual(['hot0', 'hot1']);
    pending.get('hot1')!.resolve('v1');
    await vi.waitFor(() => expect(pending.has('hot3')).toBe(true));
    expect(pending.size).toBe(3);
    for (let settled = 0; settled < 20 && pending.size > 0; settled++) {
      for (const [key, d] of pending) {
        d.resolve(`v ${String(key)}`);
        pending.delete(key);
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    await manager.ready;
    expect(most).toBe(2);
    expect(await links.get('cold4')).toBe('v cold4');
    expect(await links.get('hot1')).toBe('v1');
    await manager.close();
  });

  it('counts loader failures instead of throwing them, and stores the rest', async () => {
    const clock = manualClock();
    await previousRun(clock);
    const loader: Loader = (key) => {
      if (key === 'hot1') throw new Error('upstream down');
      if (key === 'hot3') return Promise.reject(new Error('timeout'));
      return `new ${String(key)}`;
    };
    const { manager, links, lines } = nextStart(clock, { top: 5, loader });
    await expect(manager.ready).resolves.toBeUndefined();
    expect(await links.get('hot0')).toBe('new hot0');
    // A failed refetch leaves the key to a normal miss: its stale value is not served as fresh.
    expect(await links.get('hot1')).toBeUndefined();
    const line = lines.find((l) => l.message === 'Cache WARM incomplete');
    expect(line?.level).toBe('warn');
    expect(line?.fields).toMatchObject({ refetched: 1, failed: 2, skipped: 0, error: 'upstream down' });
    await manager.close();
  });

  it('never runs past its timeout: keys not started are skipped and late results discarded', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const clock = manualClock();
    await previousRun(clock);
    const late = deferred<string>();
    const calls: CacheKey[] = [];
    const loader: Loader = (key) => {
      calls.push(key);
      return late.promise;
    };
    const { manager, links, lines } = nextStart(clock, { top: 10, loader, concurrency: 1, timeout: '2s' });
    let ready = false;
    void manager.ready!.then(() => (ready = true));
    await vi.advanceTimersByTimeAsync(1_999);
    expect(ready).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(ready).toBe(true);
    expect(calls).toEqual(['hot0']);
    expect(lines.find((l) => l.message === 'Cache WARM incomplete')?.fields).toMatchObject({
      hottest: 10,
      fresh: 2,
      refetched: 0,
      failed: 0,
      skipped: 8,
      timedOut: true,
    });
    late.resolve('too late');
    await vi.advanceTimersByTimeAsync(0);
    expect(await links.get('hot0')).toBeUndefined();
    expect(calls).toEqual(['hot0']);
    await manager.close();
  });

  it('does not store a result over a write, delete, invalidation or clear that reached its key while it loaded', async () => {
    const clock = manualClock();
    await previousRun(clock);
    const pending = new Map<CacheKey, Deferred<string>>();
    const signals = new Map<CacheKey, AbortSignal>();
    const loader: Loader = (key, ctx) => {
      const d = deferred<string>();
      pending.set(key, d);
      signals.set(key, ctx.signal);
      return d.promise;
    };
    const { manager, links, lines } = nextStart(clock, { top: 10, loader, concurrency: 8 });
    const ns = links.namespace('ns');
    // Stale among the top ten: hot0, hot1, hot3 and the five cold keys, all loading now.
    expect(pending.size).toBe(8);
    await links.set('hot0', 'written by the app');
    await links.delete('hot1');
    await links.invalidatePattern('cold0');
    await ns.clear(); // reaches no warmed key: cold1 is still stored
    for (const [key, d] of pending) d.resolve(`upstream ${String(key)}`);
    await manager.ready;
    expect(await links.get('hot0')).toBe('written by the app');
    expect(await links.get('hot1')).toBeUndefined();
    expect(await links.get('cold0')).toBeUndefined();
    expect(await links.get('hot3')).toBe('upstream hot3');
    expect(await links.get('cold1')).toBe('upstream cold1');
    expect(lines.find((l) => l.message === 'Cache WARM')?.fields).toMatchObject({ refetched: 5, skipped: 3 });
    expect([...signals.values()].some((s) => s.aborted)).toBe(false);
    await manager.close();
  });

  it('is reached by tag invalidation and clear() and aborted by close() like any load of the cache', async () => {
    const clock = manualClock();
    await previousRun(clock);
    const signals: AbortSignal[] = [];
    const gate = deferred<string>();
    const loader: Loader = (_key, ctx) => {
      signals.push(ctx.signal);
      return gate.promise;
    };
    // Each start restores the same snapshot (onShutdown is off) and warms hot0 and hot1.
    for (const write of ['invalidateTags', 'clear'] as const) {
      const { manager, links } = nextStart(clock, { top: 2, loader });
      if (write === 'clear') await links.clear();
      else await links.invalidateTags(['links']);
      gate.resolve('upstream');
      await manager.ready;
      expect([await links.get('hot0'), await links.get('hot1')]).toEqual([undefined, undefined]);
      await manager.close();
    }
    expect(signals).toHaveLength(4);
    const hung: Loader = (_key, ctx) => {
      signals.push(ctx.signal);
      return deferred().promise;
    };
    const { manager } = nextStart(clock, { top: 2, loader: hung });
    await manager.close();
    expect(signals.slice(4).map((s) => s.aborted)).toEqual([true, true]);
  });

  it('without a loader, restores the fresh hot keys and skips the stale ones', async () => {
    const clock = manualClock();
    await previousRun(clock);
    const { manager, links, lines } = nextStart(clock, { top: 3 });
    await manager.ready;
    expect(await links.get('hot2')).toBe('old hot2');
    expect(lines.find((l) => l.message === 'Cache WARM')?.fields).toMatchObject({
      fresh: 1,
      refetched: 0,
      skipped: 2,
    });
    await manager.close();
  });

  it('warms a single cache too: cache.ready waits for it', async () => {
    const clock = manualClock();
    const first = createCache<string>({
      name: 'url',
      clock: clock.now,
      cleanupInterval: 0,
      persist: { path },
    });
    await first.set('/a', 'old', { ttl: '1s' });
    await first.get('/a');
    await first.close();
    clock.advance(5_000);
    const gate = deferred<string>();
    const second = createCache<string>({
      name: 'url',
      clock: clock.now,
      cleanupInterval: 0,
      persist: { path, onShutdown: false, warm: { top: 1, loader: () => gate.promise } },
    });
    let ready = false;
    void second.ready!.then(() => (ready = true));
    await Promise.resolve();
    expect(ready).toBe(false);
    gate.resolve('fresh');
    await second.ready;
    expect(await second.get('/a')).toBe('fresh');
    await second.close();
  });

  it('names a bad warm option', () => {
    const base = { path: join(scratch.dir, 'x.snap') };
    expect(() => createCache({ persist: { ...base, warm: { top: 0 } } })).toThrow(
      /persist.warm.top must be a positive integer/,
    );
    expect(() => createCache({ persist: { ...base, warm: { top: 5, loader: 'x' as never } } })).toThrow(
      /persist.warm.loader must be a function/,
    );
    expect(() => createCache({ persist: { ...base, warm: { top: 5, concurrency: 1.5 } } })).toThrow(
      /persist.warm.concurrency/,
    );
    expect(() => createCache({ persist: { ...base, warm: { top: 5, timeout: 'soon' } } })).toThrow(
      /persist.warm.timeout/,
    );
    expect(() => createCache({ persist: { ...base, restore: false, warm: { top: 5 } } })).toThrow(
      /persist.warm needs persist.restore/,
    );
  });
});
