// What the handler sees of a client's request while the cache runs it on a miss or a revalidation:
// the conditions the cache answers itself are held back, and what depends on them goes with them.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import type { Cache } from '../../src/cache/types.js';
import { createHttpCache, type HttpCacheOptions } from '../../src/http/http-cache.js';
import { listen, rawRequest, type TestServer } from './helpers/server.js';

let cache: Cache;
let server: TestServer;
let seen: IncomingMessage['headers'][];

/** A 20-byte file with its ETag, honouring Range and If-Range as a static file server does. */
function file(req: IncomingMessage, res: ServerResponse): void {
  seen.push({ ...req.headers });
  const body = 'abcdefghijklmnopqrst';
  const etag = '"v2"';
  res.setHeader('etag', etag);
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const ifRange = req.headers['if-range'];
  if (range !== null && (ifRange === undefined || ifRange === etag)) {
    const from = Number(range[1]);
    res.writeHead(206, { 'content-range': `bytes ${from}-${body.length - 1}/${body.length}` });
    return void res.end(body.slice(from));
  }
  res.end(body);
}

async function start(options: Omit<HttpCacheOptions, 'cache'> = {}): Promise<void> {
  const mw = createHttpCache({ cache, rules: [{ path: '/files/*' }], ...options });
  server = await listen((req, res) => void mw(req, res, () => file(req, res)));
}

beforeEach(() => {
  cache = createCache({ name: 'files', ttl: '5m' });
  seen = [];
});
afterEach(async () => {
  await server.close();
  await cache.close();
});

describe('a Range request with If-Range on a miss', () => {
  it('gets the whole current representation, not a part to splice into an older copy', async () => {
    await start();
    const res = await rawRequest(`${server.url}/files/a.txt`, { range: 'bytes=10-', 'if-range': '"v1"' });
    expect(res.status).toBe(200);
    expect(res.text).toBe('abcdefghijklmnopqrst');
    expect(seen[0]).not.toHaveProperty('range');
    expect(seen[0]).not.toHaveProperty('if-range');
  });
});

describe('a 304 from the handler that sets a cookie', () => {
  it('reaches its client with the cookie, and the held entry is neither freshened nor kept', async () => {
    let now = Date.UTC(2026, 11, 4, 12);
    cache = createCache({ name: 'http', ttl: '5m', clock: () => now });
    let calls = 0;
    const mw = createHttpCache({ cache, clock: () => now, rules: [{ path: '/account' }] });
    server = await listen(
      (req, res) =>
        void mw(req, res, () => {
          calls++;
          res.setHeader('etag', '"v1"');
          res.setHeader('cache-control', 'max-age=1');
          if (req.headers['if-none-match'] === '"v1"') {
            res.setHeader('set-cookie', 'session=rotated; HttpOnly');
            return void res.writeHead(304).end();
          }
          res.end('account page');
        }),
    );
    const url = `${server.url}/account`;
    expect((await rawRequest(url)).headers['x-cache']).toBe('MISS');
    now += 2_000;
    const revalidated = await rawRequest(url);
    expect(revalidated).toMatchObject({ status: 200, text: 'account page' });
    expect(revalidated.headers['set-cookie']).toEqual(['session=rotated; HttpOnly']);
    const next = await rawRequest(url);
    expect(next.headers['x-cache']).toBe('MISS');
    expect(next.headers['set-cookie']).toBeUndefined();
    // Asked conditionally, the client still gets its cookie on the 304.
    now += 2_000;
    const conditional = await rawRequest(url, { 'if-none-match': '"v1"' });
    expect(conditional.status).toBe(304);
    expect(conditional.headers['set-cookie']).toEqual(['session=rotated; HttpOnly']);
    expect(calls).toBe(4);
  });
});

describe('a clock that fails', () => {
  it("fails the request with its own error, and leaves the client's conditional headers in place", async () => {
    let broken = false;
    const clock = () => {
      if (broken) throw new Error('clock broke');
      return Date.now();
    };
    const mw = createHttpCache({ cache, clock, rules: [{ path: '/files/*' }] });
    const errors: { message: string; inm: unknown }[] = [];
    server = await listen((req, res) => {
      mw(req, res, () => file(req, res)).catch((error: Error) => {
        errors.push({ message: error.message, inm: req.headers['if-none-match'] });
        res.writeHead(500).end();
      });
    });
    broken = true;
    expect((await rawRequest(`${server.url}/files/a.txt`, { 'if-none-match': '"v0"' })).status).toBe(500);
    expect(errors).toEqual([{ message: 'clock broke', inm: '"v0"' }]);
    expect(seen).toEqual([]);
  });
});

describe('a 304 from the handler naming another strong ETag', () => {
  it('freshens nothing: the held entry is dropped (this request gets a 502, as nothing lets it be served stale) and the next request gets the full answer', async () => {
    let now = Date.UTC(2026, 11, 4, 12);
    cache = createCache({ name: 'http', ttl: '5m', clock: () => now });
    let calls = 0;
    const mw = createHttpCache({ cache, clock: () => now, rules: [{ path: '/doc' }] });
    server = await listen(
      (req, res) =>
        void mw(req, res, () => {
          calls++;
          res.setHeader('cache-control', 'max-age=1');
          // A handler that contradicts itself: "not modified", yet with the new version's ETag.
          if (req.headers['if-none-match'] !== undefined) {
            res.setHeader('etag', '"v2"');
            return void res.writeHead(304).end();
          }
          res.setHeader('etag', calls === 1 ? '"v1"' : '"v2"');
          res.end(calls === 1 ? 'version 1' : 'version 2');
        }),
    );
    const url = `${server.url}/doc`;
    await rawRequest(url);
    now += 2_000;
    const contradicted = await rawRequest(url);
    // max-age=1 with no stale-if-error nor grace: serving version 1 stale is not permitted (RFC 9111 §4.2.4).
    expect(contradicted).toMatchObject({ status: 502, headers: { 'x-cache': 'MISS' } });
    expect(contradicted.text).not.toContain('version');
    expect(await rawRequest(url)).toMatchObject({ text: 'version 2', headers: { 'x-cache': 'MISS' } });
    expect(await rawRequest(url)).toMatchObject({ text: 'version 2', headers: { 'x-cache': 'HIT' } });
    expect(calls).toBe(3);
  });
});
