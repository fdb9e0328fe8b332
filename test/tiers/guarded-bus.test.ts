// The bus behind the tier's breaker, and recovery from a hang without waiting for the breaker: an open
// circuit makes a publish fail at once and health say so; a timed-out call answered late lets a probe
// through immediately and tells the tier (which replays at once). Driven by deferreds, not sleeps.
import { describe, expect, it, vi } from 'vitest';
import { LogSink } from '../../src/observability/log-sink.js';
import { MemoryBusHub } from '../../src/tiers/bus.js';
import type { BusMessage, InvalidationBus } from '../../src/tiers/bus.js';
import { GuardedBus } from '../../src/tiers/guarded-bus.js';
import { GuardedDriver } from '../../src/tiers/guarded-driver.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { manualClock } from '../helpers/clock.js';

/** A memory driver whose `get` returns a promise the test settles. */
class HeldDriver extends MemoryDriver {
  readonly held: Array<(value: undefined) => void> = [];
  override get(): Promise<undefined> {
    return new Promise((resolve) => this.held.push(resolve));
  }
}

function setup(clock?: () => number) {
  const driver = new HeldDriver();
  const onReachable = vi.fn();
  const guard = new GuardedDriver(driver, {
    name: 'test',
    timeoutMs: 10,
    bulkTimeoutMs: 1000,
    breaker: { threshold: 1, resetAfter: '1h' },
    log: new LogSink({}),
    onReachable,
    clock,
  });
  return { driver, guard, onReachable };
}

describe('GuardedBus', () => {
  it('fails a publish at once while the circuit is open, and health says why', async () => {
    const { guard } = setup();
    const inner = new MemoryBusHub().connect('a');
    const publish = vi.spyOn(inner, 'publish');
    const bus = new GuardedBus(inner, guard);
    await bus.start({ message: () => {}, resync: () => {} });
    expect(bus.health().status).toBe('ok');
    await expect(guard.get('k')).rejects.toMatchObject({ type: 'TIMEOUT' });
    expect(guard.breaker.state).toBe('open');
    await expect(bus.publish({ cache: 'c', kind: 'clear' })).rejects.toThrow(/circuit is open/);
    expect(publish).not.toHaveBeenCalled();
    expect(bus.health()).toMatchObject({ status: 'down', reason: expect.stringMatching(/circuit open/) });
  });

  it('reports a failing publish as degraded until one succeeds', async () => {
    const { guard } = setup();
    let fail = true;
    const inner = flakyBus(() => fail);
    const bus = new GuardedBus(inner, guard);
    await expect(bus.publish({ cache: 'c', kind: 'clear' })).rejects.toThrow('boom');
    expect(bus.health()).toMatchObject({ status: 'degraded', reason: 'last publish failed: boom' });
    fail = false;
    await bus.publish({ cache: 'c', kind: 'clear' });
    expect(bus.health().status).toBe('ok');
  });

  it('shows a failed publish for 30 s of the tier’s clock while the store itself looks fine', async () => {
    const clock = manualClock();
    const { guard } = setup(clock.now);
    const bus = new GuardedBus(
      flakyBus(() => true),
      guard,
    );
    await expect(bus.publish({ cache: 'c', kind: 'clear' })).rejects.toThrow('boom');
    clock.advance(29_999);
    expect(bus.health().status).toBe('degraded');
    clock.advance(1);
    expect(bus.health().status).toBe('ok');
  });
});

/** A bus whose publish throws `boom` while `failing()` says so. */
function flakyBus(failing: () => boolean): InvalidationBus {
  return {
    instanceId: 'x',
    start: async () => {},
    publish: async (_m: Omit<BusMessage, 'source'>) => {
      if (failing()) throw new Error('boom');
    },
    health: () => ({ status: 'ok', resyncs: 0 }),
    close: async () => {},
  };
}

describe('GuardedDriver after a hang', () => {
  it('lets a probe through as soon as a timed-out call is answered late, not after resetAfter', async () => {
    const { driver, guard, onReachable } = setup();
    await expect(guard.get('k')).rejects.toMatchObject({ type: 'TIMEOUT' });
    expect(guard.breaker.state).toBe('open');
    expect(guard.breaker.tryPass()).toBe(false);
    // The hung store resumes: the reply to the call that timed out arrives.
    driver.held[0]!(undefined);
    await vi.waitFor(() => expect(onReachable).toHaveBeenCalled());
    expect(guard.breaker.state).toBe('half-open');
    const probe = guard.get('k');
    driver.held[1]!(undefined);
    await probe;
    expect(guard.breaker.state).toBe('closed');
  });

  it('reportUnreachable starts an outage with its cause, logged once', () => {
    const error = vi.fn();
    const guard = new GuardedDriver(new MemoryDriver(), {
      name: 'test',
      timeoutMs: 10,
      bulkTimeoutMs: 1000,
      log: new LogSink({ error }),
    });
    guard.reportUnreachable('ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1');
    guard.reportUnreachable('ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1');
    expect(guard.failing).toBe(true);
    expect(guard.lastError).toMatch(/ECONNREFUSED/);
    expect(error).toHaveBeenCalledTimes(1);
  });
});
