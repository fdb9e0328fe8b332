// Distributed single-flight (`lock: true`): across instances, concurrent misses on one key cause one
// loader call. The first instance takes a lock key (SET NX PX) and loads; the others poll L2 for the
// value. A lock expires after `timeout`, after which waiters stop waiting and load themselves, so a
// crashed holder delays a key by at most that long.
import { randomUUID } from 'node:crypto';
import type { TierDriver } from './driver.js';
import { sleep } from '../util/time.js';

/** Options of {@link DistributedLock}. */
export interface LockOptions {
  /** Lock lifetime and the longest a waiter waits, ms. */
  timeoutMs: number;
  /** First poll delay, ms; doubles up to 8× while waiting. */
  pollMs: number;
  clock: () => number;
}

/** Runs one loader per key across every instance that shares the store. */
export class DistributedLock {
  readonly #driver: TierDriver;
  readonly #options: LockOptions;

  constructor(driver: TierDriver, options: LockOptions) {
    this.#driver = driver;
    this.#options = options;
  }

  /**
   * Loads under the lock stored at `lockKey` (see keys.ts): the holder runs `load`; others poll
   * `readExisting` until a value appears, the lock is released or expires (then they try to take it),
   * or `timeout` passes (then they load themselves). When the store is unreachable everyone just loads.
   * `signal` gives the wait up (the caller's hard timeout, or close): it rejects with the signal's reason
   * and stops polling.
   */
  async run<T>(
    lockKey: string,
    readExisting: () => Promise<T | undefined>,
    load: () => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    const { timeoutMs, pollMs, clock } = this.#options;
    const token = randomUUID();
    const deadline = clock() + timeoutMs;
    let delay = pollMs;
    while (true) {
      signal?.throwIfAborted();
      let acquired: boolean;
      try {
        acquired = await this.#driver.add(lockKey, token, timeoutMs);
      } catch {
        return load();
      }
      if (acquired) return this.#hold(lockKey, token, load);
      // Someone else loads: wait for their value, or for the lock to go away.
      while (clock() < deadline) {
        await sleep(Math.min(delay, Math.max(1, deadline - clock())), signal);
        delay = Math.min(delay * 2, pollMs * 8);
        const found = await readExisting().catch(() => undefined);
        if (found !== undefined) return found;
        const held = await this.#driver.get(lockKey).catch(() => undefined);
        if (held === undefined) {
          // The holder may have written its value and released between our two reads.
          const late = await readExisting().catch(() => undefined);
          if (late !== undefined) return late;
          break;
        }
      }
      if (clock() >= deadline) return load();
    }
  }

  async #hold<T>(lockKey: string, token: string, load: () => Promise<T>): Promise<T> {
    try {
      return await load();
    } finally {
      const release = this.#driver.deleteIfEquals?.(lockKey, token) ?? this.#driver.delete(lockKey);
      await release.catch(() => {
        // The lock's TTL releases it anyway.
      });
    }
  }
}
