// The shared time helpers: two-decimal durations, an abortable sleep, a race against a timer.
import { describe, expect, it, vi } from 'vitest';
import { raceTimeout, roundMs, since, sleep, TIMED_OUT } from '../../src/util/time.js';

describe('time', () => {
  it('rounds durations to two decimals', () => {
    expect(roundMs(1.23456)).toBe(1.23);
    expect(since(performance.now())).toBeGreaterThanOrEqual(0);
  });

  it('sleep resolves after ms and rejects with the abort reason', async () => {
    vi.useFakeTimers();
    try {
      const done = sleep(50);
      await vi.advanceTimersByTimeAsync(50);
      await expect(done).resolves.toBeUndefined();
      const controller = new AbortController();
      const aborted = sleep(1_000, controller.signal);
      controller.abort(new Error('stop'));
      await expect(aborted).rejects.toThrow('stop');
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('raceTimeout answers the value, or TIMED_OUT, and clears its timer', async () => {
    vi.useFakeTimers();
    try {
      await expect(raceTimeout(Promise.resolve(1), 10)).resolves.toBe(1);
      expect(vi.getTimerCount()).toBe(0);
      const slow = raceTimeout(new Promise(() => {}), 10);
      await vi.advanceTimersByTimeAsync(10);
      await expect(slow).resolves.toBe(TIMED_OUT);
      await expect(raceTimeout(Promise.reject(new Error('x')), 10)).rejects.toThrow('x');
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
