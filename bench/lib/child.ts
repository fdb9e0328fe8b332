// Runs one measurement in a fresh Node process and reads its answer: the last line of its output,
// as JSON. Benchmarks use it when libraries must not share a heap or JIT state (memory per entry, and
// the async hit path, where several Larder instances in one process would share type feedback).

import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Runs `bench/<script>` with --expose-gc under tsx and returns its last output line parsed as JSON. */
export function runChild(script: string, args: readonly string[]): unknown {
  const path = fileURLToPath(new URL(`../${script}`, import.meta.url));
  let out: string;
  try {
    out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', path, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`${script} ${args.join(' ')} failed:\n${stderr.trim().split('\n').slice(-5).join('\n')}`);
  }
  const last = out.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(last) as unknown;
  } catch {
    throw new Error(`${script} ${args.join(' ')} did not end with a JSON line; it printed:\n${out}`);
  }
}
