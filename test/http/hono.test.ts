// larder-cache/hono end to end: a real Hono 4 application served by @hono/node-server on a loopback port,
// with the injected clock. The cache runs over c.env.incoming / c.env.outgoing; on a miss the Response
// the Hono routes return is written through the cache's capture, and @hono/node-server is told the
// response was already sent.
import { createAdaptorServer, type HttpBindings } from '@hono/node-server';
import { Hono } from 'hono';
import type { Server, ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import type { Cache } from '../../src/cache/types.js';
import { honoAdmin, honoCache } from '../../src/http/hono.js';
import { deferred, type Deferred } from '../helpers/deferred.js';
import { listen, rawRequest, type RawResponse, type TestServer } from './helpers/server.js';

const KEY = 'hono-admin-key-0123456789abcdef0';
const SWR = 'max-age=1, stale-while-revalidate=60';
let now = 8_000_000;
let cache: Cache;
let server: TestServer;
let calls: Record<string, number>;
let failing: 'status' | 'throw' | false = false;
/** Holds a handler until the test lets it answer. */
let gate: Deferred;
/** Errors the routes threw, as Hono's onError saw them. */
let reported: Error[];
/** Per request, the status an outer middleware saw on c.res after the cache. */
let seenOutside: number[];
let value = 'v1';
let itemGate: { running: Deferred; release: Deferred } | undefined;
let putResponse: ServerResponse | undefined;

type AppEnv = { Bindings: HttpBindings; Variables: { user?: string } };

function makeApp(target: Cache, admin: ReturnType<typeof honoAdmin<AppEnv>>): Hono<AppEnv> {
  const count = (name: string) => (calls[name] = (calls[name] ?? 0) + 1);
  const app = new Hono<AppEnv>();
  app.onError((error, c) => {
    reported.push(error);
    return c.text('boom', 500);
  });
  app.use(async (c, next) => {
    await next();
    seenOutside.push(c.res.status);
  });
  // The app's authentication: verifies its own token header and sets the user before the cache.
  app.use(async (c, next) => {
    const token = c.req.header('x-token');
    if (token !== undefined) c.set('user', token);
    await next();
  });
  app.use(admin);
  app.use(
    honoCache<AppEnv>({
      cache: target,
      clock: () => now,
      user: (c) => c.get('user'),
      rules: [
        { path: '/orgs/:org/providers', ttl: '5m', tags: ['org:{org}'], grace: '1h' },
        { path: '/me', perUser: true, ttl: '1m' },
        { path: '/keyed', ttl: '1m', shared: true, key: (c) => `keyed:${c.get('user') ?? 'anon'}` },
        { path: '/public', ttl: '1m' },
        { path: '/stream', ttl: '1m' },
        { path: '/login', ttl: '1m' },
        { path: '/slow', ttl: '1m' },
        { path: '/big', ttl: '1m', maxResponseBytes: 1000 },
        { path: '/bigstream', ttl: '1m', maxResponseBytes: 1000 },
        { path: '/swr', ttl: '5m' },
        { path: '/items/:id', ttl: '5m' },
        { path: '/item', ttl: '1h', tags: ['item'] },
      ],
      invalidate: [
        { path: '/orgs/:org/providers/:provider/enable', tags: ['org:{org}'] },
        { path: '/item', tags: ['item'] },
      ],
    }),
  );
  app.get('/orgs/:org/providers', (c) => {
    const n = count('providers');
    if (failing === 'throw') throw new Error('upstream down');
    if (failing === 'status') return c.json({ error: 'upstream down' }, 502);
    return c.json({ org: c.req.param('org'), n });
  });
  app.post('/orgs/:org/providers/:provider/enable', async (c) => {
    const body = (await c.req.json()) as { fail?: boolean };
    if (body.fail) return c.json({ error: 'nope' }, 422);
    return c.body(null, 204);
  });
  app.get('/me', (c) => c.json({ user: c.get('user') ?? null, n: count('me') }));
  app.get('/keyed', (c) => c.text(`keyed ${c.get('user') ?? 'anon'} ${count('keyed')}`));
  app.get('/public', (c) => c.text(`public ${count('public')}`));
  app.get('/stream', (c) => {
    const n = count('stream');
    const parts = ['a', 'b', `${n}`];
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const part = parts.shift();
        if (part === undefined) controller.close();
        else controller.enqueue(new TextEncoder().encode(part));
      },
    });
    return c.body(body, 200, { 'content-type': 'text/plain' });
  });
  app.get('/login', (c) => {
    c.header('set-cookie', 'sid=abc', { append: true });
    c.header('set-cookie', 'theme=dark', { append: true });
    return c.text(`login ${count('login')}`);
  });
  app.get('/slow', async (c) => {
    const n = count('slow');
    await gate.promise;
    return c.text(`slow ${n}`);
  });
  app.get('/big', (c) => c.text('y'.repeat(5000 + count('big'))));
  app.get('/bigstream', (c) => {
    const n = count('bigstream');
    let left = 5;
    // Chunks come one at a time: the capture gives up after the second, the rest stream through.
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        await new Promise((resolve) => setImmediate(resolve));
        if (left-- === 0) controller.close();
        else controller.enqueue(new TextEncoder().encode(String(n).repeat(600)));
      },
    });
    return c.body(body, 200, { 'content-type': 'text/plain' });
  });
  app.get('/swr', async (c) => {
    const n = count('swr');
    if (n > 1) await gate.promise;
    return c.text(`swr ${n}`, 200, { 'cache-control': SWR });
  });
  app.get('/items/:id', (c) => c.text(`item ${c.req.param('id')} ${count(`item${c.req.param('id')}`)}`));
  app.put('/items/:id', (c) => c.body(null, 204, { location: '/items/2' }));
  app.get('/item', async (c) => {
    const read = value;
    if (count('item') === 1 && itemGate !== undefined) {
      itemGate.running.resolve();
      await itemGate.release.promise;
    }
    return c.text(read);
  });
  app.put('/item', (c) => {
    putResponse = c.env.outgoing;
    value = 'v2';
    return c.body(null, 204);
  });
  return app;
}

beforeEach(async () => {
  now = 8_000_000;
  calls = {};
  failing = false;
  gate = deferred();
  reported = [];
  seenOutside = [];
  value = 'v1';
  itemGate = undefined;
  putResponse = undefined;
  cache = createCache({ name: 'api', clock: () => now });
  const admin = honoAdmin<AppEnv>({ caches: { api: cache }, apiKey: KEY, prefix: '/api/cache' });
  const app = makeApp(cache, admin);
  server = await listen(createAdaptorServer({ fetch: app.fetch }) as Server);
  server.server.on('close', () => admin.close());
});
afterEach(async () => {
  gate.resolve(); // a failed test must not leave a handler hanging
  itemGate?.release.resolve();
  await server.close();
  await cache.close();
});

const get = (path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<RawResponse> =>
  rawRequest(server.url + path, headers, method);
const json = (r: RawResponse): unknown => JSON.parse(r.text);

describe('honoCache (Hono on @hono/node-server)', () => {
  it('MISS then HIT with Age, the ETag answered 304, and HEAD from the entry', async () => {
    const a = await get('/orgs/acme/providers');
    expect(a.headers['x-cache']).toBe('MISS');
    expect(json(a)).toEqual({ org: 'acme', n: 1 });
    now += 2_000;
    const b = await get('/orgs/acme/providers');
    expect(b.headers).toMatchObject({ 'x-cache': 'HIT', age: '2' });
    expect(b.headers['content-type']).toMatch(/application\/json/);
    expect(json(b)).toEqual({ org: 'acme', n: 1 });
    const etag = b.headers.etag as string;
    expect(etag).toMatch(/^"/);
    expect(await get('/orgs/acme/providers', { 'if-none-match': etag })).toMatchObject({
      status: 304,
      text: '',
    });
    const head = await get('/orgs/acme/providers', {}, 'HEAD');
    expect(head).toMatchObject({ status: 200, text: '', headers: { 'x-cache': 'HIT' } });
    expect(calls.providers).toBe(1);
    // An outer middleware sees the status that was sent, not a placeholder 200.
    expect(seenOutside).toEqual([200, 200, 304, 200]);
  });

  it('a HEAD miss runs the route without storing; the GET entry then answers HEAD', async () => {
    const head = await get('/public', {}, 'HEAD');
    expect(head).toMatchObject({ status: 200, text: '' });
    expect(head.headers['x-cache']).toBeUndefined();
    expect(cache.entries()).toHaveLength(0);
    await get('/public');
    expect((await get('/public', {}, 'HEAD')).headers['x-cache']).toBe('HIT');
    expect(calls.public).toBe(2);
  });

  it('stores a streamed Response body and replays it', async () => {
    expect((await get('/stream')).text).toBe('ab1');
    expect(await get('/stream')).toMatchObject({ text: 'ab1', headers: { 'x-cache': 'HIT' } });
    expect(calls.stream).toBe(1);
  });

  it('keeps users apart by the identity an upstream middleware set with c.set()', async () => {
    for (const round of [1, 2]) {
      for (const [token, n] of [
        ['a', 1],
        ['b', 2],
        [undefined, 3],
      ] as const) {
        const r = await get('/me', token === undefined ? {} : { 'x-token': token });
        expect(json(r)).toEqual({ user: token ?? null, n });
        expect(r.headers['x-cache']).toBe(round === 1 ? 'MISS' : 'HIT');
      }
    }
    expect(calls.me).toBe(3);
    expect(
      cache
        .entries()
        .map((e) => e.key)
        .sort(),
    ).toEqual(['', 'a', 'b'].map((u) => `GET /me host=${new URL(server.url).host} user=${u}`));
  });

  it('key functions receive the Hono context', async () => {
    await get('/keyed', { 'x-token': 'a' });
    const b = await get('/keyed', { 'x-token': 'b' });
    expect(b).toMatchObject({ text: 'keyed b 2', headers: { 'x-cache': 'MISS' } });
    expect(
      cache
        .entries()
        .map((e) => e.key)
        .sort(),
    ).toEqual(['keyed:a', 'keyed:b']);
  });

  it('bypasses requests with credentials on a shared rule, and never stores a response setting cookies', async () => {
    await get('/public');
    const withAuth = await get('/public', { authorization: 'Bearer x' });
    expect(withAuth.text).toBe('public 2');
    expect(withAuth.headers['x-cache']).toBeUndefined();
    expect((await get('/public', { cookie: 'sid=1' })).text).toBe('public 3');
    expect((await get('/public')).headers['x-cache']).toBe('HIT');
    const first = await get('/login');
    expect(first.headers['set-cookie']).toEqual(['sid=abc', 'theme=dark']);
    const second = await get('/login');
    expect(second).toMatchObject({ text: 'login 2', headers: { 'x-cache': 'MISS' } });
  });

  it('runs the route once for concurrent misses', async () => {
    const all = Promise.all(Array.from({ length: 6 }, () => get('/slow').then((r) => r.text)));
    await vi.waitFor(() => expect(cache.stats().coalesced).toBe(5));
    gate.resolve();
    expect(new Set(await all)).toEqual(new Set(['slow 1']));
    expect(calls.slow).toBe(1);
  });

  it('passes a body over the rule limit through whole and uncached, streamed or not', async () => {
    expect((await get('/big')).text.length).toBe(5001);
    expect((await get('/big')).text.length).toBe(5002);
    expect((await get('/bigstream')).text).toBe('1'.repeat(3000));
    expect((await get('/bigstream')).text).toBe('2'.repeat(3000));
  });

  it('serves STALE within grace when the route answers 5xx or throws', async () => {
    await get('/orgs/acme/providers');
    now += 6 * 60_000;
    failing = 'status';
    const a = await get('/orgs/acme/providers');
    expect(a).toMatchObject({ status: 200, headers: { 'x-cache': 'STALE' } });
    expect(json(a)).toEqual({ org: 'acme', n: 1 });
    failing = 'throw';
    const b = await get('/orgs/acme/providers');
    expect(b).toMatchObject({ status: 200, headers: { 'x-cache': 'STALE' } });
    expect(json(b)).toEqual({ org: 'acme', n: 1 });
    expect(reported.map((e) => e.message)).toEqual(['upstream down']);
    expect(calls.providers).toBe(3);
  });

  it("answers a throw with nothing stale through Hono's onError, and stores nothing", async () => {
    failing = 'throw';
    expect(await get('/orgs/acme/providers')).toMatchObject({ status: 500, text: 'boom' });
    failing = 'status';
    expect((await get('/orgs/acme/providers')).status).toBe(502);
    expect(cache.entries()).toHaveLength(0);
  });

  it('invalidates on a successful write only: the next read misses', async () => {
    await get('/orgs/acme/providers');
    await get('/orgs/globex/providers');
    const post = (body: unknown) =>
      fetch(`${server.url}/orgs/acme/providers/slack/enable`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await post({ fail: true })).status).toBe(422);
    expect((await get('/orgs/acme/providers')).headers['x-cache']).toBe('HIT');
    expect((await post({})).status).toBe(204);
    const after = await get('/orgs/acme/providers');
    expect(after.headers['x-cache']).toBe('MISS');
    expect(json(after)).toEqual({ org: 'acme', n: 3 });
    expect((await get('/orgs/globex/providers')).headers['x-cache']).toBe('HIT');
  });

  it('answers a write only after its invalidation: a GET after it never joins a pre-write load', async () => {
    itemGate = { running: deferred(), release: deferred() };
    const first = get('/item');
    await itemGate.running.promise;
    const put = await get('/item', {}, 'PUT');
    expect(put.status).toBe(204);
    expect(putResponse?.writableEnded).toBe(true);
    // The first GET (before the write) is still running its route; this one must not join it.
    const second = get('/item');
    await vi.waitFor(() => expect(calls.item).toBe(2));
    itemGate.release.resolve();
    const [a, b] = await Promise.all([first, second]);
    expect(a.text).toBe('v1');
    expect(b).toMatchObject({ text: 'v2', headers: { 'x-cache': 'MISS' } });
    expect(await get('/item')).toMatchObject({ text: 'v2', headers: { 'x-cache': 'HIT' } });
  });

  it('an unsafe method invalidates its own URI and its same-host Location (RFC 9111 §4.4)', async () => {
    for (const id of ['1', '2', '3']) await get(`/items/${id}`);
    expect((await get('/items/1', {}, 'PUT')).status).toBe(204);
    expect((await get('/items/1')).headers['x-cache']).toBe('MISS');
    expect((await get('/items/2')).headers['x-cache']).toBe('MISS');
    expect((await get('/items/3')).headers['x-cache']).toBe('HIT');
  });

  it('stale-while-revalidate answers STALE at once and refreshes through the Hono route in the background', async () => {
    expect((await get('/swr')).text).toBe('swr 1');
    now += 2_000;
    // The background run is held at the gate: both answers come from the cache meanwhile.
    expect(await get('/swr')).toMatchObject({ text: 'swr 1', headers: { 'x-cache': 'STALE' } });
    expect(await get('/swr')).toMatchObject({ text: 'swr 1', headers: { 'x-cache': 'STALE' } });
    expect(calls.swr).toBe(2);
    gate.resolve();
    await vi.waitFor(async () => expect((await get('/swr')).text).toBe('swr 2'));
    const refreshed = await get('/swr');
    expect(refreshed.headers).toMatchObject({ 'x-cache': 'HIT', 'cache-control': SWR });
    expect(calls.swr).toBe(2);
  });

  it('refuses to run without @hono/node-server (app.request has no node response)', async () => {
    const app = new Hono();
    app.onError((error, c) => c.text(error.message, 500));
    app.use(honoCache({ cache, rules: [{ path: '/x' }] }));
    app.get('/x', (c) => c.text('x'));
    const r = await app.request('/x');
    expect(r.status).toBe(500);
    expect(await r.text()).toMatch(/@hono\/node-server/);
  });
});

describe('honoAdmin (Hono on @hono/node-server)', () => {
  const admin = (method: string, path: string, key: string | null, body?: string) =>
    fetch(`${server.url}/api/cache/${path}`, {
      method,
      headers: {
        ...(key === null ? {} : { 'x-api-key': key }),
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body,
    });

  it('needs the key, then serves stats and invalidates', async () => {
    await get('/orgs/acme/providers');
    expect((await admin('GET', 'stats', null)).status).toBe(401);
    expect((await admin('GET', 'stats', 'w'.repeat(KEY.length))).status).toBe(401);
    const stats = await admin('GET', 'stats', KEY);
    expect(stats.status).toBe(200);
    const body = (await stats.json()) as { caches: { api: { entries: { key: string }[] } } };
    expect(body.caches.api.entries.map((e) => e.key)).toEqual([
      `GET /orgs/acme/providers host=${new URL(server.url).host}`,
    ]);
    expect((await admin('POST', 'invalidate', null, '{"tags":["org:acme"]}')).status).toBe(401);
    expect(cache.entries()).toHaveLength(1);
    const r = await admin('POST', 'invalidate', KEY, '{"tags":["org:acme"]}');
    expect(await r.json()).toMatchObject({ invalidated: 1 });
    expect(cache.entries()).toHaveLength(0);
  });

  it('answers malformed JSON with 400; paths outside its prefix go on to the app', async () => {
    expect((await admin('POST', 'invalidate', KEY, '{"tags": [')).status).toBe(400);
    expect((await admin('GET', 'nothing-here', KEY)).status).toBe(404);
    expect((await get('/public')).text).toBe('public 1');
    expect((await fetch(`${server.url}/api/cache/dashboard`)).status).toBe(200);
  });
});
