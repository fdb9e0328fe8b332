// The scheme a request arrived by is part of what its stored answer is for: an answer built for http
// (absolute links, a Location with http://) is never served to an https request, nor the other way.
// The scheme is the one the framework trusts (Express `req.protocol` under `trust proxy`, Fastify's
// `request.protocol` under `trustProxy`, Koa's `ctx.protocol` under `app.proxy`, Hono's request URL,
// node:http's TLS socket), never an X-Forwarded-Proto the app does not trust. Writes and admin
// invalidation reach what is stored whatever scheme stored it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { Hono } from 'hono';
import Koa from 'koa';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import type { Cache } from '../../src/cache/types.js';
import { expressCache } from '../../src/http/express.js';
import { fastifyCache } from '../../src/http/fastify.js';
import { honoCache } from '../../src/http/hono.js';
import { createHttpCache } from '../../src/http/http-cache.js';
import { koaCache } from '../../src/http/koa.js';
import { listen, rawRequest, type TestServer } from './helpers/server.js';

let cache: Cache;
let servers: TestServer[] = [];
let n = 0;

const HOST = 'app.example';
const rules = [{ path: '/page', ttl: '5m', tags: ['pages'] }];
const invalidate = [{ method: 'POST', path: '/pages/edit', tags: ['pages'] }];

beforeEach(() => {
  cache = createCache({ name: 'http', ttl: '5m' });
  n = 0;
});
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
  await cache.close();
});

/**
 * `X-Cache` and body of a request through a proxy that says the client came by `proto` (or the status
 * of a write). Every request names one Host, so two servers of one app on two ports share keys.
 */
async function viaProxy(
  base: string,
  proto: 'http' | 'https',
  path = '/page',
  method = 'GET',
): Promise<string> {
  const res = await rawRequest(base + path, { host: HOST, 'x-forwarded-proto': proto }, method);
  return method === 'GET' ? `${res.headers['x-cache'] as string} ${res.text}` : String(res.status);
}

/** What every adapter under a trusted proxy must do: one answer per scheme, and writes reach both. */
async function expectSchemesApart(base: string): Promise<void> {
  expect(await viaProxy(base, 'http')).toBe('MISS http 1');
  expect(await viaProxy(base, 'https')).toBe('MISS https 2');
  expect(await viaProxy(base, 'https')).toBe('HIT https 2');
  expect(await viaProxy(base, 'http')).toBe('MISS http 3');
  expect(await viaProxy(base, 'http')).toBe('HIT http 3');
  // A write over https (its rule's tag, and its URI) drops what http stored, and the other way.
  expect(await viaProxy(base, 'https', '/pages/edit', 'POST')).toBe('204');
  expect(await viaProxy(base, 'http')).toBe('MISS http 4');
  expect(await viaProxy(base, 'https')).toBe('MISS https 5');
  expect(await viaProxy(base, 'http', '/pages/edit', 'POST')).toBe('204');
  expect(await viaProxy(base, 'https')).toBe('MISS https 6');
  expect(await viaProxy(base, 'https', '/page', 'DELETE')).toBe('204');
  expect(await viaProxy(base, 'https')).toBe('MISS https 7');
  // Admin invalidation by tag and by pattern reaches it too.
  expect(await cache.invalidateTags(['pages'])).toBe(1);
  expect(await viaProxy(base, 'https')).toBe('MISS https 8');
  expect(await cache.invalidatePattern('GET /page *')).toBe(1);
  expect(await viaProxy(base, 'http')).toBe('MISS http 9');
}

/** Without a trusted proxy, X-Forwarded-Proto is the client's word: it splits nothing. */
async function expectHeaderIgnored(base: string): Promise<void> {
  expect(await viaProxy(base, 'http')).toBe('MISS http 1');
  expect(await viaProxy(base, 'https')).toBe('HIT http 1');
}

describe('Express', () => {
  async function start(trust: boolean): Promise<string> {
    const app = express();
    if (trust) app.set('trust proxy', true);
    app.use(expressCache({ cache, rules, invalidate }));
    app.get('/page', (req, res) => void res.send(`${req.protocol} ${++n}`));
    app.post('/pages/edit', (_req, res) => void res.sendStatus(204));
    app.delete('/page', (_req, res) => void res.sendStatus(204));
    const server = await listen((req, res) => app(req, res));
    servers.push(server);
    return server.url;
  }
  it('keeps an answer per req.protocol under trust proxy; writes and admin reach both', async () =>
    expectSchemesApart(await start(true)));
  it('ignores X-Forwarded-Proto without trust proxy', async () => expectHeaderIgnored(await start(false)));
});

describe('Fastify', () => {
  let app: FastifyInstance;
  afterEach(() => app.close());
  async function start(trustProxy: boolean): Promise<string> {
    app = Fastify({ trustProxy });
    await app.register(fastifyCache, { cache, rules, invalidate });
    app.get('/page', (request) => `${request.protocol} ${++n}`);
    app.post('/pages/edit', (_request, reply) => void reply.code(204).send());
    app.delete('/page', (_request, reply) => void reply.code(204).send());
    return app.listen({ port: 0, host: '127.0.0.1' });
  }
  it('keeps an answer per request.protocol under trustProxy; writes and admin reach both', async () =>
    expectSchemesApart(await start(true)));
  it('ignores X-Forwarded-Proto without trustProxy', async () => expectHeaderIgnored(await start(false)));
});

describe('Koa', () => {
  async function start(proxy: boolean): Promise<string> {
    const app = new Koa({ proxy });
    app.use(koaCache({ cache, rules, invalidate }));
    app.use((ctx) => {
      if (ctx.method === 'GET' && ctx.path === '/page') ctx.body = `${ctx.protocol} ${++n}`;
      else if (ctx.method !== 'GET') ctx.status = 204;
    });
    const server = await listen(createHttpServer(app.callback()));
    servers.push(server);
    return server.url;
  }
  it('keeps an answer per ctx.protocol under app.proxy; writes and admin reach both', async () =>
    expectSchemesApart(await start(true)));
  it('ignores X-Forwarded-Proto without app.proxy', async () => expectHeaderIgnored(await start(false)));
});

// node:http and Hono know the scheme from the connection alone: an http and an https server of one app.
let tls: { key: string; cert: string };
beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'larder-tls-'));
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost'].concat([
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ]),
      { stdio: 'ignore' },
    );
    tls = {
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** `X-Cache` and body of a request over TLS (or the status of a write). */
function overTls(
  base: string,
  path = '/page',
  method = 'GET',
  headers: Record<string, string> = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const options = { method, headers: { host: HOST, ...headers }, rejectUnauthorized: false };
    const req = httpsRequest(base + path, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve(
          method === 'GET'
            ? `${res.headers['x-cache'] as string} ${Buffer.concat(chunks).toString()}`
            : String(res.statusCode),
        ),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The same app on http and https, sharing one cache. */
async function expectConnectionsApart(plain: string, secure: string): Promise<void> {
  // The client's X-Forwarded-Proto is not trusted by node:http or Hono: it changes nothing.
  expect(await viaProxy(plain, 'https')).toBe('MISS http 1');
  expect(await overTls(secure, '/page', 'GET', { 'x-forwarded-proto': 'http' })).toBe('MISS https 2');
  expect(await overTls(secure)).toBe('HIT https 2');
  expect(await viaProxy(plain, 'http')).toBe('MISS http 3');
  expect(await viaProxy(plain, 'https')).toBe('HIT http 3');
  // A write over https drops what http stored, and the other way.
  expect(await overTls(secure, '/pages/edit', 'POST')).toBe('204');
  expect(await viaProxy(plain, 'http')).toBe('MISS http 4');
  expect(await overTls(secure)).toBe('MISS https 5');
  expect(await viaProxy(plain, 'http', '/page', 'DELETE')).toBe('204');
  expect(await overTls(secure)).toBe('MISS https 6');
}

describe('node:http', () => {
  it('keeps an answer per connection scheme (socket.encrypted); writes reach both', async () => {
    const mw = createHttpCache({ cache, rules, invalidate });
    const handler = (req: IncomingMessage, res: ServerResponse) =>
      void mw(req, res, () => {
        if (req.method !== 'GET') return void res.writeHead(204).end();
        const scheme = (req.socket as { encrypted?: boolean }).encrypted === true ? 'https' : 'http';
        res.end(`${scheme} ${++n}`);
      });
    const plain = await listen(handler);
    const secure = await listen(createHttpsServer(tls, handler) as unknown as Server);
    servers.push(plain, secure);
    await expectConnectionsApart(plain.url, secure.url.replace('http:', 'https:'));
  });
});

describe('Hono', () => {
  it('keeps an answer per request URL scheme; writes reach both', async () => {
    const app = new Hono();
    app.use(honoCache({ cache, rules, invalidate }));
    app.get('/page', (c) => c.text(`${new URL(c.req.url).protocol.slice(0, -1)} ${++n}`));
    app.post('/pages/edit', (c) => c.body(null, 204));
    app.delete('/page', (c) => c.body(null, 204));
    const plain = await listen(createAdaptorServer({ fetch: app.fetch }) as Server);
    const secure = await listen(
      createAdaptorServer({
        fetch: app.fetch,
        createServer: createHttpsServer,
        serverOptions: tls,
      }) as unknown as Server,
    );
    servers.push(plain, secure);
    await expectConnectionsApart(plain.url, secure.url.replace('http:', 'https:'));
  });
});

describe('what stands in for an answer', () => {
  it("a failing handler is never answered STALE with the other scheme's entry", async () => {
    let failing = false;
    const app = express();
    app.set('trust proxy', true);
    app.use(expressCache({ cache, rules: [{ path: '/page', ttl: '5m', grace: '1h' }] }));
    app.get('/page', (req, res) => {
      if (failing) return void res.status(503).send('down');
      res.send(`${req.protocol} ${++n}`);
    });
    const server = await listen((req, res) => app(req, res));
    servers.push(server);
    expect(await viaProxy(server.url, 'http')).toBe('MISS http 1');
    failing = true;
    const res = await rawRequest(`${server.url}/page`, { host: HOST, 'x-forwarded-proto': 'https' });
    expect([res.status, res.text]).toEqual([503, 'down']);
    // The http entry itself still answers http.
    expect(await viaProxy(server.url, 'http')).toBe('HIT http 1');
  });

  it("nor with another Vary variant's entry", async () => {
    let failing = false;
    const mw = createHttpCache({ cache, rules: [{ path: '/page', ttl: '5m', grace: '1h' }] });
    const server = await listen(
      (req, res) =>
        void mw(req, res, () => {
          if (failing) return void res.writeHead(503).end('down');
          res.setHeader('vary', 'accept-language');
          res.end(`${req.headers['accept-language'] as string} ${++n}`);
        }),
    );
    servers.push(server);
    const read = (lang: string) => rawRequest(`${server.url}/page`, { 'accept-language': lang });
    expect((await read('en')).text).toBe('en 1');
    failing = true;
    const fr = await read('fr');
    expect([fr.status, fr.text]).toEqual([503, 'down']);
  });

  it('an entry stored without a scheme (by an older version) answers no request', async () => {
    const mw = createHttpCache({ cache, rules });
    const server = await listen(
      (req, res) =>
        void mw(req, res, () => void res.end(`${req.headers['x-forwarded-proto'] as string} ${++n}`)),
    );
    servers.push(server);
    expect(await viaProxy(server.url, 'https')).toBe('MISS https 1');
    const key = `GET /page host=${HOST}`;
    const { scheme, ...older } = (await cache.get(key)) as Record<string, unknown>;
    expect(scheme).toBe('http');
    await cache.set(key, older);
    expect(await viaProxy(server.url, 'http')).toBe('MISS http 2');
    expect(await viaProxy(server.url, 'http')).toBe('HIT http 2');
  });
});
