// The conformance suite's working copy: the vendored suite (read-only, never copied into the
// repository) is copied to a temporary directory for each run, with its dependencies installed by
// `npm ci` from its own lockfile. Outside CI the installed node_modules are kept in the temporary
// directory, keyed by the lockfile's hash, and linked into each run's copy.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The vendored suite: $LARDER_HTTP_CACHE_TESTS, else ../shared/vendor/http-cache-tests beside the repository. */
export function vendorDir(): string {
  const fromEnv = process.env.LARDER_HTTP_CACHE_TESTS;
  if (fromEnv !== undefined && fromEnv !== '') return resolve(fromEnv);
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  return resolve(repoRoot, '..', 'shared', 'vendor', 'http-cache-tests');
}

/** The environment for the suite's processes: ours without npm's `npm_*` variables (a parent `npm run`
 *  sets them, and the suite reads its own settings from `npm_config_*`), plus `extra`. */
export function suiteEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!/^npm_/i.test(name)) env[name] = value;
  return { ...env, ...extra };
}

/** How a child process is started (the runner passes one that tracks it, to kill it on exit). */
export type Spawner = typeof spawn;

/** Makes every file and folder under `dir` writable by its owner (the vendored copy is read-only). */
function makeWritable(dir: string): void {
  chmodSync(dir, statSync(dir).mode | 0o700);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) makeWritable(path);
    else if (entry.isFile()) chmodSync(path, statSync(path).mode | 0o200);
  }
}

/** Runs `npm ci` for the suite's own dependencies in `dir` (no dev tools, no install scripts). */
async function npmCi(dir: string, start: Spawner, log: (line: string) => void): Promise<void> {
  const args = ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'];
  log(`npm ${args.join(' ')} (in ${dir})`);
  const child = start('npm', args, { cwd: dir, env: suiteEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((done, fail) => {
    child.once('error', fail);
    child.once('close', done);
  });
  if (code !== 0) throw new Error(`npm ci failed in ${dir} (exit ${String(code)}):\n${output}`);
}

/** A prepared copy of the suite. */
export interface SuiteCopy {
  /** The copy's folder (test-engine/, tests/, node_modules). */
  dir: string;
  /** Removes the copy (never the kept node_modules). */
  remove(): void;
}

/**
 * Copies the suite from `vendor` to a new temporary folder and gives it its dependencies: installed
 * there (`keepModules` false, as in CI), or linked from the kept install for this lockfile (installed
 * once into the temporary directory first).
 */
export async function prepareSuite(
  vendor: string,
  options: { keepModules: boolean; start: Spawner; log: (line: string) => void },
): Promise<SuiteCopy> {
  if (!existsSync(join(vendor, 'package-lock.json')))
    throw new Error(`no conformance suite at ${vendor} (set LARDER_HTTP_CACHE_TESTS to its folder)`);
  const dir = mkdtempSync(join(tmpdir(), 'larder-http-cache-tests-'));
  const remove = (): void => rmSync(dir, { recursive: true, force: true });
  try {
    cpSync(vendor, dir, { recursive: true, filter: (src) => !src.includes(`${vendor}/node_modules`) });
    makeWritable(dir);
    if (!options.keepModules) await npmCi(dir, options.start, options.log);
    else symlinkSync(await keptModules(dir, options.start, options.log), join(dir, 'node_modules'), 'dir');
  } catch (error) {
    remove();
    throw error;
  }
  return { dir, remove };
}

/** The kept node_modules for the lockfile in `copy`, installed on first use (atomically, by a rename). */
async function keptModules(copy: string, start: Spawner, log: (line: string) => void): Promise<string> {
  const lock = readFileSync(join(copy, 'package-lock.json'));
  const hash = createHash('sha256').update(lock).digest('hex').slice(0, 16);
  const root = join(tmpdir(), 'larder-http-cache-tests-modules');
  const kept = join(root, hash);
  if (existsSync(join(kept, 'node_modules'))) {
    log(`suite dependencies: kept install ${kept}`);
    return join(kept, 'node_modules');
  }
  mkdirSync(root, { recursive: true });
  const staging = mkdtempSync(join(root, `${hash}-installing-`));
  try {
    copyFileSync(join(copy, 'package.json'), join(staging, 'package.json'));
    copyFileSync(join(copy, 'package-lock.json'), join(staging, 'package-lock.json'));
    await npmCi(staging, start, log);
    try {
      renameSync(staging, kept);
    } catch (error) {
      // Another run finished the same install meanwhile: its copy is used.
      if (!existsSync(join(kept, 'node_modules'))) throw error;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return join(kept, 'node_modules');
}
