// `npm run bench:memory`: retained heap per entry after filling 100k entries of a ~100-byte object,
// each library measured in a fresh child process (bench/memory-child.ts), median of several runs,
// compared with lru-cache (difference in bytes and as a ratio). Options: --quick (1 run), --rounds=n, --libs=a,b.

import { environmentLine } from './lib/env.js';
import { runChild } from './lib/child.js';
import { matchesFilter, parseBenchArgs } from './lib/args.js';
import { GHOSTED, PAYLOAD } from './lib/memory-names.js';
import { median } from './lib/stats.js';
import { loadSubjects } from './lib/subjects.js';
import { markdownTable, formatRatio, type Align } from './lib/table.js';

const BASELINE = 'lru-cache';
/** Issue 13's target (issue 2 allowed 24): Larder may use at most this many bytes per entry more than lru-cache. */
const ALLOWANCE = 16;

function measure(name: string): number {
  const parsed = runChild('memory-child.ts', [name]) as { bytesPerEntry: number; present: number };
  if (parsed.present !== 100_000) throw new Error(`${name} kept ${parsed.present} of 100000 entries`);
  return parsed.bytesPerEntry;
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2));
  const runs = args.rounds ?? (args.quick ? 1 : 3);
  const names = [
    ...(await loadSubjects()).map((s) => s.name).filter((n) => matchesFilter(n, args.libs)),
    ...(matchesFilter('Larder tinylfu', args.libs) ? [GHOSTED] : []),
    PAYLOAD,
  ];
  console.log(
    `# Larder memory benchmark\n\n${environmentLine()}; 100,000 entries (string key, ~100-byte object), ` +
      `retained heapUsed + arrayBuffers after a full GC, fresh process per run, median of ${runs}.`,
  );
  const samples = new Map<string, number[]>(names.map((n) => [n, []]));
  // Rotate the order per run so no library always runs while the machine is busiest.
  for (let run = 0; run < runs; run++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + run) % names.length]!;
      samples.get(name)!.push(measure(name));
    }
  }
  const bytes = new Map([...samples].map(([n, s]) => [n, median(s)]));
  const base = bytes.get(BASELINE);
  const payload = bytes.get(PAYLOAD);
  const rows = names.map((name) => {
    const b = bytes.get(name)!;
    return [
      name,
      b.toFixed(1),
      payload === undefined || name === PAYLOAD ? '' : (b - payload).toFixed(1),
      base === undefined ? '' : `${b - base >= 0 ? '+' : ''}${(b - base).toFixed(1)}`,
      base === undefined ? '' : formatRatio(b / base),
    ];
  });
  const align: Align[] = ['left', 'right', 'right', 'right', 'right'];
  console.log(
    `\n${markdownTable(['library', 'bytes/entry', 'overhead over payload', `vs ${BASELINE} (bytes)`, `vs ${BASELINE}`], rows, align)}`,
  );
  console.log(
    `\n- payload only: the same keys and values held in a plain array; "overhead" is what each cache adds on top.` +
      `\n- ${GHOSTED}: the default policy pinned to ARC mode, given 200,000 other keys (the second 100,000 evict the first into its ghost history) and cleared before the same 100,000 as the rest: it holds the same entries plus a ghost history at its full size, whose tables take the same bytes full or empty (the most the ARC and S3-FIFO modes add).`,
  );
  if (base !== undefined) {
    const checks = names
      .filter((n) => n.startsWith('Larder'))
      .map((n) => {
        const extra = bytes.get(n)! - base;
        return `- [${extra <= ALLOWANCE ? 'x' : ' '}] ${n} <= ${BASELINE} + ${ALLOWANCE} bytes/entry — ${extra >= 0 ? '+' : ''}${extra.toFixed(1)} bytes`;
      });
    if (checks.length > 0) console.log(`\n### Target (issue 13)\n\n${checks.join('\n')}`);
  }
}

await main();
