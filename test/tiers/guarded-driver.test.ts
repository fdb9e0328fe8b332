// The guard: a per-call timeout, the breaker, and outage logging once per outage (not per request).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LogSink } from '../../src/observability/log-sink.js';
import { GuardedDriver, withTimeout } from '../../src/tiers/guarded-driver.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { manualClock } from '../helpers/clock.js';
import type { BreakerOptions } from '../../src/tiers/breaker.js';
import type { TierDriver } from '../../src/tiers/driver.js';
import { ChaosDriver } from './chaos-driver.js';

/** A guard around `inner`, with a mock logger and onRecover. */
function guarded(inner: TierDriver, breaker?: BreakerOptions, clock?: () => number) {
  const logger = { error: vi.fn(), warn: vi.fn(), info: vi.fn(), debug: vi.fn() };
  const onRecover = vi.fn();
  const guard = new GuardedDriver(inner, {
    name: 'test',
    timeoutMs: 30,
    bulkTimeoutMs: 1000,
    breaker,
    log: new LogSink(logger),
    onRecover,
    clock,
  });
  return { guard, logger, onRecover };
}

function setup(breaker = { threshold: 3, resetAfter: 200 }, clock?: () => number) {
  const chaos = new ChaosDriver(new MemoryDriver());
  return { chaos, ...guarded(chaos, breaker, clock) };
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

/** A store whose PING the test controls; counts PINGs and how many were out at once. */
class PingDriver extends MemoryDriver {
  mode: 'ok' | 'fail' | 'hang' = 'ok';
  pings = 0;
  out = 0;
  mostOut = 0;
  ping(): Promise<void> {
    this.pings++;
    if (this.mode === 'fail') return Promise.reject(new Error('ECONNREFUSED'));
    this.mostOut = Math.max(this.mostOut, ++this.out);
    if (this.mode === 'hang') return new Promise(() => {});
    this.out--;
    return Promise.resolve();
  }
}

describe('GuardedDriver recovery probe', () => {
  // Fake setTimeout only: the probe's timer moves when told; the manual clock drives the breaker.
  function probed(breaker = { threshold: 3, resetAfter: 2000 }) {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const clock = manualClock();
    const store = new PingDriver();
    const { guard, onRecover } = guarded(store, breaker, clock.now);
    /** A call that fails as an unreachable store's would (the breaker counts it). */
    const failOnce = async (): Promise<void> => {
      const get = store.get.bind(store);
      store.get = () => Promise.reject(new Error('ECONNRESET'));
      await guard.get('k').catch(() => {});
      store.get = get;
    };
    return { guard, store, clock, onRecover, failOnce };
  }
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends nothing while the store answers', async () => {
    const { guard, store } = probed();
    for (let i = 0; i < 10; i++) await guard.set(`k${i}`, 'v');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(guard.probing).toBe(false);
    expect(store.pings).toBe(0);
  });

  it('after one failure with the circuit closed, a PING ends the outage once the store answers', async () => {
    const { guard, store, onRecover, failOnce } = probed();
    await failOnce();
    expect(guard.failing).toBe(true);
    expect(guard.breaker.state).toBe('closed');
    expect(guard.probing).toBe(true);
    await vi.advanceTimersByTimeAsync(100);
    expect(store.pings).toBe(1);
    expect(guard.failing).toBe(false);
    expect(guard.breaker.state).toBe('closed');
    expect(onRecover).toHaveBeenCalledTimes(1);
    expect(guard.probing).toBe(false);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(store.pings).toBe(1); // none once healthy
  });

  it('backs off while the store stays down, and probes never open the circuit', async () => {
    const { guard, store, failOnce } = probed({ threshold: 3, resetAfter: 2000 });
    store.mode = 'fail';
    await failOnce();
    // Waits of 100, 200, 400, 800, 1600, then 2000 (resetAfter) ms: 5 probes in 3.1 s, then one per 2 s.
    await vi.advanceTimersByTimeAsync(3100);
    expect(store.pings).toBe(5);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(store.pings).toBe(35);
    expect(guard.breaker.state).toBe('closed');
    expect(guard.breaker.failures).toBe(1); // the call's failure only
    store.mode = 'ok';
    await vi.advanceTimersByTimeAsync(2000);
    expect(guard.failing).toBe(false);
    expect(guard.breaker.failures).toBe(0);
  });

  it('has at most one probe out: a hung store gets no second PING until the first times out', async () => {
    const { guard, store, clock, failOnce } = probed();
    store.mode = 'hang';
    await failOnce();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(store.pings).toBe(1);
    expect(store.mostOut).toBe(1);
    expect(guard.failing).toBe(true);
    // The deadline (manual clock, real sweep interval) fails it; the next one follows after its backoff.
    clock.advance(30);
    await vi.waitFor(() => expect(guard.probing && store.pings === 1 && store.out === 1).toBe(true));
    await vi.waitFor(
      async () => {
        await vi.advanceTimersByTimeAsync(200);
        expect(store.pings).toBe(2);
      },
      { timeout: 2000, interval: 30 },
    );
  });

  it('while the circuit is open, probes only as its half-open probe, and closes it on success', async () => {
    const { guard, store, clock, failOnce } = probed({ threshold: 1, resetAfter: 2000 });
    await failOnce();
    expect(guard.breaker.state).toBe('open');
    await vi.advanceTimersByTimeAsync(60_000); // the manual clock has not moved: the circuit stays open
    expect(store.pings).toBe(0);
    clock.advance(2000);
    await vi.advanceTimersByTimeAsync(2000);
    expect(store.pings).toBe(1);
    expect(guard.breaker.state).toBe('closed');
    expect(guard.failing).toBe(false);
  });

  it('a failed half-open probe re-opens the circuit, as a call would', async () => {
    const { guard, store, clock, failOnce } = probed({ threshold: 1, resetAfter: 2000 });
    store.mode = 'fail';
    await failOnce();
    clock.advance(2000);
    await vi.advanceTimersByTimeAsync(2000);
    expect(store.pings).toBe(1);
    expect(guard.breaker.state).toBe('open');
  });

  it('a reconnection (nudge) sends the waiting probe at once', async () => {
    const { guard, store, failOnce } = probed();
    store.mode = 'fail';
    await failOnce();
    await vi.advanceTimersByTimeAsync(100 + 200 + 400); // three probes; the next waits 800 ms
    expect(store.pings).toBe(3);
    store.mode = 'ok';
    guard.nudge();
    await vi.advanceTimersByTimeAsync(0);
    expect(store.pings).toBe(4);
    expect(guard.failing).toBe(false);
  });

  it('disconnect stops the probe: no timer is left and nothing more is sent', async () => {
    const { guard, store, failOnce } = probed();
    store.mode = 'fail';
    await failOnce();
    expect(guard.probing).toBe(true);
    expect(vi.getTimerCount()).toBe(1);
    await guard.disconnect();
    expect(guard.probing).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(store.pings).toBe(0);
  });

  it('the probe timer never keeps the process alive', async () => {
    vi.useRealTimers();
    const store = new PingDriver();
    store.mode = 'fail';
    const { guard } = guarded(store);
    const spy = vi.spyOn(globalThis, 'setTimeout');
    guard.reportUnreachable('ECONNREFUSED');
    const timer = spy.mock.results.at(-1)?.value as NodeJS.Timeout;
    spy.mockRestore();
    expect(timer.hasRef()).toBe(false);
    await guard.disconnect();
  });

  it('a driver without ping is probed with a read of a key the tier never writes', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { guard, chaos } = setup();
    const read = vi.spyOn(chaos, 'get');
    guard.reportUnreachable('ECONNREFUSED');
    await vi.advanceTimersByTimeAsync(100);
    expect(read.mock.calls).toEqual([['p:probe']]);
    expect(guard.failing).toBe(false);
  });
});
