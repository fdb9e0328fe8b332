// Paths are matched in their normal form (RFC 3986 §6.2.2, §5.2.4), and a path spelled otherwise is
// neither served from nor stored in the cache: a percent-escaped org name cannot stay a stale HIT after
// its pattern ran, and dot segments cannot plant one user's answer under a shared path.
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import type { Cache } from '../../src/cache/types.js';
import { createHttpCache } from '../../src/http/http-cache.js';
import { normalisePath } from '../../src/http/normalise-path.js';
import { listen, type TestServer } from './helpers/server.js';

/** Sends `path` exactly as written (no URL parsing, so dot segments and escapes reach the server). */
function send(
  server: TestServer,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{ status: number; cache: string | undefined; text: string }> {
  const { port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          cache: res.headers['x-cache'] as string | undefined,
          text: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

let cache: Cache | undefined;
let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  await cache?.close();
});

describe('normalisePath', () => {
  it('decodes unreserved escapes, upper-cases the others, removes dot segments', () => {
    expect(normalisePath('/org/acm%65/items')).toBe('/org/acme/items');
    expect(normalisePath('/a%2d%2E%5f%7e%41%39')).toBe('/a-._~A9');
    expect(normalisePath('/a%2fb%3a')).toBe('/a%2Fb%3A');
    expect(normalisePath('/a/b/c/./../../g')).toBe('/a/g');
    expect(normalisePath('/a/.')).toBe('/a/');
    expect(normalisePath('/a/..')).toBe('/');
    expect(normalisePath('/..')).toBe('/');
    expect(normalisePath('/public/%2e%2E/me')).toBe('/me');
    expect(normalisePath('/100%/x%4')).toBe('/100%/x%4'); // malformed escapes are kept
    expect(normalisePath('/.well-known/a..b/.x')).toBe('/.well-known/a..b/.x');
    const plain = '/subscriptions/acme/providers';
    expect(normalisePath(plain)).toBe(plain);
  });
});

describe('the HTTP cache over non-normal paths', () => {
  it('a percent-escaped org is never a stale HIT after the pattern for the org ran', async () => {
    cache = createCache({ name: 'api' });
    let version = 1;
    const mw = createHttpCache({
      cache,
      rules: [{ path: '/org/:org/items', ttl: '1h' }],
      invalidate: [{ path: '/org/:org/items', patterns: ['GET /org/{org}/*'] }],
    });
    const app = (req: IncomingMessage, res: ServerResponse) => {
      if (req.method === 'POST') version++;
      // Like most routers, the app decodes the param: `acm%65` is org `acme`.
      const org = decodeURIComponent((req.url ?? '').split('/')[2] ?? '');
      res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'text/plain' });
      res.end(`${org} v${version}`);
    };
    server = await listen((req, res) => void mw(req, res, () => app(req, res)));
    expect((await send(server, '/org/acme/items')).text).toBe('acme v1');
    expect((await send(server, '/org/acm%65/items')).text).toBe('acme v1');
    expect((await send(server, '/org/acme/items')).cache).toBe('HIT');
    expect(await send(server, '/org/acme/items', {}, 'POST')).toMatchObject({ status: 201 });
    const escaped = await send(server, '/org/acm%65/items');
    expect(escaped.text).toBe('acme v2');
    expect(escaped.cache).not.toBe('HIT');
    expect((await send(server, '/org/acme/items')).text).toBe('acme v2');
    // Only the normal spelling was ever stored.
    expect(cache.entries().map((e) => e.key)).toEqual([
      `GET /org/acme/items host=${new URL(server.url).host}`,
    ]);
  });

  it('a write spelled with escapes invalidates what its normal form names', async () => {
    cache = createCache({ name: 'api' });
    let version = 1;
    const mw = createHttpCache({
      cache,
      rules: [{ path: '/org/:org/items', ttl: '1h', tags: ['org:{org}'] }],
      invalidate: [{ path: '/org/:org/items', tags: ['org:{org}'] }],
    });
    const app = (req: IncomingMessage, res: ServerResponse) => {
      if (req.method === 'PUT') version++;
      res.writeHead(200);
      res.end(`v${version}`);
    };
    server = await listen((req, res) => void mw(req, res, () => app(req, res)));
    await send(server, '/org/acme/items');
    expect((await send(server, '/org/acme/items')).cache).toBe('HIT');
    // `%6Frg` is `org`: the literal segment of the write rule matches only after normalising.
    await send(server, '/%6Frg/acme/items', {}, 'PUT');
    expect(await send(server, '/org/acme/items')).toMatchObject({ text: 'v2', cache: 'MISS' });
  });

  it("dot segments never store one user's /me under a shared public path", async () => {
    cache = createCache({ name: 'api' });
    const mw = createHttpCache({
      cache,
      user: (req) => req.headers['x-user'] as string | undefined,
      rules: [
        { path: '/me', perUser: true },
        { path: '/public/*', shared: true, ttl: '1h' },
      ],
    });
    // An app that resolves dot segments itself (as `new URL()` does) before routing.
    const app = (req: IncomingMessage, res: ServerResponse) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      res.writeHead(200);
      res.end(path === '/me' ? `me: ${String(req.headers['x-user'])}` : `public ${path}`);
    };
    server = await listen((req, res) => void mw(req, res, () => app(req, res)));
    for (const path of ['/public/../me', '/public/%2e%2e/me', '/public/x/../../me']) {
      expect((await send(server, path, { 'x-user': 'alice' })).text).toBe('me: alice');
      const bob = await send(server, path, { 'x-user': 'bob' });
      expect(bob.text).toBe('me: bob');
      expect(bob.cache).not.toBe('HIT');
      // A client without identity never gets alice's answer either.
      expect((await send(server, path)).text).toBe('me: undefined');
    }
    expect(cache.entries()).toEqual([]);
  });
});
