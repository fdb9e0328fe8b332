// `npm run test:http-conformance`: the HTTP caching conformance suite (http-tests/cache-tests, the suite
// behind cache-tests.fyi) against `larder-cache/http` as a shared reverse-proxy cache. It copies the vendored
// suite to a temporary folder and installs its dependencies, starts the suite's origin server and the
// proxy of proxy.ts on free loopback ports, runs the suite's own client against the proxy (driver.ts
// says why the tests that write run after the others, one at a time), classifies each
// result with the suite's own `determineTestResult`, prints totals per suite and the required
// failures, and writes everything to a JSON file. It fails when the required failures exceed the
// budget, or when any privacy test fails (see classify.ts), or when the harness itself breaks.
//
//   npm run test:http-conformance                 # the whole suite (about two minutes)
//   npm run test:http-conformance -- --id vary-no-match   # one test, with its requests and responses
//   npm run test:http-conformance -- --out results.json
//   npm run test:http-conformance -- --rule '{"heuristic":false}'   # try other rule options (not gated)
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  classify,
  privacyFailures,
  privacyTests,
  PRIVACY_ADDED,
  PRIVACY_EXCLUDED,
  tally,
  totalsTable,
  type DetermineTestResult,
  type RawResult,
  type ResultType,
  type Suite,
} from './classify.js';
import { DEFAULT_RULE, startProxy, type RunningProxy } from './proxy.js';
import type { CacheRule } from '../../src/entries/http.js';
import { prepareSuite, suiteEnv, vendorDir, type Spawner, type SuiteCopy } from './vendor.js';

/**
 * Required failures allowed before the run fails. Measured: 0 required failures and 74 optional passes
 * in every run since the proxy's rule took the Last-Modified heuristic, Vary became a stored variant
 * and targeted fields became Structured Fields (the issue's target: 10 or fewer). One of slack is left
 * for a timing-sensitive test (the suite pauses 3 s between some requests) on a loaded CI machine.
 */
const REQUIRED_FAILURE_BUDGET = 1;

/** Optional tests the cache should pass (reported, not enforced). */
const OPTIONAL_PASS_TARGET = 65;

/** The suite gives up on a request after 10 s; the whole run takes about two minutes. */
const SUITE_TIMEOUT_MS = 170_000;

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEFAULT_OUT = join(REPO_ROOT, 'test-output', 'http-conformance.json');
const DRIVER = join(REPO_ROOT, 'test', 'http-conformance', 'driver.ts');

// ------------------------------------------------------------------------------------------------
// Child processes and temporary folders: all of them go when this process does, however it ends.

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();

/** Starts a child in its own process group (killed as a group on exit) and tracks it. */
const startTracked: Spawner = ((command: string, args: readonly string[], options: SpawnOptions) => {
  const child = spawn(command, args, { ...options, detached: true });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}) as Spawner;

function killChild(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

function cleanUp(): void {
  for (const child of children) killChild(child);
  children.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

process.on('exit', cleanUp);
// The proxy runs in this process: a throw that escapes larder-cache/http ends the run (children and folders go too).
process.on('uncaughtException', (error) => {
  console.error('[conformance] uncaught exception, in larder-cache/http or the proxy:');
  console.error(error);
  process.exit(2);
});
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping`);
    process.exit(code);
  });
}

// ------------------------------------------------------------------------------------------------

function log(line: string): void {
  console.error(`[conformance] ${line}`);
}

/** A free loopback port (the origin server takes its port as a number, not 0). */
function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => done(port));
    });
  });
}

/** Starts the suite's origin server on `port`; resolves once it listens. */
async function startOrigin(copy: SuiteCopy, port: number): Promise<ChildProcess> {
  const child = startTracked(process.execPath, ['test-engine/server/server.mjs'], {
    cwd: copy.dir,
    env: suiteEnv({
      npm_config_port: String(port),
      npm_config_protocol: 'http',
      npm_config_pidfile: join(copy.dir, 'origin.pid'),
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`origin server did not start:\n${output}`)), 15_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('Listening on')) {
        clearTimeout(timer);
        done();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`origin server exited (${String(code)}):\n${output}`));
    });
  });
  // Keep draining its output so it never blocks on a full pipe.
  child.stdout?.resume();
  child.stderr?.resume();
  return child;
}

/**
 * Runs the suite against `base`: all of it through driver.ts (the suite's own client, in two passes),
 * or with `id` one test through the suite's CLI, which prints that test's requests and responses.
 */
async function runSuite(
  copy: SuiteCopy,
  base: string,
  id: string,
): Promise<{ stdout: string; stderr: string }> {
  const child =
    id === ''
      ? startTracked(process.execPath, ['--no-warnings', '--import', 'tsx', DRIVER, copy.dir, base], {
          cwd: REPO_ROOT,
          env: suiteEnv(),
          stdio: ['ignore', 'pipe', 'pipe'],
        })
      : startTracked(process.execPath, ['--no-warnings', 'test-engine/cli.mjs'], {
          cwd: copy.dir,
          // The CLI reads npm_config_X, and when that is '' falls back to npm_package_config_X.
          env: suiteEnv({
            npm_config_base: base,
            npm_package_config_base: base,
            npm_config_id: id,
            npm_package_config_id: id,
          }),
          stdio: ['ignore', 'inherit', 'pipe'],
        });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((done, fail) => {
    const timer = setTimeout(() => {
      killChild(child);
      fail(new Error(`the suite did not finish within ${SUITE_TIMEOUT_MS / 1000} s`));
    }, SUITE_TIMEOUT_MS);
    child.once('error', fail);
    child.once('close', (exit) => {
      clearTimeout(timer);
      done(exit);
    });
  });
  if (code !== 0) throw new Error(`the suite's client exited with ${String(code)}:\n${stderr}`);
  return { stdout, stderr };
}

/** The suite's own test list and classifier, from the copy. */
async function loadSuite(copy: SuiteCopy): Promise<{
  suites: Suite[];
  determine: DetermineTestResult;
  resultTypes: Record<string, ResultType>;
}> {
  const resultsModule = (await import(pathToFileURL(join(copy.dir, 'test-engine/lib/results.mjs')).href)) as {
    determineTestResult: DetermineTestResult;
    resultTypes: Record<string, ResultType>;
  };
  const index = (await import(pathToFileURL(join(copy.dir, 'tests/index.mjs')).href)) as { default: Suite[] };
  return {
    suites: index.default,
    determine: resultsModule.determineTestResult,
    resultTypes: resultsModule.resultTypes,
  };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      id: { type: 'string', default: '' },
      out: { type: 'string', default: DEFAULT_OUT },
      rule: { type: 'string' },
    },
  });
  const rule: CacheRule = {
    ...DEFAULT_RULE,
    ...(values.rule ? (JSON.parse(values.rule) as Partial<CacheRule>) : {}),
  };
  const started = Date.now();
  const vendor = vendorDir();
  // CI installs afresh each run; elsewhere the install is kept between runs (same lockfile, same install).
  const keepModules = !process.env.CI;
  const copy = await prepareSuite(vendor, { keepModules, start: startTracked, log });
  tempDirs.add(copy.dir);
  log(`suite copied to ${copy.dir} (${((Date.now() - started) / 1000).toFixed(1)} s)`);

  let proxy: RunningProxy | undefined;
  try {
    const originPort = await freePort();
    await startOrigin(copy, originPort);
    proxy = await startProxy({
      origin: `http://127.0.0.1:${originPort}`,
      httpCacheOptions: { rules: [rule] },
    });
    log(`origin on 127.0.0.1:${originPort}, larder-cache/http proxy on ${proxy.url}`);

    const ran = Date.now();
    const { stdout, stderr } = await runSuite(copy, proxy.url, values.id);
    log(`suite ran in ${((Date.now() - ran) / 1000).toFixed(1)} s`);
    if (values.id !== '') return 0;

    const results = JSON.parse(stdout) as Record<string, RawResult>;
    const harnessErrors = stderr.split('\n').filter((line) => line.startsWith('ERROR:'));
    return await report({
      copy,
      vendor,
      rule,
      gated: values.rule === undefined,
      results,
      harnessErrors,
      out: values.out,
      started,
    });
  } finally {
    await proxy?.close();
    cleanUp();
  }
}

/** One run's results and how it was made. */
interface RunOutcome {
  copy: SuiteCopy;
  vendor: string;
  rule: CacheRule;
  /** The proxy ran with the default rule, so the budget applies. */
  gated: boolean;
  results: Record<string, RawResult>;
  harnessErrors: string[];
  out: string;
  started: number;
}

async function report(run: RunOutcome): Promise<number> {
  const { copy, vendor, rule, results, harnessErrors, out, started } = run;
  const { suites, determine, resultTypes } = await loadSuite(copy);
  const classified = classify(suites, results, determine, resultTypes);
  const totals = tally(suites, classified);
  const total = totals[totals.length - 1]!.counts;
  const requiredFailures = classified.filter((c) => c.outcome === 'fail');
  const privacy = privacyTests(suites);
  const leaks = privacyFailures(privacy, classified);
  const unmeasured = classified.filter(
    (c) => privacy.some((t) => t.id === c.id) && !['pass', 'fail'].includes(c.outcome),
  );
  const missing = classified.filter((c) => c.outcome === 'untested');
  // Each test alone (the suite's CLI view of one test): what the cache did where a dependency failed.
  const alone = classify(suites, results, determine, resultTypes, false);
  const aloneTotal = tally(suites, alone).at(-1)!.counts;
  const aloneFailures = alone.filter((c) => c.outcome === 'fail').map((c) => c.id);
  // Most tests depend on freshness-none (a cache that reuses responses without freshness or validator
  // answers "no"): when it is not "yes", they are not measured and the totals above say little.
  const base = classified.find((c) => c.id === 'freshness-none');

  console.log('\nHTTP caching conformance of larder-cache/http (http-tests/cache-tests), by suite:\n');
  console.log(totalsTable(totals));
  console.log(
    `\nRequired failures: ${requiredFailures.length} (budget ${REQUIRED_FAILURE_BUDGET}, target <= 10)` +
      `\nOptional passes:   ${total.optional_pass} (target >= ${OPTIONAL_PASS_TARGET})`,
  );
  console.log(
    `Taken alone:       ${aloneTotal.fail} required failures, ${aloneTotal.optional_pass} optional passes` +
      ` (dependencies ignored; not gated)${aloneFailures.length > 0 ? `: ${aloneFailures.join(', ')}` : ''}`,
  );
  if (base !== undefined && base.outcome !== 'yes') {
    console.log(
      `\nWARNING: freshness-none is "${base.outcome}" (${base.message ?? ''}): most tests depend on it,` +
        ` directly or not, and are not measured (${total.dependency_fail} dependency failures in all).`,
    );
  }
  console.log(`\nRequired failures (${requiredFailures.length}):`);
  for (const f of requiredFailures) console.log(`  ${f.id} [${f.suite}]: ${f.message ?? ''}`);

  console.log(
    `\nPrivacy tests (${privacy.length}; required tests in the auth, vary and vary-parse suites or whose id` +
      ' names private, no-store, authorization, set-cookie or vary):',
  );
  console.log(`  ${privacy.map((t) => t.id).join(', ')}`);
  for (const [id, why] of Object.entries(PRIVACY_ADDED)) console.log(`  added ${id}: ${why}`);
  for (const [id, why] of Object.entries(PRIVACY_EXCLUDED)) console.log(`  left out ${id}: ${why}`);
  if (unmeasured.length > 0) {
    console.log(`  not measured (a dependency or setup step failed, so the suite does not count them):`);
    for (const u of unmeasured) console.log(`    ${u.id}: ${u.outcome}${u.message ? ` (${u.message})` : ''}`);
  }
  console.log(
    leaks.length === 0
      ? '  no privacy failures'
      : `  PRIVACY FAILURES: ${leaks.map((l) => `${l.id} (${l.message ?? ''})`).join('; ')}`,
  );
  if (harnessErrors.length > 0)
    console.log(`\nHarness errors (${harnessErrors.length}):\n  ${harnessErrors.join('\n  ')}`);

  const pkg = JSON.parse(readFileSync(join(copy.dir, 'package.json'), 'utf8')) as { version: string };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        generatedAt: new Date().toISOString(),
        node: process.version,
        suite: { name: 'http-tests/cache-tests', version: pkg.version, from: vendor },
        rule: { ...rule, path: String(rule.path) },
        requiredFailureBudget: REQUIRED_FAILURE_BUDGET,
        optionalPassTarget: OPTIONAL_PASS_TARGET,
        totals,
        alone: { counts: aloneTotal, requiredFailures: aloneFailures },
        requiredFailures: requiredFailures.map(({ id, suite, message }) => ({ id, suite, message })),
        privacy: {
          tests: privacy.map((t) => t.id),
          failures: leaks.map(({ id, message }) => ({ id, message })),
          unmeasured: unmeasured.map(({ id, outcome, message }) => ({ id, outcome, message })),
        },
        harnessErrors,
        classified,
        results,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`\nFull results: ${out}`);
  console.log(`Took ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const problems: string[] = [];
  // The budget is for the default rule; a run with --rule is an experiment.
  if (run.gated && requiredFailures.length > REQUIRED_FAILURE_BUDGET)
    problems.push(
      `${requiredFailures.length} required failures, over the budget of ${REQUIRED_FAILURE_BUDGET}`,
    );
  if (leaks.length > 0) problems.push(`${leaks.length} privacy test(s) failed`);
  if (missing.length > 0) problems.push(`${missing.length} test(s) have no result: the harness broke`);
  for (const p of problems) console.error(`FAIL: ${p}`);
  return problems.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(2);
  },
);
