// `npm run bench:async`: the async hit path (issue 3) — sequential awaits of an already-cached key
// through each library's read-through call, Larder's getOrSet with and without a (disabled) logger,
// against lru-cache fetch(), bentocache, cache-manager, cacheable and `await map.get()`.
// Options: --quick, --rounds=n, --libs=a,b, --seed=n. Numbers are for catching regressions.

import { environmentLine, loadAverage } from './lib/env.js';
import { matchesFilter, parseBenchArgs } from './lib/args.js';
import { loadAsyncSubjects } from './lib/async-subjects.js';
import type { AsyncChildResult } from './async-hit-child.js';
import { runChild } from './lib/child.js';
import { createRandom, shuffle } from './lib/prng.js';
import { rotatedOrder } from './lib/runner.js';
import { median, pairedRatio, spread } from './lib/stats.js';
import { formatOps, formatRatio, markdownTable, type Align } from './lib/table.js';

const BASELINE = 'lru-cache fetch()';
const LARDER = 'Larder getOrSet';
const LARDER_LOG_OFF = 'Larder getOrSet, logger (debug off)';

interface Measured {
  /** CPU-time rounds of every trial, pooled. */
  rounds: number[];
  wallRounds: number[];
  /** Median of each trial's rounds, in trial order (for paired ratios). */
  trialMedians: number[];
  loaderCalls: number[];
  valid: boolean;
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2));
  if (args.only.length > 0)
    throw new RangeError('--only does not apply to bench:async (it has one workload)');
  const roundMs = args.quick ? 100 : 250;
  const warmupMs = args.quick ? 200 : 500;
  const rounds = args.quick ? 3 : 5;
  const trials = args.rounds ?? (args.quick ? 1 : 3);
  const subjects = (await loadAsyncSubjects({ withDebugOn: true })).filter((s) =>
    matchesFilter(s.name, args.libs),
  );
  const names = subjects.map((s) => s.name);
  console.log(
    `# Larder async hit-path benchmark\n\n${environmentLine()}; ` +
      `one cached key, sequential awaits; each library in a fresh process per trial (${trials} trial(s), order rotated), ` +
      `${rounds} rounds of ~${roundMs} ms after ${warmupMs} ms warm-up; medians of operations per CPU second ` +
      `(ratios use these) and per wall-clock second.`,
  );

  const measured = new Map<string, Measured>(
    names.map((n) => [n, { rounds: [], wallRounds: [], trialMedians: [], loaderCalls: [], valid: true }]),
  );
  let checksum = 0;
  const order = shuffle(createRandom(args.seed), [...names]);
  for (const name of rotatedOrder(order, trials)) {
    const child = runChild('async-hit-child.ts', [name, String(roundMs), String(warmupMs), String(rounds)]);
    const result = child as AsyncChildResult;
    const m = measured.get(name)!;
    m.rounds.push(...result.opsPerSec);
    m.wallRounds.push(...result.wallOpsPerSec);
    m.trialMedians.push(median(result.opsPerSec));
    m.loaderCalls.push(result.loaderCalls);
    m.valid &&= result.valid;
    checksum += result.checksum;
  }
  const base = measured.get(BASELINE)?.trialMedians;
  const rows = names.map((name) => {
    const m = measured.get(name)!;
    return [
      m.valid ? name : `${name} (INVALID: missed)`,
      formatOps(median(m.rounds)),
      base === undefined ? '' : formatRatio(pairedRatio(m.trialMedians, base)),
      `±${((spread(m.rounds) * 100) / 2).toFixed(0)}%`,
      formatOps(median(m.wallRounds)),
      // One load per fresh process: the first call; every later call must hit.
      String(Math.max(...m.loaderCalls)),
    ];
  });
  const align: Align[] = ['left', 'right', 'right', 'right', 'right', 'right'];
  console.log(
    `\n${markdownTable(['library', 'ops/s (CPU)', `vs ${BASELINE}`, 'spread', 'ops/s (wall)', 'loader calls'], rows, align)}`,
  );
  const notes = subjects.filter((s) => s.note !== undefined).map((s) => `- ${s.note!}`);
  console.log(
    `\n${notes.join('\n')}\n- logger (debug off): a pino-style logger whose isLevelEnabled answers false for debug and info;` +
      ` (debug on, no-op sink): every level on, lines go to empty functions — what building and passing log lines costs.` +
      `\n- vs ${BASELINE}: median over trials of the ratio of the trials' medians (a trial runs every library back to back, so pairing cancels load drift).`,
  );
  const larder = measured.get(LARDER)?.trialMedians;
  const logOff = measured.get(LARDER_LOG_OFF)?.trialMedians;
  const checks: string[] = [];
  if (larder !== undefined && base !== undefined) {
    const ratio = pairedRatio(larder, base);
    checks.push(`- [${ratio >= 1 ? 'x' : ' '}] ${LARDER} >= ${BASELINE} — ${formatRatio(ratio)}`);
  }
  if (larder !== undefined && logOff !== undefined) {
    // Within 5 %: below the round-to-round spread on this shared machine, i.e. not measurable.
    const ratio = pairedRatio(logOff, larder);
    checks.push(
      `- [${ratio >= 0.95 ? 'x' : ' '}] disabled logging costs nothing measurable (within 5 %) — ${formatRatio(ratio)} of ${LARDER}`,
    );
  }
  if (checks.length > 0) console.log(`\n### Targets (issue 3)\n\n${checks.join('\n')}`);
  console.log(`\n(load average now ${loadAverage()}, checksum ${checksum})`);
}

await main();
