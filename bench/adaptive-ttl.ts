// `npm run bench:adaptive-ttl`: adaptive TTL against fixed TTLs on a simulated upstream whose values
// change at known, varying rates (issue 15). Each key's value changes as a Poisson process whose mean
// interval is drawn log-uniformly from 1 s to 10 min; halfway through, every key's rate is mirrored
// (fast keys become slow and slow keys fast), so a TTL learned in the first half is wrong in the
// second. Every key is read once per simulated second through getOrSet, driven by an injected clock,
// so a run of hours takes seconds.
//
// Staleness is counted per change: the time from the change until a read is first answered with that
// value or a newer one (changes still unserved at the end count until the end). Upstream calls are the
// loader runs. The numbers are for comparing policies on this model and catching regressions, not a
// promise about a real upstream. Options: --quick (fewer keys, shorter run), --seed=n.
import { buildCache } from '../src/cache/create-cache.js';
import type { CacheOptions } from '../src/index.js';
import { parseBenchArgs } from './lib/args.js';
import { createRandom, type Random } from './lib/prng.js';
import { markdownTable, type Align } from './lib/table.js';

const SECOND = 1000;
const MIN_INTERVAL = 1 * SECOND;
const MAX_INTERVAL = 600 * SECOND;

/** One key's upstream: the times its value changed (ms), in order. */
interface KeyTrace {
  changes: number[];
}

/** Change times of every key: Poisson with a per-key mean, mirrored at half time. */
function buildTraces(keys: number, durationMs: number, random: Random): KeyTrace[] {
  const half = durationMs / 2;
  const logMin = Math.log(MIN_INTERVAL);
  const logMax = Math.log(MAX_INTERVAL);
  const traces: KeyTrace[] = [];
  for (let k = 0; k < keys; k++) {
    const first = Math.exp(logMin + random() * (logMax - logMin));
    // Mirrored in log space: 1 s ↔ 10 min, 24 s ↔ 24 s.
    const second = Math.exp(logMin + logMax - Math.log(first));
    const changes: number[] = [];
    let t = 0;
    for (;;) {
      const mean = t < half ? first : second;
      t += -Math.log(1 - random()) * mean;
      if (t >= durationMs) break;
      changes.push(Math.round(t));
    }
    traces.push({ changes });
  }
  return traces;
}

interface RunResult {
  label: string;
  calls: number;
  /** Total unserved time of all changes, ms. */
  staleMs: number;
  maxStaleMs: number;
  changes: number;
  /** Reads answered with an outdated value. */
  staleReads: number;
  /** Calls and stale reads of the first half alone (before the rates switch). */
  firstHalf: { calls: number; staleReads: number };
}

/** Replays the traces through one cache configuration. */
async function run(
  label: string,
  traces: readonly KeyTrace[],
  durationMs: number,
  options: Pick<CacheOptions, 'ttl' | 'adaptiveTtl'>,
): Promise<RunResult> {
  let now = 0;
  const cache = buildCache<number>({ ...options, clock: () => now, maxEntries: traces.length * 2 });
  const start = 0;
  // Per key: the upstream's version now (changes seen so far) and the newest version served.
  const upstreamVersion = new Int32Array(traces.length);
  const served = new Int32Array(traces.length);
  let calls = 0;
  let staleMs = 0;
  let maxStaleMs = 0;
  let staleReads = 0;
  const loaders = traces.map((_, k) => () => {
    calls++;
    return upstreamVersion[k]!;
  });
  const account = (k: number, upTo: number, at: number): void => {
    const changes = traces[k]!.changes;
    for (let v = served[k]! + 1; v <= upTo; v++) {
      const delay = at - changes[v - 1]!;
      staleMs += delay;
      if (delay > maxStaleMs) maxStaleMs = delay;
    }
    served[k] = upTo;
  };
  const firstHalf = { calls: 0, staleReads: 0 };
  for (now = start; now < durationMs; now += SECOND) {
    if (now === durationMs / 2) {
      firstHalf.calls = calls;
      firstHalf.staleReads = staleReads;
    }
    for (let k = 0; k < traces.length; k++) {
      const changes = traces[k]!.changes;
      let v = upstreamVersion[k]!;
      while (v < changes.length && changes[v]! <= now) v++;
      upstreamVersion[k] = v;
      const answer = await cache.getOrSet(k, loaders[k]!);
      if (answer > served[k]!) account(k, answer, now);
      if (answer < v) staleReads++;
    }
  }
  let changes = 0;
  for (let k = 0; k < traces.length; k++) {
    changes += traces[k]!.changes.length;
    account(k, traces[k]!.changes.length, durationMs);
  }
  await cache.close();
  return { label, calls, staleMs, maxStaleMs, changes, staleReads, firstHalf };
}

const seconds = (ms: number): string => (ms / SECOND).toFixed(ms < 10 * SECOND ? 2 : 0);

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2));
  const keys = args.quick ? 50 : 200;
  const durationMs = (args.quick ? 1 : 4) * 3600 * SECOND;
  const traces = buildTraces(keys, durationMs, createRandom(args.seed));
  const adaptive = (min: string, factor?: number): Pick<CacheOptions, 'ttl' | 'adaptiveTtl'> => ({
    ttl: '1m',
    adaptiveTtl: factor === undefined ? { min, max: '10m' } : { min, max: '10m', factor },
  });
  const configs: Array<[string, Pick<CacheOptions, 'ttl' | 'adaptiveTtl'>]> = [
    ['fixed 1s', { ttl: '1s' }],
    ['fixed 2s', { ttl: '2s' }],
    ['fixed 5s', { ttl: '5s' }],
    ['fixed 10s', { ttl: '10s' }],
    ['fixed 15s', { ttl: '15s' }],
    ['fixed 1m', { ttl: '1m' }],
    ['fixed 5m', { ttl: '5m' }],
    ['fixed 10m', { ttl: '10m' }],
    ['adaptive min 500ms', adaptive('500ms')],
    ['adaptive min 1s', adaptive('1s')],
    ['adaptive min 2s', adaptive('2s')],
    ['adaptive min 5s', adaptive('5s')],
    ['adaptive min 1s, factor 1.5', adaptive('1s', 1.5)],
  ];
  const results: RunResult[] = [];
  for (const [label, options] of configs) results.push(await run(label, traces, durationMs, options));
  const reads = keys * (durationMs / SECOND);
  console.log(
    `# Adaptive TTL vs fixed TTLs\n\n${keys} keys, each read once per second for ${durationMs / 3_600_000} h ` +
      `(${reads.toLocaleString('en-US')} reads); values change as Poisson processes with mean intervals ` +
      `log-uniform in [1 s, 10 min], mirrored at half time; ${results[0]!.changes.toLocaleString('en-US')} ` +
      `changes in all. Seed ${args.seed}.\n`,
  );
  const header = [
    'TTL',
    'upstream calls',
    'calls / key / h',
    'stale reads',
    'first half: calls / key / h',
    'stale reads',
    'stale time total (s)',
    'mean per change (s)',
    'max (s)',
  ];
  const align: Align[] = ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'];
  const hours = durationMs / 3_600_000;
  const rows = results.map((r) => [
    r.label,
    r.calls.toLocaleString('en-US'),
    (r.calls / keys / hours).toFixed(1),
    `${((100 * r.staleReads) / reads).toFixed(1)}%`,
    (r.firstHalf.calls / keys / (hours / 2)).toFixed(1),
    `${((200 * r.firstHalf.staleReads) / reads).toFixed(1)}%`,
    Math.round(r.staleMs / SECOND).toLocaleString('en-US'),
    seconds(r.staleMs / r.changes),
    seconds(r.maxStaleMs),
  ]);
  console.log(markdownTable(header, rows, align));
  console.log(
    '\nAdaptive rows: max 10 min; the first load of a key uses 1 min. Stale reads: reads answered with an outdated value.',
  );
}

await main();
