// The guard: a per-call timeout, the breaker, and outage logging once per outage (not per request).
import { describe, expect, it, vi } from 'vitest';
import { LogSink } from '../../src/observability/log-sink.js';
import { GuardedDriver, withTimeout } from '../../src/tiers/guarded-driver.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { ChaosDriver } from './chaos-driver.js';

function setup(breaker = { threshold: 3, resetAfter: 200 }) {
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
    const { guard, chaos, logger, onRecover } = setup({ threshold: 2, resetAfter: 50 });
    chaos.mode = 'fail';
    for (let i = 0; i < 40; i++) await guard.get('k').catch(() => {});
    expect(logger.error).toHaveBeenCalledTimes(1);
    expect(logger.warn).toHaveBeenCalledTimes(1); // circuit opened
    chaos.mode = 'ok';
    await new Promise((resolve) => setTimeout(resolve, 60));
    await guard.get('k'); // the half-open probe
    expect(guard.breaker.state).toBe('closed');
    expect(logger.info).toHaveBeenCalledTimes(1);
    expect(onRecover).toHaveBeenCalledTimes(1);
    chaos.mode = 'fail';
    await guard.get('k').catch(() => {});
    expect(logger.error).toHaveBeenCalledTimes(2); // a new outage is a new line
  });

  it('withTimeout leaves fast promises alone and never holds the process', async () => {
    expect(await withTimeout(Promise.resolve(7), 10, 'x')).toBe(7);
    expect(await withTimeout(Promise.resolve(8), 0, 'x')).toBe(8);
  });
});
