import express from 'express';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import type { Cache } from '../../src/cache/types.js';
import { expressAdmin, expressCache } from '../../src/http/express.js';
import { deferred, type Deferred } from '../helpers/deferred.js';
import { listen, rawRequest, type TestServer } from './helpers/server.js';

const KEY = 'express-admin-key-0123456789abcdef';
let now = 5_000_000;
let cache: Cache;
let server: TestServer;
let calls: Record<string, number>;
let failPlans = false;
/** Holds the /slow handler until the test lets it answer. */
let slowGate: Deferred;

beforeEach(async () => {
  now = 5_000_000;
  calls = {};
  failPlans = false;
  slowGate = deferred();
  cache = createCache({ name: 'api', clock: () => now });
  const count = (name: string) => (calls[name] = (calls[name] ?? 0) + 1);
  const app = express();
  app.use(express.json());
  const admin = expressAdmin({ caches: { api: cache }, apiKey: KEY });
  app.use('/api/cache', admin);
  app.use(
    expressCache({
      cache,
      clock: () => now,
      user: (req) => req.headers['x-user'] as string | undefined,
      rules: [
        { path: '/subscriptions/:org/providers', ttl: '5m', tags: ['org:{org}'], grace: '1h' },
        { path: '/me', perUser: true, ttl: '1m' },
        { path: '/login', ttl: '1m' },
        { path: '/slow', ttl: '1m' },
        { path: '/big', ttl: '1m', maxResponseBytes: 1000 },
      ],
      invalidate: [{ path: '/subscriptions/:org/providers/:provider/*', tags: ['org:{org}'] }],
    }),
  );
  app.get('/subscriptions/:org/providers', (req, res) => {
    const n = count('providers');
    if (failPlans) return void res.status(502).json({ error: 'upstream down' });
    res.json({ org: req.params.org, n });
  });
  app.post('/subscriptions/:org/providers/:provider/enable', (req, res) => {
    if (req.body?.fail) return void res.status(422).json({ error: 'nope' });
    res.status(204).end();
  });
  app.get('/me', (req, res) => void res.send(`me ${String(req.headers['x-user'])} ${count('me')}`));
  app.get('/login', (_req, res) => void res.cookie('sid', 'abc').send(`login ${count('login')}`));
  app.get('/slow', async (_req, res) => {
    const n = count('slow');
    await slowGate.promise;
    res.send(`slow ${n}`);
  });
  app.get('/big', (_req, res) => void res.send('y'.repeat(5000 + count('big'))));
  server = await listen((req, res) => app(req, res));
  server.server.on('close', () => admin.close());
});
afterEach(async () => {
  slowGate.resolve(); // a failed test must not leave a handler hanging
  await server.close();
  await cache.close();
});

const get = (path: string, headers: Record<string, string> = {}) => fetch(server.url + path, { headers });

describe('expressCache (Express 5)', () => {
  it('MISS then HIT with Age and a 304 for the ETag Express computed', async () => {
    const a = await get('/subscriptions/acme/providers');
    expect(a.headers.get('x-cache')).toBe('MISS');
    expect(await a.json()).toEqual({ org: 'acme', n: 1 });
    now += 2_000;
    const b = await get('/subscriptions/acme/providers');
    expect(b.headers.get('x-cache')).toBe('HIT');
    expect(b.headers.get('age')).toBe('2');
    expect(b.headers.get('content-type')).toMatch(/application\/json/);
    expect(await b.json()).toEqual({ org: 'acme', n: 1 });
    const etag = b.headers.get('etag')!;
    const cond = await rawRequest(server.url + '/subscriptions/acme/providers', { 'if-none-match': etag });
    expect(cond.status).toBe(304);
    expect(calls.providers).toBe(1);
  });

  it('keeps users apart and never stores a response that sets a cookie', async () => {
    expect(await (await get('/me', { 'x-user': 'a' })).text()).toBe('me a 1');
    expect(await (await get('/me', { 'x-user': 'b' })).text()).toBe('me b 2');
    expect(await (await get('/me', { 'x-user': 'a' })).text()).toBe('me a 1');
    await get('/login');
    const second = await get('/login');
    expect(second.headers.get('x-cache')).toBe('MISS');
    expect(second.headers.getSetCookie()[0]).toMatch(/^sid=abc/);
    expect(calls.login).toBe(2);
  });

  it('runs the handler once for concurrent misses', async () => {
    const all = Promise.all(Array.from({ length: 6 }, () => get('/slow').then((r) => r.text())));
    // The handler answers only once the five other requests have joined its load.
    await vi.waitFor(() => expect(cache.stats().coalesced).toBe(5));
    slowGate.resolve();
    const bodies = await all;
    expect(new Set(bodies)).toEqual(new Set(['slow 1']));
    expect(calls.slow).toBe(1);
  });

  it('serves STALE when the handler fails after the TTL, within grace', async () => {
    await get('/subscriptions/acme/providers');
    now += 6 * 60_000;
    failPlans = true;
    const r = await get('/subscriptions/acme/providers');
    expect(r.status).toBe(200);
    expect(r.headers.get('x-cache')).toBe('STALE');
    expect(await r.json()).toEqual({ org: 'acme', n: 1 });
  });

  it('passes a body over the rule limit through uncached', async () => {
    expect((await (await get('/big')).text()).length).toBe(5001);
    expect((await (await get('/big')).text()).length).toBe(5002);
  });

  it('invalidates on a successful write only', async () => {
    await get('/subscriptions/acme/providers');
    await get('/subscriptions/globex/providers');
    const post = (body: unknown) =>
      fetch(`${server.url}/subscriptions/acme/providers/slack/enable`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await post({ fail: true })).status).toBe(422);
    expect((await get('/subscriptions/acme/providers')).headers.get('x-cache')).toBe('HIT');
    expect((await post({})).status).toBe(204);
    expect((await get('/subscriptions/acme/providers')).headers.get('x-cache')).toBe('MISS');
    expect((await get('/subscriptions/globex/providers')).headers.get('x-cache')).toBe('HIT');
  });
});

describe('expressCache under a mount path', () => {
  it('matches rules against the full URL (req.originalUrl), not the mount-relative one', async () => {
    const mounted = createCache({ name: 'mounted' });
    const app = express();
    const router = express.Router();
    let n = 0;
    router.get('/items', (_req, res) => void res.send(`items ${++n}`));
    app.use('/v1', expressCache({ cache: mounted, rules: [{ path: '/v1/items' }] }), router);
    const own = await listen((req, res) => app(req, res));
    try {
      await fetch(`${own.url}/v1/items`);
      const hit = await fetch(`${own.url}/v1/items`);
      expect(hit.headers.get('x-cache')).toBe('HIT');
      expect(await hit.text()).toBe('items 1');
      expect(mounted.entries().map((e) => e.key)).toEqual([`GET /v1/items host=${new URL(own.url).host}`]);
    } finally {
      await own.close();
      await mounted.close();
    }
  });
});

describe('expressAdmin (Express 5)', () => {
  const admin = (method: string, path: string, key: string | null, body?: string) =>
    fetch(`${server.url}/api/cache/${path}`, {
      method,
      headers: {
        ...(key === null ? {} : { 'x-api-key': key }),
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body,
    });

  it('needs the key, then serves stats and invalidates (with a body express.json() already parsed)', async () => {
    await get('/subscriptions/acme/providers');
    expect((await admin('GET', 'stats', null)).status).toBe(401);
    expect((await admin('GET', 'stats', 'w'.repeat(KEY.length))).status).toBe(401);
    const stats = (await (await admin('GET', 'stats', KEY)).json()) as {
      caches: { api: { entries: { key: string }[] } };
    };
    expect(stats.caches.api.entries.map((e) => e.key)).toEqual([
      `GET /subscriptions/acme/providers host=${new URL(server.url).host}`,
    ]);
    expect((await admin('POST', 'invalidate', null, '{"tags":["org:acme"]}')).status).toBe(401);
    expect(cache.entries()).toHaveLength(1);
    const r = await admin('POST', 'invalidate', KEY, '{"tags":["org:acme"]}');
    expect(await r.json()).toMatchObject({ invalidated: 1 });
    expect(cache.entries()).toHaveLength(0);
  });

  it('answers malformed JSON with 400 and unknown admin paths fall through to the app', async () => {
    const bad = await admin('POST', 'invalidate', KEY, '{"tags": [');
    expect(bad.status).toBe(400);
    const wrongType = await admin('POST', 'invalidate', KEY, '{"tags": "org:acme"}');
    expect(((await wrongType.json()) as { error: string }).error).toMatch(/"tags" must be an array/);
    expect((await admin('GET', 'nothing-here', KEY)).status).toBe(404);
  });
});
