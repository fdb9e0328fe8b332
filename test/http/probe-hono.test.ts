// Probes of honoCache: per-user answers, uncacheable responses, and writes under basePath and
// app.route() mounting.
import { createAdaptorServer, type HttpBindings } from '@hono/node-server';
import { Hono } from 'hono';
import { setCookie } from 'hono/cookie';
import { stream } from 'hono/streaming';
import type { Server } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import { honoCache } from '../../src/http/hono.js';
import { listen, rawRequest, type TestServer } from './helpers/server.js';

type AppEnv = { Bindings: HttpBindings; Variables: { user?: string } };
const now = 5_000_000;
let n = 0;
let server: TestServer;

beforeEach(async () => {
  n = 0;
  const cache = createCache({ clock: () => now, ttl: '5m' });
  const sub = new Hono<AppEnv>();
  sub.get('/me', (c) => c.text(`me ${c.get('user') ?? 'anon'} #${++n}`));
  sub.get('/me-stream', (c) =>
    stream(c, async (s) => {
      await s.write(`stream ${c.get('user') ?? 'anon'} #${++n}`);
    }),
  );
  sub.get('/me-reject', async (c) => {
    await Promise.resolve();
    if (c.req.header('x-fail') === '1') throw new Error('nope');
    return c.text(`reject ${c.get('user') ?? 'anon'} #${++n}`);
  });
  sub.get('/cookie', (c) => {
    setCookie(c, 'sid', 'abc');
    return c.text(`cookie #${++n}`);
  });
  sub.get('/private', (c) => {
    c.header('cache-control', 'private, max-age=60');
    return c.text(`private #${++n}`);
  });
  sub.get('/nostore', (c) => {
    c.header('cache-control', 'no-store');
    return c.text(`nostore #${++n}`);
  });
  sub.get('/broken', () => {
    const k = ++n;
    const body = new ReadableStream<Uint8Array>({
      pull(ctl) {
        ctl.enqueue(new TextEncoder().encode(`part #${k};`));
        ctl.error(new Error('stream broke'));
      },
    });
    return new Response(body, { headers: { 'content-type': 'text/plain' } });
  });
  sub.get('/list', (c) => c.text(`list #${++n}`));
  sub.post('/list', (c) => c.text('ok', 201));
  sub.put('/list/:id', (c) => c.text('ok'));

  const app = new Hono<AppEnv>().basePath('/base');
  app.onError((_e, c) => c.text('boom', 500));
  app.use(async (c, next) => {
    const token = c.req.header('x-token');
    if (token !== undefined) c.set('user', token);
    await next();
  });
  app.use(
    honoCache<AppEnv>({
      cache,
      clock: () => now,
      user: (c) => c.get('user'),
      rules: [
        { path: '/base/api/me', perUser: true, ttl: '1m' },
        { path: '/base/api/me-stream', perUser: true, ttl: '1m' },
        { path: '/base/api/me-reject', perUser: true, ttl: '1m' },
        { path: '/base/api/cookie', ttl: '1m', shared: true },
        { path: '/base/api/private', ttl: '1m', shared: true },
        { path: '/base/api/nostore', ttl: '1m', shared: true },
        { path: '/base/api/broken', ttl: '1m', shared: true },
        { path: '/base/api/list', ttl: '1m', shared: true, tags: ['list'] },
      ],
      invalidate: [
        { method: 'POST', path: '/base/api/list', tags: ['list'] },
        { method: 'PUT', path: '/base/api/list/:id', tags: ['list'] },
      ],
    }),
  );
  app.route('/api', sub);
  server = await listen(createAdaptorServer({ fetch: app.fetch }) as Server);
});

afterEach(async () => {
  await server.close();
});

const get = (path: string, headers: Record<string, string> = {}) =>
  rawRequest(`${server.url}/base/api${path}`, headers);

describe('probe: honoCache', () => {
  it.each(['me', 'me-stream', 'me-reject'])('keeps %s per user', async (route) => {
    const a1 = await get(`/${route}`, { 'x-token': 'alice' });
    expect(a1.text).toMatch(/alice #1$/);
    expect((await get(`/${route}`, { 'x-token': 'alice' })).headers['x-cache']).toBe('HIT');
    expect((await get(`/${route}`, { 'x-token': 'bob' })).text).toMatch(/bob #2$/);
    expect((await get(`/${route}`)).text).toMatch(/anon #3$/);
    expect((await get(`/${route}`, { authorization: 'Bearer x' })).text).toMatch(/anon #4$/);
  });

  it('a body stream that errors is not stored', async () => {
    await get('/broken').catch(() => undefined);
    await get('/broken').catch(() => undefined);
    expect(n).toBe(2);
    expect((await get('/list')).status).toBe(200);
  });

  it('a failing handler answers 500 and stores nothing', async () => {
    expect((await get('/me-reject', { 'x-token': 'alice', 'x-fail': '1' })).status).toBe(500);
    expect((await get('/me-reject', { 'x-token': 'alice' })).text).toBe('reject alice #1');
  });

  it.each(['cookie', 'private', 'nostore'])('does not store %s', async (route) => {
    expect((await get(`/${route}`)).text).toBe(`${route} #1`);
    const second = await get(`/${route}`);
    expect(second.text).toBe(`${route} #2`);
  });

  it('POST and PUT under basePath and a mounted route invalidate', async () => {
    expect((await get('/list')).text).toBe('list #1');
    expect((await get('/list')).headers['x-cache']).toBe('HIT');
    expect((await rawRequest(`${server.url}/base/api/list`, {}, 'POST')).status).toBe(201);
    expect((await get('/list')).text).toBe('list #2');
    expect((await rawRequest(`${server.url}/base/api/list/3`, {}, 'PUT')).status).toBe(200);
    expect((await get('/list')).text).toBe('list #3');
  });

  it('HEAD shares with GET and query order does not split', async () => {
    expect((await get('/list?b=2&a=1')).text).toBe('list #1');
    expect((await get('/list?a=1&b=2')).headers['x-cache']).toBe('HIT');
    const head = await rawRequest(`${server.url}/base/api/list?a=1&b=2`, {}, 'HEAD');
    expect([head.status, head.text, head.headers['x-cache']]).toEqual([200, '', 'HIT']);
    const headFirst = await rawRequest(`${server.url}/base/api/list?c=1`, {}, 'HEAD');
    expect(headFirst.status).toBe(200);
    const getAfter = await get('/list?c=1');
    expect(getAfter.text).toMatch(/^list #\d$/);
  });
});
