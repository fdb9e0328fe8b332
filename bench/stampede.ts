// `npm run bench:stampede`: N concurrent read-through calls (1k and 10k) on one cold key whose loader
// takes ~20 ms (issue 3). Counts loader calls (single-flight means 1) and the crowd's latency from
// each call's start to its answer. Options: --quick (one trial), --rounds=n (trials), --libs=a,b.

import { environmentLine } from './lib/env.js';
import { matchesFilter, parseBenchArgs } from './lib/args.js';
import { loadAsyncSubjects, type AsyncSubject } from './lib/async-subjects.js';
import { runCrowd, type CrowdResult } from './lib/crowd.js';
import { collect, rotatedOrder } from './lib/runner.js';
import { median } from './lib/stats.js';
import { markdownTable, type Align } from './lib/table.js';

const LOADER_MS = 20;
const CROWDS = [1_000, 10_000];

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2));
  if (args.only.length > 0) throw new RangeError('--only does not apply to bench:stampede');
  const trials = args.rounds ?? (args.quick ? 1 : 3);
  const subjects = (await loadAsyncSubjects({ withDebugOn: false })).filter((s) =>
    matchesFilter(s.name, args.libs),
  );
  console.log(
    `# Larder stampede benchmark\n\n${environmentLine()}; N concurrent calls on one cold key, ` +
      `loader takes ${LOADER_MS} ms; latency per call from its start to its answer (ms), median of ${trials} trial(s).`,
  );
  for (const crowd of CROWDS) {
    const results = new Map<AsyncSubject, CrowdResult[]>(subjects.map((s) => [s, []]));
    for (const subject of rotatedOrder(subjects, trials)) {
      collect();
      results.get(subject)!.push(await runCrowd(subject, crowd, LOADER_MS));
    }
    const rows = subjects.map((subject) => {
      const t = results.get(subject)!;
      const calls = t.map((x) => x.loaderCalls);
      const wrong = Math.max(...t.map((x) => x.otherAnswers));
      return [
        subject.name,
        Math.min(...calls) === Math.max(...calls)
          ? String(calls[0])
          : `${Math.min(...calls)}-${Math.max(...calls)}`,
        median(t.map((x) => x.p50)).toFixed(1),
        median(t.map((x) => x.p99)).toFixed(1),
        median(t.map((x) => x.max)).toFixed(1),
        String(wrong),
      ];
    });
    const align: Align[] = ['left', 'right', 'right', 'right', 'right', 'right'];
    console.log(
      `\n### ${crowd.toLocaleString('en')} concurrent calls\n\n${markdownTable(
        ['library', 'loader calls', 'p50 ms', 'p99 ms', 'max ms', 'other answers'],
        rows,
        align,
      )}`,
    );
    const larder = subjects.filter((s) => s.kind === 'larder');
    if (larder.length > 0) {
      const ok = larder.every((s) =>
        results.get(s)!.every((t) => t.loaderCalls === 1 && t.otherAnswers === 0),
      );
      console.log(
        `\n- [${ok ? 'x' : ' '}] Larder: exactly one loader call, every caller got its value (issue 3)`,
      );
    }
  }
  console.log(
    `\n- floor: a bare Map read-through with no coalescing: every concurrent miss calls the loader.`,
  );
}

await main();
