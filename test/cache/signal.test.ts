// A caller's `signal` on getOrSet and getOrSetMany (issue 14): aborting abandons that caller's wait only;
// the shared load goes on, answers the other callers and is stored; an aborted signal rejects at once
// without starting a load; the abort listener is removed when the wait ends.
import { getEventListeners } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { buildCache } from '../../src/cache/create-cache.js';
import type { CacheKey } from '../../src/engine/types.js';
import { deferred } from '../helpers/deferred.js';

describe('getOrSet signal', () => {
  it('abandons only the aborted caller; the shared load answers the others and is stored', async () => {
    const cache = buildCache<string>();
    const gate = deferred<string>();
    let loaderSignal: AbortSignal | undefined;
    const loader = vi.fn((ctx: { signal: AbortSignal }) => {
      loaderSignal = ctx.signal;
      return gate.promise;
    });
    const controller = new AbortController();
    const mine = cache.getOrSet('k', loader, { signal: controller.signal });
    const theirs = cache.getOrSet('k', loader);
    controller.abort(new Error('client went away'));
    await expect(mine).rejects.toThrow('client went away');
    expect(loaderSignal?.aborted).toBe(false); // the load others share is not cancelled
    gate.resolve('value');
    expect(await theirs).toBe('value');
    expect(loader).toHaveBeenCalledTimes(1);
    expect(await cache.get('k')).toBe('value');
    await cache.close();
  });

  it('rejects with an AbortError when aborted without a reason', async () => {
    const cache = buildCache<string>();
    const controller = new AbortController();
    const pending = cache.getOrSet('k', () => new Promise<string>(() => {}), {
      signal: controller.signal,
      timeout: { hard: 0 },
    });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await cache.close();
  });

  it('an already-aborted signal rejects at once, without calling the loader or reading the cache', async () => {
    const cache = buildCache<string>();
    await cache.set('k', 'cached');
    const loader = vi.fn(() => 'loaded');
    const reason = new Error('already gone');
    await expect(cache.getOrSet('k', loader, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    await expect(cache.getOrSet('other', loader, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(loader).not.toHaveBeenCalled();
    expect(cache.stats().totalRequests).toBe(0);
    await cache.close();
  });

  it('removes its abort listener when the wait ends (hit, load, failure)', async () => {
    const cache = buildCache<string>({ retry: false });
    const controller = new AbortController();
    const signal = controller.signal;
    await cache.set('hit', 'h');
    expect(await cache.getOrSet('hit', () => 'x', { signal })).toBe('h');
    expect(await cache.getOrSet('miss', () => 'loaded', { signal })).toBe('loaded');
    await expect(cache.getOrSet('fails', () => Promise.reject(new Error('no')), { signal })).rejects.toThrow(
      'no',
    );
    const gate = deferred<string>();
    const pending = cache.getOrSet('slow', () => gate.promise, { signal });
    expect(getEventListeners(signal, 'abort')).toHaveLength(1);
    gate.resolve('done');
    expect(await pending).toBe('done');
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    await cache.close();
  });

  it('refuses a signal that is not an AbortSignal', async () => {
    const cache = buildCache<string>();
    await expect(cache.getOrSet('k', () => 'v', { signal: {} as AbortSignal })).rejects.toThrow(
      /^getOrSet: signal must be an AbortSignal$/,
    );
    await cache.close();
  });
});

describe('getOrSetMany signal', () => {
  it('abandons the caller of a batch; the batch still stores its results', async () => {
    const cache = buildCache<string>();
    const gate = deferred<Map<CacheKey, string>>();
    const controller = new AbortController();
    const mine = cache.getOrSetMany(['a', 'b'], () => gate.promise, { signal: controller.signal });
    const joined = cache.getOrSet('a', () => 'own load');
    controller.abort(new Error('bye'));
    await expect(mine).rejects.toThrow('bye');
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    gate.resolve(
      new Map([
        ['a', 'A'],
        ['b', 'B'],
      ]),
    );
    expect(await joined).toBe('A');
    expect(await cache.getMany(['a', 'b'])).toEqual(['A', 'B']);
    const load = vi.fn(() => []);
    await expect(cache.getOrSetMany(['z'], load, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(load).not.toHaveBeenCalled();
    await cache.close();
  });
});
