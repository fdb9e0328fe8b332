// The framework adapters against the previous major of each framework, which most running services
// still use: Express 4, Koa 2 and Fastify 4 (the devDependencies express-4, koa-2 and fastify-4 are
// npm aliases of them). The package's peer ranges admit these majors, so the two promises are checked
// here on each: a write removes what it changed, and one user's answer never reaches another.
import express4 from 'express-4';
import fastify4, { type FastifyPluginCallback } from 'fastify-4';
import Koa2 from 'koa-2';
import { afterEach, describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import type { Cache } from '../../src/cache/types.js';
import { expressCache } from '../../src/http/express.js';
import { fastifyCache, type FastifyCacheOptions } from '../../src/http/fastify.js';
import type { HttpCacheOptions } from '../../src/http/http-cache.js';
import { koaCache } from '../../src/http/koa.js';
import { listen } from './helpers/server.js';

/** What each app serves; the counters show whether a handler ran. */
class Backend {
  version = new Map<string, number>();
  calls = new Map<string, number>();

  count(route: string): number {
    const n = (this.calls.get(route) ?? 0) + 1;
    this.calls.set(route, n);
    return n;
  }
  item(id: string): string {
    this.count(`item ${id}`);
    return `item ${id} v${this.version.get(id) ?? 1}`;
  }
  write(id: string): void {
    this.version.set(id, (this.version.get(id) ?? 1) + 1);
  }
}

const rules = {
  rules: [
    { path: '/items/:id', ttl: '1m' },
    { path: '/me', perUser: true, ttl: '1m' },
    { path: '/login', ttl: '1m' },
    { path: '/private', ttl: '1m' },
  ],
} satisfies Pick<HttpCacheOptions, 'rules'>;

const userOf = (headers: Record<string, string | string[] | undefined>) =>
  typeof headers['x-user'] === 'string' ? headers['x-user'] : undefined;

/** Starts one framework's app on a loopback port; returns its base URL and how to stop it. */
type Start = (cache: Cache, backend: Backend) => Promise<{ url: string; close(): Promise<void> }>;

const apps: [string, Start][] = [
  [
    'Express 4',
    async (cache, backend) => {
      const app = express4();
      app.use(expressCache({ cache, ...rules, user: (req) => userOf(req.headers) }));
      app.get('/items/:id', (req, res) => void res.send(backend.item(req.params.id!)));
      app.put('/items/:id', (req, res) => {
        backend.write(req.params.id!);
        res.status(204).end();
      });
      app.get('/me', (req, res) => void res.send(`me ${String(userOf(req.headers))} ${backend.count('me')}`));
      app.get(
        '/login',
        (_req, res) => void res.cookie('sid', 'secret').send(`login ${backend.count('login')}`),
      );
      app.get('/private', (_req, res) => {
        res.set('cache-control', 'private, max-age=60');
        res.send(`private ${backend.count('private')}`);
      });
      const server = await listen((req, res) => app(req, res));
      return server;
    },
  ],
  [
    'Koa 2',
    async (cache, backend) => {
      const app = new Koa2();
      app.use(koaCache({ cache, ...rules, user: (ctx) => userOf(ctx.headers) }));
      app.use((ctx) => {
        const item = /^\/items\/([^/]+)$/.exec(ctx.path);
        if (item && ctx.method === 'PUT') {
          backend.write(item[1]!);
          ctx.status = 204;
        } else if (item && ctx.method === 'GET') ctx.body = backend.item(item[1]!);
        else if (ctx.path === '/me') ctx.body = `me ${String(userOf(ctx.headers))} ${backend.count('me')}`;
        else if (ctx.path === '/login') {
          ctx.cookies.set('sid', 'secret');
          ctx.body = `login ${backend.count('login')}`;
        } else if (ctx.path === '/private') {
          ctx.set('cache-control', 'private, max-age=60');
          ctx.body = `private ${backend.count('private')}`;
        }
      });
      return listen(app.callback());
    },
  ],
  [
    'Fastify 4',
    async (cache, backend) => {
      const app = fastify4();
      // Here the adapter's declarations name Fastify 5's types (the repo's `fastify`); an application on
      // Fastify 4 resolves them to its own, so only this test needs the cast.
      await app.register(fastifyCache as unknown as FastifyPluginCallback<FastifyCacheOptions>, {
        cache,
        ...rules,
        user: (req) => userOf(req.headers),
      });
      app.get('/items/:id', async (req) => backend.item((req.params as { id: string }).id));
      app.put('/items/:id', async (req, reply) => {
        backend.write((req.params as { id: string }).id);
        return reply.code(204).send();
      });
      app.get('/me', async (req) => `me ${String(userOf(req.headers))} ${backend.count('me')}`);
      app.get('/login', async (_req, reply) => {
        reply.header('set-cookie', 'sid=secret');
        return `login ${backend.count('login')}`;
      });
      app.get('/private', async (_req, reply) => {
        reply.header('cache-control', 'private, max-age=60');
        return `private ${backend.count('private')}`;
      });
      const url = await app.listen({ port: 0, host: '127.0.0.1' });
      return { url, close: () => app.close() };
    },
  ],
];

describe.each(apps)('%s', (_name, start) => {
  let cache: Cache;
  let backend: Backend;
  let app: { url: string; close(): Promise<void> };
  const request = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(app.url + path, init);
    return { status: res.status, cache: res.headers.get('x-cache'), text: await res.text() };
  };

  afterEach(async () => {
    await app.close();
    await cache.close();
  });

  async function boot(): Promise<void> {
    cache = createCache({ name: 'api' });
    backend = new Backend();
    app = await start(cache, backend);
  }

  it('stores a GET, and a write to its URI removes it', async () => {
    await boot();
    expect(await request('/items/1')).toMatchObject({ cache: 'MISS', text: 'item 1 v1' });
    expect(await request('/items/1')).toMatchObject({ cache: 'HIT', text: 'item 1 v1' });
    expect(backend.calls.get('item 1')).toBe(1);

    expect((await request('/items/1', { method: 'PUT' })).status).toBe(204);
    expect(await request('/items/1')).toMatchObject({ cache: 'MISS', text: 'item 1 v2' });
    expect(await request('/items/1')).toMatchObject({ cache: 'HIT', text: 'item 1 v2' });
  });

  it("keeps each user's answer to that user", async () => {
    await boot();
    expect((await request('/me', { headers: { 'x-user': 'alice' } })).text).toBe('me alice 1');
    expect((await request('/me', { headers: { 'x-user': 'bob' } })).text).toBe('me bob 2');
    expect(await request('/me', { headers: { 'x-user': 'alice' } })).toMatchObject({
      cache: 'HIT',
      text: 'me alice 1',
    });
  });

  it('never stores an answer that sets a cookie or says private', async () => {
    await boot();
    for (const path of ['/login', '/private']) {
      await request(path);
      const again = await request(path);
      expect(again.cache).not.toBe('HIT');
      expect(again.text).toMatch(/ 2$/);
    }
  });
});
