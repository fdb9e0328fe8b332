// Runs the conformance suite's own client (test-engine/client/runner.mjs of the suite's copy) against
// a cache and prints the results as JSON, like the suite's CLI, in two passes: first every test that
// only reads (GET/HEAD), 25 at a time as the CLI does, then the tests that send an unsafe method
// (POST, PUT, DELETE, M-SEARCH: the invalidation suite and method-POST), one at a time.
//
// Why apart: a write makes the cache invalidate its URI, and Larder's invalidation detaches every load
// in flight in the cache (cache `invalidateTags`), so a read test whose first response was loading at
// that moment never gets it stored, and fails or passes by timing. Run as the CLI runs them, 25
// together, a few results changed from one run to the next; apart, each test sees the cache alone.
//
//   node --import tsx test/http-conformance/driver.ts <suite copy> <base URL>
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

interface DriverTest {
  id: string;
  requests: { request_method?: string }[];
}

interface DriverSuite {
  tests: DriverTest[];
}

interface Runner {
  runTests(suites: DriverSuite[], browserCache: boolean, base: string, chunkSize?: number): Promise<void>;
  getResults(): Record<string, unknown>;
}

/** Whether a test sends a method other than GET or HEAD. */
function writes(test: DriverTest): boolean {
  return test.requests.some(
    (r) => r.request_method !== undefined && !['GET', 'HEAD'].includes(r.request_method),
  );
}

async function main(): Promise<void> {
  const [copy, base] = process.argv.slice(2);
  if (copy === undefined || base === undefined) throw new Error('usage: driver.ts <suite copy> <base URL>');
  const runner = (await import(pathToFileURL(join(copy, 'test-engine/client/runner.mjs')).href)) as Runner;
  const index = (await import(pathToFileURL(join(copy, 'tests/index.mjs')).href)) as {
    default: DriverSuite[];
  };
  const only = (keep: (t: DriverTest) => boolean): DriverSuite[] =>
    index.default.map((suite) => ({ ...suite, tests: suite.tests.filter(keep) }));
  await runner.runTests(
    only((t) => !writes(t)),
    false,
    base,
  );
  await runner.runTests(only(writes), false, base, 1);
  console.log(JSON.stringify(runner.getResults(), null, 2));
}

await main();
