import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import {
  cacheControlDirectives,
  requestBypass,
  responseUnstorable,
  storableHeaders,
  wantsRevalidation,
} from '../../src/http/cacheability.js';
import { compileCacheRules, type CacheRule } from '../../src/http/rules.js';

const req = (headers: Record<string, string> = {}) => ({ headers }) as unknown as IncomingMessage;
const rule = (r: Partial<CacheRule> = {}) => compileCacheRules([{ path: '/x', ...r }])[0]!;

describe('request side', () => {
  it('a shared rule bypasses requests with a user, Authorization or cookies', () => {
    expect(requestBypass(req(), rule(), undefined)).toBeUndefined();
    expect(requestBypass(req(), rule(), 'alice')).toBe('credentials');
    expect(requestBypass(req({ authorization: 'Bearer t' }), rule(), undefined)).toBe('credentials');
    expect(requestBypass(req({ cookie: 'sid=1' }), rule(), undefined)).toBe('credentials');
  });

  it('shared: true serves everyone; perUser needs a user when credentials are present', () => {
    expect(requestBypass(req({ cookie: 'sid=1' }), rule({ shared: true }), 'alice')).toBeUndefined();
    expect(requestBypass(req({ cookie: 'sid=1' }), rule({ perUser: true }), 'alice')).toBeUndefined();
    expect(requestBypass(req({ cookie: 'sid=1' }), rule({ perUser: true }), undefined)).toBe('credentials');
    expect(requestBypass(req(), rule({ perUser: true }), undefined)).toBeUndefined();
  });

  it('no-store bypasses, no-cache and Pragma revalidate', () => {
    expect(requestBypass(req({ 'cache-control': 'no-store' }), rule({ shared: true }), undefined)).toBe(
      'no-store',
    );
    expect(wantsRevalidation(req({ 'cache-control': 'max-age=0, no-cache' }))).toBe(true);
    expect(wantsRevalidation(req({ pragma: 'no-cache' }))).toBe(true);
    expect(wantsRevalidation(req({ 'cache-control': 'max-age=0' }))).toBe(false);
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
    [200, { 'cache-control': 'no-cache' }, 'cache-control no-cache'],
    [200, { vary: '*' }, 'vary *'],
    [200, { vary: 'Accept-Encoding' }, 'vary accept-encoding not in varyHeaders'],
  ])('refuses status %i with %j', (status, headers, reason) => {
    expect(responseUnstorable(status, headers, rule())).toBe(reason);
  });

  it('stores the default statuses, private answers of a per-user rule that says so, covered Vary', () => {
    for (const s of [200, 203, 204, 301, 404, 410]) expect(responseUnstorable(s, {}, rule())).toBeUndefined();
    const own = rule({ perUser: true, storePrivate: true });
    expect(responseUnstorable(200, { 'cache-control': 'private, max-age=5' }, own)).toBeUndefined();
    expect(responseUnstorable(200, { 'cache-control': 'private' }, rule({ perUser: true }))).toBe(
      'cache-control private',
    );
    expect(responseUnstorable(200, { 'set-cookie': 'a=1' }, own)).toBe('set-cookie');
    expect(
      responseUnstorable(200, { vary: 'accept-language' }, rule({ varyHeaders: ['Accept-Language'] })),
    ).toBeUndefined();
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
});
