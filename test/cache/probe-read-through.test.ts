// Probes of the read-through core as a hostile user: timeouts and backoff longer than a Node timer can
// count, fail-safe answers after a write, and loader context that outlives its attempt.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildCache } from '../../src/cache/create-cache.js';
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
