// getOrSet({ forceFresh: true }): a revalidation of what is held. The loader runs even over a fresh
// value (which it sees as ctx.stale), concurrent forced calls share one load, the held value answers
// if the load fails, and a write during the load keeps its result out, as for any load.
import { describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import { deferred } from './helpers.js';

describe('getOrSet forceFresh', () => {
  it('runs the loader over a fresh value, hands it the held value, and stores the result', async () => {
    let now = 0;
    const cache = createCache<string>({ clock: () => now, ttl: '1m' });
    await cache.set('k', 'old');
    const seen: (string | undefined)[] = [];
    const value = await cache.getOrSet(
      'k',
      (ctx) => {
        seen.push(ctx.stale);
        return 'new';
      },
      { forceFresh: true },
    );
    expect(value).toBe('new');
    expect(seen).toEqual(['old']);
    now += 59_000;
    expect(await cache.get('k')).toBe('new');
    // Without forceFresh the fresh value answers and the loader does not run.
    expect(await cache.getOrSet('k', () => 'other')).toBe('new');
    await cache.close();
  });

  it('concurrent forced calls share one load', async () => {
    const cache = createCache<string>();
    await cache.set('k', 'old');
    const gate = deferred<string>();
    let runs = 0;
    const loader = () => {
      runs++;
      return gate.promise;
    };
    const calls = [1, 2, 3].map(() => cache.getOrSet('k', loader, { forceFresh: true }));
    gate.resolve('new');
    expect(await Promise.all(calls)).toEqual(['new', 'new', 'new']);
    expect(runs).toBe(1);
    await cache.close();
  });

  it('answers the held value when the load fails, and throws when nothing is held', async () => {
    const cache = createCache<string>({ ttl: '1m' });
    await cache.set('k', 'held');
    const fail = () => Promise.reject(new Error('upstream down'));
    expect(await cache.getOrSet('k', fail, { forceFresh: true })).toBe('held');
    // No fail-safe backoff for a forced load: the next one runs the loader again.
    let ran = false;
    expect(
      await cache.getOrSet(
        'k',
        () => {
          ran = true;
          return 'again';
        },
        { forceFresh: true },
      ),
    ).toBe('again');
    expect(ran).toBe(true);
    await expect(cache.getOrSet('missing', fail, { forceFresh: true })).rejects.toThrow('upstream down');
    await cache.close();
  });

  it('a delete during the forced load keeps its result out of the cache', async () => {
    const cache = createCache<string>();
    await cache.set('k', 'old');
    const gate = deferred<string>();
    const pending = cache.getOrSet('k', () => gate.promise, { forceFresh: true });
    await cache.delete('k');
    gate.resolve('loaded before the delete');
    expect(await pending).toBe('loaded before the delete');
    expect(await cache.get('k')).toBeUndefined();
    await cache.close();
  });

  it('refuses a forceFresh that is not a boolean', async () => {
    const cache = createCache<string>();
    await expect(cache.getOrSet('k', () => 'v', { forceFresh: 'yes' as unknown as boolean })).rejects.toThrow(
      /forceFresh/,
    );
    await cache.close();
  });
});
