// larder-cache/koa end to end: a real Koa 3 application on a loopback port, with the injected clock. The
// cache runs as Koa middleware over ctx.req/ctx.res; Koa's own respond() writes ctx.body through the
// cache's capture on a miss, and a HIT turns Koa's response handling off.
import Koa from 'koa';
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import type { Cache } from '../../src/cache/types.js';
import { koaAdmin, koaCache, type KoaContext } from '../../src/http/koa.js';
import { deferred, type Deferred } from '../helpers/deferred.js';
import { listen, rawRequest, type RawResponse, type TestServer } from './helpers/server.js';

const KEY = 'koa-admin-key-0123456789abcdef01';
const SWR = 'max-age=1, stale-while-revalidate=60';
let now = 7_000_000;
let cache: Cache;
let server: TestServer;
let calls: Record<string, number>;
let failing: 'status' | 'throw' | false = false;
/** Holds a handler until the test lets it answer. */
let gate: Deferred;
/** Errors Koa reported through app.on('error'). */
let reported: unknown[];
/** Per request, whether Koa's own respond() was left on. */
let responds: boolean[];
let value = 'v1';

interface State {
  user?: string;
}
type Ctx = KoaContext<State>;
type Route = (ctx: Ctx) => void | Promise<void>;

/** A small router: `METHOD /path/:param` → handler, params on ctx.params. */
function routes(table: Record<string, Route>): Koa.Middleware<State> {
  const compiled = Object.entries(table).map(([spec, run]) => {
    const [method, path] = spec.split(' ') as [string, string];
    const names: string[] = [];
    const re = new RegExp(
      `^${path.replace(/:(\w+)/g, (_m, name: string) => (names.push(name), '([^/]+)'))}$`,
    );
    return { method, re, names, run };
  });
  return async (ctx) => {
    for (const route of compiled) {
      // Like koa-router, a GET route answers HEAD too (Koa drops the body).
      const method = ctx.method === 'HEAD' ? 'GET' : ctx.method;
      const m = route.method === method && route.re.exec(ctx.path);
      if (!m) continue;
      (ctx as Ctx & { params: Record<string, string> }).params = Object.fromEntries(
        route.names.map((n, i) => [n, m[i + 1]!]),
      );
      return route.run(ctx);
    }
  };
}

async function readBody(ctx: Ctx): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString();
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}

function makeApp(target: Cache, admin: ReturnType<typeof koaAdmin>): Koa<State> {
  const count = (name: string) => (calls[name] = (calls[name] ?? 0) + 1);
  const app = new Koa<State>();
  app.on('error', (error: unknown) => reported.push(error));
  // What Koa is told after the cache: whether it still writes a response of its own.
  app.use(async (ctx, next) => {
    await next();
    responds.push(ctx.respond !== false);
  });
  // The app's authentication: verifies its own token header and sets ctx.state.user before the cache.
  app.use(async (ctx, next) => {
    const token = ctx.get('x-token');
    if (token !== '') ctx.state.user = token;
    await next();
  });
  app.use(admin);
  app.use(
    koaCache<State>({
      cache: target,
      clock: () => now,
      user: (ctx) => ctx.state.user,
      rules: [
        { path: '/orgs/:org/providers', ttl: '5m', tags: ['org:{org}'], grace: '1h' },
        { path: '/me', perUser: true, ttl: '1m' },
        { path: '/keyed', ttl: '1m', shared: true, key: (ctx: Ctx) => `keyed:${ctx.state.user ?? 'anon'}` },
        { path: '/public', ttl: '1m' },
        { path: '/login', ttl: '1m' },
        { path: '/slow', ttl: '1m' },
        { path: '/big', ttl: '1m', maxResponseBytes: 1000 },
        { path: '/stream/:size', ttl: '1m', maxResponseBytes: 1000 },
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
  app.use(
    routes({
      'GET /orgs/:org/providers': (ctx) => {
        const n = count('providers');
        if (failing === 'throw') throw new Error('upstream down');
        if (failing === 'status') {
          ctx.status = 502;
          ctx.body = { error: 'upstream down' };
          return;
        }
        ctx.body = { org: (ctx as Ctx & { params: { org: string } }).params.org, n };
      },
      'POST /orgs/:org/providers/:provider/enable': async (ctx) => {
        const body = (await readBody(ctx)) as { fail?: boolean } | undefined;
        if (body?.fail) {
          ctx.status = 422;
          ctx.body = { error: 'nope' };
          return;
        }
        ctx.status = 204;
      },
      'GET /me': (ctx) => void (ctx.body = { user: ctx.state.user ?? null, n: count('me') }),
      'GET /keyed': (ctx) => void (ctx.body = `keyed ${ctx.state.user ?? 'anon'} ${count('keyed')}`),
      'GET /public': (ctx) => void (ctx.body = `public ${count('public')}`),
      'GET /login': (ctx) => {
        ctx.cookies.set('sid', 'abc');
        ctx.body = `login ${count('login')}`;
      },
      'GET /slow': async (ctx) => {
        const n = count('slow');
        await gate.promise;
        ctx.body = `slow ${n}`;
      },
      'GET /big': (ctx) => void (ctx.body = 'y'.repeat(5000 + count('big'))),
      'GET /stream/:size': (ctx) => {
        const n = count('stream');
        const size = Number((ctx as Ctx & { params: { size: string } }).params.size);
        // Koa pipes a stream body into the response: chunk by chunk, through the capture.
        ctx.type = 'text/plain';
        ctx.body = Readable.from(Array.from({ length: 5 }, () => String(n).repeat(size)));
      },
      'GET /swr': async (ctx) => {
        const n = count('swr');
        if (n > 1) await gate.promise;
        ctx.set('cache-control', SWR);
        ctx.body = `swr ${n}`;
      },
      'GET /items/:id': (ctx) => {
        const id = (ctx as Ctx & { params: { id: string } }).params.id;
        ctx.body = `item ${id} ${count(`item${id}`)}`;
      },
      'PUT /items/:id': (ctx) => {
        ctx.set('location', '/items/2');
        ctx.status = 204;
      },
      'GET /item': async (ctx) => {
        const read = value;
        if (count('item') === 1 && itemGate !== undefined) {
          itemGate.running.resolve();
          await itemGate.release.promise;
        }
        ctx.body = read;
      },
      'PUT /item': (ctx) => {
        putResponse = ctx.res;
        value = 'v2';
        ctx.status = 204;
      },
    }),
  );
  return app;
}

let itemGate: { running: Deferred; release: Deferred } | undefined;
let putResponse: ServerResponse | undefined;

beforeEach(async () => {
  now = 7_000_000;
  calls = {};
  failing = false;
  gate = deferred();
  reported = [];
  responds = [];
  value = 'v1';
  itemGate = undefined;
  putResponse = undefined;
  cache = createCache({ name: 'api', clock: () => now });
  const admin = koaAdmin({ caches: { api: cache }, apiKey: KEY, prefix: '/api/cache' });
  server = await listen(makeApp(cache, admin).callback());
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

describe('koaCache (Koa 3)', () => {
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
    expect(reported).toEqual([]);
    // Koa wrote the MISS (through the capture); the cache wrote the HIT, the 304 and the HEAD itself.
    expect(responds).toEqual([true, false, false, false]);
  });

  it('a HEAD miss runs the route without storing; the GET entry then answers HEAD', async () => {
    const head = await get('/public', {}, 'HEAD');
    expect(head).toMatchObject({ status: 200, text: '' });
    expect(cache.entries()).toHaveLength(0);
    await get('/public');
    expect((await get('/public', {}, 'HEAD')).headers['x-cache']).toBe('HIT');
    expect(calls.public).toBe(2);
  });

  it('keeps users apart by the identity an upstream middleware set on ctx.state', async () => {
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

  it('key functions receive the Koa context', async () => {
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

  it('bypasses requests with credentials on a shared rule, and never stores a response setting a cookie', async () => {
    await get('/public');
    const withAuth = await get('/public', { authorization: 'Bearer x' });
    expect(withAuth.text).toBe('public 2');
    expect(withAuth.headers['x-cache']).toBeUndefined();
    expect((await get('/public', { cookie: 'sid=1' })).text).toBe('public 3');
    expect((await get('/public')).headers['x-cache']).toBe('HIT');
    await get('/login');
    const second = await get('/login');
    expect(second).toMatchObject({ text: 'login 2', headers: { 'x-cache': 'MISS' } });
    expect((second.headers['set-cookie'] as string[])[0]).toMatch(/^sid=abc/);
  });

  it('runs the route once for concurrent misses', async () => {
    const all = Promise.all(Array.from({ length: 6 }, () => get('/slow').then((r) => r.text)));
    await vi.waitFor(() => expect(cache.stats().coalesced).toBe(5));
    gate.resolve();
    expect(new Set(await all)).toEqual(new Set(['slow 1']));
    expect(calls.slow).toBe(1);
  });

  it('passes a body over the rule limit through uncached', async () => {
    expect((await get('/big')).text.length).toBe(5001);
    expect((await get('/big')).text.length).toBe(5002);
    expect((await get('/stream/600')).text).toBe('1'.repeat(3000));
    expect((await get('/stream/600')).text).toBe('2'.repeat(3000));
  });

  it('stores a stream body Koa pipes into the response', async () => {
    expect((await get('/stream/100')).text).toBe('1'.repeat(500));
    expect(await get('/stream/100')).toMatchObject({ text: '1'.repeat(500), headers: { 'x-cache': 'HIT' } });
  });

  it('serves STALE within grace when the route answers 5xx, or throws (reported to app.on("error"))', async () => {
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
    expect(reported).toHaveLength(1);
    expect((reported[0] as Error).message).toBe('upstream down');
    expect(calls.providers).toBe(3);
  });

  it('leaves a throw with nothing stale to Koa: a 500, nothing stored', async () => {
    failing = 'throw';
    expect((await get('/orgs/acme/providers')).status).toBe(500);
    expect((await get('/orgs/acme/providers')).status).toBe(500);
    expect(cache.entries()).toHaveLength(0);
    expect(reported).toHaveLength(2);
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

  it('stale-while-revalidate answers STALE at once and refreshes through the Koa route in the background', async () => {
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
    expect(reported).toEqual([]);
  });
});

describe('koaCache under a rewritten URL', () => {
  it('matches the URL the request arrived with (ctx.originalUrl), not a mount-relative one', async () => {
    const mounted = createCache({ name: 'mounted' });
    const app = new Koa();
    let n = 0;
    // What koa-mount does: strips its prefix from the path before the middleware below it see it.
    app.use(async (ctx, next) => {
      if (ctx.path.startsWith('/v1/')) ctx.path = ctx.path.slice(3);
      await next();
    });
    app.use(koaCache({ cache: mounted, rules: [{ path: '/v1/items' }] }));
    app.use((ctx) => void (ctx.path === '/items' ? (ctx.body = `items ${++n}`) : undefined));
    const own = await listen(app.callback());
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

describe('koaCache behind a proxy that rewrites Host', () => {
  it('keeps the public hosts of X-Forwarded-Host apart when Koa trusts its proxy (app.proxy)', async () => {
    const pages = createCache({ name: 'pages' });
    const app = new Koa({ proxy: true });
    app.use(koaCache({ cache: pages, rules: [{ path: '/home', ttl: '1h' }] }));
    app.use((ctx) => void (ctx.body = `welcome to ${ctx.host}`));
    const own = await listen(app.callback());
    const home = (host: string) =>
      rawRequest(`${own.url}/home`, { host: 'app:3000', 'x-forwarded-host': host });
    try {
      expect((await home('tenant-a.example')).text).toBe('welcome to tenant-a.example');
      const b = await home('tenant-b.example');
      expect([b.headers['x-cache'], b.text]).toEqual(['MISS', 'welcome to tenant-b.example']);
      // A host a client chose gets an entry of its own, never another host's.
      expect((await home('evil.example')).text).toBe('welcome to evil.example');
      const a = await home('tenant-a.example');
      expect([a.headers['x-cache'], a.text]).toEqual(['HIT', 'welcome to tenant-a.example']);
    } finally {
      await own.close();
      await pages.close();
    }
  });
});

describe('koaCache behind a proxy that rewrites Host: writes', () => {
  it('a write invalidates the absolute Location it names on the forwarded public host', async () => {
    const pages = createCache({ name: 'pages' });
    const app = new Koa({ proxy: true });
    let version = 1;
    app.use(koaCache({ cache: pages, rules: [{ path: '/items/:id', ttl: '1h' }] }));
    app.use((ctx) => {
      if (ctx.method === 'GET') ctx.body = `item v${version}`;
      else {
        version++;
        ctx.status = 201;
        ctx.set('location', `${ctx.protocol}://${ctx.host}/items/7`);
      }
    });
    const own = await listen(app.callback());
    const headers = { host: 'app:3000', 'x-forwarded-host': 'api.example' };
    try {
      expect((await rawRequest(`${own.url}/items/7`, headers)).text).toBe('item v1');
      const created = await rawRequest(`${own.url}/items`, headers, 'POST');
      expect(created.headers.location).toBe('http://api.example/items/7');
      const again = await rawRequest(`${own.url}/items/7`, headers);
      expect([again.headers['x-cache'], again.text]).toEqual(['MISS', 'item v2']);
    } finally {
      await own.close();
      await pages.close();
    }
  });
});

describe('koaAdmin (Koa 3)', () => {
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
  });

  it('takes a body a Koa body parser already read (ctx.request.body)', async () => {
    const own = createCache({ name: 'own' });
    await own.set('k', 1, { tags: ['t'] });
    const app = new Koa();
    const mounted = koaAdmin({ caches: { own }, apiKey: KEY });
    app.use(async (ctx, next) => {
      if (ctx.method === 'POST') (ctx.request as { body?: unknown }).body = await readBody(ctx as Ctx);
      await next();
    });
    app.use(mounted);
    const s = await listen(app.callback());
    try {
      const r = await fetch(`${s.url}/invalidate`, {
        method: 'POST',
        headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
        body: '{"tags":["t"]}',
      });
      expect(r.status).toBe(200);
      expect(own.entries()).toHaveLength(0);
    } finally {
      await s.close();
      mounted.close();
      await own.close();
    }
  });
});
