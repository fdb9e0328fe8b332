// Command-line options shared by the benchmark scripts: `--quick`, `--only=<name,...>`,
// `--libs=<name,...>`, `--rounds=<n>`, `--seed=<n>`. Unknown flags are refused so typos do not
// silently run the full (slow) benchmark.

/** Parsed benchmark options. */
export interface BenchArgs {
  /** Fewer operations and rounds, for iterating on the engine. */
  quick: boolean;
  /** Workload names to run; empty means all. */
  only: string[];
  /** Library names (case-insensitive substrings) to run; empty means all. */
  libs: string[];
  /** Measured rounds per library; undefined means the script's default. */
  rounds: number | undefined;
  /** Seed of the key and trace generator. */
  seed: number;
}

function positiveInt(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new RangeError(`--${name} must be a positive integer, got '${text}'`);
  return n;
}

function list(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s.length > 0);
}

/** Parses `argv` (without node and the script path). Throws a RangeError naming a bad or unknown flag. */
export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const args: BenchArgs = { quick: false, only: [], libs: [], rounds: undefined, seed: 42 };
  for (const arg of argv) {
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const value = eq === -1 ? '' : arg.slice(eq + 1);
    switch (flag) {
      case '--quick':
        args.quick = true;
        break;
      case '--only':
        args.only = list(value);
        break;
      case '--libs':
        args.libs = list(value);
        break;
      case '--rounds':
        args.rounds = positiveInt('rounds', value);
        break;
      case '--seed':
        args.seed = positiveInt('seed', value);
        break;
      default:
        throw new RangeError(
          `unknown option '${arg}' (expected --quick, --only=a,b, --libs=a,b, --rounds=n, --seed=n)`,
        );
    }
  }
  return args;
}

/** True when `name` passes a `--libs` filter (case-insensitive substring match; empty filter passes all). */
export function matchesFilter(name: string, filter: readonly string[]): boolean {
  if (filter.length === 0) return true;
  const lower = name.toLowerCase();
  return filter.some((f) => lower.includes(f));
}
