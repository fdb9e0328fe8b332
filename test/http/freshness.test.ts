import { describe, expect, it } from 'vitest';
import {
  MAX_DELTA_SECONDS,
  governingDirectives,
  parseAge,
  parseCacheControl,
  parseDeltaSeconds,
  parseHttpDate,
  readFreshness,
  type FreshnessPolicy,
} from '../../src/http/freshness.js';

const honour: FreshnessPolicy = { heuristic: 300_000, ignoreOrigin: false, targeted: ['cdn-cache-control'] };
const T0 = Date.UTC(2026, 11, 4, 12, 0, 0);
const date = (ms: number) => new Date(ms).toUTCString();
/** Freshness of a response that arrived at T0 (the handler took no time). */
const read = (headers: Record<string, string | string[]>, policy: FreshnessPolicy = honour) =>
  readFreshness(headers, policy, T0, T0);

describe('Cache-Control parsing', () => {
  it('lower-cases names, keeps arguments, and the first occurrence wins', () => {
    const cc = parseCacheControl('Max-Age=60, public, max-age=1, S-MAXAGE="30"');
    expect(cc.get('max-age')).toBe('60');
    expect(cc.get('public')).toBe(true);
    expect(cc.get('s-maxage')).toBe('30');
    // Separate lines are one list.
    expect(parseCacheControl(['max-age=5', 'max-age=9']).get('max-age')).toBe('5');
  });

  it('does not split inside quoted strings, nor read a directive from one', () => {
    const cc = parseCacheControl('extension="max-age=3600, public", max-age=1');
    expect(cc.get('max-age')).toBe('1');
    expect(cc.has('public')).toBe(false);
    expect(parseCacheControl('private="set-cookie, x", no-store').has('no-store')).toBe(true);
    expect(parseCacheControl('a="\\"q\\"", b').get('a')).toBe('"q"');
  });

  it('reads only digits as delta-seconds, capping overflow at 2^31', () => {
    expect(parseDeltaSeconds('003600')).toBe(3600);
    for (const bad of ["'3600'", '3600.0', '3600a', 'a3600', '-1', '', ' 5'])
      expect(parseDeltaSeconds(bad)).toBeUndefined();
    expect(parseDeltaSeconds(true)).toBeUndefined();
    expect(parseDeltaSeconds('99999999999999999999')).toBe(MAX_DELTA_SECONDS);
  });

  it('bounds what it reads of a huge header', () => {
    const huge = 'x,'.repeat(100_000) + 'max-age=5';
    expect(parseCacheControl(huge).has('max-age')).toBe(false);
  });
});

describe('Age and dates', () => {
  it('reads the first Age value and ignores one that is not delta-seconds', () => {
    expect(parseAge('7200, 0')).toBe(7200);
    expect(parseAge('0, 7200')).toBe(0);
    expect(parseAge(['7200', '0'])).toBe(7200);
    for (const bad of ['abc', '-7200', '7200.0']) expect(parseAge(bad)).toBeUndefined();
    expect(parseAge('2147483649')).toBe(MAX_DELTA_SECONDS);
  });

  it('parses the three HTTP-date forms and nothing else', () => {
    const ms = Date.UTC(1994, 10, 6, 8, 49, 37);
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT')).toBe(ms);
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT')).toBe(ms);
    expect(parseHttpDate('Sun Nov  6 08:49:37 1994')).toBe(ms);
    for (const bad of [
      '0',
      '-1',
      'Sun, 06 Nov 1994 08:49:37 UTC',
      'Sun, 06 Nov 1994 08:49:37 +0000',
      'tomorrow',
    ])
      expect(parseHttpDate(bad)).toBeUndefined();
    expect(parseHttpDate('Sun, 06 Foo 1994 08:49:37 GMT')).toBeUndefined();
  });
});

describe('freshness lifetime (RFC 9111 §4.2.1)', () => {
  it('s-maxage wins over max-age, which wins over Expires', () => {
    expect(read({ 'cache-control': 'max-age=10, s-maxage=20' })).toMatchObject({
      lifetime: 20_000,
      explicit: true,
      mustRevalidate: true,
    });
    expect(read({ 'cache-control': 'max-age=10', expires: date(T0 + 60_000), date: date(T0) })).toMatchObject(
      { lifetime: 10_000, mustRevalidate: false },
    );
    expect(read({ expires: date(T0 + 60_000), date: date(T0) })).toMatchObject({ lifetime: 60_000 });
  });

  it('measures Expires against Date, and an invalid or past Expires is stale', () => {
    // The origin's clock is 30 s behind: Expires is 60 s after its Date, so 60 s of freshness.
    expect(read({ expires: date(T0 + 30_000), date: date(T0 - 30_000) })!.lifetime).toBe(60_000);
    expect(read({ expires: '0' })!.lifetime).toBe(0);
    expect(read({ expires: date(T0 - 1000), date: date(T0) })!.lifetime).toBe(0);
  });

  it('a malformed max-age makes it stale instead of heuristically fresh', () => {
    expect(read({ 'cache-control': "max-age='3600'" })).toMatchObject({ lifetime: 0, explicit: true });
    expect(read({ 'cache-control': 'max-age=3600a' })!.lifetime).toBe(0);
  });

  it('no-cache has no freshness and must be revalidated; must-revalidate and proxy-revalidate are kept', () => {
    expect(read({ 'cache-control': 'no-cache, max-age=60' })).toMatchObject({
      lifetime: 0,
      mustRevalidate: true,
    });
    expect(read({ 'cache-control': 'max-age=60, must-revalidate' })!.mustRevalidate).toBe(true);
    expect(read({ 'cache-control': 'max-age=60, proxy-revalidate' })!.mustRevalidate).toBe(true);
  });

  it('uses the heuristic only for a response that states none, and none when the policy gives none', () => {
    expect(read({})).toMatchObject({ lifetime: 300_000, explicit: false });
    expect(read({}, { ...honour, heuristic: undefined })).toBeUndefined();
    expect(read({ 'cache-control': 'public' })).toMatchObject({ lifetime: 300_000, public: true });
  });

  it('the Last-Modified heuristic gives a tenth of the time since it, at most the rule TTL, and nothing without one', () => {
    const lm = { ...honour, fromLastModified: true };
    // Modified 1000 s before Date: 100 s.
    expect(read({ date: date(T0), 'last-modified': date(T0 - 1_000_000) }, lm)).toMatchObject({
      lifetime: 100_000,
      explicit: false,
    });
    // A day ago: a tenth is 2.4 h, capped at the 5 min heuristic.
    expect(read({ date: date(T0), 'last-modified': date(T0 - 86_400_000) }, lm)!.lifetime).toBe(300_000);
    expect(read({}, lm)).toBeUndefined();
    expect(read({ date: date(T0), 'last-modified': 'garbage' }, lm)).toBeUndefined();
    // Modified "after" its Date: no basis for a heuristic.
    expect(read({ date: date(T0), 'last-modified': date(T0 + 1000) }, lm)).toBeUndefined();
    // Explicit freshness is untouched by the heuristic mode.
    expect(read({ 'cache-control': 'max-age=7' }, lm)!.lifetime).toBe(7000);
  });

  it('ignoring the origin uses the heuristic for everything, with no inherited age', () => {
    const ignore = { ...honour, ignoreOrigin: true };
    expect(read({ 'cache-control': 'max-age=0', age: '100' }, ignore)).toMatchObject({
      lifetime: 300_000,
      initialAge: 0,
    });
  });

  it('reads stale-while-revalidate and stale-if-error windows', () => {
    expect(
      read({ 'cache-control': 'max-age=1, stale-while-revalidate=30, stale-if-error=600' }),
    ).toMatchObject({
      staleWhileRevalidate: 30_000,
      staleIfError: 600_000,
    });
  });
});

describe('age on arrival (RFC 9111 §4.2.3)', () => {
  it('takes the larger of the apparent age and Age plus the response delay', () => {
    // Date says 20 s ago, Age says 5: 20 s.
    expect(read({ 'cache-control': 'max-age=60', date: date(T0 - 20_000), age: '5' })!.initialAge).toBe(
      20_000,
    );
    // Age says 90 s: 90 s, whatever Date says.
    expect(read({ 'cache-control': 'max-age=60', date: date(T0), age: '90' })!.initialAge).toBe(90_000);
    // The handler took 2 s: that delay counts on top of Age.
    expect(
      readFreshness(
        { 'cache-control': 'max-age=60', date: date(T0 + 2000), age: '1' },
        honour,
        T0,
        T0 + 2000,
      )!.initialAge,
    ).toBe(3000);
    // A Date in the future is no negative age.
    expect(read({ 'cache-control': 'max-age=60', date: date(T0 + 50_000) })!.initialAge).toBe(0);
  });
});

describe('targeted fields (RFC 9213)', () => {
  it('a targeted field replaces Cache-Control, in the configured order of precedence', () => {
    const headers = {
      'cache-control': 'max-age=10',
      'cdn-cache-control': 'max-age=100',
      'larder-cache-control': 'max-age=1000',
    };
    expect(read(headers)!.lifetime).toBe(100_000);
    expect(
      read(headers, { ...honour, targeted: ['larder-cache-control', 'cdn-cache-control'] })!.lifetime,
    ).toBe(1_000_000);
    expect(read(headers, { ...honour, targeted: [] })!.lifetime).toBe(10_000);
    // A targeted field that says nothing parsable is ignored.
    expect(
      governingDirectives({ 'cache-control': 'max-age=10', 'cdn-cache-control': '' }, [
        'cdn-cache-control',
      ]).get('max-age'),
    ).toBe('10');
  });
});

describe('targeted fields as Structured Fields (RFC 8941)', () => {
  it('reads a valid dictionary and ignores the whole field when it is not one', async () => {
    const { parseTargetedField } = await import('../../src/http/freshness.js');
    expect([...parseTargetedField('max-age=60, stale-if-error=10')!]).toEqual([
      ['max-age', '60'],
      ['stale-if-error', '10'],
    ]);
    expect([...parseTargetedField('no-store, x=(a b);p=1, y=?0')!.keys()]).toEqual(['no-store', 'x', 'y']);
    for (const bad of [
      'max-age=10000, &&&&&',
      'max-age="10000"',
      'max-age =3600',
      'max-age= 3600',
      'max-age=1.5',
      'max-age=-1',
      'max-age=5,',
      'Max-Age=5',
    ])
      expect(parseTargetedField(bad)).toBeUndefined();
    // An invalid targeted field falls back to Cache-Control.
    expect(
      governingDirectives({ 'cdn-cache-control': 'max-age="10000"', 'cache-control': 'no-store' }, [
        'cdn-cache-control',
      ]).has('no-store'),
    ).toBe(true);
  });
});
