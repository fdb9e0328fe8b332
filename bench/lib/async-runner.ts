// Runs the async hit-path benchmark: each subject gets a fresh cache with one key loaded, its own copy
// of the kernel (sequential `await`s of the library's read-through call), a calibrated round length,
// and measured rounds in rotated order with a full GC before each, timed by CPU and by wall clock.

import type { AsyncSubject, BenchLoader, ReadThroughInstance } from './async-subjects.js';
import { consume } from './sink.js';
import { collect, rotatedOrder, startClocks } from './runner.js';

/** Sequential awaited calls on one key; returns how many answered a value. */
export type AsyncKernel = (call: (key: string) => unknown, key: string, n: number) => Promise<number>;

async function hitKernel(call: (key: string) => unknown, key: string, n: number): Promise<number> {
  let hits = 0;
  for (let i = 0; i < n; i++) {
    if ((await call(key)) !== undefined) hits++;
  }
  return hits;
}

/** Copies the kernel into a fresh function with its own type feedback (see cloneKernel in runner.ts). */
function cloneAsyncKernel(kernel: AsyncKernel): AsyncKernel {
  return new Function(`'use strict'; return (${kernel.toString()});`)() as AsyncKernel;
}

/** Round length and count of the async benchmark. */
export interface AsyncPlan {
  /** Target duration of one measured round, ms. */
  roundMs: number;
  /** Warm-up duration per subject, ms (also used to calibrate the round's operation count). */
  warmupMs: number;
  rounds: number;
}

/** Measurements of one subject. */
export interface AsyncRun {
  subject: AsyncSubject;
  /** Operations per CPU second, per round. */
  opsPerSec: number[];
  /** Operations per wall-clock second, per round. */
  wallOpsPerSec: number[];
  /** Loader calls in total (1 expected: the first call loads, every later one hits). */
  loaderCalls: number;
  /** False when a call answered undefined. */
  valid: boolean;
}

const KEY = 'plans:acme';

/** Runs the hit-path benchmark over `subjects` (in the given order, rotated per round). */
export async function runAsyncHit(plan: AsyncPlan, subjects: readonly AsyncSubject[]): Promise<AsyncRun[]> {
  const value = { plans: ['free', 'pro'] };
  const live: {
    run: AsyncRun;
    instance: ReadThroughInstance;
    kernel: AsyncKernel;
    call: (key: string) => unknown;
    n: number;
  }[] = [];
  for (const subject of subjects) {
    const run: AsyncRun = { subject, opsPerSec: [], wallOpsPerSec: [], loaderCalls: 0, valid: true };
    const loader: BenchLoader = () => {
      run.loaderCalls++;
      return Promise.resolve(value);
    };
    const instance = subject.create(loader);
    const call = (key: string): unknown => instance.getOrSet(key);
    await call(KEY);
    const kernel = cloneAsyncKernel(hitKernel);
    // Warm up in growing batches until warmupMs has passed; the last batch's rate sizes the rounds.
    let n = 1000;
    let rate = 0;
    const warmStart = performance.now();
    while (performance.now() - warmStart < plan.warmupMs) {
      const clock = startClocks();
      consume(await kernel(call, KEY, n));
      rate = n / clock().wallMs;
      n = Math.min(n * 2, 1_000_000);
    }
    n = Math.max(1000, Math.round(rate * plan.roundMs));
    live.push({ run, instance, kernel, call, n });
  }
  for (const { run, kernel, call, n } of rotatedOrder(live, plan.rounds)) {
    collect();
    const clock = startClocks();
    const hits = await kernel(call, KEY, n);
    const { wallMs, cpuMs } = clock();
    consume(hits);
    if (hits !== n) run.valid = false;
    run.opsPerSec.push((n * 1000) / cpuMs);
    run.wallOpsPerSec.push((n * 1000) / wallMs);
  }
  for (const { instance } of live) await instance.close();
  return live.map((l) => l.run);
}
