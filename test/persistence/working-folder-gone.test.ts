// A snapshot whose path is relative, taken after the process's working folder was removed (a deploy
// that replaced the release folder), fails like any write, logged; it never throws out of the periodic
// timer. Queuing writes by resolved path called process.cwd(), which throws then, synchronously: the
// exception escaped the timer's callback and killed the process.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { snapshotCaches } from '../../src/persistence/multi-cache.js';
import { resolvePersist, SnapshotSchedule } from '../../src/persistence/schedule.js';
import { LogSink } from '../../src/observability/log-sink.js';
import { recordingLogger, scratchDir } from './helpers.js';

let scratch: ReturnType<typeof scratchDir>;
let cwd: string;
beforeEach(() => {
  scratch = scratchDir();
  cwd = process.cwd();
});
afterEach(() => {
  process.chdir(cwd);
  scratch.remove();
});

describe('a relative snapshot path once the working folder is gone', () => {
  it('snapshotCaches answers a rejected promise instead of throwing', async () => {
    const gone = join(scratch.dir, 'release');
    mkdirSync(gone);
    process.chdir(gone);
    rmdirSync(gone);
    let written: Promise<unknown> | undefined;
    expect(() => {
      written = snapshotCaches('caches.snap', [{ name: 'c', dump: () => [] }]);
    }).not.toThrow();
    await expect(written).rejects.toThrow();
  });

  it('a save that throws is one logged failure of the schedule, not an exception', async () => {
    const { lines, logger } = recordingLogger();
    const log = new LogSink(logger);
    const schedule = new SnapshotSchedule(
      () => {
        throw new Error('thrown by save');
      },
      resolvePersist({ path: 'p', onShutdown: false })!,
      () => log,
    );
    await expect(schedule.snapshotNow()).resolves.toBeUndefined();
    const failed = lines.filter((l) => l.message === 'Cache SNAPSHOT failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.fields).toMatchObject({ error: 'thrown by save' });
    await schedule.stop();
  });
});
