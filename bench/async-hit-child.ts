// One library's async hit-path measurement in a fresh process (spawned by bench/async-hit.ts):
// prints its rounds as one JSON line. A fresh process per library and trial, so Larder's variants
// (with and without a logger) do not share JIT state with each other or with the peers.

import { loadAsyncSubjects } from './lib/async-subjects.js';
import { runAsyncHit } from './lib/async-runner.js';
import { sink } from './lib/sink.js';

/** The child's answer to the parent. */
export interface AsyncChildResult {
  opsPerSec: number[];
  wallOpsPerSec: number[];
  loaderCalls: number;
  valid: boolean;
  checksum: number;
}

async function main(): Promise<void> {
  const [name, roundMs, warmupMs, rounds] = process.argv.slice(2);
  const subject = (await loadAsyncSubjects({ withDebugOn: true })).find((s) => s.name === name);
  if (subject === undefined) throw new RangeError(`unknown library '${String(name)}'`);
  const plan = { roundMs: Number(roundMs), warmupMs: Number(warmupMs), rounds: Number(rounds) };
  for (const [key, value] of Object.entries(plan)) {
    if (!(value > 0)) throw new RangeError(`${key} must be a positive number, got ${String(value)}`);
  }
  const [run] = await runAsyncHit(plan, [subject]);
  const result: AsyncChildResult = {
    opsPerSec: run!.opsPerSec,
    wallOpsPerSec: run!.wallOpsPerSec,
    loaderCalls: run!.loaderCalls,
    valid: run!.valid,
    checksum: sink.value,
  };
  console.log(JSON.stringify(result));
}

await main();
