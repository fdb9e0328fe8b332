// One stampede trial: N concurrent read-through calls on one cold key of a fresh cache, with a loader
// that takes `loaderMs` (or waits on a given promise). Shared by bench/stampede.ts and its test.

import { setTimeout as sleep } from 'node:timers/promises';
import type { AsyncSubject } from './async-subjects.js';
import { percentile } from './stats.js';

const KEY = 'providers:acme';

/** One trial's outcome; latencies in ms from each call's start to its answer. */
export interface CrowdResult {
  loaderCalls: number;
  p50: number;
  p99: number;
  max: number;
  /** Calls that failed or answered something other than the first load's value. */
  otherAnswers: number;
}

/**
 * Runs `crowd` concurrent calls of `subject` on one cold key and waits for all of them. The loader
 * sleeps `loaderWait` ms, or awaits `loaderWait()` when it is a function (tests use that to hold the
 * load deterministically: a timer's delay is measured from the event loop's cached time, so a 5 ms sleep
 * can end 1 ms after it was asked for on a busy machine).
 */
export async function runCrowd(
  subject: AsyncSubject,
  crowd: number,
  loaderWait: number | (() => Promise<void>),
): Promise<CrowdResult> {
  if (!Number.isInteger(crowd) || crowd < 1)
    throw new RangeError(`crowd must be a positive integer, got ${crowd}`);
  let loaderCalls = 0;
  const loader = async (): Promise<unknown> => {
    const call = ++loaderCalls;
    await (typeof loaderWait === 'number' ? sleep(loaderWait) : loaderWait());
    return { providers: ['aws', 'hetzner'], loadedAt: call };
  };
  const instance = subject.create(loader);
  const latencies = new Float64Array(crowd);
  const calls: Promise<unknown>[] = [];
  for (let i = 0; i < crowd; i++) {
    const started = performance.now();
    calls.push(
      Promise.resolve(instance.getOrSet(KEY)).then((value) => {
        latencies[i] = performance.now() - started;
        return value;
      }),
    );
  }
  const settled = await Promise.allSettled(calls);
  // Everyone should get the first load's answer (a serializing cache may hand out equal copies).
  const expected = JSON.stringify({ providers: ['aws', 'hetzner'], loadedAt: 1 });
  const otherAnswers = settled.filter(
    (s) => s.status === 'rejected' || JSON.stringify(s.value) !== expected,
  ).length;
  await instance.close();
  const sample = Array.from(latencies);
  return {
    loaderCalls,
    p50: percentile(sample, 50),
    p99: percentile(sample, 99),
    max: Math.max(...sample),
    otherAnswers,
  };
}
