// Runs one workload over every subject: fresh instance per subject, warm-up, then measured rounds in a
// rotated order with a full GC before each timed call, so no library pays for another's garbage and
// none always runs first or last. Each round is timed twice: by wall clock and by this process's CPU
// time; on a shared machine the CPU time is the steadier figure, since time spent descheduled while
// other processes run is not counted. Each subject gets its own copy of the kernel function, so the call
// sites inside it stay monomorphic (one library's class per copy), as they would in a real program.

import { performance } from 'node:perf_hooks';
import { consume } from './sink.js';
import { shuffle, type Random } from './prng.js';
import type { Subject, SyncStore } from './subjects.js';

/** A timed loop: calls the cache once per trace entry and returns a count derived from its answers. */
export type Kernel = (
  cache: SyncStore,
  keys: readonly string[],
  trace: Uint32Array,
  value: unknown,
) => number;

/** Prepares a filled instance for a subject, or returns undefined when the subject lacks the feature. */
export type Prepare = (subject: Subject) => SyncStore | undefined;

/** What the runner needs to know about a workload. */
export interface WorkloadPlan {
  keys: readonly string[];
  trace: Uint32Array;
  value: unknown;
  kernel: Kernel;
  prepare: Prepare;
  /** Untimed work before each timed call (e.g. refreshing TTL entries so a slow run never reads expired ones). */
  beforeRound?: (store: SyncStore) => void;
  /** Untimed kernel calls per subject before measuring. */
  warmup: number;
  /** Measured kernel calls per subject. */
  rounds: number;
}

/** Measurements of one subject on one workload; `undefined` results mean "not applicable". */
export interface SubjectRun {
  subject: Subject;
  /** Operations per CPU second (user + system of this process) of each measured round. */
  opsPerSec: number[];
  /** Operations per wall-clock second of each measured round. */
  wallOpsPerSec: number[];
  /** The kernel's result of each measured round (e.g. hits). */
  results: number[];
}

/**
 * Copies a kernel into a new function object with its own type feedback. The kernels are written
 * without closures for exactly this reason: their source text is all they need.
 */
export function cloneKernel(kernel: Kernel): Kernel {
  return new Function(`'use strict'; return (${kernel.toString()});`)() as Kernel;
}

/**
 * Starts a wall clock and a CPU clock; the returned function reads both in milliseconds. CPU time is
 * microsecond-grained, so rounds should last at least tens of milliseconds.
 */
export function startClocks(): () => { wallMs: number; cpuMs: number } {
  const cpu = process.cpuUsage();
  const wall = performance.now();
  return () => {
    const wallMs = performance.now() - wall;
    const used = process.cpuUsage(cpu);
    // Never report less than 1 µs, so a degenerate round cannot divide by zero.
    return { wallMs, cpuMs: Math.max((used.user + used.system) / 1000, 0.001) };
  };
}

/** Forces a full GC when the process was started with --expose-gc; otherwise does nothing. */
export const collect: () => void =
  typeof globalThis.gc === 'function'
    ? () => globalThis.gc!()
    : () => {
        // Without --expose-gc rounds still run; the results are just noisier.
      };

/** True when the process can force a full GC between rounds. */
export const canCollect = typeof globalThis.gc === 'function';

/**
 * The measuring order: every item once per round, `rounds` times; round r starts at item r (mod the
 * count), so no item is always measured first or last and a burst of load from elsewhere spreads over
 * different items.
 */
export function rotatedOrder<T>(items: readonly T[], rounds: number): T[] {
  const order: T[] = [];
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < items.length; i++) order.push(items[(i + round) % items.length]!);
  }
  return order;
}

/** Runs `plan` over `subjects`; subjects whose `prepare` answers undefined are left out of the result. */
export function runWorkload(plan: WorkloadPlan, subjects: readonly Subject[], random: Random): SubjectRun[] {
  const live: { run: SubjectRun; store: SyncStore; kernel: Kernel }[] = [];
  for (const subject of shuffle(random, [...subjects])) {
    collect();
    const store = plan.prepare(subject);
    if (store === undefined) continue;
    const kernel = cloneKernel(plan.kernel);
    for (let w = 0; w < plan.warmup; w++) consume(kernel(store, plan.keys, plan.trace, plan.value));
    live.push({ run: { subject, opsPerSec: [], wallOpsPerSec: [], results: [] }, store, kernel });
  }
  const ops = plan.trace.length;
  for (const { run, store, kernel } of rotatedOrder(live, plan.rounds)) {
    plan.beforeRound?.(store);
    collect();
    const clock = startClocks();
    const result = kernel(store, plan.keys, plan.trace, plan.value);
    const { wallMs, cpuMs } = clock();
    consume(result);
    run.opsPerSec.push((ops * 1000) / cpuMs);
    run.wallOpsPerSec.push((ops * 1000) / wallMs);
    run.results.push(result);
  }
  for (const { run, store } of live) run.subject.dispose?.(store);
  collect();
  return live.map((l) => l.run);
}
