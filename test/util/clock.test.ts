// The default coarse clock: Date.now() read at most once per millisecond (or per 1,024 reads), never
// ahead of it, and its timer never keeps the process alive.
import { afterEach, describe, expect, it, vi } from 'vitest';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** A fresh copy of the module, so no value or timer is left from another test. */
async function freshClock(): Promise<() => number> {
  vi.resetModules();
  return (await import('../../src/util/clock.js')).coarseNow;
}

describe('coarseNow', () => {
  it('caches Date.now() until its 1 ms timer fires, then reads it again', async () => {
    vi.useFakeTimers({ now: 1_000 });
    const coarseNow = await freshClock();
    const first = coarseNow();
    expect(first).toBe(1_000);
    vi.setSystemTime(1_001); // the real clock moves on; the timer has not fired yet
    expect(coarseNow()).toBe(1_000);
    await vi.advanceTimersByTimeAsync(1);
    expect(coarseNow()).toBe(Date.now());
    expect(coarseNow()).toBeGreaterThan(first);
  });

  it('reads the real clock again after 1,024 cached reads, even if the timer never fires', async () => {
    vi.useFakeTimers({ now: 5_000 });
    const coarseNow = await freshClock();
    coarseNow();
    vi.setSystemTime(5_010);
    const seen = new Set<number>();
    for (let i = 0; i < 1_100; i++) seen.add(coarseNow());
    expect([...seen]).toEqual([5_000, 5_010]);
  });

  it('its timer is unref()ed', async () => {
    const coarseNow = await freshClock();
    const spy = vi.spyOn(globalThis, 'setTimeout');
    coarseNow();
    expect(spy).toHaveBeenCalledTimes(1);
    const timer = spy.mock.results[0]!.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
  });
});
