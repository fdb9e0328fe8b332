// Where and on what a benchmark ran: Node version, CPUs, the machine's load, and the git revision of
// the code under test, printed at the top of every benchmark so a result can be traced and compared.

import { execFileSync } from 'node:child_process';
import os from 'node:os';

/** The one-minute load average, two decimals (the machine is shared; this says how busy it was). */
export function loadAverage(): string {
  return os.loadavg()[0]!.toFixed(2);
}

/** Short commit of HEAD, marked `+dirty` when src/ has uncommitted changes; `unknown` outside git. */
export function revision(): string {
  try {
    const run = (...args: string[]): string =>
      execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const head = run('rev-parse', '--short', 'HEAD');
    return run('status', '--porcelain', '--', 'src') === '' ? head : `${head}+dirty`;
  } catch {
    return 'unknown';
  }
}

/** `node v20.x, 2 x <CPU>, load average 1.23, src at abc1234` */
export function environmentLine(): string {
  const cpus = os.cpus();
  return `node ${process.version}, ${cpus.length} x ${cpus[0]?.model.trim() ?? 'CPU'}, load average ${loadAverage()}, src at ${revision()}`;
}
