// `npm run bench:hit-ratio`: hit ratios of Larder's MemoryCache beside reference policies (issue 13).
// For every trace in ../shared/traces (or $LARDER_TRACES) at every size its README lists, it replays
// the keys (get; set on a miss) through:
//   - the reference models of bench/sim: LRU, ARC (Megiddo & Modha 2003), S3-FIFO (Yang et al. 2023)
//     and SIEVE (Zhang et al. 2024), computed here;
//   - the README's figures for the Caffeine model (W-TinyLFU as in Caffeine 3.2) and OPT (Belady);
//   - the real MemoryCache with its default policy and with `policy: 'lru'`;
// and prints "Larder − best": the default policy's ratio minus the best of LRU, ARC, S3-FIFO, SIEVE and
// Caffeine on that row. Then synthetic rows: Zipf(0.99) read-through, a hash flood of crafted long keys
// (hit ratio of the legitimate requests without a flood, with the crafted flood, and with a control
// flood of ordinary long keys), a Zipf(0.8) stream beside never-repeated keys at two sizes, and two
// drifting-popularity streams. Filter with names: `... hit-ratio.ts gli OLTP zipf flood one-off drift`.
// `--samples=N` (1 to 16, default 1) replays every row through the default policy N times, under N hash
// samples of its keys (bench/sim/samples.ts), and reports their mean and range: one replay is one
// sample of which keys the window tuner follows and which share sketch counters.
import { MemoryCache } from '../src/index.js';
import { hashKey, setHashSeed } from '../src/engine/hash.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BUNDLED_TRACES, listTraces, readReferences, readTrace, tracesDir } from './sim/traces.js';
import { zipfTrace } from './lib/zipf.js';
import { createRandom } from './lib/prng.js';
import { markdownTable, type Align } from './lib/table.js';
import type { ModelKey, PolicyModel } from './sim/model.js';
import { LruModel } from './sim/lru.js';
import { ArcModel } from './sim/arc.js';
import { S3FifoModel } from './sim/s3fifo.js';
import { SieveModel } from './sim/sieve.js';
import { driftTrace, floodTrace, oneOffTrace, type FloodTrace } from './sim/workloads.js';
import { MAX_SAMPLES, sampleKeys, sampleSeed } from './sim/samples.js';

/** The reference models, in column order. */
const MODELS: readonly { name: string; create: <K extends ModelKey>(capacity: number) => PolicyModel<K> }[] =
  [
    { name: 'LRU', create: (c) => new LruModel(c) },
    { name: 'ARC', create: (c) => new ArcModel(c) },
    { name: 'S3-FIFO', create: (c) => new S3FifoModel(c) },
    { name: 'SIEVE', create: (c) => new SieveModel(c) },
  ];
/** Capacity of the synthetic rows. */
const SYNTHETIC_CAPACITY = 10_000;

interface Cache<K> {
  get(key: K): unknown;
  set(key: K, value: number): unknown;
}

/**
 * Replays `keys` (get; set on a miss) and returns the hit ratio in percent of the requests not marked
 * in `skip` (all of them when absent); skipped requests still reach the cache.
 */
function replayCache<K>(keys: ArrayLike<K>, cache: Cache<K>, skip?: Uint8Array): number {
  let hits = 0;
  let counted = 0;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const hit = cache.get(key) !== undefined;
    if (!hit) cache.set(key, 1);
    if (skip !== undefined && skip[i] === 1) continue;
    counted++;
    if (hit) hits++;
  }
  return counted === 0 ? 0 : (100 * hits) / counted;
}

/** The same for a reference model. */
function replayModel<K extends ModelKey>(
  keys: ArrayLike<K>,
  model: PolicyModel<K>,
  skip?: Uint8Array,
): number {
  let hits = 0;
  let counted = 0;
  for (let i = 0; i < keys.length; i++) {
    const hit = model.access(keys[i]!);
    if (skip !== undefined && skip[i] === 1) continue;
    counted++;
    if (hit) hits++;
  }
  return counted === 0 ? 0 : (100 * hits) / counted;
}

// String keys hash from a per-process random seed; a fixed one makes the string-keyed rows repeatable.
const HASH_SEED = 0x2f6b_a3c1;
setHashSeed(HASH_SEED);

/** `--samples=N`: hash samples per row for the default policy (see the top of this file). */
function parseSamples(args: readonly string[]): number {
  const flags = args.filter((a) => a.startsWith('--'));
  if (flags.length === 0) return 1;
  const flag = flags[0]!;
  if (flags.length > 1 || !flag.startsWith('--samples='))
    throw new RangeError(`unknown or repeated option '${flag}' (only --samples=N is known)`);
  const text = flag.slice('--samples='.length);
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > MAX_SAMPLES)
    throw new RangeError(`--samples must be an integer from 1 to ${MAX_SAMPLES}, got '${text}'`);
  return value;
}
const SAMPLES = ((): number => {
  try {
    return parseSamples(process.argv.slice(2));
  } catch (error) {
    console.error((error as Error).message);
    return process.exit(2);
  }
})();

const DEFAULT_POLICY = new MemoryCache<number, number>({ maxEntries: 1 }).policy;
const fmt = (v: number | undefined): string => (v === undefined ? '' : v.toFixed(2));
const delta = (v: number): string => `${v >= 0 ? '+' : ''}${v.toFixed(2)}`;

interface Row {
  label: string;
  size: number;
  models: number[];
  caffeine?: number;
  opt?: number;
  /** The default policy's hit ratio: the mean over the samples. */
  larder: number;
  /** The lowest and highest sample (equal with one sample). */
  larderRange: [number, number];
  larderLru: number;
}

/** Best competitor of a row: the models and, when known, the Caffeine figure. */
function best(row: Row): { name: string; value: number } {
  let out = { name: MODELS[0]!.name, value: row.models[0]! };
  row.models.forEach((v, i) => {
    if (v > out.value) out = { name: MODELS[i]!.name, value: v };
  });
  if (row.caffeine !== undefined && row.caffeine > out.value) out = { name: 'Caffeine', value: row.caffeine };
  return out;
}

function measure<K extends ModelKey>(
  label: string,
  keys: ArrayLike<K>,
  size: number,
  skip?: Uint8Array,
): Row {
  const samples: number[] = [];
  for (let sample = 0; sample < SAMPLES; sample++) {
    setHashSeed(sampleSeed(HASH_SEED, sample));
    samples.push(
      replayCache(sampleKeys(keys, sample), new MemoryCache<K, number>({ maxEntries: size }), skip),
    );
  }
  setHashSeed(HASH_SEED);
  return {
    label,
    size,
    // The models and LRU never hash a key, so one replay of each is exact.
    models: MODELS.map((m) => replayModel(keys, m.create<K>(size), skip)),
    larder: samples.reduce((a, b) => a + b, 0) / samples.length,
    larderRange: [Math.min(...samples), Math.max(...samples)],
    larderLru: replayCache(keys, new MemoryCache<K, number>({ maxEntries: size, policy: 'lru' }), skip),
  };
}

function render(rows: readonly Row[]): string {
  const header = [
    'trace',
    'size',
    ...MODELS.map((m) => m.name),
    'Caffeine model (ref)',
    'OPT (ref)',
    SAMPLES === 1 ? `Larder ${DEFAULT_POLICY}` : `Larder ${DEFAULT_POLICY} (mean of ${SAMPLES})`,
    ...(SAMPLES === 1 ? [] : ['samples']),
    'Larder lru',
    'Larder − best (best)',
  ];
  const body = rows.map((r) => {
    const b = best(r);
    return [
      r.label,
      String(r.size),
      ...r.models.map(fmt),
      fmt(r.caffeine),
      fmt(r.opt),
      `**${fmt(r.larder)}**`,
      ...(SAMPLES === 1 ? [] : [`${fmt(r.larderRange[0])}–${fmt(r.larderRange[1])}`]),
      fmt(r.larderLru),
      `${delta(r.larder - b.value)} (${b.name})`,
    ];
  });
  const align = header.map((_, i): Align => (i === 0 ? 'left' : 'right'));
  return markdownTable(header, body, align);
}

function worst(rows: readonly Row[]): string {
  if (rows.length === 0) return 'no rows';
  let at = rows[0]!;
  for (const r of rows) if (r.larder - best(r).value < at.larder - best(at).value) at = r;
  const b = best(at);
  return `${delta(at.larder - b.value)} points on ${at.label} @ ${at.size} (behind ${b.name} ${fmt(b.value)})`;
}

function main(): void {
  const only = new Set(process.argv.slice(2).filter((a) => !a.startsWith('--')));
  const want = (name: string): boolean => only.size === 0 || only.has(name);
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
  const started = performance.now();
  const available = new Set(listTraces(dir));
  const refs = readReferences(dir).filter((r) => available.has(r.trace) && want(r.trace));

  console.log(
    `Hit ratios (%) on the traces in ${dir}: reference models computed here (bench/sim), the README's Caffeine ` +
      `and OPT figures, and MemoryCache (default policy: ${DEFAULT_POLICY}; and lru), get then set on a miss.` +
      (SAMPLES === 1
        ? ' One hash sample per row (--samples=N averages N).\n'
        : ` The default policy's column is the mean of ${SAMPLES} hash samples of each row's keys.\n`),
  );
  const traceRows: Row[] = [];
  const mismatches: string[] = [];
  for (const ref of refs) {
    const row = measure(ref.trace, readTrace(ref.trace, dir), ref.size);
    row.caffeine = ref.caffeine;
    row.opt = ref.opt;
    traceRows.push(row);
    // The README's LRU and ARC figures were computed the same way: the models must reproduce them.
    const [lru, arc] = row.models as [number, number];
    if (Math.abs(lru - ref.lru) > 0.01)
      mismatches.push(`LRU ${ref.trace}@${ref.size}: ${fmt(lru)} vs ${ref.lru}`);
    if (Math.abs(arc - ref.arc) > 0.01)
      mismatches.push(`ARC ${ref.trace}@${ref.size}: ${fmt(arc)} vs ${ref.arc}`);
  }
  if (traceRows.length > 0) {
    console.log(render(traceRows));
    console.log(`\nWorst Larder ${DEFAULT_POLICY} − best over the traces: ${worst(traceRows)}.`);
    const behind = traceRows.filter((r) => r.larder - best(r).value < -1);
    console.log(
      `Rows more than 1 point behind the best: ${behind.length} of ${traceRows.length}` +
        `${behind.length > 0 ? ` (${behind.map((r) => `${r.label}@${r.size}`).join(', ')})` : ''}.`,
    );
    console.log(
      mismatches.length === 0
        ? `Model check: LRU and ARC reproduce the README's figures to 0.01 point on all ${traceRows.length} rows.`
        : `Model check FAILED (|Δ| > 0.01): ${mismatches.join('; ')}`,
    );
    console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
  }

  const synthetic: Row[] = [];
  const notes: string[] = [];
  if (want('zipf')) {
    const keys = zipfTrace(2_000_000, 1_000_000, 0.99, createRandom(42));
    synthetic.push(measure('zipf(0.99), 1M keys, 2M requests', keys, SYNTHETIC_CAPACITY));
  }
  if (want('flood')) notes.push(...flood(synthetic));
  if (want('one-off')) {
    // Zipf(0.8): a flatter popularity than the flood rows', so the tail duels are the close ones.
    const trace = oneOffTrace(
      { legitimate: 1_000_000, universe: 1_000_000, skew: 0.8, perRequest: 2 },
      createRandom(13),
    );
    const label = 'one-off: zipf(0.8) + 2 never-repeated keys per request (legitimate hits)';
    for (const size of [1_000, SYNTHETIC_CAPACITY])
      synthetic.push(measure(label, trace.keys, size, trace.flood));
  }
  if (want('drift')) {
    const common = { requests: 2_000_000, universe: 1_000_000, skew: 0.99 };
    const gradual = driftTrace({ ...common, mode: 'gradual', every: 20 }, createRandom(7));
    synthetic.push(measure('drift: zipf(0.99) sliding 1 key / 20 requests', gradual, SYNTHETIC_CAPACITY));
    const phases = driftTrace({ ...common, mode: 'phases', every: 200_000 }, createRandom(8));
    synthetic.push(measure('drift: zipf(0.99), new hot set every 200k requests', phases, SYNTHETIC_CAPACITY));
  }
  if (synthetic.length > 0) {
    console.log(
      `Synthetic workloads (capacity ${SYNTHETIC_CAPACITY} unless the size says otherwise; "best" is the best model computed here):\n`,
    );
    console.log(render(synthetic));
    console.log(`\nWorst Larder ${DEFAULT_POLICY} − best over these: ${worst(synthetic)}.`);
    for (const n of notes) console.log(n);
  }
  console.log(`\n${((performance.now() - started) / 1000).toFixed(1)} s in all.`);
}

/**
 * The hash-flood rows: the same legitimate Zipf stream alone, with one crafted long key after every
 * request (50k crafted keys round-robin, all one hash under the old sampling hash), and with as many
 * ordinary long keys instead (the control: what any flood of one-off keys costs); the hit ratio counts
 * legitimate requests only. Returns notes for under the table.
 */
function flood(rows: Row[]): string[] {
  const options = { legitimate: 1_000_000, universe: 1_000_000, skew: 0.99, floodKeys: 50_000 };
  const clean = floodTrace({ ...options, floodPerRequest: 0 }, createRandom(11));
  const attacked = floodTrace({ ...options, floodPerRequest: 1 }, createRandom(11));
  const control = floodTrace({ ...options, floodPerRequest: 1, crafted: false }, createRandom(11));
  const before = measure('flood: legitimate zipf(0.99) alone', clean.keys, SYNTHETIC_CAPACITY);
  const after = measure(
    'flood: + 1 crafted 200-char key per request (legitimate hits)',
    attacked.keys,
    SYNTHETIC_CAPACITY,
    attacked.flood,
  );
  const ordinary = measure(
    'flood control: + 1 ordinary 200-char key per request',
    control.keys,
    SYNTHETIC_CAPACITY,
    control.flood,
  );
  rows.push(before, after, ordinary);
  const notes = [
    `\nFlood: Larder ${DEFAULT_POLICY} keeps ${fmt(after.larder)} % of legitimate requests as hits under the crafted flood and ` +
      `${fmt(ordinary.larder)} % under the control flood, against ${fmt(before.larder)} % without a flood ` +
      `(${delta(after.larder - before.larder)} and ${delta(ordinary.larder - before.larder)} points; ` +
      `lru ${delta(after.larderLru - before.larderLru)} and ${delta(ordinary.larderLru - before.larderLru)}).`,
  ];
  // The flood keys recur (each about every 100k requests), so caching some of them pays too; the
  // hit ratio over all requests shows which policies collect those hits.
  const all = measure('', attacked.keys, SYNTHETIC_CAPACITY);
  notes.push(
    `All requests of the crafted run, the flood keys' own hits included: Larder ${DEFAULT_POLICY} ${fmt(all.larder)} %, ` +
      `${MODELS.map((m, i) => `${m.name} ${fmt(all.models[i])} %`).join(', ')}.`,
  );
  const crafted = new Set<string>();
  attacked.keys.forEach((k, i) => attacked.flood[i] === 1 && crafted.add(k));
  const hashes = new Set([...crafted].map((k) => hashKey(k)));
  notes.push(
    `The ${crafted.size} crafted keys (all one hash under the old sampling hash) get ${hashes.size} distinct hashes from hashKey now.`,
  );
  notes.push(...frequencyNote(attacked));
  return notes;
}

// The policy's frequency estimates (MemoryCache.hottest) of the resident flood and legitimate keys at
// the end of the attacked run.
function frequencyNote(trace: FloodTrace): string[] {
  const cache = new MemoryCache<string, number>({ maxEntries: SYNTHETIC_CAPACITY });
  replayCache(trace.keys, cache);
  const sums = { flood: 0, floodN: 0, legit: 0, legitN: 0 };
  for (const e of cache.hottest()) {
    if (e.key.length > 64) {
      sums.flood += e.frequency;
      sums.floodN++;
    } else {
      sums.legit += e.frequency;
      sums.legitN++;
    }
  }
  const mean = (s: number, n: number): string => (n === 0 ? '–' : (s / n).toFixed(1));
  return [
    `Frequency estimates at the end of the attacked run (hottest()): flood keys ${mean(sums.flood, sums.floodN)} ` +
      `(${sums.floodN} resident), legitimate keys ${mean(sums.legit, sums.legitN)} (${sums.legitN} resident).`,
  ];
}

main();
