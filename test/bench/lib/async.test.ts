// The async harness: the hit-path runner must load once and then only hit, and the stampede trial must
// tell a coalescing cache (one loader call) from a naive one (one per caller).
import { describe, expect, it } from 'vitest';
import { runAsyncHit } from '../../../bench/lib/async-runner.js';
import {
  asyncPeerSubjects,
  debugOffLogger,
  mapFloorSubject,
  type AsyncSubject,
} from '../../../bench/lib/async-subjects.js';
import { runCrowd } from '../../../bench/lib/crowd.js';

const lruFetch = asyncPeerSubjects.find((s) => s.name === 'lru-cache fetch()')!;

describe('runAsyncHit', () => {
  it('loads the key once, then measures only hits, every round', async () => {
    const runs = await runAsyncHit({ roundMs: 5, warmupMs: 10, rounds: 3 }, [mapFloorSubject, lruFetch]);
    for (const run of runs) {
      expect(run.loaderCalls).toBe(1);
      expect(run.valid).toBe(true);
      expect(run.opsPerSec).toHaveLength(3);
      expect(run.wallOpsPerSec.every((x) => x > 0)).toBe(true);
    }
  });

  it('marks a subject that misses as invalid', async () => {
    const forgetful: AsyncSubject = {
      name: 'forgetful',
      kind: 'peer',
      create: (loader) => ({ getOrSet: () => loader().then(() => undefined), close: () => {} }),
    };
    const [run] = await runAsyncHit({ roundMs: 2, warmupMs: 5, rounds: 1 }, [forgetful]);
    expect(run!.valid).toBe(false);
  });
});

describe('runCrowd', () => {
  it('counts one loader call for a coalescing cache and gives everyone the same value', async () => {
    // The load ends only after every call has started (setImmediate runs after the loop that starts
    // them) and 5 ms of monotonic time have passed, so every caller's latency is at least 5 ms.
    const holdLoad = (): Promise<void> =>
      new Promise((resolve) =>
        setImmediate(() => {
          const until = performance.now() + 5;
          while (performance.now() < until);
          resolve();
        }),
      );
    const result = await runCrowd(lruFetch, 200, holdLoad);
    expect(result.loaderCalls).toBe(1);
    expect(result.otherAnswers).toBe(0);
    expect(result.p50).toBeGreaterThanOrEqual(5);
    expect(result.max).toBeGreaterThanOrEqual(result.p99);
    expect(result.p99).toBeGreaterThanOrEqual(result.p50);
  });

  it('counts one loader call per caller for the naive Map floor', async () => {
    const result = await runCrowd(mapFloorSubject, 50, 1);
    expect(result.loaderCalls).toBe(50);
    // Each caller got its own load; only the first one's matches the first load.
    expect(result.otherAnswers).toBe(49);
  });

  it('names a bad crowd size', async () => {
    await expect(runCrowd(mapFloorSubject, 0, 1)).rejects.toThrow(/crowd/);
  });
});

describe('debugOffLogger', () => {
  it('reports debug and info as disabled, warn and error as enabled', () => {
    expect(['debug', 'info', 'warn', 'error'].map((l) => debugOffLogger.isLevelEnabled!(l))).toEqual([
      false,
      false,
      true,
      true,
    ]);
  });
});
