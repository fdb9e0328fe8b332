// Probes of the read-through core as a hostile user: timeouts and backoff longer than a Node timer can
// count, fail-safe answers after a write, and loader context that outlives its attempt.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildCache } from '../../src/cache/create-cache.js';
import { manualClock } from '../helpers/clock.js';
import { deferred } from '../helpers/deferred.js';

afterEach(() => {
  vi.useRealTimers();
});

describe("read-through timers past setTimeout's 24.8-day limit", () => {
  it('a hard timeout longer than setTimeout can count (~24.8 days) does not fire at once', async () => {
    vi.useFakeTimers();
    const cache = buildCache<string>();
    const gate = deferred<string>();
    const answered = cache.getOrSet('k', () => gate.promise, { timeout: { hard: '30d' } });
    const hung = cache.getOrSet('j', () => new Promise<string>(() => {}), { timeout: { hard: '30d' } });
    let settled = 0;
    for (const p of [answered, hung])
      p.then(
        () => settled++,
        () => settled++,
      );
    await vi.advanceTimersByTimeAsync(1000);
    expect(settled).toBe(0);
    gate.resolve('v');
    await expect(answered).resolves.toBe('v');
    // It still fires, at 30 days and not before.
    await vi.advanceTimersByTimeAsync(30 * 86_400_000 - 1000 - 1);
    expect(settled).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await expect(hung).rejects.toMatchObject({ type: 'TIMEOUT' });
    await cache.close();
  });

  it('a retry backoff longer than setTimeout can count waits it out instead of retrying at once', async () => {
    vi.useFakeTimers();
    const cache = buildCache<string>({
      retry: { maxRetries: 1, initialDelay: '30d', maxDelay: '30d', jitter: 0 },
      timeout: { hard: false },
    });
    const loader = vi.fn(() => Promise.reject(Object.assign(new Error('down'), { code: 'ECONNRESET' })));
    const pending = cache.getOrSet('k', loader).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(1000);
    expect(loader).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(30 * 86_400_000);
    expect(loader).toHaveBeenCalledTimes(2);
    expect(await pending).toMatchObject({ type: 'RETRY_EXHAUSTED' });
    await cache.close();
  });
});

describe('loader context across retries', () => {
  it("a failed attempt's skip(), setTtl() and setTags() do not carry into the retry that succeeds", async () => {
    const clock = manualClock();
    const cache = buildCache<string>({
      ttl: '1h',
      clock: clock.now,
      retry: { maxRetries: 2, initialDelay: 0, jitter: 0 },
    });
    const reset = (): Error => Object.assign(new Error('reset'), { code: 'ECONNRESET' });
    let n = 0;
    const value = await cache.getOrSet('k', (ctx) => {
      n++;
      if (n === 1) {
        ctx.skip();
        throw reset();
      }
      if (n === 2) {
        ctx.setTtl('1s');
        ctx.setTags(['partial']);
        throw reset();
      }
      return 'v';
    });
    expect(value).toBe('v');
    expect(n).toBe(3);
    // Stored (attempt 1's skip is gone), with the call's TTL (attempt 2's 1s is gone) and no tags.
    clock.advance(10_000);
    expect(await cache.get('k')).toBe('v');
    expect(await cache.invalidateTags(['partial'])).toBe(0);
    expect(await cache.get('k')).toBe('v');
    await cache.close();
  });
});

describe('fail-safe after a write reached the load', () => {
  const down = (): Error => new Error('upstream down');

  async function inGrace(): Promise<{
    cache: ReturnType<typeof buildCache<string>>;
    clock: ReturnType<typeof manualClock>;
  }> {
    const clock = manualClock();
    const cache = buildCache<string>({ ttl: '1s', grace: '1h', clock: clock.now, retry: false });
    await cache.set('k', 'old', { tags: ['t'] });
    clock.advance(2000);
    return { cache, clock };
  }

  it('a delete during a failing load: the waiting caller gets the error, not the deleted value', async () => {
    const { cache } = await inGrace();
    const gate = deferred<string>();
    const pending = cache.getOrSet('k', () => gate.promise);
    await cache.delete('k');
    gate.reject(down());
    await expect(pending).rejects.toMatchObject({ type: 'FETCH_FAILED' });
    await cache.close();
  });

  it('a set during a failing load: the replaced value is not answered; the fallback is', async () => {
    const { cache } = await inGrace();
    const gate = deferred<string>();
    const pending = cache.getOrSet('k', () => gate.promise, { fallback: 'fallback' });
    await cache.set('k', 'new');
    gate.reject(down());
    expect(await pending).toBe('fallback');
    expect(await cache.get('k')).toBe('new');
    await cache.close();
  });

  it("an invalidation of the entry's tag during a failing getOrSetMany does not answer it either", async () => {
    const { cache } = await inGrace();
    const gate = deferred<Map<string, string>>();
    const pending = cache.getOrSetMany(['k'], () => gate.promise);
    expect(await cache.invalidateTags(['t'])).toBe(1);
    gate.reject(down());
    await expect(pending).rejects.toBeDefined();
    await cache.close();
  });

  it('an invalidation that leaves the entry in place keeps its fail-safe answer', async () => {
    const { cache } = await inGrace();
    const gate = deferred<string>();
    const pending = cache.getOrSet('k', () => gate.promise);
    expect(await cache.invalidateTags(['other'])).toBe(0); // detaches every load, removes nothing
    gate.reject(down());
    expect(await pending).toBe('old');
    await cache.close();
  });

  it('a soft timeout after a delete waits for the load instead of answering the deleted value', async () => {
    vi.useFakeTimers();
    const { cache } = await inGrace();
    const gate = deferred<string>();
    const pending = cache.getOrSet('k', () => gate.promise, { timeout: { soft: 100 } });
    const batch = cache.getOrSetMany(['k'], () => new Promise<Map<string, string>>(() => {}), {
      timeout: { soft: 100 },
    });
    await cache.delete('k');
    let settled = false;
    void pending.then(() => (settled = true));
    await vi.advanceTimersByTimeAsync(150);
    expect(settled).toBe(false);
    gate.resolve('fresh');
    expect(await pending).toBe('fresh');
    expect(await batch).toEqual(['fresh']); // it joined the same load
    await cache.close();
  });

  it('without a write, a soft timeout still answers the value in grace', async () => {
    vi.useFakeTimers();
    const { cache } = await inGrace();
    const gate = deferred<string>();
    const pending = cache.getOrSet('k', () => gate.promise, { timeout: { soft: 100 } });
    await vi.advanceTimersByTimeAsync(150);
    expect(await pending).toBe('old');
    gate.resolve('fresh');
    await cache.close();
  });
});

describe('signal-like objects', () => {
  it('refuses a signal without removeEventListener instead of hanging the call', async () => {
    const cache = buildCache<string>();
    const halfSignal = { aborted: false, addEventListener: () => undefined } as unknown as AbortSignal;
    await expect(cache.getOrSet('k', () => 'v', { signal: halfSignal })).rejects.toThrow(
      /^getOrSet: signal must be an AbortSignal$/,
    );
    await expect(cache.getOrSetMany(['k'], () => new Map(), { signal: halfSignal })).rejects.toThrow(
      /^getOrSetMany: signal must be an AbortSignal$/,
    );
    await cache.close();
  });
});

describe('loaders that throw values that are hard to describe', () => {
  it('still reject with FETCH_FAILED carrying the thrown value as its cause', async () => {
    const cache = buildCache<string>({ retry: false });
    const throwingMessage = Object.assign(new Error('x'), {});
    Object.defineProperty(throwingMessage, 'message', {
      get(): string {
        throw new Error('getter boom');
      },
    });
    const nullProto = Object.create(null) as object;
    const objectToString = { toString: () => ({}) };
    const hostileProxy = new Proxy(
      {},
      {
        get(): never {
          throw new Error('trap boom');
        },
      },
    );
    for (const thrown of [throwingMessage, nullProto, objectToString, hostileProxy]) {
      const error = await cache.getOrSet('k', () => Promise.reject(thrown)).catch((e: unknown) => e);
      expect(error).toMatchObject({ type: 'FETCH_FAILED' });
      expect((error as Error).cause).toBe(thrown);
      expect((error as Error).message).toMatch(/^loader for key "k" of cache "default" failed: /);
    }
    await cache.close();
  });
});
