// Readers for the cache-research access traces in ../shared/traces (or $LARDER_TRACES), and for the
// reference hit ratios in that folder's README. Traces are parsed once into an Int32Array of keys.
//   *.trace.gz  LIRS format: one decimal key per line; `*` (phase markers) and empty lines skipped.
//   *.lis.gz    ARC format: `start count ignore request` per line = keys start .. start+count-1.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

/** One row of the README's reference table: a trace, a cache size and published hit ratios (%). */
export interface ReferenceRow {
  trace: string;
  size: number;
  lru: number;
  arc: number;
  caffeine: number;
  opt: number;
}

/** The small trace that ships in the repository (bench/sim/traces), so a fresh clone can replay one. */
export const BUNDLED_TRACES = resolve(dirname(fileURLToPath(import.meta.url)), 'traces');

/**
 * The folder holding the traces: $LARDER_TRACES, else ../shared/traces next to the repository when it
 * exists, else the bundled one.
 */
export function tracesDir(): string {
  const fromEnv = process.env.LARDER_TRACES;
  if (fromEnv !== undefined && fromEnv !== '') return resolve(fromEnv);
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const shared = resolve(repoRoot, '..', 'shared', 'traces');
  return existsSync(shared) ? shared : BUNDLED_TRACES;
}

/** Names of the traces present (file name without `.trace.gz` / `.lis.gz`). */
export function listTraces(dir = tracesDir()): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.trace.gz') || f.endsWith('.lis.gz'))
    .map((f) => f.replace(/\.(trace|lis)\.gz$/, ''))
    .sort();
}

const cache = new Map<string, Int32Array>();

/** The keys of trace `name`, in request order (parsed once per process). */
export function readTrace(name: string, dir = tracesDir()): Int32Array {
  const hit = cache.get(name);
  if (hit !== undefined) return hit;
  const lirs = join(dir, `${name}.trace.gz`);
  const arc = join(dir, `${name}.lis.gz`);
  let keys: Int32Array;
  if (existsSync(lirs)) keys = parseLirs(gunzipSync(readFileSync(lirs)));
  else if (existsSync(arc)) keys = parseArc(gunzipSync(readFileSync(arc)));
  else throw new Error(`trace ${name} not found in ${dir}`);
  cache.set(name, keys);
  return keys;
}

/** Parses LIRS text: one key per line; lines that hold no number (`*`, empty) are skipped. */
export function parseLirs(text: Uint8Array): Int32Array {
  const out = new Growable();
  forEachLine(text, (fields) => {
    if (fields.length > 0) out.push(fields[0]!);
  });
  return out.finish();
}

/** Parses ARC text: `start count ignore request` per line expands to keys start..start+count-1. */
export function parseArc(text: Uint8Array): Int32Array {
  const out = new Growable();
  forEachLine(text, (fields) => {
    if (fields.length < 2) return;
    const start = fields[0]!;
    const count = fields[1]!;
    for (let i = 0; i < count; i++) out.push(start + i);
  });
  return out.finish();
}

/** The reference hit ratios of the README in `dir`, one row per trace and size. */
export function readReferences(dir = tracesDir()): ReferenceRow[] {
  const readme = readFileSync(join(dir, 'README.md'), 'utf8');
  const rows: ReferenceRow[] = [];
  for (const line of readme.split('\n')) {
    const cells = line
      .split('|')
      .map((c) => c.trim())
      .filter((c, i, all) => i > 0 && i < all.length - 1);
    if (cells.length !== 6 || !/^\d+$/.test(cells[1]!)) continue;
    const [trace, size, lru, arc, caffeine, opt] = cells as [string, string, string, string, string, string];
    rows.push({
      trace,
      size: Number(size),
      lru: Number(lru),
      arc: Number(arc),
      caffeine: Number(caffeine),
      opt: Number(opt),
    });
  }
  return rows;
}

// Calls `onLine` with the non-negative integers of each line (a line with none gives []).
function forEachLine(text: Uint8Array, onLine: (fields: number[]) => void): void {
  let fields: number[] = [];
  let value = 0;
  let inNumber = false;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text[i]! : 10;
    if (c >= 48 && c <= 57) {
      value = value * 10 + (c - 48);
      inNumber = true;
      continue;
    }
    if (inNumber) {
      fields.push(value);
      value = 0;
      inNumber = false;
    }
    if (c === 10) {
      onLine(fields);
      fields = [];
    }
  }
}

// An Int32Array that doubles as it fills.
class Growable {
  #data = new Int32Array(1 << 16);
  #length = 0;

  push(v: number): void {
    if (this.#length === this.#data.length) {
      const next = new Int32Array(this.#data.length * 2);
      next.set(this.#data);
      this.#data = next;
    }
    this.#data[this.#length++] = v;
  }

  finish(): Int32Array {
    return this.#data.slice(0, this.#length);
  }
}
