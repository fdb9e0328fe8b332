// `npm run bench:advisor`: how well the sizing advisor predicts, and what it costs.
//   1. Accuracy: every trace in ../shared/traces (or $LARDER_TRACES) at every cache size its README
//      lists is replayed through a SizingAdvisor (default options) and, separately, through real
//      MemoryCaches at 0.25x, 0.5x, 1x, 2x and 4x that size, with both policies; the table shows the
//      predicted and the actual hit ratio and the error in points. Target: |error| <= 2 everywhere.
//   2. Overhead: getOrSet hit throughput with and without the advisor (CPU time, median of rounds),
//      the same on the bare engine, and the advisor's heap against the cache's.
// Options: --quick (first size per trace, no P3, fewer rounds), --only=trace,trace, --rounds=n.
// The machine may be shared: throughput numbers are for spotting regressions, not for marketing.
import os from 'node:os';
import { SizingAdvisor } from '../src/advisor/advisor.js';
import { createCache } from '../src/cache/create-cache.js';
import { MemoryCache } from '../src/engine/memory-cache.js';
import type { EvictionPolicy } from '../src/engine/types.js';
import { parseBenchArgs } from './lib/args.js';
import { createRandom } from './lib/prng.js';
import { canCollect, collect, startClocks } from './lib/runner.js';
import { median } from './lib/stats.js';
import { formatOps, markdownTable, type Align } from './lib/table.js';
import { createZipf } from './lib/zipf.js';
import { replay } from './sim/replay.js';
import { listTraces, readReferences, readTrace, tracesDir } from './sim/traces.js';

const POLICIES: readonly EvictionPolicy[] = ['lru', 'tinylfu'];
const TARGET_POINTS = 2;

const args = parseBenchArgs(process.argv.slice(2));

// ---- 1. accuracy ---------------------------------------------------------------------------------

// Real hit ratios, memoized: a trace at 4x one size is often 1x another.
const actualCache = new Map<string, number>();
function actual(trace: string, keys: Int32Array, capacity: number, policy: EvictionPolicy): number {
  const id = `${trace}/${capacity}/${policy}`;
  let ratio = actualCache.get(id);
  if (ratio === undefined) {
    ratio = replay(
      keys,
      new MemoryCache<number, number>({ maxEntries: capacity, policy, cleanupInterval: 0 }),
    );
    actualCache.set(id, ratio);
  }
  return ratio;
}

function accuracy(): { worst: Record<EvictionPolicy, number>; misses: number; rows: number } {
  const dir = tracesDir();
  const present = new Set(listTraces(dir));
  const sizes = new Map<string, number[]>();
  for (const ref of readReferences(dir)) {
    if (!present.has(ref.trace) || (args.only.length > 0 && !args.only.includes(ref.trace.toLowerCase())))
      continue;
    if (args.quick && ref.trace === 'P3') continue;
    const list = sizes.get(ref.trace) ?? [];
    if (!list.includes(ref.size) && !(args.quick && list.length > 0)) list.push(ref.size);
    sizes.set(ref.trace, list);
  }
  const header = ['trace', 'size', 'rate', 'sampled', 'x', 'capacity'];
  for (const p of POLICIES) header.push(`${p} actual`, `${p} predicted`, `${p} error`);
  const rows: string[][] = [];
  const worst: Record<EvictionPolicy, number> = { lru: 0, tinylfu: 0 };
  let misses = 0;
  let count = 0;
  const started = performance.now();
  for (const [trace, list] of sizes) {
    const keys = readTrace(trace, dir);
    for (const size of list) {
      const advisor = new SizingAdvisor(size);
      for (let i = 0; i < keys.length; i++) advisor.record(keys[i]!);
      for (const point of advisor.curve()) {
        const cells = [
          trace,
          String(size),
          rateText(advisor.rate),
          String(advisor.sampledRequests),
          String(point.multiplier),
          String(point.capacity),
        ];
        for (const policy of POLICIES) {
          const real = actual(trace, keys, point.capacity, policy);
          const error = point[policy] - real;
          worst[policy] = Math.max(worst[policy], Math.abs(error));
          if (Math.abs(error) > TARGET_POINTS) misses++;
          count++;
          cells.push(
            real.toFixed(2),
            point[policy].toFixed(2),
            `${error >= 0 ? '+' : ''}${error.toFixed(2)}`,
          );
        }
        rows.push(cells);
      }
    }
  }
  const align = header.map((_, i): Align => (i === 0 ? 'left' : 'right'));
  console.log('## Accuracy: predicted vs actual hit ratio (%)\n');
  console.log(markdownTable(header, rows, align));
  console.log(
    `\n${count} predictions; worst |error|: lru ${worst.lru.toFixed(2)}, tinylfu ${worst.tinylfu.toFixed(2)} points; ` +
      `${misses} beyond ${TARGET_POINTS} points; ${((performance.now() - started) / 1000).toFixed(0)} s.\n`,
  );
  return { worst, misses, rows: count };
}

// ---- 1b. error against the sampling rate ---------------------------------------------------------

/** Traces and sizes large enough to be sampled, and the rates to force on them. */
const RATE_CASES: readonly { trace: string; size: number }[] = [
  { trace: 'OLTP', size: 2000 },
  { trace: 'web12', size: 5000 },
  { trace: 'P3', size: 131072 },
];
const FORCED_RATES = [1 / 4, 1 / 16, 1 / 64];

function errorByRate(): void {
  const dir = tracesDir();
  const present = new Set(listTraces(dir));
  const cases = RATE_CASES.filter(
    (c) =>
      present.has(c.trace) &&
      !(args.quick && c.trace === 'P3') &&
      (args.only.length === 0 || args.only.includes(c.trace.toLowerCase())),
  );
  const rows: string[][] = [];
  for (const { trace, size } of cases) {
    const keys = readTrace(trace, dir);
    for (const rate of FORCED_RATES) {
      const advisor = new SizingAdvisor(size, { rate });
      for (let i = 0; i < keys.length; i++) advisor.record(keys[i]!);
      const worst: Record<EvictionPolicy, number> = { lru: 0, tinylfu: 0 };
      for (const point of advisor.curve()) {
        for (const policy of POLICIES) {
          const error = Math.abs(point[policy] - actual(trace, keys, point.capacity, policy));
          worst[policy] = Math.max(worst[policy], error);
        }
      }
      rows.push([
        trace,
        String(size),
        rateText(advisor.rate),
        String(Math.round(size * advisor.multipliers[0]! * advisor.rate)),
        String(advisor.sampledRequests),
        worst.lru.toFixed(2),
        worst.tinylfu.toFixed(2),
      ]);
    }
  }
  console.log('## Error against a forced sampling rate (worst |error| over the five sizes, points)\n');
  const header = ['trace', 'size', 'rate', 'smallest miniature', 'sampled', 'lru worst', 'tinylfu worst'];
  console.log(markdownTable(header, rows, ['left', ...header.slice(1).map((): Align => 'right')]));
  console.log('');
}

// ---- 2. overhead ---------------------------------------------------------------------------------

const ROUNDS = args.rounds ?? (args.quick ? 3 : 7);
const OPS = args.quick ? 300_000 : 1_000_000;

function zipfKeys(count: number, distinct: number): string[] {
  const zipf = createZipf(distinct, 0.99, createRandom(args.seed));
  return Array.from({ length: count }, () => `url:/products/${zipf()}`);
}

/** Advisor settings the overhead is measured at: the default rate, fixed lower rates, and the sampling test alone. */
const SETTINGS: readonly { label: string; option: true | { rate: number } }[] = [
  { label: 'default', option: true },
  { label: 'rate 1/256', option: { rate: 1 / 256 } },
  { label: 'rate 1/4096', option: { rate: 1 / 4096 } },
  // A rate so low that nothing is sampled: what remains is the per-hit sampling test itself.
  { label: 'test only', option: { rate: 2 ** -32 } },
];

/** One measured row: ops per CPU second without and with the advisor. */
interface Measured {
  name: string;
  setting: string;
  rate: number;
  /** Fraction of requests that were sampled (under Zipf a sampled hot key carries many). */
  sampledShare: number;
  off: number;
  on: number;
}

// Runs `plain` and `advised` for ROUNDS rounds each, alternating which goes first; medians of ops/s.
async function compare(
  plain: () => Promise<void> | void,
  advised: () => Promise<void> | void,
): Promise<{ off: number; on: number }> {
  const time = async (fn: () => Promise<void> | void): Promise<number> => {
    collect();
    const clock = startClocks();
    await fn();
    return (OPS * 1000) / clock().cpuMs;
  };
  await time(plain);
  await time(advised);
  const off: number[] = [];
  const on: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2 === 0) {
      off.push(await time(plain));
      on.push(await time(advised));
    } else {
      on.push(await time(advised));
      off.push(await time(plain));
    }
  }
  return { off: median(off), on: median(on) };
}

async function facadeHitPath(capacity: number, setting: (typeof SETTINGS)[number]): Promise<Measured> {
  // Every key is resident: this measures the hit path only.
  const trace = zipfKeys(OPS, capacity);
  const plain = createCache<string>({ name: 'plain', maxEntries: capacity, cleanupInterval: 0 });
  const advised = createCache<string>({
    name: 'advised',
    maxEntries: capacity,
    cleanupInterval: 0,
    advisor: setting.option,
  });
  for (let k = 0; k < capacity; k++) {
    await plain.set(`url:/products/${k}`, `page ${k}`);
    await advised.set(`url:/products/${k}`, `page ${k}`);
  }
  const loader = (): string => 'never called';
  const run = (cache: typeof plain) => async (): Promise<void> => {
    for (let i = 0; i < trace.length; i++) await cache.getOrSet(trace[i]!, loader);
  };
  const { off, on } = await compare(run(plain), run(advised));
  const advice = advised.advise()!;
  await Promise.all([plain.close(), advised.close()]);
  return {
    name: `getOrSet hit, ${capacity.toLocaleString('en-US')} entries`,
    setting: setting.label,
    rate: advice.sampleRate,
    sampledShare: advice.sampledRequests / (OPS * (ROUNDS + 1)),
    off,
    on,
  };
}

async function engineHitPath(capacity: number): Promise<Measured> {
  const trace = zipfKeys(OPS, capacity);
  const engine = new MemoryCache<string, { page: number }>({ maxEntries: capacity, cleanupInterval: 0 });
  for (let k = 0; k < capacity; k++) engine.set(`url:/products/${k}`, { page: k });
  const advisor = new SizingAdvisor(capacity);
  const plain = (): void => {
    let hits = 0;
    for (let i = 0; i < trace.length; i++) if (engine.get(trace[i]!) !== undefined) hits++;
    if (hits !== trace.length) throw new Error('the engine missed');
  };
  const advised = (): void => {
    for (let i = 0; i < trace.length; i++) {
      const key = trace[i]!;
      const value = engine.get(key);
      if (value !== undefined) advisor.recordHit(key, value);
      else advisor.record(key);
    }
  };
  const { off, on } = await compare(plain, advised);
  return {
    name: `engine get hit, ${capacity.toLocaleString('en-US')} entries`,
    setting: 'default',
    rate: advisor.rate,
    sampledShare: advisor.sampledRequests / (OPS * (ROUNDS + 1)),
    off,
    on,
  };
}

function rateText(rate: number): string {
  return rate >= 1 ? '1' : rate < 1e-6 ? '~0' : `1/${Math.round(1 / rate)}`;
}

function row(m: Measured): string[] {
  return [
    m.name,
    m.setting,
    rateText(m.rate),
    `${(m.sampledShare * 100).toFixed(2)}%`,
    formatOps(m.off),
    formatOps(m.on),
    `${(((m.off - m.on) / m.off) * 100).toFixed(1)}%`,
  ];
}

// Heap of a cache of `capacity` entries (~100-byte values) and of its advisor once every miniature is full.
function memory(capacity: number): string[] {
  const heap = (): number => {
    collect();
    collect();
    return process.memoryUsage().heapUsed;
  };
  const base = heap();
  const cache = new MemoryCache<string, { id: number; title: string; tags: string[] }>({
    maxEntries: capacity,
    cleanupInterval: 0,
  });
  for (let k = 0; k < capacity; k++) {
    cache.set(`url:/products/${k}`, {
      id: k,
      title: `product number ${k} of the catalogue`,
      tags: ['a', 'b'],
    });
  }
  const withCache = heap();
  const advisor = new SizingAdvisor(capacity);
  // Enough distinct keys, each requested twice, to fill even the 4x miniatures.
  for (let round = 0; round < 2; round++)
    for (let k = 0; k < capacity * 5; k++) advisor.record(`url:/products/${k}`);
  const withAdvisor = heap();
  const cacheBytes = withCache - base;
  const advisorBytes = withAdvisor - withCache;
  const keep = [cache.size, advisor.simulatedEntries];
  return [
    capacity.toLocaleString('en-US'),
    rateText(advisor.rate),
    String(keep[1]),
    `${(cacheBytes / 2 ** 20).toFixed(1)} MiB`,
    `${(advisorBytes / 2 ** 20).toFixed(1)} MiB`,
    `${((100 * advisorBytes) / cacheBytes).toFixed(1)}%`,
  ];
}

async function overhead(): Promise<void> {
  console.log(
    `## Overhead (${OPS.toLocaleString('en-US')} Zipf(0.99) hits per round, median of ${ROUNDS} rounds, ops per CPU second${canCollect ? ', GC between rounds' : ''})\n`,
  );
  const capacities = args.quick ? [10_000, 100_000] : [1_000, 10_000, 100_000, 1_000_000];
  const rows: string[][] = [];
  for (const capacity of capacities.filter((c) => c >= 10_000 && c <= 100_000)) {
    for (const setting of SETTINGS) rows.push(row(await facadeHitPath(capacity, setting)));
  }
  rows.push(row(await engineHitPath(100_000)));
  const header = ['hit path', 'advisor', 'rate', 'sampled requests', 'advisor off', 'advisor on', 'cost'];
  const align: Align[] = ['left', 'left', 'right', 'right', 'right', 'right', 'right'];
  console.log(markdownTable(header, rows, align));
  console.log('\n### Memory (heap after a full GC)\n');
  const mem = capacities.map(memory);
  console.log(
    markdownTable(
      ['cache entries', 'rate', 'simulated entries', 'cache heap', 'advisor heap', 'advisor / cache'],
      mem,
      ['right', 'right', 'right', 'right', 'right', 'right'],
    ),
  );
}

async function main(): Promise<void> {
  console.log(
    `# Larder sizing advisor\n\nnode ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg()[0]!.toFixed(1)}\n`,
  );
  accuracy();
  errorByRate();
  await overhead();
}

await main();
