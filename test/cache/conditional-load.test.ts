// Conditional requests to upstreams (issue 15): a loader records its upstream's validators with
// ctx.setValidators, the next load sees them as ctx.previous (the entry is kept past expiry for it),
// and ctx.notModified() renews the held value with a fresh TTL without a body. Validators travel with
// the entry through L2 and dump/load, and what an attempt said does not leak into its retry.
import { describe, expect, it } from 'vitest';
import { buildCache } from '../../src/cache/create-cache.js';
import { CacheError, CacheErrorType } from '../../src/errors.js';
import type { LoaderContext, PreviousEntry } from '../../src/cache/types.js';
import { MemoryBusHub } from '../../src/tiers/bus.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { memoryTier } from '../../src/tiers/redis-tier.js';
import { manualClock } from '../helpers/clock.js';
import { deferred } from '../helpers/deferred.js';

const SECOND = 1000;

/** An upstream with one document: answers 304 to a matching If-None-Match, else the body and its ETag. */
function upstream() {
  const state = { body: 'v1', version: 1, full: 0, notModified: 0 };
  const fetch = (ifNoneMatch: string | undefined) => {
    const etag = `"${state.version}"`;
    if (ifNoneMatch === etag) {
      state.notModified++;
      return { status: 304 as const, etag };
    }
    state.full++;
    return { status: 200 as const, etag, body: state.body };
  };
  const change = (body: string) => {
    state.body = body;
    state.version++;
  };
  const loader = (ctx: LoaderContext<string>) => {
    const res = fetch(ctx.previous?.etag);
    if (res.status === 304) return ctx.notModified();
    ctx.setValidators({ etag: res.etag, lastModified: 'Fri, 04 Dec 2026 10:00:00 GMT' });
    return res.body;
  };
  return { state, change, loader };
}

describe('conditional loads', () => {
  it('renews the held value on "not modified": fresh TTL, same value, validators kept, no body fetched', async () => {
    const clock = manualClock();
    const cache = buildCache<string>({ clock: clock.now, ttl: '10s' });
    const up = upstream();
    expect(await cache.getOrSet('doc', up.loader)).toBe('v1');
    clock.advance(10 * SECOND); // stale; no grace, but the record is kept for the revalidation
    expect(await cache.get('doc')).toBeUndefined();
    expect(await cache.getOrSet('doc', up.loader)).toBe('v1');
    expect(up.state).toMatchObject({ full: 1, notModified: 1 });
    expect(await cache.ttlRemaining('doc')).toBe(10 * SECOND);
    // The validators were kept: the next revalidation is conditional too.
    clock.advance(10 * SECOND);
    await cache.getOrSet('doc', up.loader);
    expect(up.state).toMatchObject({ full: 1, notModified: 2 });
    // A change upstream: the full answer replaces value and validators.
    up.change('v2');
    clock.advance(10 * SECOND);
    expect(await cache.getOrSet('doc', up.loader)).toBe('v2');
    expect(up.state).toMatchObject({ full: 2, notModified: 2 });
    expect(cache.entries()[0]).toMatchObject({ key: 'doc', revalidatable: true, stale: false });
    await cache.close();
  });

  it('hands the loader what was held: value, validators, storedAt and freshness', async () => {
    const clock = manualClock();
    const cache = buildCache<string>({ clock: clock.now, ttl: '10s' });
    const seen: Array<PreviousEntry<string> | undefined> = [];
    const loader = (ctx: LoaderContext<string>) => {
      seen.push(ctx.previous);
      ctx.setValidators({ etag: '"a"' });
      return 'v';
    };
    await cache.getOrSet('k', loader);
    const storedAt = clock.now();
    clock.advance(3 * SECOND);
    await cache.getOrSet('k', loader, { forceFresh: true });
    clock.advance(15 * SECOND); // stale, within the kept window of one more TTL
    await cache.getOrSet('k', loader);
    expect(seen[0]).toBeUndefined();
    expect(seen[1]).toEqual({ value: 'v', storedAt, fresh: true, etag: '"a"', lastModified: undefined });
    expect(seen[2]).toMatchObject({ value: 'v', fresh: false, etag: '"a"' });
    await cache.close();
  });

  it('without validators nothing is kept past expiry (plain caches behave as before)', async () => {
    const clock = manualClock();
    const cache = buildCache<string>({ clock: clock.now, ttl: '10s' });
    const seen: unknown[] = [];
    await cache.getOrSet('k', () => 'v');
    clock.advance(10 * SECOND);
    expect(cache.entries()).toEqual([]);
    await cache.getOrSet('k', (ctx) => {
      seen.push(ctx.previous);
      return 'v';
    });
    expect(seen).toEqual([undefined]);
    await cache.close();
  });

  it('drops the kept record one TTL after it went stale', async () => {
    const clock = manualClock();
    const cache = buildCache<string>({ clock: clock.now, ttl: '10s' });
    const up = upstream();
    await cache.getOrSet('doc', up.loader);
    clock.advance(19 * SECOND);
    expect(cache.entries()).toHaveLength(1);
    clock.advance(SECOND);
    expect(cache.entries()).toEqual([]);
    await cache.getOrSet('doc', up.loader);
    expect(up.state).toMatchObject({ full: 2, notModified: 0 });
    await cache.close();
  });

  it('new validators on a 304 replace the old; setValidators({}) drops them', async () => {
    const clock = manualClock();
    const cache = buildCache<string>({ clock: clock.now, ttl: '1s' });
    const etags: Array<string | undefined> = [];
    const steps: Array<(ctx: LoaderContext<string>) => string> = [
      (ctx) => {
        ctx.setValidators({ etag: '"1"' });
        return 'v';
      },
      (ctx) => {
        ctx.setValidators({ etag: '"1b"', lastModified: 'Thu, 03 Dec 2026 00:00:00 GMT' });
        return ctx.notModified();
      },
      (ctx) => {
        ctx.setValidators({});
        return 'w';
      },
      () => 'x',
    ];
    for (const step of steps) {
      await cache.getOrSet('k', (ctx) => {
        etags.push(ctx.previous?.etag);
        return step(ctx);
      });
      clock.advance(SECOND);
    }
    expect(etags).toEqual([undefined, '"1"', '"1b"', undefined]);
    await cache.close();
  });

  it('notModified() without a previous value fails the load with a TypeError as its cause', async () => {
    const cache = buildCache<string>({ retry: false });
    const error = await cache.getOrSet('k', (ctx) => ctx.notModified()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CacheError);
    expect((error as CacheError).type).toBe(CacheErrorType.FETCH_FAILED);
    expect((error as CacheError).cause).toBeInstanceOf(TypeError);
    expect(String((error as Error).message)).toMatch(/ctx.notModified\(\)/);
    await cache.close();
  });

  it('refuses malformed validators, naming the field', async () => {
    const cache = buildCache<string>({ retry: false });
    for (const [validators, message] of [
      [null, /ctx.setValidators\(validators\) takes an object/],
      [{ etag: 42 }, /etag must be a string/],
      [{ lastModified: new Date() }, /lastModified must be a string/],
    ] as const) {
      const error = await cache
        .getOrSet('k', (ctx) => {
          ctx.setValidators(validators as never);
          return 'v';
        })
        .catch((e: unknown) => e);
      expect((error as CacheError).cause).toBeInstanceOf(TypeError);
      expect(String((error as CacheError).cause)).toMatch(message);
    }
    await cache.close();
  });

  it('an attempt that said "not modified" and then failed does not make its retry a renewal', async () => {
    const clock = manualClock();
    const cache = buildCache<string>({
      clock: clock.now,
      ttl: '1s',
      retry: { maxRetries: 1, initialDelay: 0, jitter: 0, retryOn: () => true },
    });
    await cache.getOrSet('k', (ctx) => {
      ctx.setValidators({ etag: '"1"' });
      return 'old';
    });
    clock.advance(SECOND);
    const value = await cache.getOrSet('k', (ctx) => {
      if (ctx.attempt === 0) {
        ctx.notModified();
        throw new Error('connection reset');
      }
      return 'new';
    });
    expect(value).toBe('new');
    // Not a renewal: the old validators were not carried over to the new value.
    clock.advance(SECOND);
    let etag: string | undefined = 'unset';
    await cache.getOrSet('k', (ctx) => {
      etag = ctx.previous?.etag;
      return 'new';
    });
    expect(etag).toBeUndefined();
    await cache.close();
  });

  it('validators travel through L2 to another instance', async () => {
    const clock = manualClock();
    const driver = new MemoryDriver({ clock: clock.now });
    const hub = new MemoryBusHub();
    const tier = (id: string) => memoryTier({ driver, hub, instanceId: id, clock: clock.now });
    const a = buildCache<string>({ name: 'c', clock: clock.now, ttl: '10s', grace: '1m', l2: tier('A') });
    const b = buildCache<string>({ name: 'c', clock: clock.now, ttl: '10s', grace: '1m', l2: tier('B') });
    const up = upstream();
    await a.getOrSet('doc', up.loader);
    clock.advance(10 * SECOND);
    // B never loaded the key: its L1 misses, L2 has A's entry (in grace) with the ETag.
    expect(await b.getOrSet('doc', up.loader)).toBe('v1');
    expect(up.state).toMatchObject({ full: 1, notModified: 1 });
    await a.close();
    await b.close();
  });

  it('validators survive dump() and load()', async () => {
    const clock = manualClock();
    const a = buildCache<string>({ clock: clock.now, ttl: '10s' });
    const up = upstream();
    await a.getOrSet('doc', up.loader);
    const b = buildCache<string>({ clock: clock.now, ttl: '10s' });
    b.load(a.dump());
    clock.advance(10 * SECOND);
    expect(await b.getOrSet('doc', up.loader)).toBe('v1');
    expect(up.state).toMatchObject({ full: 1, notModified: 1 });
    await a.close();
    await b.close();
  });

  it('concurrent callers share one conditional load', async () => {
    const clock = manualClock();
    const cache = buildCache<string>({ clock: clock.now, ttl: '1s' });
    await cache.getOrSet('k', (ctx) => {
      ctx.setValidators({ etag: '"1"' });
      return 'v';
    });
    clock.advance(SECOND);
    const gate = deferred();
    let runs = 0;
    const loader = async (ctx: LoaderContext<string>) => {
      runs++;
      await gate.promise;
      return ctx.notModified();
    };
    const calls = [cache.getOrSet('k', loader), cache.getOrSet('k', loader)];
    gate.resolve();
    expect(await Promise.all(calls)).toEqual(['v', 'v']);
    expect(runs).toBe(1);
    await cache.close();
  });
});
