// Headers set before the response cache ran the handler (an auth middleware's `X-User`, CORS's echoed
// origin, a request id) are that request's own: a shared answer must not carry one user's to another.
// They still count for caching (a `Vary` or `Cache-Control` set ahead of the cache is honoured), and
// every request, HIT or MISS, keeps its own. Over node:http, Koa and Fastify on 127.0.0.1.
import Fastify, { type FastifyInstance } from 'fastify';
import Koa from 'koa';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import type { Cache } from '../../src/cache/types.js';
import { fastifyCache } from '../../src/http/fastify.js';
import { createHttpCache, type HttpCacheOptions } from '../../src/http/http-cache.js';
import { koaCache } from '../../src/http/koa.js';
import { listen, rawRequest, type RawResponse, type TestServer } from './helpers/server.js';

const T0 = Date.UTC(2026, 11, 6, 12, 0, 0);
let now = T0;
let cache: Cache;
let server: TestServer | undefined;
let fastify: FastifyInstance | undefined;
let base: string;
let calls: number;

const as = (user: string, path = '/shared', headers: Record<string, string> = {}): Promise<RawResponse> =>
  rawRequest(base + path, { 'x-user': user, ...headers });

/** node:http (as Express runs it): `before` plays the middleware mounted ahead of the cache. */
async function startNode(
  before: (req: IncomingMessage, res: ServerResponse) => void,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  overrides: Partial<HttpCacheOptions> = {},
): Promise<void> {
  const mw = createHttpCache({ cache, clock: () => now, rules: [{ path: '/*', ttl: '5m' }], ...overrides });
  server = await listen((req, res) => {
    before(req, res);
    mw(req, res, () => {
      calls++;
      handler(req, res);
    }).catch(() => {
      res.statusCode = 500;
      res.end();
    });
  });
  base = server.url;
}

beforeEach(() => {
  now = T0;
  calls = 0;
  cache = createCache({ name: 'http', clock: () => now });
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  await fastify?.close();
  fastify = undefined;
  await cache.close();
});

describe('headers set before the handler ran', () => {
  it('are not replayed to another user, and each request keeps its own (node:http / Express)', async () => {
    await startNode(
      (req, res) => {
        res.setHeader('x-user-echo', String(req.headers['x-user']));
        res.setHeader('access-control-allow-origin', String(req.headers.origin ?? '*'));
      },
      (_req, res) => {
        res.setHeader('content-type', 'text/plain');
        res.setHeader('x-handler', 'yes');
        res.end(`shared ${calls}`);
      },
    );
    const alice = await as('alice', '/shared', { origin: 'https://a.example' });
    expect(alice.headers['x-cache']).toBe('MISS');
    expect(alice.headers['x-user-echo']).toBe('alice');
    expect(alice.headers['access-control-allow-origin']).toBe('https://a.example');
    const bob = await as('bob', '/shared', { origin: 'https://b.example' });
    expect(bob.headers['x-cache']).toBe('HIT');
    expect(bob.text).toBe('shared 1');
    expect(bob.headers['x-user-echo']).toBe('bob');
    expect(bob.headers['access-control-allow-origin']).toBe('https://b.example');
    // What the handler set is the stored answer's.
    expect(bob.headers['x-handler']).toBe('yes');
    expect(bob.headers['content-type']).toBe('text/plain');
  });

  it('a header the handler changed is its own and is stored', async () => {
    await startNode(
      (_req, res) => res.setHeader('x-frame', 'from-middleware'),
      (_req, res) => {
        res.setHeader('x-frame', 'from-handler');
        res.end('ok');
      },
    );
    await as('alice');
    const bob = await as('bob');
    expect(bob.headers['x-cache']).toBe('HIT');
    expect(bob.headers['x-frame']).toBe('from-handler');
  });

  it('a Vary set ahead of the cache still keys the stored answers', async () => {
    await startNode(
      (req, res) => {
        res.setHeader('vary', 'Accept-Language');
        (req as IncomingMessage & { lang?: string }).lang = String(req.headers['accept-language'] ?? 'en');
      },
      (req, res) => res.end(`hello in ${(req as IncomingMessage & { lang?: string }).lang}`),
    );
    expect((await as('alice', '/shared', { 'accept-language': 'fr' })).text).toBe('hello in fr');
    const fr = await as('carol', '/shared', { 'accept-language': 'fr' });
    expect(fr.headers['x-cache']).toBe('HIT');
    expect(fr.text).toBe('hello in fr');
    expect(fr.headers.vary).toBe('Accept-Language');
    const en = await as('bob', '/shared', { 'accept-language': 'en' });
    expect(en.text).toBe('hello in en');
  });

  it('a Cache-Control: private set ahead of the cache still keeps the response out', async () => {
    await startNode(
      (_req, res) => res.setHeader('cache-control', 'private'),
      (req, res) => res.end(`for ${String(req.headers['x-user'])}`),
    );
    await as('alice');
    const bob = await as('bob');
    expect(bob.text).toBe('for bob');
    expect(calls).toBe(2);
  });

  it('are not replayed to another user over Koa', async () => {
    const app = new Koa();
    app.use(async (ctx, next) => {
      ctx.set('x-user-echo', String(ctx.get('x-user')));
      await next();
    });
    app.use(koaCache({ cache, clock: () => now, rules: [{ path: '/*', ttl: '5m' }] }));
    app.use((ctx) => {
      calls++;
      ctx.body = `shared ${calls}`;
    });
    server = await listen(app.callback());
    base = server.url;
    expect((await as('alice')).headers['x-user-echo']).toBe('alice');
    const bob = await as('bob');
    expect(bob.headers['x-cache']).toBe('HIT');
    expect(bob.text).toBe('shared 1');
    expect(bob.headers['x-user-echo']).toBe('bob');
  });

  it('are not replayed to another user over Fastify, and a HIT keeps the earlier hooks’ own', async () => {
    fastify = Fastify();
    fastify.addHook('onRequest', async (request, reply) => {
      reply.header('x-user-echo', String(request.headers['x-user']));
    });
    await fastify.register(fastifyCache, { cache, clock: () => now, rules: [{ path: '/*', ttl: '5m' }] });
    fastify.get('/shared', async (_request, reply) => {
      calls++;
      reply.header('x-handler', 'yes');
      return `shared ${calls}`;
    });
    base = await fastify.listen({ port: 0, host: '127.0.0.1' });
    const alice = await as('alice');
    expect(alice.headers['x-user-echo']).toBe('alice');
    const bob = await as('bob');
    expect(bob.headers['x-cache']).toBe('HIT');
    expect(bob.text).toBe('shared 1');
    expect(bob.headers['x-user-echo']).toBe('bob');
    expect(bob.headers['x-handler']).toBe('yes');
  });
});
