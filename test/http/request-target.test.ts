// How a request's target is read for invalidation and matching: the absolute-form of a write
// (`DELETE http://host/a`), and the spellings (case, a trailing slash) that frameworks route alike.
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import type { Cache } from '../../src/cache/types.js';
import { createHttpCache, type HttpCacheOptions } from '../../src/http/http-cache.js';
import { listen, type TestServer } from './helpers/server.js';

let cache: Cache;
let server: TestServer;
let items: Map<string, string>;

/** A store of items that routes by the path alone, case-insensitively and ignoring a trailing slash, as Express does. */
function app(req: IncomingMessage, res: ServerResponse): void {
  const path = new URL(req.url ?? '/', 'http://x').pathname.toLowerCase().replace(/(.)\/$/, '$1');
  const id = /^\/api\/items\/(\w+)$/.exec(path)?.[1];
  if (id === undefined) return void res.writeHead(404).end();
  if (req.method === 'DELETE') {
    items.delete(id);
    return void res.writeHead(204).end();
  }
  const item = items.get(id);
  if (item === undefined) return void res.writeHead(404).end('gone');
  res.end(item);
}

async function start(options: Omit<HttpCacheOptions, 'cache'>): Promise<void> {
  const mw = createHttpCache({ cache, ...options });
  server = await listen((req, res) => void mw(req, res, () => app(req, res)));
}

/** Sends `target` as the request line's target, exactly as given (absolute-form included). */
function send(method: string, target: string): Promise<{ status: number; cache: string | undefined }> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, method, path: target }, (res) => {
      res.resume();
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, cache: res.headers['x-cache'] as string | undefined }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

beforeEach(() => {
  cache = createCache({ name: 'api', ttl: '5m' });
  items = new Map([['1', 'apple']]);
});
afterEach(async () => {
  await server.close();
  await cache.close();
});

describe('a write in absolute-form (RFC 9112 §3.2.2)', () => {
  it.each([
    ['invalidateOnWrite', {}],
    [
      'an invalidate rule',
      { invalidateOnWrite: false, invalidate: [{ path: '/api/items/:id', tags: ['item:{id}'] }] },
    ],
  ])('invalidates the path it names, by %s', async (_, options) => {
    await start({ rules: [{ path: '/api/items/:id', tags: ['item:{id}'] }], ...options });
    expect(await send('GET', '/api/items/1')).toEqual({ status: 200, cache: 'MISS' });
    expect(await send('GET', '/api/items/1')).toEqual({ status: 200, cache: 'HIT' });
    const { host } = new URL(server.url);
    expect((await send('DELETE', `http://${host}/api/items/1`)).status).toBe(204);
    expect(await send('GET', '/api/items/1')).toEqual({ status: 404, cache: 'MISS' });
  });
});

describe('spellings a framework routes alike: letter case and a trailing slash', () => {
  const rule = { path: '/api/items/:id', tags: ['item:{id}'] };
  const byRule = { invalidateOnWrite: false, invalidate: [{ path: '/api/items/:id', tags: ['item:{id}'] }] };

  it.each([
    ['DELETE /API/ITEMS/1, invalidateOnWrite', '/api/items/1', '/API/ITEMS/1', {}],
    ['DELETE /API/ITEMS/1, an invalidate rule', '/api/items/1', '/API/ITEMS/1', byRule],
    ['DELETE /api/items/1/, invalidateOnWrite', '/api/items/1', '/api/items/1/', {}],
    ['DELETE /api/items/1 of a stored /api/items/1/', '/api/items/1/', '/api/items/1', {}],
    ['DELETE /Api/Items/1/ of a stored /API/items/1 under a catch-all', '/API/items/1', '/Api/Items/1/', {}],
  ])('%s: the stored read is invalidated', async (_, read, write, options) => {
    const rules = read === '/API/items/1' ? [{ path: '/*' }] : [rule];
    await start({ rules, ...options });
    expect(await send('GET', read)).toEqual({ status: 200, cache: 'MISS' });
    expect(await send('GET', read)).toEqual({ status: 200, cache: 'HIT' });
    expect((await send('DELETE', write)).status).toBe(204);
    expect(await send('GET', read)).toEqual({ status: 404, cache: 'MISS' });
  });

  it("never shares a per-user answer that a shared rule matched only by the path's spelling", async () => {
    const mw = createHttpCache({
      cache,
      user: (req) => req.headers['x-user'] as string | undefined,
      rules: [
        { path: '/me/dashboard', perUser: true },
        { path: '/*', shared: true },
      ],
    });
    // The handler routes case-insensitively: /ME/DASHBOARD is the caller's own dashboard.
    server = await listen(
      (req, res) =>
        void mw(req, res, () => {
          const mine = req.url!.toLowerCase() === '/me/dashboard';
          res.end(mine ? `dashboard of ${String(req.headers['x-user'])}` : 'public');
        }),
    );
    const get = (path: string, user?: string) =>
      fetch(server.url + path, { headers: user ? { 'x-user': user } : {} }).then(async (r) => ({
        text: await r.text(),
        cache: r.headers.get('x-cache'),
      }));
    expect(await get('/ME/DASHBOARD', 'alice')).toEqual({ text: 'dashboard of alice', cache: null });
    expect(await get('/ME/DASHBOARD', 'bob')).toEqual({ text: 'dashboard of bob', cache: null });
    expect(await get('/Me/Dashboard')).toEqual({ text: 'dashboard of undefined', cache: null });
    expect(cache.entries()).toEqual([]);
    // The rules still cache their own spellings.
    expect(await get('/me/dashboard', 'alice')).toEqual({ text: 'dashboard of alice', cache: 'MISS' });
    expect(await get('/about')).toEqual({ text: 'public', cache: 'MISS' });
    expect(await get('/about')).toEqual({ text: 'public', cache: 'HIT' });
  });
});

describe('the Host in the default key (RFC 9111 §2: the target URI includes its authority)', () => {
  /** Sends a request naming `host` in its Host header. */
  function on(host: string, method = 'GET', path = '/catalog') {
    const { hostname, port } = new URL(server.url);
    return new Promise<{ text: string; cache: string | undefined }>((resolve, reject) => {
      const req = httpRequest({ host: hostname, port, method, path, headers: { host } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ text, cache: res.headers['x-cache'] as string | undefined }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('keeps virtual hosts apart, and a write invalidates the path on every host', async () => {
    let version = 1;
    const mw = createHttpCache({ cache, rules: [{ path: '/catalog' }] });
    server = await listen(
      (req, res) =>
        void mw(req, res, () => {
          if (req.method !== 'GET') return void (version++, res.writeHead(204).end());
          res.end(`prices of ${String(req.headers.host)} v${version}`);
        }),
    );
    expect(await on('acme.example')).toEqual({ text: 'prices of acme.example v1', cache: 'MISS' });
    expect(await on('globex.example')).toEqual({ text: 'prices of globex.example v1', cache: 'MISS' });
    expect(await on('ACME.example')).toEqual({ text: 'prices of acme.example v1', cache: 'HIT' });
    expect(await on('globex.example')).toEqual({ text: 'prices of globex.example v1', cache: 'HIT' });
    await on('acme.example', 'PUT');
    expect(await on('globex.example')).toEqual({ text: 'prices of globex.example v2', cache: 'MISS' });
    expect(await on('acme.example')).toEqual({ text: 'prices of acme.example v2', cache: 'MISS' });
  });
});
