// Deadlines: one interval for many calls; overdue calls fail with TIMEOUT, settled ones pass through.
import { describe, expect, it, vi } from 'vitest';
import { Deadlines } from '../../src/tiers/deadlines.js';
import { manualClock } from '../helpers/clock.js';

describe('Deadlines', () => {
  it('passes values and errors through when they come in time', async () => {
    const deadlines = new Deadlines(200);
    expect(await deadlines.run(Promise.resolve(5), 'x')).toBe(5);
    await expect(deadlines.run(Promise.reject(new Error('boom')), 'x')).rejects.toThrow('boom');
  });

  it('rejects a call that hangs with TIMEOUT naming it, within timeout + a quarter', async () => {
    const deadlines = new Deadlines(40);
    const started = performance.now();
    const error = await deadlines.run(new Promise(() => {}), 'redis get').catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    expect(error).toMatchObject({ type: 'TIMEOUT', message: 'redis get took longer than 40ms' });
    expect(elapsed).toBeGreaterThanOrEqual(39);
    expect(elapsed).toBeLessThan(1000);
  });

  it('fails only the overdue calls of many, and stops its interval when none is pending', async () => {
    const deadlines = new Deadlines(30);
    let release: (v: string) => void = () => {};
    const slow = deadlines.run(new Promise<string>(() => {}), 'slow');
    const fast = deadlines.run(new Promise<string>((resolve) => (release = resolve)), 'fast');
    release('ok');
    expect(await fast).toBe('ok');
    await expect(slow).rejects.toMatchObject({ type: 'TIMEOUT' });
    expect(deadlines.pending).toBe(0);
  });

  it('judges lateness by the clock it is given, not by how often it looks', async () => {
    const clock = manualClock();
    const deadlines = new Deadlines(40, clock.now);
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const outcome = vi.fn();
      const call = deadlines.run(new Promise(() => {}), 'redis get');
      call.catch(outcome);
      vi.advanceTimersByTime(1000); // the sweep runs, the clock has not moved
      await Promise.resolve();
      expect(outcome).not.toHaveBeenCalled();
      clock.advance(39);
      vi.advanceTimersByTime(10);
      await Promise.resolve();
      expect(outcome).not.toHaveBeenCalled();
      clock.advance(1);
      vi.advanceTimersByTime(10);
      await expect(call).rejects.toMatchObject({
        type: 'TIMEOUT',
        message: 'redis get took longer than 40ms',
      });
      expect(deadlines.pending).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('0 means no timeout', async () => {
    const deadlines = new Deadlines(0);
    const p = Promise.resolve(1);
    expect(deadlines.run(p, 'x')).toBe(p);
  });
});
