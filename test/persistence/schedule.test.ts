// The `persist` option: validation names the bad field; periodic snapshots run on an unref'ed timer,
// never overlap, survive a failing save, and a final one is taken on stop. Named caches snapshot into
// one file and each gets its own entries back.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { LogSink } from '../../src/observability/log-sink.js';
import { resolvePersist, SnapshotSchedule } from '../../src/persistence/schedule.js';
import {
  restoreCaches,
  restoreCachesSync,
  snapshotCaches,
  type Persistable,
} from '../../src/persistence/multi-cache.js';
import { selectForLoad } from '../../src/persistence/entries.js';
import type { SnapshotEntry } from '../../src/persistence/types.js';
import { entry, recordingLogger, scratchDir } from './helpers.js';

describe('resolvePersist', () => {
  it('fills defaults and parses the interval', () => {
    expect(resolvePersist(undefined)).toBeUndefined();
    expect(resolvePersist({ path: '/tmp/x.snap', interval: '5m' })).toMatchObject({
      path: '/tmp/x.snap',
      interval: 300_000,
      onShutdown: true,
      restore: true,
    });
  });

  it('names the bad field', () => {
    expect(() => resolvePersist('x')).toThrow(TypeError);
    expect(() => resolvePersist({})).toThrow(/persist.path/);
    expect(() => resolvePersist({ path: 'a', interval: -1 })).toThrow(/persist.interval/);
    expect(() => resolvePersist({ path: 'a', onShutdown: 'yes' })).toThrow(/persist.onShutdown/);
    expect(() => resolvePersist({ path: 'a', serializer: {} })).toThrow(/persist.serializer/);
  });
});

describe('SnapshotSchedule', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const options = (interval: number, onShutdown = true) => ({
    ...resolvePersist({ path: 'p', interval, onShutdown })!,
  });

  it('snapshots every interval on a timer that does not keep the process alive', async () => {
    const save = vi.fn(async () => undefined);
    const unref = vi.spyOn(globalThis, 'setInterval');
    const schedule = new SnapshotSchedule(save, options(1_000), () => new LogSink());
    expect(schedule.active).toBe(true);
    const timer = unref.mock.results[0]!.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    await vi.advanceTimersByTimeAsync(3_500);
    expect(save).toHaveBeenCalledTimes(3);
    await schedule.stop();
    expect(save).toHaveBeenCalledTimes(4); // the shutdown snapshot
    await vi.advanceTimersByTimeAsync(5_000);
    expect(save).toHaveBeenCalledTimes(4);
    await schedule.stop();
    expect(save).toHaveBeenCalledTimes(4);
  });

  it('never runs two snapshots at once', async () => {
    let finish!: () => void;
    const save = vi.fn(() => new Promise<void>((resolve) => (finish = resolve)));
    const schedule = new SnapshotSchedule(save, options(100, false), () => new LogSink());
    await vi.advanceTimersByTimeAsync(1_000);
    expect(save).toHaveBeenCalledTimes(1);
    finish();
    await vi.advanceTimersByTimeAsync(100);
    expect(save).toHaveBeenCalledTimes(2);
    finish();
    await schedule.stop();
  });

  it('logs a failed snapshot and keeps going', async () => {
    const { logger, lines } = recordingLogger();
    const save = vi.fn(async () => {
      throw new Error('disk full');
    });
    const schedule = new SnapshotSchedule(save, options(1_000, false), () => new LogSink(logger));
    await vi.advanceTimersByTimeAsync(2_000);
    expect(save).toHaveBeenCalledTimes(2);
    expect(
      lines.filter((l) => l.level === 'error').map((l) => (l.fields as { error: string }).error),
    ).toEqual(['disk full', 'disk full']);
    await schedule.stop();
    expect(schedule.active).toBe(false);
  });

  it('without an interval, only snapshots on stop (if asked)', async () => {
    const save = vi.fn(async () => undefined);
    const schedule = new SnapshotSchedule(save, options(0), () => new LogSink());
    expect(schedule.active).toBe(false);
    await schedule.stop();
    expect(save).toHaveBeenCalledTimes(1);
  });
});

describe('snapshotCaches / restoreCaches', () => {
  let scratch: ReturnType<typeof scratchDir>;
  beforeEach(() => {
    scratch = scratchDir();
  });
  afterEach(() => scratch.remove());

  function fakeCache(
    name: string,
    entries: SnapshotEntry[],
    maxEntries = Infinity,
  ): Persistable & { got: SnapshotEntry[] } {
    const cache = {
      name,
      got: [] as SnapshotEntry[],
      dump: () => entries,
      load(list: readonly SnapshotEntry[]) {
        const { insert, result } = selectForLoad(list, 5_000, { maxEntries, maxBytes: Infinity });
        cache.got.push(...insert);
        return result;
      },
    };
    return cache;
  }

  it('writes every cache into one file and hands each its own entries back', async () => {
    const path = join(scratch.dir, 'all.snap');
    const written = await snapshotCaches(path, [
      fakeCache('url', [entry('u1'), entry('u2', { expiresAt: 1 })]),
      fakeCache('user', [entry(1), entry(2), entry(3)]),
      fakeCache('gone', [entry('g')]),
    ]);
    expect(written.entries).toBe(6);
    const url = fakeCache('url', []);
    const user = fakeCache('user', [], 2);
    const { logger, lines } = recordingLogger();
    const lookup = (name: string) => ({ url, user })[name as 'url' | 'user'];
    const result = await restoreCaches(path, lookup, { log: new LogSink(logger) });
    expect(result).toMatchObject({ restored: true, loaded: 3, expired: 1, dropped: 1 });
    expect(result.caches).toEqual({
      url: { loaded: 1, expired: 1, dropped: 0, invalid: 0 },
      user: { loaded: 2, expired: 0, dropped: 1, invalid: 0 },
    });
    expect(url.got.map((e) => e.key)).toEqual(['u1']);
    expect(lines.some((l) => l.level === 'warn' && (l.fields as { cache: string }).cache === 'gone')).toBe(
      true,
    );
    expect(result.unknown).toEqual(['gone']);
    expect(restoreCachesSync(path, lookup).loaded).toBe(3);
  });

  it('loads nothing at all from a refused file: an explicit restore rejects, a start reports it', async () => {
    const path = join(scratch.dir, 'bad.snap');
    writeFileSync(path, 'garbage');
    const url = fakeCache('url', []);
    await expect(restoreCaches(path, () => url)).rejects.toMatchObject({
      name: 'SnapshotRefusedError',
      reason: 'foreign',
    });
    expect(url.got).toEqual([]);
    // At start (the persist option) a bad file never throws: it is reported and the caches start empty.
    expect(restoreCachesSync(path, () => url)).toEqual({
      path,
      restored: false,
      loaded: 0,
      expired: 0,
      dropped: 0,
      invalid: 0,
      caches: {},
      unknown: [],
    });
    expect(url.got).toEqual([]);
  });
});
