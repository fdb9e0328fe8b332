// The guard: a per-call timeout, the breaker, and outage logging once per outage (not per request).
import { describe, expect, it, vi } from 'vitest';
import { LogSink } from '../../src/observability/log-sink.js';
import { GuardedDriver, withTimeout } from '../../src/tiers/guarded-driver.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { manualClock } from '../helpers/clock.js';
import { ChaosDriver } from './chaos-driver.js';

function setup(breaker = { threshold: 3, resetAfter: 200 }, clock?: () => number) {
  const logger = { error: vi.fn(), warn: vi.fn(), info: vi.fn(), debug: vi.fn() };
  const chaos = new ChaosDriver(new MemoryDriver());
  const onRecover = vi.fn();
  const guard = new GuardedDriver(chaos, {
    name: 'test',
    timeoutMs: 30,
    bulkTimeoutMs: 1000,
    breaker,
    log: new LogSink(logger),
    onRecover,
    clock,
  });
  return { guard, chaos, logger, onRecover };
}

describe('GuardedDriver', () => {
  it('passes calls through while the store is healthy', async () => {
    const { guard } = setup();
    await guard.set('k', 'v');
    expect(await guard.get('k')).toBe('v');
    expect(guard.breaker.state).toBe('closed');
  });

  it('turns a hanging call into CacheError TIMEOUT after the timeout', async () => {
    const { guard, chaos } = setup();
    chaos.mode = 'hang';
    const started = Date.now();
    await expect(guard.get('k')).rejects.toMatchObject({ type: 'TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('wraps store errors in TIER_UNAVAILABLE with the cause', async () => {
    const { guard, chaos } = setup();
    chaos.mode = 'fail';
    const error = await guard.get('k').catch((e: unknown) => e);
    expect(error).toMatchObject({ type: 'TIER_UNAVAILABLE' });
    expect((error as Error & { cause: Error }).cause.message).toMatch(/chaos/);
  });

  it('opens the circuit: later calls fail at once without reaching the store', async () => {
    const { guard, chaos } = setup({ threshold: 3, resetAfter: 10_000 });
    chaos.mode = 'fail';
    for (let i = 0; i < 3; i++) await guard.get('k').catch(() => {});
    chaos.mode = 'ok';
    const before = chaos.calls;
    for (let i = 0; i < 50; i++)
      await expect(guard.get('k')).rejects.toMatchObject({ type: 'TIER_UNAVAILABLE' });
    expect(chaos.calls).toBe(before);
  });

  it('logs one error per outage however many calls fail, and one info line on recovery', async () => {
    const clock = manualClock();
    const { guard, chaos, logger, onRecover } = setup({ threshold: 2, resetAfter: 50 }, clock.now);
    chaos.mode = 'fail';
    for (let i = 0; i < 40; i++) await guard.get('k').catch(() => {});
    expect(logger.error).toHaveBeenCalledTimes(1);
    expect(logger.warn).toHaveBeenCalledTimes(1); // circuit opened
    chaos.mode = 'ok';
    clock.advance(49);
    await expect(guard.get('k')).rejects.toMatchObject({ type: 'TIER_UNAVAILABLE' }); // still open
    clock.advance(1);
    await guard.get('k'); // the half-open probe
    expect(guard.breaker.state).toBe('closed');
    expect(logger.info).toHaveBeenCalledTimes(1);
    expect(onRecover).toHaveBeenCalledTimes(1);
    chaos.mode = 'fail';
    await guard.get('k').catch(() => {});
    expect(logger.error).toHaveBeenCalledTimes(2); // a new outage is a new line
  });

  it('runs its deadlines and its breaker on the clock it is given', async () => {
    const clock = manualClock();
    const { guard, chaos } = setup({ threshold: 1, resetAfter: 1000 }, clock.now);
    // Fake intervals only: the deadline sweep runs when told, and only the manual clock says what is late.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      chaos.mode = 'hang';
      const settled = vi.fn();
      const call = guard.get('k').catch((error: unknown) => {
        settled();
        throw error;
      });
      vi.advanceTimersByTime(100); // many sweeps, but no time has passed on the clock
      await Promise.resolve();
      expect(settled).not.toHaveBeenCalled();
      clock.advance(30);
      vi.advanceTimersByTime(10);
      await expect(call).rejects.toMatchObject({ type: 'TIMEOUT' });
    } finally {
      vi.useRealTimers();
    }
    expect(guard.breaker.state).toBe('open');
    clock.advance(999);
    expect(guard.breaker.state).toBe('open');
    clock.advance(1);
    expect(guard.breaker.state).toBe('half-open');
  });

  it('withTimeout leaves fast promises alone and never holds the process', async () => {
    expect(await withTimeout(Promise.resolve(7), 10, 'x')).toBe(7);
    expect(await withTimeout(Promise.resolve(8), 0, 'x')).toBe(8);
  });
});
