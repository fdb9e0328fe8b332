// `npm run bench:hit-ratio`: replays every trace in ../shared/traces (or $LARDER_TRACES) at every size
// listed in its README through the real MemoryCache, with both policies, and prints a markdown table
// beside the reference LRU, ARC, W-TinyLFU (Caffeine model) and OPT figures; then a Zipf(0.99)
// read-through over 1M keys at capacity 10k. Filter with trace names: `... hit-ratio.ts gli OLTP`.
import { MemoryCache } from '../src/index.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BUNDLED_TRACES, listTraces, readReferences, readTrace, tracesDir } from './sim/traces.js';
import { replay } from './sim/replay.js';
import { zipfTrace } from './lib/zipf.js';
import { createRandom } from './lib/prng.js';

const only = new Set(process.argv.slice(2));
const dir = tracesDir();
if (!existsSync(join(dir, 'README.md'))) {
  console.error(
    `No traces in ${dir}. Set LARDER_TRACES to a folder of LIRS (*.trace.gz) or ARC (*.lis.gz) traces with a README.md\n` +
      `listing reference rows as | trace | size | LRU | ARC | Caffeine | OPT |, or unset it to use the bundled ${BUNDLED_TRACES}.`,
  );
  process.exit(2);
}
if (dir === BUNDLED_TRACES) {
  console.log(
    `Only the bundled trace (gli) is here; set LARDER_TRACES to a folder of the full set for the whole table.\n`,
  );
}
const available = new Set(listTraces(dir));
const rows = readReferences(dir).filter(
  (r) => available.has(r.trace) && (only.size === 0 || only.has(r.trace)),
);

const fmt = (v: number) => v.toFixed(2);
const delta = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(2)}`;

console.log(`Hit ratios (%) on the traces in ${dir}; Larder = MemoryCache, get then set on miss.\n`);
console.log(
  '| trace | size | LRU (ref) | Larder lru | Larder tinylfu | W-TinyLFU Caffeine model | ARC | OPT | tinylfu − LRU | tinylfu − Caffeine |',
);
console.log('|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
let worstVsLru = Infinity;
const started = performance.now();
for (const row of rows) {
  const keys = readTrace(row.trace, dir);
  const lru = replay(keys, new MemoryCache<number, number>({ maxEntries: row.size, policy: 'lru' }));
  const tiny = replay(keys, new MemoryCache<number, number>({ maxEntries: row.size, policy: 'tinylfu' }));
  worstVsLru = Math.min(worstVsLru, tiny - row.lru);
  console.log(
    `| ${row.trace} | ${row.size} | ${fmt(row.lru)} | ${fmt(lru)} | **${fmt(tiny)}** | ${fmt(row.caffeine)} | ${fmt(row.arc)} | ${fmt(row.opt)} | ${delta(tiny - row.lru)} | ${delta(tiny - row.caffeine)} |`,
  );
}
if (only.size === 0 || only.has('zipf')) {
  const keys = zipfTrace(2_000_000, 1_000_000, 0.99, createRandom(42));
  const lru = replay(keys, new MemoryCache<number, number>({ maxEntries: 10_000, policy: 'lru' }));
  const tiny = replay(keys, new MemoryCache<number, number>({ maxEntries: 10_000, policy: 'tinylfu' }));
  console.log(
    `| zipf(0.99), 1M keys, 2M requests | 10000 | | ${fmt(lru)} | **${fmt(tiny)}** | | | | ${delta(tiny - lru)} | |`,
  );
}
console.log(
  `\nWorst tinylfu − LRU over the traces: ${delta(worstVsLru)} points; ${((performance.now() - started) / 1000).toFixed(1)} s.`,
);
