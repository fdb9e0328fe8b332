// What close() stops, and what never holds a process open: every load the cache started is aborted
// on close (including one a write detached earlier, still retrying for callers that gave up on it),
// and a background refresh-ahead's retry backoff does not keep a finished process alive.
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createCache } from '../../src/cache/create-cache.js';

const run = promisify(execFile);
const REFRESH_CHILD = fileURLToPath(new URL('./refresh-exit-child.ts', import.meta.url));

function refused(): Error {
  return Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
}

describe('close()', () => {
  it('aborts a load that a write detached earlier, ending its retry backoff', async () => {
    const cache = createCache<string>({
      cleanupInterval: 0,
      retry: { maxRetries: 5, initialDelay: '10s', maxDelay: '10s', jitter: 0 },
      timeout: { hard: false },
    });
    const signals: AbortSignal[] = [];
    const caller = new AbortController();
    const answer = cache.getOrSet(
      'k',
      (ctx) => {
        signals.push(ctx.signal);
        throw refused();
      },
      { signal: caller.signal },
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(signals).toHaveLength(1); // the first attempt failed; the 10 s backoff runs
    await cache.delete('k'); // detaches the load
    caller.abort();
    await expect(answer).rejects.toThrow(/aborted/);
    await cache.close();
    expect(signals[0]!.aborted).toBe(true);
    expect(signals).toHaveLength(1);
  });

  it("lets a process exit while a refresh-ahead nobody awaits backs off (retry timers don't hold it)", async () => {
    const started = performance.now();
    const { stdout } = await run(process.execPath, ['--import', 'tsx', REFRESH_CHILD], { timeout: 15_000 });
    expect(JSON.parse(stdout)).toEqual({ value: 'v', calls: 1 });
    // The backoff is 20 s; the child exits long before it.
    expect(performance.now() - started).toBeLessThan(15_000);
  }, 20_000);
});
