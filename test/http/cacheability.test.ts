import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import {
  cacheControlDirectives,
  DEFAULT_CREDENTIAL_HEADERS,
  hasCredentials,
  readCredentialHeaders,
  requestBypass,
  responseUnstorable,
  responseVary,
  storableHeaders,
  wantsRevalidation,
} from '../../src/http/cacheability.js';
import type { Freshness } from '../../src/http/freshness.js';
import { compileCacheRules, type CacheRule } from '../../src/http/rules.js';

/** What a response that states no freshness gets from a rule's heuristic. */
const heuristic: Freshness = {
  lifetime: 10_000,
  initialAge: 0,
  explicit: false,
  mustRevalidate: false,
  staleWhileRevalidate: 0,
  staleIfError: 0,
  public: false,
};
const explicit: Freshness = { ...heuristic, explicit: true };

const req = (headers: Record<string, string> = {}) => ({ headers }) as unknown as IncomingMessage;
const rule = (r: Partial<CacheRule> = {}) => compileCacheRules([{ path: '/x', ...r }])[0]!;
const bypass = (
  request: IncomingMessage,
  compiled: ReturnType<typeof rule>,
  user: string | undefined,
  credentialHeaders = DEFAULT_CREDENTIAL_HEADERS,
) => requestBypass(request, compiled, user, credentialHeaders);

describe('request side', () => {
  it('a shared rule bypasses requests with a user, Authorization or cookies', () => {
    expect(bypass(req(), rule(), undefined)).toBeUndefined();
    expect(bypass(req(), rule(), 'alice')).toBe('credentials');
    expect(bypass(req({ authorization: 'Bearer t' }), rule(), undefined)).toBe('credentials');
    expect(bypass(req({ cookie: 'sid=1' }), rule(), undefined)).toBe('credentials');
  });

  it('shared: true serves everyone; perUser needs a user when credentials are present', () => {
    expect(bypass(req({ cookie: 'sid=1' }), rule({ shared: true }), 'alice')).toBeUndefined();
    expect(bypass(req({ cookie: 'sid=1' }), rule({ perUser: true }), 'alice')).toBeUndefined();
    expect(bypass(req({ cookie: 'sid=1' }), rule({ perUser: true }), undefined)).toBe('credentials');
    expect(bypass(req(), rule({ perUser: true }), undefined)).toBeUndefined();
  });

  it('credentialHeaders decides what counts as a credential', () => {
    const apiKey = readCredentialHeaders(['Authorization', 'Cookie', 'X-API-Key']);
    expect(apiKey).toEqual(['authorization', 'cookie', 'x-api-key']);
    expect(bypass(req({ 'x-api-key': 'acme_api_1' }), rule(), undefined, apiKey)).toBe('credentials');
    expect(bypass(req({ 'x-api-key': 'acme_api_1' }), rule({ perUser: true }), undefined, apiKey)).toBe(
      'credentials',
    );
    expect(
      bypass(req({ 'x-api-key': 'acme_api_1' }), rule({ shared: true }), undefined, apiKey),
    ).toBeUndefined();
    // Not in the default list.
    expect(hasCredentials(req({ 'x-api-key': 'acme_api_1' }), DEFAULT_CREDENTIAL_HEADERS)).toBe(false);
    expect(readCredentialHeaders(undefined)).toBe(DEFAULT_CREDENTIAL_HEADERS);
    expect(() => readCredentialHeaders('x-api-key')).toThrow(/credentialHeaders must be an array/);
    expect(() => readCredentialHeaders([''])).toThrow(/credentialHeaders must be an array/);
  });

  it('no-store bypasses, no-cache, max-age=0 and Pragma revalidate', () => {
    expect(bypass(req({ 'cache-control': 'no-store' }), rule({ shared: true }), undefined)).toBe('no-store');
    expect(wantsRevalidation(req({ 'cache-control': 'max-age=0, no-cache' }))).toBe(true);
    expect(wantsRevalidation(req({ pragma: 'no-cache' }))).toBe(true);
    expect(wantsRevalidation(req({ 'cache-control': 'max-age=0' }))).toBe(true);
    expect(wantsRevalidation(req({ 'cache-control': 'Max-Age=00' }))).toBe(true);
    expect(wantsRevalidation(req({ 'cache-control': 'max-age=10' }))).toBe(false);
    expect(wantsRevalidation(req({ 'cache-control': 'max-stale=0' }))).toBe(false);
  });
});

describe('response side', () => {
  it('parses Cache-Control directives without arguments', () => {
    expect([...cacheControlDirectives('Private="set-cookie", max-age=60')]).toEqual(['private', 'max-age']);
  });

  it.each([
    [500, {}, 'status 500'],
    [206, {}, 'status 206'],
    [200, { 'set-cookie': ['a=1'] }, 'set-cookie'],
    [200, { 'cache-control': 'private' }, 'cache-control private'],
    [200, { 'cache-control': 'no-store' }, 'cache-control no-store'],
    [200, { 'cache-control': 'max-age=60', 'cdn-cache-control': 'private' }, 'cache-control private'],
    [200, { 'cdn-cache-control': 'max-age=60, no-store' }, 'cache-control no-store'],
    [200, { vary: '*' }, 'vary *'],
  ])('refuses status %i with %j', (status, headers, reason) => {
    expect(responseUnstorable(status, headers, rule(), heuristic)).toBe(reason);
  });

  it('refuses a response without freshness, and a status the rule does not list unless the response is explicit', () => {
    expect(responseUnstorable(200, {}, rule(), undefined)).toBe('no freshness');
    expect(responseUnstorable(404, {}, rule(), heuristic)).toBe('status 404');
    expect(responseUnstorable(404, {}, rule(), explicit)).toBeUndefined();
    expect(responseUnstorable(302, {}, rule(), { ...heuristic, public: true })).toBeUndefined();
    // Never partial content or a server error, whatever the response says.
    expect(responseUnstorable(206, {}, rule(), explicit)).toBe('status 206');
    expect(responseUnstorable(503, {}, rule(), explicit)).toBe('status 503');
    // A rule that ignores the origin's headers keeps to its own statuses.
    expect(responseUnstorable(404, {}, rule({ originFreshness: 'ignore' }), explicit)).toBe('status 404');
    // no-cache is stored (to be revalidated before each reuse).
    expect(responseUnstorable(200, { 'cache-control': 'no-cache' }, rule(), explicit)).toBeUndefined();
  });

  it('stores the default statuses, private answers of a per-user rule that says so, covered Vary', () => {
    const h = heuristic;
    for (const s of [200, 203, 204, 301, 308]) expect(responseUnstorable(s, {}, rule(), h)).toBeUndefined();
    for (const s of [206, 302, 404, 410]) expect(responseUnstorable(s, {}, rule(), h)).toBe(`status ${s}`);
    const optIn = rule({ statusTtl: { 404: '10s' } });
    expect(responseUnstorable(404, {}, optIn, h)).toBeUndefined();
    expect(responseUnstorable(410, {}, optIn, h)).toBe('status 410');
    const own = rule({ perUser: true, storePrivate: true });
    expect(responseUnstorable(200, { 'cache-control': 'private, max-age=5' }, own, h)).toBeUndefined();
    expect(responseUnstorable(200, { 'cache-control': 'private' }, rule({ perUser: true }), h)).toBe(
      'cache-control private',
    );
    expect(responseUnstorable(200, { 'set-cookie': 'a=1' }, own, h)).toBe('set-cookie');
    expect(
      responseUnstorable(200, { vary: 'accept-language' }, rule({ varyHeaders: ['Accept-Language'] }), h),
    ).toBeUndefined();
  });

  it('reads no-store from the governing field, private from every field', () => {
    const h = heuristic;
    // The origin lets this cache store what browsers must not.
    expect(
      responseUnstorable(200, { 'cache-control': 'no-store', 'cdn-cache-control': 'max-age=60' }, rule(), h),
    ).toBeUndefined();
    expect(
      responseUnstorable(200, { 'cache-control': 'max-age=60', 'cdn-cache-control': 'no-store' }, rule(), h),
    ).toBe('cache-control no-store');
    expect(
      responseUnstorable(200, { 'cache-control': 'private', 'cdn-cache-control': 'max-age=60' }, rule(), h),
    ).toBe('cache-control private');
  });

  it('stores a Vary on headers the key lacks, recording which ones (those the key holds need no record)', () => {
    expect(responseUnstorable(200, { vary: 'Accept-Encoding' }, rule(), heuristic)).toBeUndefined();
    expect(responseVary({ vary: 'Foo, accept-encoding' }, rule())).toEqual(['accept-encoding', 'foo']);
    expect(
      responseVary({ vary: 'Accept-Language, Foo' }, rule({ varyHeaders: ['Accept-Language'] })),
    ).toEqual(['foo']);
    expect(responseVary({}, rule())).toEqual([]);
  });

  it('drops hop-by-hop headers, cookies and its own headers', () => {
    const kept = storableHeaders({
      'content-type': 'text/plain',
      connection: 'keep-alive',
      'transfer-encoding': 'chunked',
      'proxy-authenticate': 'x',
      'content-length': 5,
      'x-cache': 'MISS',
      'x-multi': ['a', 'b'],
    });
    expect(kept).toEqual(['content-type', 'text/plain', 'x-multi', ['a', 'b']]);
  });

  it('drops the headers that Connection names, as hop-by-hop ones', () => {
    const kept = storableHeaders({
      connection: 'close, X-Upstream-Hop',
      'x-upstream-hop': 'node-7',
      'x-other': ['1'],
      'content-type': 'text/plain',
    });
    expect(kept).toEqual(['x-other', ['1'], 'content-type', 'text/plain']);
    expect(storableHeaders({ connection: ['keep-alive', 'x-a'], 'x-a': '1', 'x-b': '2' })).toEqual([
      'x-b',
      '2',
    ]);
  });
});
