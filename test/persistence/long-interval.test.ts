// A snapshot interval longer than a timer can wait (2^31 - 1 ms, about 24.8 days: `interval: '30d'`)
// is held by a timer that waits as long as it can and takes the snapshot when the whole interval has
// passed. Handed to setInterval as it was, Node fired it after 1 ms (TimeoutOverflowWarning): the cache
// wrote its snapshot file a thousand times a second for as long as it ran.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resolvePersist, SnapshotSchedule } from '../../src/persistence/schedule.js';
import { LogSink } from '../../src/observability/log-sink.js';
import { MAX_TIMER_MS } from '../../src/util/time.js';

const DAY = 86_400_000;

describe('a snapshot interval past the longest timer', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is never handed to a timer as it is', async () => {
    const timers = vi.spyOn(globalThis, 'setInterval');
    const timeouts = vi.spyOn(globalThis, 'setTimeout');
    const save = vi.fn(async () => undefined);
    const schedule = new SnapshotSchedule(
      save,
      resolvePersist({ path: 'p', interval: '30d', onShutdown: false })!,
      () => new LogSink(),
    );
    expect(schedule.active).toBe(true);
    const delays = [...timers.mock.calls, ...timeouts.mock.calls].map((call) => call[1] ?? 0);
    expect(delays.length).toBeGreaterThan(0);
    for (const delay of delays) expect(delay).toBeLessThanOrEqual(MAX_TIMER_MS);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(save).not.toHaveBeenCalled();
    await schedule.stop();
    expect(save).not.toHaveBeenCalled();
  });

  it('snapshots once per interval, on the day it is due', async () => {
    const save = vi.fn(async () => undefined);
    const schedule = new SnapshotSchedule(
      save,
      resolvePersist({ path: 'p', interval: '30d', onShutdown: false })!,
      () => new LogSink(),
    );
    await vi.advanceTimersByTimeAsync(1_000);
    expect(save).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(29 * DAY - 1_000);
    expect(save).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(DAY);
    expect(save).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(30 * DAY);
    expect(save).toHaveBeenCalledTimes(2);
    await schedule.stop();
    expect(schedule.active).toBe(false);
    await vi.advanceTimersByTimeAsync(60 * DAY);
    expect(save).toHaveBeenCalledTimes(2);
  });
});
