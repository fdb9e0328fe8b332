// `npm run bench:throughput` (first half of `npm run bench`): throughput of Larder's MemoryCache against the JavaScript LRU caches, side by side
// in one process (issues 2 and 13). Prints one markdown table per workload (median ops/s of several rounds,
// ratio to lru-cache), a summary of the ratios with every library as a column, and checks the targets. Options: --quick, --only=get-hit,zipf,
// --libs=larder,lru-cache, --rounds=n, --seed=n. Numbers are for catching regressions, not marketing.

import { environmentLine, loadAverage } from './lib/env.js';
import { matchesFilter, parseBenchArgs } from './lib/args.js';
import { createRandom } from './lib/prng.js';
import { canCollect, runWorkload, type SubjectRun } from './lib/runner.js';
import { sink } from './lib/sink.js';
import { median, pairedRatio, spread } from './lib/stats.js';
import { loadSubjects } from './lib/subjects.js';
import { formatOps, formatPercent, formatRatio, markdownTable, type Align } from './lib/table.js';
import { buildWorkloads, fullSizes, quickSizes, workloadNames, type Workload } from './lib/workloads.js';
import { checkTargets, fastest, type WorkloadResult } from './lib/targets.js';

const BASELINE = 'lru-cache';

function summarise(workload: Workload, runs: SubjectRun[]): WorkloadResult {
  const ops = workload.plan.trace.length;
  return {
    name: workload.name,
    rows: runs.map((run) => ({
      subject: run.subject,
      opsPerSec: median(run.opsPerSec),
      wallOpsPerSec: median(run.wallOpsPerSec),
      rounds: run.opsPerSec,
      spread: spread(run.opsPerSec),
      hitRatio: run.results.reduce((a, b) => a + b, 0) / (ops * run.results.length),
      valid: !workload.expectAllHits || run.results.every((r) => r === ops),
    })),
  };
}

function render(workload: Workload, result: WorkloadResult, allNames: readonly string[]): string {
  const base = result.rows.find((r) => r.subject.name === BASELINE)?.rounds;
  const header = ['library', 'ops/s (CPU)', `vs ${BASELINE}`, 'spread', 'ops/s (wall)'];
  if (workload.hitRatio) header.push('hit ratio');
  const rows = allNames.map((name) => {
    const row = result.rows.find((r) => r.subject.name === name);
    if (row === undefined) return [name, 'n/a', '', '', '', ...(workload.hitRatio ? [''] : [])];
    const cells = [
      row.valid ? name : `${name} (INVALID: missed)`,
      formatOps(row.opsPerSec),
      base === undefined ? '' : formatRatio(pairedRatio(row.rounds, base)),
      `±${((row.spread * 100) / 2).toFixed(0)}%`,
      formatOps(row.wallOpsPerSec),
    ];
    if (workload.hitRatio) cells.push(formatPercent(row.hitRatio));
    return cells;
  });
  const align = header.map((_, i): Align => (i === 0 ? 'left' : 'right'));
  return `### ${workload.title}\n\n${markdownTable(header, rows, align)}\n`;
}

/** One line per workload, one column per library: paired ratio to the baseline (and hit ratio on Zipf). */
function summary(results: readonly WorkloadResult[], allNames: readonly string[]): string {
  const header = ['workload', ...allNames];
  const rows = results.map((result) => {
    const baseRow = result.rows.find((r) => r.subject.name === BASELINE);
    const top = fastest(
      result.rows.filter((r) => r.subject.kind !== 'floor'),
      baseRow,
    );
    const cells = allNames.map((name) => {
      const row = result.rows.find((r) => r.subject.name === name);
      if (row === undefined || baseRow === undefined) return '—';
      const ratio = formatRatio(pairedRatio(row.rounds, baseRow.rounds));
      const hit = result.name === 'zipf' ? ` (${formatPercent(row.hitRatio)})` : '';
      return `${row === top ? `**${ratio}**` : ratio}${hit}`;
    });
    return [result.name, ...cells];
  });
  const align = header.map((_, i): Align => (i === 0 ? 'left' : 'right'));
  return markdownTable(header, rows, align);
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2));
  const unknown = args.only.filter((o) => !(workloadNames as readonly string[]).includes(o));
  if (unknown.length > 0)
    throw new RangeError(`--only: unknown workload ${unknown.join(', ')} (have ${workloadNames.join(', ')})`);
  const sizes = { ...(args.quick ? quickSizes : fullSizes) };
  if (args.rounds !== undefined) sizes.rounds = args.rounds;
  const subjects = (await loadSubjects()).filter((s) => matchesFilter(s.name, args.libs));
  const names = subjects.map((s) => s.name);

  console.log(
    `# Larder throughput benchmark\n\n${environmentLine()}; ` +
      `${sizes.warmup} warm-up + ${sizes.rounds} measured rounds per library; medians of operations per CPU second ` +
      `of this process (the ratios and targets use these) and per wall-clock second; seed ${args.seed}` +
      `${args.quick ? '; --quick' : ''}.`,
  );
  if (!canCollect) console.log('\n(warning: run with --expose-gc so a full GC runs before each timed round)');
  if (!names.some((n) => n.startsWith('Larder')))
    console.log('\n(MemoryCache is not exported from src/index.ts yet: peers only)');

  const started = Date.now();
  const random = createRandom(args.seed);
  const results: WorkloadResult[] = [];
  for (const workload of buildWorkloads(sizes, random, args.only)) {
    const result = summarise(workload, runWorkload(workload.plan, subjects, random));
    results.push(result);
    console.log(`\n${render(workload, result, names)}`);
  }

  const notes = subjects.filter((s) => s.note !== undefined).map((s) => `- ${s.note!}`);
  console.log(
    `\n${notes.join('\n')}\n- vs ${BASELINE}: median of per-round ratios (rounds of all libraries run back to back, so pairing them cancels load drift); spread: half the range of the CPU-time rounds around their median; n/a: the library has no TTL.`,
  );
  console.log(
    `\n### Summary: ops/s as a ratio to ${BASELINE} (hit ratio on zipf); bold: the fastest cache (the Map floor aside)\n\n${summary(results, names)}`,
  );
  const targets = checkTargets(results, BASELINE);
  if (targets.length > 0) {
    console.log(
      `\n### Targets (issues 2 and 13)\n\n${targets.map((t) => `- [${t.ok ? 'x' : ' '}] ${t.text}`).join('\n')}`,
    );
  }
  console.log(
    `\n(${((Date.now() - started) / 1000).toFixed(0)} s, load average now ${loadAverage()}, checksum ${sink.value})`,
  );
}

await main();
