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

  it('a write removes the stored answers of its URI however the paths are spelled', async () => {
    await start();
    handler = (n, req, res) => {
      if (req.method === 'POST') {
        res.writeHead(201, { location: String(req.headers['x-location'] ?? '/') });
        return void res.end();
      }
      res.end(`body ${n}`);
    };
    const hit = async (path: string) => (await get(path)).headers['x-cache'];
    for (const [read, write, location] of [
      ['/items/~1?b=2&a=1', '/items/%7e1', '/'],
      ['/items/~1', '/items/%7E1?z', '/'],
      ['/items/a%2Fb', '/other', '/items/a%2fb'],
      ['/items/x', '/other', `http://127.0.0.1:${new URL(server.url).port}/items/./x`],
      ['/items/y', '/Items/y/', '/'],
    ] as const) {
      await get(read);
      expect(await hit(read)).toBe('HIT');
      expect((await get(read, {}, 'HEAD')).headers['x-cache']).toBe('HIT');
      expect((await get(write, { 'x-location': location }, 'POST')).status).toBe(201);
      expect([read, write, await hit(read)]).toEqual([read, write, 'MISS']);
    }
  });

  it('Vary: * in any spelling, credentials and cookies keep responses out', async () => {
    await start();
    handler = (n, req, res) => {
      if (req.url === '/star') res.setHeader('vary', ['accept', ' * ']);
      if (req.url === '/cookie') res.setHeader('Set-Cookie', 'sid=1');
      res.end(`body ${n}`);
    };
    for (const path of ['/star', '/cookie']) {
      await get(path);
      expect((await get(path)).headers['x-cache']).toBe('MISS');
    }
    await get('/p');
    expect((await get('/p', { authorization: 'Bearer x' })).headers['x-cache']).toBeUndefined();
    expect((await get('/p', { cookie: '' })).headers['x-cache']).toBeUndefined();
  });

  it('hostile Cache-Control and Age values never extend freshness', async () => {
    await start();
    let cc: Record<string, string> = {};
    handler = (n, _req, res) => {
      res.writeHead(200, cc);
      res.end(`body ${n}`);
    };
    const lifetimes: [Record<string, string>, number | 'stale'][] = [
      [{ 'cache-control': 'max-age=-1' }, 'stale'],
      [{ 'cache-control': 'max-age=60, max-age=0' }, 60],
      [{ 'cache-control': 'max-age="30"' }, 30],
      [{ 'cache-control': 'no-cache="set-cookie", max-age=60' }, 'stale'],
      [{ 'cache-control': 'x="a, max-age=0", max-age=40' }, 40],
      [{ 'cache-control': 's-maxage=0, max-age=60' }, 'stale'],
      [{ 'cache-control': 'max-age=60', age: '50' }, 10],
      [{ 'cache-control': 'max-age=60', age: '-5' }, 60],
      [{ 'cache-control': 'max-age=1.5' }, 'stale'],
      [{ 'cache-control': 'max-age=99999999999999999999' }, 86400],
      [{ expires: 'Thu, 01 Jan 1970 00:00:00 GMT' }, 'stale'],
      [{ 'cache-control': 'max-age=60', 'cdn-cache-control': 'max-age=10' }, 10],
      [{ 'cache-control': 'max-age=60', 'cdn-cache-control': 'max-age="a"' }, 60],
    ];
    let i = 0;
    for (const [headers, seconds] of lifetimes) {
      cc = headers;
      const path = `/f${i++}`;
      now = T0;
      await get(path);
      const label = JSON.stringify(headers);
      if (seconds === 'stale') {
        expect([label, (await get(path)).headers['x-cache']]).toEqual([label, 'MISS']);
        continue;
      }
      now = T0 + seconds * 1000 - 1000;
      expect([label, (await get(path)).headers['x-cache']]).toEqual([label, 'HIT']);
      if (seconds < 86400) {
        now = T0 + seconds * 1000;
        expect([label, (await get(path)).headers['x-cache']]).not.toEqual([label, 'HIT']);
      }
    }
  });

  it("a request's no-store passes through in any case; max-stale changes nothing", async () => {
    await start();
    await get('/r');
    expect((await get('/r', { 'cache-control': 'no-store' })).headers['x-cache']).toBeUndefined();
    expect((await get('/r', { 'cache-control': 'NO-STORE, max-stale' })).headers['x-cache']).toBeUndefined();
    expect((await get('/r', { 'cache-control': 'max-stale=999' })).headers['x-cache']).toBe('HIT');
  });

  it('a Vary that arrives on a 304 revalidation keeps the other variants apart from then on', async () => {
    await start();
    handler = (n, req, res) => {
      if (req.headers['if-none-match'] === '"v1"') {
        res.writeHead(304, { etag: '"v1"', 'cache-control': 'max-age=60', vary: 'Accept-Language' });
        return void res.end();
      }
      res.writeHead(200, { etag: '"v1"', 'cache-control': 'max-age=1' });
      res.end(`body ${n} ${String(req.headers['accept-language'])}`);
    };
    expect((await get('/v', { 'accept-language': 'en' })).text).toBe('body 1 en');
    now += 2000;
    const revalidated = await get('/v', { 'accept-language': 'en' });
    expect(revalidated.headers['x-cache']).toBe('REVALIDATED');
    expect(revalidated.headers.vary).toBe('Accept-Language');
    expect((await get('/v', { 'accept-language': 'en' })).headers['x-cache']).toBe('HIT');
    expect((await get('/v', { 'accept-language': 'fr' })).text).toBe('body 3 fr');
  });

  it('an absolute-form GET is neither served nor stored under a key its client chose', async () => {
    await start({
      rules: [
        { path: /items/, ttl: '5m' },
        { path: '/*', ttl: '5m' },
      ],
    });
    const absolute = (target: string) => rawRequest(server.url, {}, 'GET', target);
    await absolute('http://evil.example/items');
    expect((await absolute('http://evil.example/items')).headers['x-cache']).toBeUndefined();
    expect((await absolute('http://evil.example/other')).headers['x-cache']).toBeUndefined();
  });

  it("a user id holding a lone surrogate is cached per user like any other, and a write's {user} reaches it", async () => {
    const who = '\ud800me';
    await start({
      rules: [{ path: '/me', perUser: true, ttl: '5m' }],
      user: (req) => (req.headers['x-user'] === undefined ? undefined : who),
      invalidate: [{ method: 'POST', path: '/me', patterns: ['GET /me * user={user}'] }],
      invalidateOnWrite: false,
    });
    handler = (n, _req, res) => void res.end(`body ${n}`);
    expect((await get('/me', { 'x-user': '1' })).text).toBe('body 1');
    expect((await get('/me', { 'x-user': '1' })).headers['x-cache']).toBe('HIT');
    await get('/me', { 'x-user': '1' }, 'POST');
    expect((await get('/me', { 'x-user': '1' })).headers['x-cache']).toBe('MISS');
    expect(errors).toEqual([]);
  });

  it('two user ids with different lone surrogates never share a per-user key', async () => {
    await start({
      rules: [{ path: '/me', perUser: true, ttl: '5m' }],
      user: (req) => (req.headers['x-user'] === 'a' ? '\ud800' : '\udbff'),
    });
    handler = (n, _req, res) => void res.end(`body ${n}`);
    expect((await get('/me', { 'x-user': 'a' })).text).toBe('body 1');
    expect((await get('/me', { 'x-user': 'b' })).text).toBe('body 2');
    expect((await get('/me', { 'x-user': 'a' })).text).toBe('body 1');
  });

  it('a write whose handler ends twice still answers its body, after the invalidation', async () => {
    await start();
    handler = (n, req, res) => {
      if (req.method === 'POST') {
        res.end('written');
        return void res.end();
      }
      res.end(`body ${n}`);
    };
    await get('/w');
    expect((await get('/w')).headers['x-cache']).toBe('HIT');
    expect(await get('/w', {}, 'POST')).toMatchObject({ status: 200, text: 'written' });
    expect((await get('/w')).headers['x-cache']).toBe('MISS');
    expect(errors).toEqual([]);
  });

  it('headers a handler sets after its end do not reach an answer that is not stored', async () => {
    await start();
    handler = (n, _req, res) => {
      res.setHeader('set-cookie', 'sid=1');
      res.end(`body ${n} is long`);
      res.setHeader('content-length', '1');
      res.setHeader('x-late', '1');
    };
    const r = await get('/sc');
    expect(r).toMatchObject({ status: 200, text: 'body 1 is long' });
    expect(r.headers['x-late']).toBeUndefined();
    expect(r.headers['set-cookie']).toEqual(['sid=1']);
  });
});
