// A fault-injecting TierDriver for tests: wraps a real driver and, on command, fails every call,
// hangs every call, or adds latency — the outages the guard, breaker and replay must survive — or
// holds its answers until the test lets them through, to stage a race step by step.
import type { DriverValue, TierDriver } from '../../src/tiers/driver.js';

/** How the chaos driver treats calls. */
export type ChaosMode = 'ok' | 'fail' | 'hang';

/** Wraps `inner`; `mode` and `latencyMs` can change at any time. */
export class ChaosDriver implements TierDriver {
  readonly name = 'chaos';
  mode: ChaosMode = 'ok';
  latencyMs = 0;
  /** While set, answers from the inner driver wait for this promise before they are delivered. */
  heldReplies: Promise<void> | undefined;
  /** Calls that reached the inner driver. */
  calls = 0;
  readonly inner: TierDriver;

  constructor(inner: TierDriver) {
    this.inner = inner;
  }

  get(key: string): Promise<DriverValue | undefined> {
    return this.#run(() => this.inner.get(key));
  }
  getMany(keys: readonly string[]): Promise<Array<DriverValue | undefined>> {
    return this.#run(() => this.inner.getMany(keys));
  }
  set(key: string, value: DriverValue, ttlMs?: number): Promise<void> {
    return this.#run(() => this.inner.set(key, value, ttlMs));
  }
  add(key: string, value: DriverValue, ttlMs: number): Promise<boolean> {
    return this.#run(() => this.inner.add(key, value, ttlMs));
  }
  delete(key: string): Promise<boolean> {
    return this.#run(() => this.inner.delete(key));
  }
  deleteMany(keys: readonly string[]): Promise<number> {
    return this.#run(() => this.inner.deleteMany(keys));
  }
  clear(namespace?: string): Promise<number> {
    return this.#run(() => this.inner.clear(namespace));
  }
  deletePattern(pattern: string): Promise<number> {
    return this.#run(() => this.inner.deletePattern(pattern));
  }
  disconnect(): Promise<void> {
    return this.inner.disconnect();
  }

  async #run<T>(call: () => Promise<T>): Promise<T> {
    if (this.mode === 'fail') throw new Error('chaos: connection refused');
    if (this.mode === 'hang') return new Promise<T>(() => {});
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    this.calls++;
    const result = await call();
    if (this.heldReplies !== undefined) await this.heldReplies;
    return result;
  }
}
