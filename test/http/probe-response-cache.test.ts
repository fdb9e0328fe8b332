// Probes of the response cache as a hostile client and a careless handler would drive it: over
// node:http on 127.0.0.1 with the injected clock (no sleeps).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import type { Cache } from '../../src/cache/types.js';
import { createHttpCache, type HttpCacheOptions } from '../../src/http/http-cache.js';
import { listen, rawRequest, type RawResponse, type TestServer } from './helpers/server.js';

const T0 = Date.UTC(2026, 11, 4, 12, 0, 0);
let now = T0;
let cache: Cache;
let server: TestServer;
let calls: number;
let handler: (n: number, req: IncomingMessage, res: ServerResponse) => void | Promise<void>;
let errors: unknown[];

async function start(overrides: Partial<HttpCacheOptions> = {}): Promise<void> {
  const mw = createHttpCache({ cache, clock: () => now, rules: [{ path: '/*', ttl: '5m' }], ...overrides });
  server = await listen((req, res) => {
    mw(req, res, () => handler(++calls, req, res)).catch((error: unknown) => {
      errors.push(error);
      if (!res.headersSent) res.statusCode = 500;
      res.end();
    });
  });
}

const get = (path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<RawResponse> =>
  rawRequest(server.url + path, headers, method);

beforeEach(() => {
  now = T0;
  calls = 0;
  errors = [];
  handler = (n, _req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`body ${n}`);
  };
  cache = createCache({ name: 'http', clock: () => now });
});
afterEach(async () => {
  await server?.close();
  await cache.close();
});

describe('probe', () => {
  it('private past the first 8 KiB of Cache-Control keeps the response out', async () => {
    await start();
    handler = (n, _req, res) => {
      res.writeHead(200, { 'cache-control': `max-age=60, x-pad="${'a'.repeat(9000)}", private` });
      res.end(`body ${n}`);
    };
    await get('/a');
    expect((await get('/a')).text).toBe('body 2');
  });

  it('a handler that writes after end neither crashes nor corrupts', async () => {
    await start();
    handler = (n, _req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.end(`body ${n}`);
      res.write('late');
      res.end('again');
    };
    const first = await get('/a');
    expect(first).toMatchObject({ status: 200, text: 'body 1' });
    expect(first.headers['x-cache']).toBe('MISS');
    expect(await get('/a')).toMatchObject({ status: 200, text: 'body 1' });
    expect(errors).toEqual([]);
  });

  it('a handler that fails after its body outgrew the limit reaches the error handler, nothing stored', async () => {
    await start({ maxResponseBytes: 1024 });
    handler = async (n, _req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      for (let i = 0; i < 4; i++) res.write('x'.repeat(500));
      await Promise.resolve();
      if (n === 1) throw new Error('upstream broke mid-stream');
      res.end();
    };
    const first = await get('/a');
    expect(first.text.length).toBe(2000);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('upstream broke mid-stream');
    const second = await get('/a');
    expect(second.headers['x-cache']).toBeUndefined();
    expect(calls).toBe(2);
  });

  it('a Vary with odd spacing, case and duplicates keeps variants apart; HEAD and If-None-Match lists, W/ and * answer from them', async () => {
    await start();
    handler = (n, _req, res) => {
      res.writeHead(200, {
        'content-type': 'text/plain',
        etag: '"v1"',
        vary: 'Accept-Language ,  ACCEPT-language,X-A',
      });
      res.end(`body ${n}`);
    };
    await get('/a', { 'accept-language': 'en' });
    expect((await get('/a', { 'accept-language': 'fr' })).text).toBe('body 2');
    expect((await get('/a', { 'accept-language': 'fr' })).text).toBe('body 2');
    expect((await get('/a', { 'accept-language': 'fr', 'x-a': '1' })).text).toBe('body 3');
    const head = await get('/a', { 'accept-language': 'fr', 'x-a': '1' }, 'HEAD');
    expect(head.text).toBe('');
    expect(head.headers['x-cache']).toBe('HIT');
    for (const inm of ['"x", W/"v1"', '*', ' "v1" ']) {
      const r = await get('/a', { 'accept-language': 'fr', 'x-a': '1', 'if-none-match': inm });
      expect([inm, r.status, r.text]).toEqual([inm, 304, '']);
    }
    expect((await get('/a', { 'accept-language': 'fr', 'x-a': '1', 'if-none-match': '"v2"' })).status).toBe(
      200,
    );
  });

  it('a partial 206 is never stored, even where a rule lists the status, nor is a bodiless 304', async () => {
    await start({ rules: [{ path: '/*', ttl: '5m', statuses: [200, 206, 304] }] });
    handler = (n, req, res) => {
      if (req.headers.range !== undefined) {
        res.writeHead(206, { 'content-range': 'bytes 0-1/10', 'cache-control': 'max-age=60' });
        res.end('bo');
      } else if (req.url === '/nm') {
        res.writeHead(304, { 'cache-control': 'max-age=60' });
        res.end();
      } else res.end(`body ${n}`);
    };
    expect(await get('/a', { range: 'bytes=0-1' })).toMatchObject({ status: 206, text: 'bo' });
    expect(await get('/a')).toMatchObject({ status: 200, text: 'body 2' });
    expect((await get('/nm')).status).toBe(304);
    expect((await get('/nm')).headers['x-cache']).toBe('MISS');
  });
});
