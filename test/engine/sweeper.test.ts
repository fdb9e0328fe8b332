import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FIRST_SLOT } from '../../src/engine/links.js';
import { Sweeper, type SweepTarget } from '../../src/engine/sweeper.js';
import { MemoryCache, engineInternals } from '../../src/engine/memory-cache.js';

/** Runs a full garbage collection (the flag is set for this process at run time). */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Lets the current job end (a WeakRef keeps its target alive until then) and collects, until `done()`. */
async function collectUntil(done: () => boolean): Promise<void> {
  const gc = collector();
  for (let i = 0; i < 5 && !done(); i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** A target over `slots` slots that records each visit and expires the slots in `expired`. */
function recordingTarget(slots: number, expired = new Set<number>()) {
  const visits: number[] = [];
  const removed: number[] = [];
  const failures: unknown[] = [];
  const target: SweepTarget = {
    end: () => FIRST_SLOT + slots,
    expire: (slot) => {
      visits.push(slot);
      if (expired.delete(slot)) removed.push(slot);
    },
    failed: (err) => void failures.push(err),
  };
  return { target, visits, removed, failures };
}

describe('Sweeper', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('visits at least 1,024 slots a tick, or all of them if fewer', () => {
    const small = recordingTarget(100);
    const sweeper = new Sweeper(small.target, 60_000);
    sweeper.stop();
    sweeper.sweep();
    expect(small.visits).toHaveLength(100);
    expect(new Set(small.visits).size).toBe(100);
    const large = recordingTarget(5000);
    const other = new Sweeper(large.target, 60_000);
    other.stop();
    other.sweep();
    expect(large.visits).toHaveLength(1024);
    expect(large.visits[0]).toBe(FIRST_SLOT);
  });

  it('visits at least 1/8 of a large cache a tick, from a rotating cursor, and covers it in 8 ticks', () => {
    const slots = 80_000;
    const expired = new Set([FIRST_SLOT, FIRST_SLOT + 40_000, FIRST_SLOT + slots - 1]);
    const t = recordingTarget(slots, expired);
    const sweeper = new Sweeper(t.target, 60_000);
    sweeper.stop();
    sweeper.sweep();
    expect(t.visits).toHaveLength(10_000);
    expect(t.visits[9_999]).toBe(FIRST_SLOT + 9_999);
    sweeper.sweep();
    expect(t.visits[10_000]).toBe(FIRST_SLOT + 10_000);
    for (let i = 0; i < 6; i++) sweeper.sweep();
    expect(new Set(t.visits).size).toBe(slots);
    expect(t.removed.sort((a, b) => a - b)).toEqual([
      FIRST_SLOT,
      FIRST_SLOT + 40_000,
      FIRST_SLOT + slots - 1,
    ]);
    // The cursor wraps around to the first slot.
    sweeper.sweep();
    expect(t.visits[slots]).toBe(FIRST_SLOT);
  });

  it('ticks on an unref()ed timer until stopped', () => {
    vi.useFakeTimers();
    const t = recordingTarget(10);
    const sweeper = new Sweeper(t.target, 5000);
    expect(sweeper.timer.hasRef()).toBe(false);
    vi.advanceTimersByTime(4999);
    expect(t.visits).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(t.visits).toHaveLength(10);
    sweeper.stop();
    vi.advanceTimersByTime(50_000);
    expect(t.visits).toHaveLength(10);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('reports a tick that throws, and keeps ticking', () => {
    vi.useFakeTimers();
    let calls = 0;
    const failures: unknown[] = [];
    const boom = new Error('boom');
    new Sweeper(
      {
        end: () => FIRST_SLOT + 4,
        expire: () => {
          if (++calls === 1) throw boom;
        },
        failed: (err) => void failures.push(err),
      },
      1000,
    );
    vi.advanceTimersByTime(1000);
    expect(failures).toEqual([boom]);
    vi.advanceTimersByTime(1000);
    expect(calls).toBe(5);
    expect(failures).toHaveLength(1);
    vi.clearAllTimers();
  });

  it('holds itself and its target only weakly from the timer: a dropped sweeper is collected and its timer stops', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    let collected = false;
    const registry = new FinalizationRegistry(() => void (collected = true));
    (() => {
      const t = recordingTarget(10);
      registry.register(t.target, 'target');
      new Sweeper(t.target, 1000);
    })();
    expect(vi.getTimerCount()).toBe(1);
    await collectUntil(() => collected);
    expect(collected).toBe(true);
    vi.advanceTimersByTime(1000);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('lets a MemoryCache with TTLs that is dropped without close() be collected, and its sweep stop', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    let collected = false;
    const registry = new FinalizationRegistry(() => void (collected = true));
    (() => {
      const cache = new MemoryCache<number, number>({ ttl: '1s', cleanupInterval: '5s' });
      for (let i = 0; i < 100; i++) cache.set(i, i);
      expect(cache[engineInternals]().timer).toBeDefined();
      registry.register(cache, 'cache');
    })();
    expect(vi.getTimerCount()).toBe(1);
    await collectUntil(() => collected);
    expect(collected).toBe(true);
    vi.advanceTimersByTime(5000);
    expect(vi.getTimerCount()).toBe(0);
  });
});
