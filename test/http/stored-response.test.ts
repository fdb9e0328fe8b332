import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { asStoredResponse, isStale, sendStored, toStoredResponse } from '../../src/http/stored-response.js';

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
const header = (list: string[] | undefined, name: string) => list?.[list.indexOf(name) + 1];

const captured = {
  status: 200,
  headers: { 'content-type': 'text/plain', 'set-cookie': 'x=1' },
  body: Buffer.from('hi'),
};

describe('stored responses', () => {
  it('computes an ETag and Content-Length, drops cookies, keeps a handler ETag', () => {
    const s = toStoredResponse(captured, 1000, 5000);
    expect(s.etag).toMatch(/^"/);
    expect(s.headers).toEqual(['content-type', 'text/plain', 'etag', s.etag, 'content-length', '2']);
    const own = toStoredResponse({ ...captured, headers: { etag: 'W/"v1"' } }, 0, 0);
    expect(own.etag).toBe('W/"v1"');
    expect(own.headers.filter((h) => h === 'etag')).toHaveLength(1);
    expect(toStoredResponse({ status: 204, headers: {}, body: Buffer.alloc(0) }, 0, 0).headers).not.toContain(
      'content-length',
    );
  });

  it('is stale only after its TTL, never with TTL 0', () => {
    const s = toStoredResponse(captured, 1000, 5000);
    expect(isStale(s, 5999)).toBe(false);
    expect(isStale(s, 6000)).toBe(true);
    expect(isStale(toStoredResponse(captured, 0, 0), 1e12)).toBe(false);
  });

  it('keeps binary bodies byte for byte and survives a JSON round trip (a remote tier)', () => {
    const bytes = Buffer.from([0, 0xff, 0x80, 0xc3, 0x28, 0x0a]);
    const s = toStoredResponse({ status: 200, headers: {}, body: bytes }, 0, 0);
    expect(Buffer.from(s.body, 'latin1').equals(bytes)).toBe(true);
    const back = asStoredResponse(JSON.parse(JSON.stringify(s)))!;
    expect(Buffer.from(back.body, 'latin1').equals(bytes)).toBe(true);
  });

  it('refuses values that are not stored responses', () => {
    const s = toStoredResponse(captured, 0, 0);
    expect(asStoredResponse({ ...s, body: Buffer.from('hi') })).toBeUndefined();
    expect(asStoredResponse({ ...s, kind: 'other' })).toBeUndefined();
    expect(asStoredResponse({ status: 200 })).toBeUndefined();
    expect(asStoredResponse('x')).toBeUndefined();
  });

  it('replays with X-Cache and Age, answers a matching If-None-Match with 304, HEAD without body', () => {
    const s = toStoredResponse(captured, 1000, 60_000);
    const hit = fakeRes();
    sendStored({ method: 'GET', headers: {} } as IncomingMessage, hit.res, s, 'HIT', 4500);
    expect(hit.out.status).toBe(200);
    expect(header(hit.out.headers, 'x-cache')).toBe('HIT');
    expect(header(hit.out.headers, 'age')).toBe('3');
    expect(String(hit.out.body)).toBe('hi');

    const cond = fakeRes();
    sendStored(
      { method: 'GET', headers: { 'if-none-match': s.etag } } as unknown as IncomingMessage,
      cond.res,
      s,
      'HIT',
      1000,
    );
    expect(cond.out.status).toBe(304);
    expect(cond.out.body).toBeUndefined();
    expect(header(cond.out.headers, 'etag')).toBe(s.etag);
    expect(cond.out.headers).not.toContain('content-type');

    const head = fakeRes();
    sendStored({ method: 'HEAD', headers: {} } as IncomingMessage, head.res, s, 'STALE', 1000);
    expect(head.out.body).toBeUndefined();
    expect(header(head.out.headers, 'content-length')).toBe('2');
  });
});

describe('conditional requests', () => {
  it.each([404, 301, 410])('never answers 304 for a stored %i, even when the ETag matches', (status) => {
    const s = toStoredResponse({ status, headers: {}, body: Buffer.from('gone') }, 0, 0);
    const out = fakeRes();
    sendStored(
      { method: 'GET', headers: { 'if-none-match': s.etag } } as unknown as IncomingMessage,
      out.res,
      s,
      'HIT',
      0,
    );
    expect(out.out.status).toBe(status);
    expect(String(out.out.body)).toBe('gone');
  });

  it('answers 304 for every stored 2xx with a body', () => {
    for (const status of [200, 203]) {
      const s = toStoredResponse({ status, headers: {}, body: Buffer.from('ok') }, 0, 0);
      const out = fakeRes();
      sendStored(
        { method: 'GET', headers: { 'if-none-match': s.etag } } as unknown as IncomingMessage,
        out.res,
        s,
        'HIT',
        0,
      );
      expect(out.out.status).toBe(304);
    }
  });
});
