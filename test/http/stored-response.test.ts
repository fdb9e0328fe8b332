import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { Freshness } from '../../src/http/freshness.js';
import {
  asStoredResponse,
  currentAge,
  freshenStored,
  hasValidator,
  isStale,
  sendStored,
  staleness,
  toStoredResponse,
  type CacheStatus,
} from '../../src/http/stored-response.js';

function fakeRes() {
  const out: { status?: number; headers?: string[]; body?: unknown; ended: boolean } = { ended: false };
  const res = {
    writeHead(status: number, headers: string[]) {
      out.status = status;
      out.headers = headers;
      return res;
    },
    end(body?: unknown) {
      out.body = body;
      out.ended = true;
    },
  };
  return { res: res as unknown as ServerResponse, out };
}
const header = (list: string[] | undefined, name: string) =>
  list === undefined || !list.includes(name) ? undefined : list[list.indexOf(name) + 1];

const fresh = (lifetime: number, more: Partial<Freshness> = {}): Freshness => ({
  lifetime,
  initialAge: 0,
  explicit: true,
  mustRevalidate: false,
  staleWhileRevalidate: 0,
  staleIfError: 0,
  public: false,
  ...more,
});

const captured = {
  status: 200,
  headers: { 'content-type': 'text/plain', 'set-cookie': 'x=1' },
  body: Buffer.from('hi'),
};
const request = (headers: Record<string, string> = {}, method = 'GET') =>
  ({ method, headers }) as unknown as IncomingMessage;
const send = (
  req: IncomingMessage,
  s: ReturnType<typeof toStoredResponse>,
  now: number,
  status: CacheStatus = 'HIT',
  clientCacheControl?: string,
) => {
  const out = fakeRes();
  sendStored(req, out.res, s, { status, now, clientCacheControl });
  return out.out;
};

describe('stored responses', () => {
  it('computes an ETag and Content-Length, drops cookies, keeps a handler ETag, adds a Date when missing', () => {
    const s = toStoredResponse(captured, 1_000_000, fresh(5000));
    expect(s.etag).toMatch(/^"/);
    expect(s.handlerEtag).toBe(false);
    expect(s.headers).toEqual([
      'content-type',
      'text/plain',
      'date',
      new Date(1_000_000).toUTCString(),
      'etag',
      s.etag,
      'content-length',
      '2',
    ]);
    const own = toStoredResponse({ ...captured, headers: { etag: 'W/"v1"' } }, 0, fresh(0));
    expect(own.etag).toBe('W/"v1"');
    expect(own.handlerEtag).toBe(true);
    expect(hasValidator(own)).toBe(true);
    expect(hasValidator(s)).toBe(false);
    expect(own.headers.filter((h) => h === 'etag')).toHaveLength(1);
    expect(
      toStoredResponse({ status: 204, headers: {}, body: Buffer.alloc(0) }, 0, fresh(0)).headers,
    ).not.toContain('content-length');
    // The handler's own Date is kept as it is.
    const dated = toStoredResponse(
      { ...captured, headers: { date: 'Thu, 01 Jan 2026 00:00:00 GMT' } },
      0,
      fresh(0),
    );
    expect(header(dated.headers as string[], 'date')).toBe('Thu, 01 Jan 2026 00:00:00 GMT');
  });

  it('ages from the age it arrived with, and is stale from its lifetime on', () => {
    const s = toStoredResponse(captured, 1000, fresh(5000, { initialAge: 2000 }));
    expect(currentAge(s, 1000)).toBe(2000);
    expect(currentAge(s, 3999)).toBe(4999);
    expect(isStale(s, 3999)).toBe(false);
    expect(isStale(s, 4000)).toBe(true);
    expect(staleness(s, 3000)).toBe(0);
    expect(staleness(s, 7000)).toBe(3000);
    // A lifetime of 0 is stale at once.
    expect(isStale(toStoredResponse(captured, 0, fresh(0)), 0)).toBe(true);
  });

  it('keeps binary bodies byte for byte and survives a JSON round trip (a remote tier)', () => {
    const bytes = Buffer.from([0, 0xff, 0x80, 0xc3, 0x28, 0x0a]);
    const s = toStoredResponse({ status: 200, headers: {}, body: bytes }, 0, fresh(0));
    expect(Buffer.from(s.body, 'latin1').equals(bytes)).toBe(true);
    const back = asStoredResponse(JSON.parse(JSON.stringify(s)))!;
    expect(Buffer.from(back.body, 'latin1').equals(bytes)).toBe(true);
  });

  it('refuses values that are not stored responses, or an older layout', () => {
    const s = toStoredResponse(captured, 0, fresh(0));
    expect(asStoredResponse({ ...s, body: Buffer.from('hi') })).toBeUndefined();
    expect(asStoredResponse({ ...s, kind: 'larder:http' })).toBeUndefined();
    expect(asStoredResponse({ ...s, lifetime: '5' })).toBeUndefined();
    expect(asStoredResponse({ ...s, mustRevalidate: 1 })).toBeUndefined();
    expect(asStoredResponse({ status: 200 })).toBeUndefined();
    expect(asStoredResponse('x')).toBeUndefined();
  });

  it('replays with X-Cache and the current Age, 304 for a matching If-None-Match, HEAD without body', () => {
    const s = toStoredResponse(captured, 1000, fresh(60_000, { initialAge: 10_000 }));
    const hit = send(request(), s, 4500);
    expect(hit.status).toBe(200);
    expect(header(hit.headers, 'x-cache')).toBe('HIT');
    // 10 s it arrived with + 3.5 s held.
    expect(header(hit.headers, 'age')).toBe('13');
    expect(String(hit.body)).toBe('hi');

    const cond = send(request({ 'if-none-match': s.etag }), s, 1000);
    expect(cond.status).toBe(304);
    expect(cond.body).toBeUndefined();
    expect(header(cond.headers, 'etag')).toBe(s.etag);
    expect(header(cond.headers, 'date')).toBeDefined();
    expect(cond.headers).not.toContain('content-type');

    const head = send(request({}, 'HEAD'), s, 1000, 'STALE');
    expect(head.body).toBeUndefined();
    expect(header(head.headers, 'content-length')).toBe('2');
  });

  it('tells clients the rule’s Cache-Control instead of the stored one, on 200 and 304', () => {
    const s = toStoredResponse(
      { status: 200, headers: { 'cache-control': 's-maxage=600' }, body: Buffer.from('x') },
      0,
      fresh(600_000),
    );
    const out = send(request(), s, 0, 'HIT', 'public, max-age=5');
    expect(out.headers!.filter((h) => h === 'cache-control')).toHaveLength(1);
    expect(header(out.headers, 'cache-control')).toBe('public, max-age=5');
    const cond = send(request({ 'if-none-match': s.etag }), s, 0, 'HIT', 'no-store');
    expect(header(cond.headers, 'cache-control')).toBe('no-store');
  });
});

describe('conditional requests', () => {
  it.each([404, 301, 410])('never answers 304 for a stored %i, even when the ETag matches', (status) => {
    const s = toStoredResponse({ status, headers: {}, body: Buffer.from('gone') }, 0, fresh(0));
    const out = send(request({ 'if-none-match': s.etag }), s, 0);
    expect(out.status).toBe(status);
    expect(String(out.body)).toBe('gone');
  });

  it('answers 304 for every stored 2xx with a body', () => {
    for (const status of [200, 203]) {
      const s = toStoredResponse({ status, headers: {}, body: Buffer.from('ok') }, 0, fresh(0));
      expect(send(request({ 'if-none-match': s.etag }), s, 0).status).toBe(304);
    }
  });

  it('answers If-Modified-Since by Last-Modified, and If-None-Match takes precedence', () => {
    const lm = 'Wed, 01 Jul 2026 00:00:00 GMT';
    const s = toStoredResponse(
      { status: 200, headers: { 'last-modified': lm }, body: Buffer.from('ok') },
      0,
      fresh(1000),
    );
    expect(send(request({ 'if-modified-since': lm }), s, 0).status).toBe(304);
    expect(send(request({ 'if-modified-since': 'Thu, 02 Jul 2026 00:00:00 GMT' }), s, 0).status).toBe(304);
    expect(send(request({ 'if-modified-since': 'Tue, 30 Jun 2026 00:00:00 GMT' }), s, 0).status).toBe(200);
    expect(send(request({ 'if-modified-since': 'garbage' }), s, 0).status).toBe(200);
    // A non-matching If-None-Match wins over a matching If-Modified-Since (RFC 9110 §13.2.2).
    expect(send(request({ 'if-none-match': '"other"', 'if-modified-since': lm }), s, 0).status).toBe(200);
  });
});

describe('freshening by a 304 (RFC 9111 §4.3.4)', () => {
  it("replaces the stored headers with the 304's, keeps the body and the validator, and re-reads freshness", () => {
    const s = toStoredResponse(
      {
        status: 200,
        headers: {
          etag: '"a"',
          'cache-control': 'max-age=1',
          'x-version': '1',
          'content-type': 'text/plain',
        },
        body: Buffer.from('body'),
      },
      0,
      fresh(1000),
    );
    const seen: Record<string, unknown>[] = [];
    const refreshed = freshenStored(
      s,
      { 'cache-control': 'max-age=60', 'x-version': '2', 'content-length': '0', etag: '"a"' },
      5000,
      (headers) => {
        seen.push({ ...headers });
        return fresh(60_000);
      },
    );
    expect(refreshed.body).toBe('body');
    expect(refreshed.etag).toBe('"a"');
    expect(refreshed.storedAt).toBe(5000);
    expect(refreshed.lifetime).toBe(60_000);
    expect(header(refreshed.headers as string[], 'x-version')).toBe('2');
    expect(header(refreshed.headers as string[], 'cache-control')).toBe('max-age=60');
    expect(header(refreshed.headers as string[], 'content-type')).toBe('text/plain');
    // The stored body's length stays, whatever the 304 said.
    expect(header(refreshed.headers as string[], 'content-length')).toBe('4');
    // The 304 carried no Date: the refreshed response is dated when it arrived.
    expect(header(refreshed.headers as string[], 'date')).toBe(new Date(5000).toUTCString());
    expect(seen[0]).toMatchObject({ 'cache-control': 'max-age=60', 'x-version': '2' });
    // The stored entry itself is untouched (it may be shared with other readers).
    expect(header(s.headers as string[], 'x-version')).toBe('1');
  });
});
