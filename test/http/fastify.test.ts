import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCacheManager } from '../../src/cache/manager.js';
import type { CacheManager } from '../../src/cache/types.js';
import { fastifyCache } from '../../src/http/fastify.js';
import { deferred, type Deferred } from '../helpers/deferred.js';
import { rawRequest } from './helpers/server.js';

const KEY = 'fastify-admin-key-0123456789abcdef';
let now = 9_000_000;
let manager: CacheManager;
let app: FastifyInstance;
let base: string;
let calls: Record<string, number>;
let failing = false;
/** Holds the /api/slow handler until the test lets it answer. */
let slowGate: Deferred;

beforeEach(async () => {
  now = 9_000_000;
  calls = {};
  failing = false;
  slowGate = deferred();
  manager = createCacheManager({
    clock: () => now,
    caches: { url: { ttl: '1h' }, analytics: { ttl: '15m' } },
  });
  const count = (name: string) => (calls[name] = (calls[name] ?? 0) + 1);
  app = Fastify();
  await app.register(fastifyCache, {
    cache: manager,
    clock: () => now,
    user: (req) => req.headers['x-user'] as string | undefined,
    // Seed 004's CACHE_RULES, as they are written in its settings (ttl in seconds).
    rules: {
      '^/api/urls/$': { cache_type: 'url', ttl: 300, vary_by_user: true, vary_by_method: false },
      '^/api/urls/stats/$': { cache_type: 'analytics', ttl: 900, vary_by_user: true, vary_by_method: false },
      '/api/public/:id': { cache_type: 'url', ttl: 60, grace: 3600 },
      '/api/slow': { cache_type: 'url', ttl: 60 },
      '/api/big': { cache_type: 'url', ttl: 60, max_response_bytes: 10_000 },
      '/api/login': { cache_type: 'url', ttl: 60 },
    },
    invalidate: [
      { method: ['POST', 'PUT', 'DELETE'], path: '/api/urls/*', patterns: ['GET /api/urls/*'], cache: 'url' },
    ],
    admin: { apiKey: KEY, prefix: '/api/cache' },
  });
  app.get('/api/urls/', async (req) => ({ user: req.headers['x-user'] ?? null, n: count('urls') }));
  app.get('/api/urls/stats/', async (req) => ({ stats: req.headers['x-user'] ?? null, n: count('stats') }));
  app.get('/api/public/:id', async (req, reply) => {
    const n = count('public');
    if (failing) return reply.code(500).send({ error: 'down' });
    return { id: (req.params as { id: string }).id, n };
  });
  app.get('/api/slow', async () => {
    const n = count('slow');
    await slowGate.promise;
    return `slow ${n}`;
  });
  app.get('/api/big', async () => 'b'.repeat(20_000 + count('big')));
  app.get('/api/login', async (_req, reply) => {
    reply.header('set-cookie', ['sid=1', 'theme=dark']);
    return `login ${count('login')}`;
  });
  app.post('/api/urls/', async (req, reply) => {
    if ((req.body as { bad?: boolean } | undefined)?.bad) return reply.code(400).send({ error: 'bad' });
    return reply.code(201).send({ created: true });
  });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});
afterEach(async () => {
  slowGate.resolve(); // a failed test must not leave a handler hanging
  await app.close();
  await manager.close();
});

const get = (path: string, headers: Record<string, string> = {}) => fetch(base + path, { headers });

describe('fastifyCache (Fastify 5)', () => {
  it("caches seed 004's rules per user, each in its cache_type", async () => {
    expect(await (await get('/api/urls/', { 'x-user': 'u1' })).json()).toEqual({ user: 'u1', n: 1 });
    expect(await (await get('/api/urls/', { 'x-user': 'u2' })).json()).toEqual({ user: 'u2', n: 2 });
    const hit = await get('/api/urls/', { 'x-user': 'u1' });
    expect(hit.headers.get('x-cache')).toBe('HIT');
    expect(hit.headers.get('content-type')).toMatch(/application\/json/);
    expect(await hit.json()).toEqual({ user: 'u1', n: 1 });
    await get('/api/urls/stats/', { 'x-user': 'u1' });
    expect(
      manager
        .get('url')
        .entries()
        .map((e) => e.key)
        .sort(),
    ).toEqual(['u1', 'u2'].map((u) => `GET /api/urls/ host=${new URL(base).host} user=${u}`));
    expect(
      manager
        .get('analytics')
        .entries()
        .map((e) => e.key),
    ).toEqual([`GET /api/urls/stats/ host=${new URL(base).host} user=u1`]);
  });

  it('answers HIT with Age and ETag, 304 on If-None-Match, HEAD without body', async () => {
    await get('/api/public/7');
    now += 3_000;
    const hit = await get('/api/public/7');
    expect(hit.headers.get('x-cache')).toBe('HIT');
    expect(hit.headers.get('age')).toBe('3');
    const etag = hit.headers.get('etag')!;
    expect(etag).toMatch(/^"/);
    const cond = await rawRequest(`${base}/api/public/7`, { 'if-none-match': etag });
    expect(cond).toMatchObject({ status: 304, text: '' });
    const head = await rawRequest(`${base}/api/public/7`, {}, 'HEAD');
    expect(head.headers['x-cache']).toBe('HIT');
    expect(calls.public).toBe(1);
  });

  it('runs the handler once for concurrent misses, and serves STALE on a 500 within grace', async () => {
    const all = Promise.all(Array.from({ length: 6 }, () => get('/api/slow').then((r) => r.text())));
    // The handler answers only once the five other requests have joined its load.
    await vi.waitFor(() => expect(manager.get('url').stats().coalesced).toBe(5));
    slowGate.resolve();
    const bodies = await all;
    expect(new Set(bodies)).toEqual(new Set(['slow 1']));
    expect(calls.slow).toBe(1);
    await get('/api/public/9');
    now += 61_000;
    failing = true;
    const stale = await get('/api/public/9');
    expect(stale.status).toBe(200);
    expect(stale.headers.get('x-cache')).toBe('STALE');
    expect(await stale.json()).toEqual({ id: '9', n: 1 });
  });

  it('passes a large body through whole and never stores a response that sets cookies', async () => {
    expect((await (await get('/api/big')).text()).length).toBe(20_001);
    expect((await (await get('/api/big')).text()).length).toBe(20_002);
    const first = await get('/api/login');
    expect(first.headers.getSetCookie()).toEqual(['sid=1', 'theme=dark']);
    const second = await get('/api/login');
    expect(second.headers.get('x-cache')).toBe('MISS');
    expect(await second.text()).toBe('login 2');
  });

  it('does not cache a 500 and invalidates after a successful write only', async () => {
    failing = true;
    expect((await get('/api/public/1')).status).toBe(500);
    expect((await get('/api/public/1')).status).toBe(500);
    expect(calls.public).toBe(2);
    await get('/api/urls/', { 'x-user': 'u1' });
    const post = (body: unknown) =>
      fetch(`${base}/api/urls/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await post({ bad: true })).status).toBe(400);
    expect(manager.get('url').stats().size).toBe(1);
    expect((await post({})).status).toBe(201);
    expect(manager.get('url').stats().size).toBe(0);
  });

  it('mounts the admin API: key required, stats, config, malformed body, dashboard public', async () => {
    await get('/api/urls/', { 'x-user': 'u1' });
    const admin = (method: string, path: string, key: string | null, body?: string) =>
      fetch(`${base}/api/cache/${path}`, {
        method,
        headers: {
          ...(key === null ? {} : { 'x-api-key': key }),
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        body,
      });
    expect((await admin('GET', 'stats', null)).status).toBe(401);
    expect((await admin('POST', 'clear/url', 'z'.repeat(KEY.length))).status).toBe(401);
    expect(manager.get('url').stats().size).toBe(1);
    const stats = (await (await admin('GET', 'stats', KEY)).json()) as {
      caches: Record<string, { size: number }>;
    };
    expect(stats.caches.url!.size).toBe(1);
    const bad = await admin('POST', 'invalidate', KEY, '{"patterns": [');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/not valid JSON/);
    expect((await admin('POST', 'config/analytics', KEY, '{"enabled": false}')).status).toBe(200);
    expect(manager.get('analytics').enabled).toBe(false);
    expect((await admin('POST', 'clear/nope', KEY)).status).toBe(404);
    const metrics = await (await admin('GET', 'metrics', KEY)).text();
    expect(metrics).toMatch(/^larder_cache_entries\{cache="url"\} 1$/m);
    expect((await fetch(`${base}/api/cache/dashboard`)).status).toBe(200);
  });

  it('takes one trailing slash on every admin route, as the admin router does', async () => {
    await get('/api/urls/', { 'x-user': 'u1' });
    const admin = (method: string, path: string) =>
      fetch(`${base}/api/cache/${path}`, { method, headers: { 'x-api-key': KEY } });
    for (const path of ['stats', 'health', 'performance', 'metrics', 'advisor', 'config', 'config/url']) {
      const [bare, slashed] = [await admin('GET', path), await admin('GET', `${path}/`)];
      expect(slashed.status, path).not.toBe(404);
      expect([slashed.status, slashed.headers.get('content-type')], path).toEqual([
        bare.status,
        bare.headers.get('content-type'),
      ]);
    }
    expect((await admin('GET', 'dashboard/')).status).toBe(200);
    expect((await admin('POST', 'clear/url/')).status).toBe(200);
    expect(manager.get('url').stats().size).toBe(0);
    expect((await admin('GET', 'stats//')).status).toBe(404); // one slash, not two
  });
});

describe('fastifyCache under a router that ignores duplicate slashes', () => {
  let dup: FastifyInstance;
  let url: string;
  let items: Record<string, number>;
  beforeEach(async () => {
    items = { '1': 1, '2': 1 };
    dup = Fastify({ routerOptions: { ignoreDuplicateSlashes: true } });
    await dup.register(fastifyCache, {
      cache: manager,
      clock: () => now,
      rules: [{ path: '/api/*', ttl: '1h', cache: 'url' }],
      invalidate: [{ method: 'PUT', path: '/api/items/:id', patterns: ['GET /api/list *'], cache: 'url' }],
    });
    dup.get('/api/items/:id', async (req) => `item v${items[(req.params as { id: string }).id]}`);
    dup.get('/api/list', async () => `list v${items['1']}`);
    dup.put('/api/items/:id', async (req, reply) => {
      items[(req.params as { id: string }).id]! += 1;
      return reply.code(204).send();
    });
    url = await dup.listen({ port: 0, host: '127.0.0.1' });
  });
  afterEach(() => dup.close());

  const send = async (path: string, method = 'GET') => (await rawRequest(url + path, {}, method)).text;

  it('never serves what a write removed, whichever of the two spellings the read or the write used', async () => {
    // Fastify routes `/api//items/1` to the `/api/items/:id` handler.
    expect(await send('/api//items/1')).toBe('item v1');
    await send('/api/items/1', 'PUT');
    expect(await send('/api//items/1')).toBe('item v2');
    // The write spelled with an empty segment reaches the entry of the normal path, and its write rule.
    expect(await send('/api/items/2')).toBe('item v1');
    expect(await send('/api/list')).toBe('list v2');
    await send('/api//items/2', 'PUT');
    expect(await send('/api/items/2')).toBe('item v2');
    await send('/api//items/1', 'PUT');
    expect(await send('/api/list')).toBe('list v3');
  });
});
