// `npm run bench:cost`: what cost-aware eviction (issue 15, seed 004) saves. Every trace in
// ../shared/traces (or $LARDER_TRACES) at every size its README lists is replayed (get; set on a miss)
// through MemoryCache three ways: W-TinyLFU told each key's reload cost, plain W-TinyLFU (the same
// policy, no costs) and LRU. A key's cost is fixed and drawn from a heavy-tailed Pareto distribution
// (shape 1.1, minimum 1 ms, capped at 10 s) by a hash of the key, so most keys are cheap and a few
// dominate, as with real loaders. The table gives the total reload cost (sum of the costs of misses)
// and the hit ratio of each, and the cost saved against plain W-TinyLFU. Filter with trace names:
// `... cost-aware.ts OLTP gli`. Numbers are for catching regressions, not marketing.
import { MemoryCache } from '../src/index.js';
import { mix32 } from '../src/engine/hash.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { listTraces, readReferences, readTrace, tracesDir } from './sim/traces.js';
import { markdownTable, type Align } from './lib/table.js';

/** Pareto shape: below 2 the variance is infinite, so a few keys carry much of the total cost. */
const SHAPE = 1.1;
/** The cheapest load, ms. */
const MIN_COST = 1;
/** The dearest load, ms (a loader's timeout, say). */
const MAX_COST = 10_000;

/** The reload cost of `key`: a Pareto draw from the key's hash (the same in every run). */
function costOf(key: number): number {
  // (0, 1]: never 0, so the draw is finite before the cap.
  const u = ((mix32(key ^ 0x3c6ef372) >>> 0) + 1) / 2 ** 32;
  return Math.min(MAX_COST, MIN_COST / u ** (1 / SHAPE));
}

interface Outcome {
  /** Sum of the costs of the misses, ms. */
  cost: number;
  /** Percent of requests that hit. */
  hitRatio: number;
}

function replay(
  keys: Int32Array,
  costs: Float64Array,
  cache: MemoryCache<number, number>,
  told: boolean,
): Outcome {
  let hits = 0;
  let cost = 0;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (cache.get(key) !== undefined) {
      hits++;
      continue;
    }
    const c = costs[i]!;
    cost += c;
    cache.set(key, 1, told ? { cost: c } : undefined);
  }
  return { cost, hitRatio: (100 * hits) / keys.length };
}

function main(): void {
  const only = new Set(process.argv.slice(2));
  const dir = tracesDir();
  if (!existsSync(join(dir, 'README.md'))) {
    console.error(`No traces in ${dir}; set LARDER_TRACES to a folder of traces with a README.md.`);
    process.exit(2);
  }
  const available = new Set(listTraces(dir));
  const refs = readReferences(dir).filter(
    (r) => available.has(r.trace) && (only.size === 0 || only.has(r.trace)),
  );
  const started = performance.now();
  console.log(
    `# Cost-aware eviction: total reload cost of misses\n\nTraces in ${dir}; per-key cost Pareto(shape ${SHAPE}, ` +
      `min ${MIN_COST} ms, cap ${MAX_COST} ms) by key hash; get, then set on a miss (with { cost } for the cost-aware run).\n`,
  );
  const rows: string[][] = [];
  let savedSum = 0;
  let hitDeltaSum = 0;
  for (const ref of refs) {
    const keys = readTrace(ref.trace, dir);
    const costs = new Float64Array(keys.length);
    for (let i = 0; i < keys.length; i++) costs[i] = costOf(keys[i]!);
    const aware = replay(keys, costs, new MemoryCache({ maxEntries: ref.size }), true);
    const plain = replay(keys, costs, new MemoryCache({ maxEntries: ref.size }), false);
    const lru = replay(keys, costs, new MemoryCache({ maxEntries: ref.size, policy: 'lru' }), false);
    const saved = plain.cost === 0 ? 0 : (100 * (plain.cost - aware.cost)) / plain.cost;
    savedSum += saved;
    hitDeltaSum += aware.hitRatio - plain.hitRatio;
    rows.push([
      ref.trace,
      String(ref.size),
      seconds(aware.cost),
      seconds(plain.cost),
      seconds(lru.cost),
      `${saved >= 0 ? '' : '−'}${Math.abs(saved).toFixed(1)} %`,
      aware.hitRatio.toFixed(2),
      plain.hitRatio.toFixed(2),
      lru.hitRatio.toFixed(2),
    ]);
  }
  const header = [
    'trace',
    'size',
    'reload s, cost-aware',
    'reload s, plain W-TinyLFU',
    'reload s, LRU',
    'saved vs plain',
    'hit %, cost-aware',
    'hit %, plain',
    'hit %, LRU',
  ];
  console.log(
    markdownTable(
      header,
      rows,
      header.map((_, i): Align => (i === 0 ? 'left' : 'right')),
    ),
  );
  if (rows.length > 0) {
    console.log(
      `\nMean over ${rows.length} rows: ${(savedSum / rows.length).toFixed(1)} % of the reload cost saved, ` +
        `hit ratio ${hitDeltaSum >= 0 ? '+' : ''}${(hitDeltaSum / rows.length).toFixed(2)} points against plain W-TinyLFU.`,
    );
  }
  console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s)`);
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(0);
}

main();
