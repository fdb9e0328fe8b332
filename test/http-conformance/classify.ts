// Reading the conformance suite's results: each test's outcome (by the suite's own
// `determineTestResult`), totals per suite and overall, the required failures, and the privacy tests —
// the required ones whose failure would mean the cache stored or reused what it must not (a private or
// no-store response, an answer to an authorized request, the wrong Vary variant).
import { markdownTable } from '../../bench/lib/table.js';

/** A test as the suite declares it (tests/*.mjs); only the fields read here. */
export interface SuiteTest {
  id: string;
  name: string;
  /** `undefined` means required. */
  kind?: 'required' | 'optimal' | 'check';
  depends_on?: string[];
  /** Run only against browsers: the CLI skips it. */
  browser_only?: boolean;
}

/** One suite file of tests/index.mjs: a category of the table. */
export interface Suite {
  id: string;
  name: string;
  tests: SuiteTest[];
}

/** What the CLI prints per test id: `true`, or `[error name, message]`. */
export type RawResult = true | [string, string];

/** One of the suite's result types (`resultTypes` in test-engine/lib/results.mjs): `[icon, colour, symbol]`. */
export type ResultType = readonly [string, string, string];

/** The suite's own classifier (test-engine/lib/results.mjs). */
export type DetermineTestResult = (
  suites: Suite[],
  id: string,
  results: Record<string, RawResult>,
  honorDependencies?: boolean,
) => ResultType;

/** A test's outcome: the suite's result type, with a pass split by the test's kind. */
export type Outcome =
  | 'pass'
  | 'fail'
  | 'optional_pass'
  | 'optional_fail'
  | 'yes'
  | 'no'
  | 'setup_fail'
  | 'harness_fail'
  | 'dependency_fail'
  | 'retry'
  | 'untested';

/** The outcomes in table order. */
export const OUTCOMES: readonly Outcome[] = [
  'pass',
  'fail',
  'optional_pass',
  'optional_fail',
  'yes',
  'no',
  'setup_fail',
  'harness_fail',
  'dependency_fail',
  'retry',
  'untested',
];

/** One test's classification. */
export interface Classified {
  id: string;
  suite: string;
  kind: 'required' | 'optimal' | 'check';
  outcome: Outcome;
  /** The failure message when the raw result was not `true`. */
  message: string | undefined;
}

/** Counts of outcomes. */
export type Counts = Record<Outcome, number>;

/** Totals of one suite (or of all: `suite` = 'total'). */
export interface SuiteTotals {
  suite: string;
  name: string;
  counts: Counts;
}

/** Zeroed counts. */
export function emptyCounts(): Counts {
  return Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Counts;
}

/**
 * Classifies every test the CLI runs (browser-only ones are skipped) with the suite's classifier;
 * `resultTypes` maps the classifier's answers back to their names. With `honorDependencies` false each
 * test is taken alone (as the suite's CLI does for one test): no `dependency_fail`.
 */
export function classify(
  suites: Suite[],
  results: Record<string, RawResult>,
  determine: DetermineTestResult,
  resultTypes: Readonly<Record<string, ResultType>>,
  honorDependencies = true,
): Classified[] {
  const names = new Map<ResultType, string>(Object.entries(resultTypes).map(([name, type]) => [type, name]));
  const out: Classified[] = [];
  for (const suite of suites) {
    for (const test of suite.tests) {
      if (test.browser_only === true) continue;
      const type = determine(suites, test.id, results, honorDependencies);
      const name = names.get(type);
      if (name === undefined) throw new Error(`unknown result type ${JSON.stringify(type)} for ${test.id}`);
      const kind = test.kind ?? 'required';
      const outcome = (name === 'pass' && kind === 'optimal' ? 'optional_pass' : name) as Outcome;
      if (!OUTCOMES.includes(outcome)) throw new Error(`unknown outcome ${name} for ${test.id}`);
      const raw = results[test.id];
      out.push({
        id: test.id,
        suite: suite.id,
        kind,
        outcome,
        message: Array.isArray(raw) ? raw[1] : undefined,
      });
    }
  }
  return out;
}

/** Totals per suite, in the suite's order, then the overall total. */
export function tally(suites: readonly Suite[], classified: readonly Classified[]): SuiteTotals[] {
  const rows = suites.map((s) => ({ suite: s.id, name: s.name, counts: emptyCounts() }));
  const total: SuiteTotals = { suite: 'total', name: 'All suites', counts: emptyCounts() };
  const bySuite = new Map(rows.map((r) => [r.suite, r]));
  for (const c of classified) {
    bySuite.get(c.suite)!.counts[c.outcome]++;
    total.counts[c.outcome]++;
  }
  return [...rows, total];
}

/** The table of totals, markdown (ready for the README). */
export function totalsTable(totals: readonly SuiteTotals[]): string {
  const header = [
    'suite',
    'req pass',
    'req FAIL',
    'opt pass',
    'opt fail',
    'check yes',
    'check no',
    'setup fail',
    'harness fail',
    'dep fail',
  ];
  const rows = totals.map(({ suite, counts: c }) => [
    suite === 'total' ? '**total**' : suite,
    String(c.pass),
    String(c.fail),
    String(c.optional_pass),
    String(c.optional_fail),
    String(c.yes),
    String(c.no),
    String(c.setup_fail),
    String(c.harness_fail + c.retry + c.untested),
    String(c.dependency_fail),
  ]);
  return markdownTable(header, rows, ['left', ...header.slice(1).map(() => 'right' as const)]);
}

// ------------------------------------------------------------------------------------------------
// Privacy

/** Suites that are about privacy as a whole: requests with credentials, and choosing the Vary variant. */
const PRIVACY_SUITES = new Set(['auth', 'vary', 'vary-parse']);

/** Test ids that name a privacy matter. */
const PRIVACY_ID = /private|no-store|authorization|set-cookie|vary/i;

/** Required tests about privacy whose ids do not say so. */
export const PRIVACY_ADDED: Readonly<Record<string, string>> = {
  'status-599-must-understand':
    '`no-store, must-understand` on a status the cache does not know: it must not be stored',
};

/** Required tests whose ids match but whose failure cannot leak anything. */
export const PRIVACY_EXCLUDED: Readonly<Record<string, string>> = {
  'headers-store-Set-Cookie': 'requires storing the header: failing it keeps more out, never lets more in',
  'headers-store-Set-Cookie2': 'requires storing the header: failing it keeps more out, never lets more in',
  'freshness-max-age-s-maxage-private': '"private" is the kind of cache (a browser), and it is browser-only',
  'freshness-max-age-s-maxage-private-multiple':
    '"private" is the kind of cache (a browser), and it is browser-only',
};

/**
 * The privacy tests: required tests (optional and check ones never fail; an optional one about privacy
 * asks the cache to store *more*) in a privacy suite or whose id names private, no-store,
 * authorization, set-cookie or vary, plus {@link PRIVACY_ADDED}, minus {@link PRIVACY_EXCLUDED}. Throws
 * when an id of those two lists is not in the suite, so a new version of it is read again by hand.
 */
export function privacyTests(suites: readonly Suite[]): SuiteTest[] {
  const all = new Map(suites.flatMap((s) => s.tests.map((t) => [t.id, { suite: s.id, test: t }] as const)));
  for (const id of [...Object.keys(PRIVACY_ADDED), ...Object.keys(PRIVACY_EXCLUDED)]) {
    if (!all.has(id))
      throw new Error(`privacy list names ${id}, which the suite no longer has: review the list`);
  }
  const out: SuiteTest[] = [];
  for (const [id, { suite, test }] of all) {
    if ((test.kind ?? 'required') !== 'required' || id in PRIVACY_EXCLUDED) continue;
    if (PRIVACY_SUITES.has(suite) || PRIVACY_ID.test(id) || id in PRIVACY_ADDED) out.push(test);
  }
  return out;
}

/** The harness's message when a response it expected from the origin came from the cache. */
const REUSED = /comes from cache/;

/**
 * The privacy tests that failed: classified `fail`, or skipped for a failed dependency while the test
 * itself saw a stored response reused where it must not be (the leak happened whatever the dependency).
 */
export function privacyFailures(
  privacy: readonly SuiteTest[],
  classified: readonly Classified[],
): Classified[] {
  const ids = new Set(privacy.map((t) => t.id));
  return classified.filter(
    (c) =>
      ids.has(c.id) &&
      (c.outcome === 'fail' || (c.outcome === 'dependency_fail' && REUSED.test(c.message ?? ''))),
  );
}
