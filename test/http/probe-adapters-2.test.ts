// Probes of the adapters side by side, over real servers on loopback ports: what a handler that fails
// part-way through its body leaves on the connection, under each framework's own error handling.
import { createAdaptorServer, type HttpBindings } from '@hono/node-server';
import express from 'express';
import Koa from 'koa';
import Fastify from 'fastify';
import { Hono } from 'hono';
import fastify4, { type FastifyPluginCallback } from 'fastify-4';
import { connect, type AddressInfo } from 'node:net';
import { createServer, request, type Server } from 'node:http';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import type { Cache } from '../../src/cache/types.js';
import { expressCache } from '../../src/http/express.js';
import { fastifyCache, type FastifyCacheOptions } from '../../src/http/fastify.js';
import { honoCache } from '../../src/http/hono.js';
import { createHttpCache } from '../../src/http/http-cache.js';
import { koaCache } from '../../src/http/koa.js';
import { deferred, type Deferred } from '../helpers/deferred.js';
import { listen, rawRequest, receivedWhileOpen, type TestServer } from './helpers/server.js';

let cache: Cache;
let closers: (() => Promise<unknown>)[];
/** Whether the streamed route fails after its first chunk. */
let failing: boolean;

beforeEach(() => {
  cache = createCache({ name: 'http' });
  closers = [];
  failing = true;
});
afterEach(async () => {
  for (const close of closers) await close();
  await cache.close();
});

/** A body of two chunks; when failing, the stream errors where its second chunk would be. */
function body(): Readable {
  let reads = 0;
  const fail = failing;
  return new Readable({
    read() {
      reads++;
      if (reads === 1) this.push('partial-data-');
      else if (fail) this.destroy(new Error('upstream broke mid-stream'));
      else {
        this.push('rest');
        this.push(null);
      }
    },
  });
}

/**
 * Sends `GET /s` then `GET /ok` pipelined on one connection (the second asking to close it) and
 * resolves with every byte that came back once the connection closed.
 */
function pipelined(url: string): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.write(
        'GET /s HTTP/1.1\r\nHost: a\r\n\r\nGET /ok HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
      );
    });
    let out = '';
    socket.on('data', (chunk: Buffer) => (out += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(out));
  });
}

/**
 * Splits what a connection carried into responses by their Content-Length, failing when the bytes
 * after one response are not the start of the next (a body longer than its Content-Length).
 */
function framed(raw: string): { head: string; body: string }[] {
  const out: { head: string; body: string }[] = [];
  let rest = raw;
  while (rest !== '') {
    expect(rest.startsWith('HTTP/1.1 ')).toBe(true);
    const end = rest.indexOf('\r\n\r\n');
    if (end === -1) break;
    const head = rest.slice(0, end);
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (length === null) break; // chunked or close-delimited: the last thing on the connection
    const size = Number(length[1]);
    out.push({ head, body: rest.slice(end + 4, end + 4 + size) });
    rest = rest.slice(end + 4 + size);
  }
  return out;
}

async function expressApp(): Promise<string> {
  const app = express();
  app.use(expressCache({ cache, rules: [{ path: '/*', ttl: '5m' }] }));
  app.get('/s', (_req, res, next) => {
    res.type('text/plain');
    // The usual Express idiom: a failing stream goes to the error handler.
    body().on('error', next).pipe(res);
  });
  app.get('/ok', (_req, res) => void res.send('fine'));
  const server: TestServer = await listen(createServer(app));
  closers.push(() => server.close());
  return server.url;
}

async function fastifyApp(): Promise<string> {
  const app = Fastify();
  await app.register(fastifyCache, { cache, rules: [{ path: '/*', ttl: '5m' }] });
  app.get('/s', (_req, reply) => reply.type('text/plain').send(body()));
  app.get('/ok', () => 'fine');
  await app.listen({ port: 0, host: '127.0.0.1' });
  closers.push(() => app.close());
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

describe.each([
  ['express', expressApp],
  ['fastify', fastifyApp],
])('a stream that fails part-way on a miss (%s)', (_name, start) => {
  it('never sends its part glued to an error page, and stores nothing', async () => {
    const url = await start();
    const raw = await pipelined(url);
    // The framework's error page must not follow the part already captured under the page's own
    // Content-Length: the extra bytes would be read as the start of the next response.
    for (const { body: text } of framed(raw)) expect(text).not.toContain('partial-data-');
    failing = false;
    const next = await rawRequest(`${url}/s`);
    expect(next).toMatchObject({ status: 200, text: 'partial-data-rest' });
    expect(next.headers['x-cache']).toBe('MISS');
    expect((await rawRequest(`${url}/s`)).headers['x-cache']).toBe('HIT');
  });
});

/**
 * Fastify 4 (by default) and Fastify 5 with `useSemicolonDelimiter` route `/items/1;x` as `/items/1`:
 * the rest is a query to them. An answer stored under that spelling was out of reach of the writes
 * to `/items/1`, and under a `shared` catch-all it held a per-user page.
 */
describe.each([
  ['its URI', {}],
  [
    'a write rule',
    {
      invalidateOnWrite: false,
      invalidate: [{ method: 'PUT', path: '/items/:id', tags: ['item:{id}'] }],
    },
  ],
] as const)(
  'a path spelled with a semicolon (Fastify 4 routes it as the path before it; writes invalidate by %s)',
  (_by, writes) => {
    let version: number;
    let url: string;

    beforeEach(async () => {
      version = 1;
      const app = fastify4();
      await app.register(fastifyCache as unknown as FastifyPluginCallback<FastifyCacheOptions>, {
        cache,
        user: (req) => (typeof req.headers['x-user'] === 'string' ? req.headers['x-user'] : undefined),
        rules: [
          { path: '/items/:id', ttl: '1m', tags: ['item:{id}'] },
          { path: '/me', perUser: true, ttl: '1m' },
          { path: '/*', ttl: '1m', shared: true },
        ],
        ...writes,
      });
      app.get('/items/:id', (req) => `item ${(req.params as { id: string }).id} v${version}`);
      app.put('/items/:id', async (_req, reply) => {
        version++;
        return reply.code(204).send();
      });
      app.post('/items', async (_req, reply) => {
        version++;
        return reply.code(201).header('location', '/items/1;rev=2').send();
      });
      app.get('/me', (req) => `me ${String(req.headers['x-user'])}`);
      await app.listen({ port: 0, host: '127.0.0.1' });
      closers.push(() => app.close());
      url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    });

    it('is never served after a write to the path it is routed as', async () => {
      expect((await rawRequest(`${url}/items/1;x`)).text).toBe('item 1 v1');
      expect((await rawRequest(`${url}/items/1`, {}, 'PUT')).status).toBe(204);
      expect((await rawRequest(`${url}/items/1;x`)).text).toBe('item 1 v2');
    });

    it('a write so spelled invalidates the path it is routed as', async () => {
      expect((await rawRequest(`${url}/items/1`)).text).toBe('item 1 v1');
      expect((await rawRequest(`${url}/items/1;x`, {}, 'PUT')).status).toBe(204);
      expect((await rawRequest(`${url}/items/1`)).text).toBe('item 1 v2');
    });

    // Location is invalidated by the write's URI invalidation only.
    it.skipIf('invalidateOnWrite' in writes)(
      'a Location so spelled invalidates the path it is routed as',
      async () => {
        expect((await rawRequest(`${url}/items/1`)).text).toBe('item 1 v1');
        expect((await rawRequest(`${url}/items`, {}, 'POST')).status).toBe(201);
        expect((await rawRequest(`${url}/items/1`)).text).toBe('item 1 v2');
      },
    );

    it("never stores one user's page under a shared rule", async () => {
      expect((await rawRequest(`${url}/me;x`, { 'x-user': 'alice' })).text).toBe('me alice');
      expect((await rawRequest(`${url}/me;x`, { 'x-user': 'bob' })).text).toBe('me bob');
    });
  },
);

/**
 * A `#` in a request line (which node:http accepts; only browsers strip the fragment) ends the path for
 * Express's and Koa's parseurl, Fastify's find-my-way and Hono's URL alike: `/items/1#x` is routed as
 * `/items/1`.
 */
describe('a path spelled with a # (every framework routes it as the path before it)', () => {
  let version: number;
  let url: string;

  beforeEach(async () => {
    version = 1;
    const app = express();
    app.use(
      expressCache({
        cache,
        user: (req) => (typeof req.headers['x-user'] === 'string' ? req.headers['x-user'] : undefined),
        rules: [
          { path: '/items/:id', ttl: '1m' },
          { path: '/me', perUser: true, ttl: '1m' },
          { path: '/*', ttl: '1m', shared: true },
        ],
      }),
    );
    app.get('/items/:id', (req, res) => void res.send(`item ${req.params.id} v${version}`));
    app.delete('/items/:id', (_req, res) => {
      version++;
      res.status(204).end();
    });
    app.get('/me', (req, res) => void res.send(`me ${String(req.headers['x-user'])}`));
    const server = await listen(createServer(app));
    closers.push(() => server.close());
    url = server.url;
  });

  it('a write so spelled invalidates the path it is routed as', async () => {
    expect((await rawRequest(`${url}/items/1`)).text).toBe('item 1 v1');
    expect((await rawRequest(url, {}, 'DELETE', '/items/1#x')).status).toBe(204);
    expect((await rawRequest(`${url}/items/1`)).text).toBe('item 1 v2');
  });

  it('is never served after a write to the path it is routed as', async () => {
    expect((await rawRequest(url, {}, 'GET', '/items/1#x')).text).toBe('item 1 v1');
    expect((await rawRequest(`${url}/items/1`, {}, 'DELETE')).status).toBe(204);
    expect((await rawRequest(url, {}, 'GET', '/items/1#x')).text).toBe('item 1 v2');
  });

  it("never stores one user's page under a shared rule", async () => {
    expect((await rawRequest(url, { 'x-user': 'alice' }, 'GET', '/me#x')).text).toBe('me alice');
    expect((await rawRequest(url, { 'x-user': 'bob' }, 'GET', '/me#x')).text).toBe('me bob');
  });
});

/**
 * A `#` in the query ends it for Express's and Koa's parseurl and Hono's URL (Fastify reads on): with
 * `?x=1#&q=evil` their handler sees no `q`, while a key template or varyQuery list read `q=evil`.
 */
describe('a query with a # (Express, Koa and Hono read the query only up to it)', () => {
  let url: string;

  beforeEach(async () => {
    const app = express();
    app.use(
      expressCache({
        cache,
        rules: [
          { path: '/search', ttl: '1m', key: 'search_{q}' },
          { path: '/list', ttl: '1m', varyQuery: ['q'] },
        ],
      }),
    );
    const answer = (req: express.Request, res: express.Response) =>
      void res.send(`results for ${typeof req.query.q === 'string' ? req.query.q : 'nothing'}`);
    app.get('/search', answer);
    app.get('/list', answer);
    const server = await listen(createServer(app));
    closers.push(() => server.close());
    url = server.url;
  });

  it.each(['/search', '/list'])('never stores the answer without q under the key of q (%s)', async (path) => {
    expect((await rawRequest(url, {}, 'GET', `${path}?x=1#&q=evil`)).text).toBe('results for nothing');
    expect((await rawRequest(`${url}${path}?q=evil`)).text).toBe('results for evil');
  });
});

describe('a handler that reuses its buffer once a write called back (as Node allows)', () => {
  it('is sent and stored as it wrote it, not as the buffer reads later', async () => {
    const core = createHttpCache({ cache, rules: [{ path: '/*', ttl: '1m' }] });
    const server = await listen((req, res) => {
      void core(req, res, async () => {
        const scratch = Buffer.alloc(4);
        for (const part of ['aaaa', 'bbbb', 'cccc']) {
          scratch.write(part);
          await new Promise<void>((resolve) => res.write(scratch, () => resolve()));
        }
        res.end();
      });
    });
    closers.push(() => server.close());
    const first = await rawRequest(`${server.url}/file`);
    expect(first).toMatchObject({ status: 200, text: 'aaaabbbbcccc' });
    const hit = await rawRequest(`${server.url}/file`);
    expect(hit).toMatchObject({ status: 200, text: 'aaaabbbbcccc', headers: { 'x-cache': 'HIT' } });
  });
});

describe("a write's Location on its own host, whose Host names the default https port", () => {
  it.each(['https://example.com/items/5', 'https://example.com:443/items/5'])(
    'invalidates the path it names (%s)',
    async (location) => {
      let version = 1;
      const core = createHttpCache({ cache, rules: [{ path: '/items/:id', ttl: '1m' }] });
      const server = await listen((req, res) => {
        void core(req, res, () => {
          if (req.method === 'POST') {
            version++;
            res.writeHead(201, { location });
            res.end();
          } else res.end(`item 5 v${version}`);
        });
      });
      closers.push(() => server.close());
      // A proxy forwarding `Host: $host:$server_port` for https traffic.
      const host = { host: 'example.com:443' };
      expect((await rawRequest(`${server.url}/items/5`, host)).text).toBe('item 5 v1');
      expect((await rawRequest(`${server.url}/items`, host, 'POST')).status).toBe(201);
      expect((await rawRequest(`${server.url}/items/5`, host)).text).toBe('item 5 v2');
    },
  );
});

describe.each([
  [
    'express',
    async (events: Deferred): Promise<string> => {
      const app = express();
      app.use(expressCache({ cache, rules: [{ path: '/api/*', ttl: '1m' }] }));
      app.get('/api/events', async (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        res.write('data: hello\n\n');
        await events.promise;
        res.end();
      });
      const server = await listen(createServer(app));
      closers.push(() => server.close());
      return server.url;
    },
  ],
  [
    'koa',
    async (events: Deferred): Promise<string> => {
      const app = new Koa();
      app.use(koaCache({ cache, rules: [{ path: '/api/*', ttl: '1m' }] }));
      app.use((ctx) => {
        const stream = new PassThrough();
        ctx.type = 'text/event-stream';
        ctx.set('cache-control', 'no-cache');
        ctx.body = stream;
        stream.write('data: hello\n\n');
        void events.promise.then(() => stream.end());
      });
      const server = await listen(createServer(app.callback()));
      closers.push(() => server.close());
      return server.url;
    },
  ],
])('a server-sent event stream under a cached path (%s)', (_name, start) => {
  it('reaches the client as it is written, not when it ends', async () => {
    const events = deferred();
    const url = await start(events);
    try {
      expect(await receivedWhileOpen(`${url}/api/events`, 'data: hello')).toContain('data: hello');
    } finally {
      events.resolve();
    }
  });
});

describe('a write whose client went away before it answered (hono)', () => {
  it('still invalidates what it changed', async () => {
    let version = 1;
    const entered = deferred();
    const clientGone = deferred();
    const app = new Hono<{ Bindings: HttpBindings }>();
    app.use(honoCache({ cache, rules: [{ path: '/items/:id', ttl: '1m' }] }));
    app.get('/items/:id', (c) => c.text(`item 1 v${version}`));
    app.delete('/items/:id', async (c) => {
      c.env.outgoing.once('close', () => clientGone.resolve());
      entered.resolve();
      await clientGone.promise;
      version++;
      return c.json({ deleted: true });
    });
    const server = await listen(createAdaptorServer({ fetch: app.fetch }) as Server);
    closers.push(() => server.close());
    expect((await rawRequest(`${server.url}/items/1`)).text).toBe('item 1 v1');
    const write = request(`${server.url}/items/1`, { method: 'DELETE' });
    write.on('error', () => undefined); // destroyed below, before the answer
    write.end();
    await entered.promise;
    write.destroy();
    await vi.waitFor(async () => expect((await rawRequest(`${server.url}/items/1`)).text).toBe('item 1 v2'));
  });
});
