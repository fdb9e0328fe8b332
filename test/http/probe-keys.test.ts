// Hostile probes of HTTP cache keys: two requests that the handler answers differently must never
// share one stored response (real HTTP on 127.0.0.1).
import express from 'express';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import type { Cache } from '../../src/cache/types.js';
import { expressCache } from '../../src/http/express.js';
import { fastifyCache } from '../../src/http/fastify.js';
import { createHttpCache } from '../../src/http/http-cache.js';
import type { CacheRule } from '../../src/http/rules.js';
import { parse as parseQs } from 'qs';
import { listen, type TestServer } from './helpers/server.js';
import { rawRequest } from './helpers/server.js';

let cache: Cache;
let app: FastifyInstance | undefined;
let url = '';

beforeEach(() => {
  cache = createCache({ name: 'api', ttl: '5m', clock: () => 5_000_000 });
});
afterEach(async () => {
  await app?.close();
  app = undefined;
  await cache.close();
});

/** A Fastify app whose /search echoes `q` as Fastify's query parser (fast-querystring) reads it. */
async function searchApp(rules: CacheRule<FastifyRequest>[]): Promise<void> {
  app = Fastify();
  await app.register(fastifyCache, { cache, clock: () => 5_000_000, rules });
  app.get('/search', async (req) => ({ q: (req.query as { q?: string }).q }));
  url = await app.listen({ port: 0, host: '127.0.0.1' });
}

const search = async (query: string) => {
  const res = await rawRequest(url, {}, 'GET', `/search?${query}`);
  return { q: (JSON.parse(res.text) as { q: unknown }).q, cache: res.headers['x-cache'] };
};

describe('query strings that the key read alike but the handler does not', () => {
  it.each<[string, CacheRule<FastifyRequest>]>([
    ['the default key', { path: '/search', ttl: '5m' }],
    ['a key template', { path: '/search', ttl: '5m', key: 'search_{q}' }],
  ])(
    '%s keeps escapes that do not decode as UTF-8 apart from each other and from U+FFFD',
    async (_, rule) => {
      await searchApp([rule]);
      // fast-querystring (Fastify), qs (Express 4's default parser) and Hono keep an undecodable value as
      // written, while URLSearchParams, which the key was built from, reads the first three as U+FFFD.
      const queries = ['q=%C0', 'q=%C1', 'q=%EF%BF%BD', 'q=a%20b%', 'q=a+b%25'];
      const first = [];
      for (const query of queries) first.push(await search(query));
      const again = [];
      for (const query of queries) again.push((await search(query)).q);
      expect(first.map((r) => r.q)).toEqual(['%C0', '%C1', '\uFFFD', 'a%20b%', 'a b%']);
      expect(again).toEqual(['%C0', '%C1', '\uFFFD', 'a%20b%', 'a b%']);
      // A query that decodes is still cached.
      expect((await search('q=caf%C3%A9')).cache).toBe('MISS');
      expect(await search('q=caf%C3%A9')).toEqual({ q: 'café', cache: 'HIT' });
    },
  );
});

describe('a key template over query values', () => {
  it('does not key a repeated param, which the handler reads as a list, as its first value', async () => {
    await searchApp([{ path: '/search', ttl: '5m', key: 'search_{q}' }]);
    // Fastify (and Express) hand the handler ['a', 'evil']: its answer must not become that of ?q=a.
    expect(await search('q=a&q=evil')).toEqual({ q: ['a', 'evil'], cache: undefined });
    expect(await search('q=a')).toEqual({ q: 'a', cache: 'MISS' });
    expect(await search('q=a')).toEqual({ q: 'a', cache: 'HIT' });
    expect(await search('q=evil&q=a')).toEqual({ q: ['evil', 'a'], cache: undefined });
    // A param the template does not name may repeat: the key does not hold it.
    expect(await search('q=a&x=1&x=2')).toEqual({ q: 'a', cache: 'HIT' });
  });
});

describe('present but empty versus absent', () => {
  it('a key template does not key ?flag (present, empty) as it keys a request without it', async () => {
    await searchApp([{ path: '/search', ttl: '5m', key: 'search_{q}' }]);
    // A presence flag: Fastify's parser gives '' for ?q and ?q=, undefined without it.
    expect((await search('q')).q).toBe('');
    expect((await search('q=')).q).toBe('');
    expect(await search('x=1')).toEqual({ q: undefined, cache: 'MISS' });
    expect(await search('x=1')).toEqual({ q: undefined, cache: 'HIT' });
    expect((await search('q')).q).toBe('');
  });

  it('a varied header sent empty is not keyed as the header left out', async () => {
    app = Fastify();
    await app.register(fastifyCache, {
      cache,
      clock: () => 5_000_000,
      rules: [{ path: '/home', ttl: '5m', varyHeaders: ['x-tenant'] }],
    });
    app.get('/home', async (req) => ({ tenant: req.headers['x-tenant'] ?? 'default' }));
    url = await app.listen({ port: 0, host: '127.0.0.1' });
    const home = async (headers: Record<string, string>) =>
      (JSON.parse((await rawRequest(url, headers, 'GET', '/home')).text) as { tenant: string }).tenant;
    expect(await home({ 'x-tenant': '' })).toBe('');
    expect(await home({})).toBe('default');
    expect(await home({})).toBe('default');
    expect(await home({ 'x-tenant': '' })).toBe('');
  });
});

describe('a varyQuery list', () => {
  it("does not leave out a listed param written with brackets, which Express 4's qs reads as that param", async () => {
    const mw = createHttpCache({
      cache,
      clock: () => 5_000_000,
      rules: [{ path: '/search', ttl: '5m', varyQuery: ['q'] }],
    });
    // Express 4's default query parser (extended: qs) reads q[]=x and q[0]=x as q = ['x'].
    const server: TestServer = await listen(
      (req, res) =>
        void mw(req, res, () => {
          const q = parseQs(req.url!.split('?')[1] ?? '').q;
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ q: q ?? null }));
        }),
    );
    try {
      const get = async (target: string) => (await rawRequest(server.url, {}, 'GET', target)).text;
      expect(await get('/search?q[]=evil')).toBe('{"q":["evil"]}');
      expect(await get('/search?q[0]=evil')).toBe('{"q":["evil"]}');
      expect(await get('/search')).toBe('{"q":null}');
      expect(await get('/search')).toBe('{"q":null}');
    } finally {
      await server.close();
    }
  });
});

describe("params past a parser's limit", () => {
  it.each<[string, CacheRule]>([
    ['a key template', { path: '/search', ttl: '5m', key: 'search_{q}' }],
    ['a varyQuery list', { path: '/search', ttl: '5m', varyQuery: ['q'] }],
  ])(
    "%s does not key a param the handler's parser dropped (Express 5, Koa: 1,000 params)",
    async (_, rule) => {
      const app = express();
      app.use(expressCache({ cache, clock: () => 5_000_000, rules: [rule] }));
      app.get('/search', (req, res) => void res.json({ q: req.query.q ?? null }));
      const server: TestServer = await listen(app);
      try {
        const get = async (query: string) =>
          (JSON.parse((await rawRequest(server.url, {}, 'GET', `/search?${query}`)).text) as { q: unknown })
            .q;
        const padding = Array.from({ length: 1000 }, (_, i) => `p${i}=`).join('&');
        // Express 5's parser (node:querystring) reads 1,000 params: q, the 1,001st, never reaches the handler.
        expect(await get(`${padding}&q=evil`)).toBeNull();
        expect(await get('q=evil')).toBe('evil');
      } finally {
        await server.close();
      }
    },
  );
});

describe('a query that starts with ?', () => {
  it.each<[string, CacheRule<FastifyRequest>]>([
    ['the default key', { path: '/search', ttl: '5m' }],
    ['a key template', { path: '/search', ttl: '5m', key: 'search_{q}' }],
    ['a varyQuery list', { path: '/search', ttl: '5m', varyQuery: ['q'] }],
  ])('%s does not read ??q=evil as ?q=evil (the handler reads a param named ?q)', async (_, rule) => {
    await searchApp([rule]);
    expect((await search('?q=evil')).q).toBeUndefined();
    expect((await search('q=evil')).q).toBe('evil');
  });
});

describe('what user() returns', () => {
  it.each<[string, (id: string) => unknown]>([
    ['an object', (id) => ({ id })],
    ['a boolean', (id) => id !== ''],
    ['NaN', (id) => Number(`x${id}`)],
  ])(
    "refuses %s, which would name every user alike, instead of sharing one user's answer",
    async (_, who) => {
      app = Fastify();
      await app.register(fastifyCache, {
        cache,
        clock: () => 5_000_000,
        // A JavaScript caller (or an `any`) can hand back what the type forbids.
        user: (req) => who(req.headers['x-user'] as string) as string,
        rules: [{ path: '/me', ttl: '5m', perUser: true }],
      });
      app.get('/me', async (req) => ({ me: req.headers['x-user'] }));
      url = await app.listen({ port: 0, host: '127.0.0.1' });
      const alice = await rawRequest(url, { 'x-user': 'alice' }, 'GET', '/me');
      const bob = await rawRequest(url, { 'x-user': 'bob' }, 'GET', '/me');
      expect(bob.text).not.toContain('alice');
      expect([alice.status, bob.status]).toEqual([500, 500]);
      expect(cache.stats().size).toBe(0);
    },
  );
});
