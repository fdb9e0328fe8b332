import { describe, expect, it } from 'vitest';
import {
  classify,
  PRIVACY_ADDED,
  PRIVACY_EXCLUDED,
  privacyFailures,
  privacyTests,
  tally,
  totalsTable,
  type Classified,
  type DetermineTestResult,
  type RawResult,
  type ResultType,
  type Suite,
  type SuiteTest,
} from './classify.js';

// The suite's result types are compared by identity, as its display code does.
const types: Record<string, ResultType> = {
  untested: ['-', '', '-'],
  pass: ['p', '', 'p'],
  fail: ['f', '', 'f'],
  optional_fail: ['o', '', 'o'],
  yes: ['y', '', 'y'],
  no: ['n', '', 'n'],
  setup_fail: ['s', '', 's'],
  harness_fail: ['h', '', 'h'],
  dependency_fail: ['d', '', 'd'],
  retry: ['r', '', 'r'],
};

/** A classifier in the suite's manner: dependencies first (when honoured), then the result by kind. */
const determine: DetermineTestResult = (suites, id, results, honor = true) => {
  const test = suites.flatMap((s) => s.tests).find((t) => t.id === id)!;
  const result = results[id];
  if (result === undefined) return types.untested!;
  if (honor && test.depends_on?.some((d) => ![types.pass, types.yes].includes(determine(suites, d, results))))
    return types.dependency_fail!;
  if (result !== true && result[0] === 'Setup') return types.setup_fail!;
  if (test.kind === 'optimal') return result === true ? types.pass! : types.optional_fail!;
  if (test.kind === 'check') return result === true ? types.yes! : types.no!;
  return result === true ? types.pass! : types.fail!;
};

const test = (id: string, more: Partial<SuiteTest> = {}): SuiteTest => ({ id, name: id, ...more });

describe('classify and tally', () => {
  const suites: Suite[] = [
    {
      id: 'fresh',
      name: 'Freshness',
      tests: [
        test('base', { kind: 'check' }),
        test('reuse', { kind: 'optimal', depends_on: ['base'] }),
        test('stale', { depends_on: ['reuse'] }),
        test('browser', { browser_only: true }),
      ],
    },
    { id: 'other', name: 'Other', tests: [test('age'), test('setup')] },
  ];
  const results: Record<string, RawResult> = {
    base: ['Assertion', 'Response 2 comes from cache'],
    reuse: true,
    stale: ['Assertion', 'Response 2 comes from cache'],
    age: ['Assertion', 'no Age'],
    setup: ['Setup', 'Response 1 status is 500'],
  };

  it('classifies by the suite classifier, skips browser-only tests, and splits a pass by kind', () => {
    const out = classify(suites, results, determine, types);
    expect(out.map((c) => [c.id, c.outcome])).toEqual([
      ['base', 'no'],
      ['reuse', 'dependency_fail'],
      ['stale', 'dependency_fail'],
      ['age', 'fail'],
      ['setup', 'setup_fail'],
    ]);
    expect(out.find((c) => c.id === 'age')?.message).toBe('no Age');
  });

  it('takes each test alone when dependencies are not honoured', () => {
    const out = classify(suites, results, determine, types, false);
    expect(out.map((c) => c.outcome)).toEqual(['no', 'optional_pass', 'fail', 'fail', 'setup_fail']);
  });

  it('throws on a result type it does not know, instead of miscounting', () => {
    const odd: DetermineTestResult = () => ['?', '', '?'];
    expect(() => classify(suites, results, odd, types)).toThrow(/unknown result type/);
  });

  it('totals per suite and overall, and renders them as a table', () => {
    const totals = tally(suites, classify(suites, results, determine, types, false));
    expect(totals.map((t) => t.suite)).toEqual(['fresh', 'other', 'total']);
    expect(totals[0]!.counts).toMatchObject({ no: 1, optional_pass: 1, fail: 1, pass: 0 });
    expect(totals[2]!.counts).toMatchObject({ fail: 2, setup_fail: 1, optional_pass: 1, no: 1 });
    const table = totalsTable(totals).split('\n');
    expect(table[0]).toMatch(/^\| suite +\| req pass \| req FAIL \|/);
    expect(table.at(-1)).toMatch(/^\| \*\*total\*\* +\| +0 \| +2 \| +1 \|/);
  });
});

describe('privacy tests', () => {
  // Every id the two lists name must be present, as in the real suite.
  const listed = [...Object.keys(PRIVACY_ADDED), ...Object.keys(PRIVACY_EXCLUDED)].map((id) => test(id));
  const suites: Suite[] = [
    {
      id: 'cc-response',
      name: 'CC',
      tests: [
        test('cc-resp-private-shared'),
        test('cc-resp-no-store-fresh'),
        test('cc-resp-private-private', { kind: 'optimal' }),
        test('cc-resp-no-cache'),
      ],
    },
    {
      id: 'auth',
      name: 'Auth',
      tests: [test('other-authorization'), test('other-authorization-public', { kind: 'optimal' })],
    },
    { id: 'vary', name: 'Vary', tests: [test('vary-no-match'), test('vary-match', { kind: 'optimal' })] },
    { id: 'rest', name: 'Rest', tests: [...listed, test('ccreq-no-store', { kind: 'check' })] },
  ];

  it('are the required tests of the privacy suites or whose ids name a privacy matter, with the two lists applied', () => {
    const ids = privacyTests(suites).map((t) => t.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        'cc-resp-private-shared',
        'cc-resp-no-store-fresh',
        'other-authorization',
        'vary-no-match',
        ...Object.keys(PRIVACY_ADDED),
      ]),
    );
    for (const left of [
      'cc-resp-no-cache',
      'cc-resp-private-private',
      'other-authorization-public',
      'vary-match',
    ])
      expect(ids).not.toContain(left);
    expect(ids).not.toContain('ccreq-no-store');
    for (const excluded of Object.keys(PRIVACY_EXCLUDED)) expect(ids).not.toContain(excluded);
  });

  it('refuse a suite that no longer has an id the lists name', () => {
    const without = suites.map((s) => ({ ...s, tests: s.tests.filter((t) => !(t.id in PRIVACY_ADDED)) }));
    expect(() => privacyTests(without)).toThrow(/no longer has/);
  });

  it('fail on a classified failure, or on a reuse seen by a test whose dependency failed', () => {
    const privacy = [test('a'), test('b'), test('c'), test('d')];
    const c = (id: string, outcome: Classified['outcome'], message?: string): Classified => ({
      id,
      suite: 's',
      kind: 'required',
      outcome,
      message,
    });
    const failed = privacyFailures(privacy, [
      c('a', 'fail', 'Response 2 comes from cache'),
      c('b', 'dependency_fail', 'Response 2 comes from cache'),
      c('c', 'dependency_fail', 'Response 2 does not come from cache'),
      c('d', 'pass'),
      c('e', 'fail', 'Response 2 comes from cache'),
    ]);
    expect(failed.map((f) => f.id)).toEqual(['a', 'b']);
  });
});
