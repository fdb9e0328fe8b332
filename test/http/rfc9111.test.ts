// The HTTP layer honours what a handler says about freshness (RFC 9111, RFC 5861, RFC 9213): over
// node:http with the injected clock, so every window is crossed by moving `now`, and the races
// (single-flight revalidation, a write during a revalidation, stale-while-revalidate) with gates.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import express from 'express';
import Fastify from 'fastify';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import type { Cache } from '../../src/cache/types.js';
import { expressCache } from '../../src/http/express.js';
import { fastifyCache } from '../../src/http/fastify.js';
import { createHttpCache, type HttpCacheOptions } from '../../src/http/http-cache.js';
import { deferred, type Deferred } from '../helpers/deferred.js';
import { listen, rawRequest, type RawResponse, type TestServer } from './helpers/server.js';

const T0 = Date.UTC(2026, 11, 4, 12, 0, 0);
let now = T0;
let cache: Cache;
let server: TestServer;
let calls: number;
/** What the handler saw of each request: the conditional headers the cache sent it. */
let seen: { inm?: string; ims?: string; method: string; url: string }[];
/** What the handler answers; set by each test. */
let answer: (
  n: number,
  req: IncomingMessage,
) => { status?: number; headers?: OutgoingHttpHeaders; body?: string };
/** When set, the handler waits for it before answering. */
let gate: Deferred | undefined;

const date = (ms: number) => new Date(ms).toUTCString();

async function app(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const n = ++calls;
  seen.push({
    inm: req.headers['if-none-match'],
    ims: req.headers['if-modified-since'],
    method: req.method ?? 'GET',
    url: req.url ?? '',
  });
  if (gate !== undefined) await gate.promise;
  const a = answer(n, req);
  res.writeHead(a.status ?? 200, { 'content-type': 'text/plain', ...a.headers });
  res.end(a.status === 304 ? undefined : (a.body ?? `body ${n}`));
}

async function start(overrides: Partial<HttpCacheOptions> = {}): Promise<void> {
  const mw = createHttpCache({
    cache,
    clock: () => now,
    rules: [{ path: '/*', ttl: '5m' }],
    ...overrides,
  });
  server = await listen((req, res) => {
    mw(req, res, () => app(req, res)).catch((error: unknown) => {
      res.statusCode = 500;
      res.end(`middleware error: ${(error as Error).message}`);
    });
  });
}

const get = (path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<RawResponse> =>
  rawRequest(server.url + path, headers, method);

beforeEach(() => {
  now = T0;
  calls = 0;
  seen = [];
  gate = undefined;
  answer = () => ({});
  cache = createCache({ name: 'http', clock: () => now });
});
afterEach(async () => {
  gate?.resolve();
  await server?.close();
  await cache.close();
});

describe('freshness from the response', () => {
  it('max-age=0 is never answered from the cache, whatever the rule TTL', async () => {
    await start();
    answer = () => ({ headers: { 'cache-control': 'max-age=0' } });
    expect((await get('/a')).text).toBe('body 1');
    expect(await get('/a')).toMatchObject({ text: 'body 2' });
    expect(calls).toBe(2);
  });

  it('max-age, then s-maxage over it, decide how long a response is fresh', async () => {
    await start();
    answer = () => ({ headers: { 'cache-control': 'max-age=60' } });
    await get('/a');
    now += 59_000;
    expect((await get('/a')).headers['x-cache']).toBe('HIT');
    now += 1_000;
    expect(await get('/a')).toMatchObject({ text: 'body 2' });
    answer = () => ({ headers: { 'cache-control': 'max-age=600, s-maxage=30' } });
    await get('/b');
    now += 29_000;
    expect((await get('/b')).headers['x-cache']).toBe('HIT');
    now += 1_000;
    expect((await get('/b')).headers['x-cache']).toBe('MISS');
  });

  it('Expires counts from Date; Expires: 0 and a past Expires are stale at once', async () => {
    await start();
    answer = () => ({ headers: { date: date(now - 10_000), expires: date(now + 50_000) } });
    await get('/a');
    now += 49_000;
    expect((await get('/a')).headers['x-cache']).toBe('HIT');
    now += 1_000;
    expect((await get('/a')).headers['x-cache']).toBe('MISS');
    for (const expires of ['0', date(now - 1000), 'not a date']) {
      answer = () => ({ headers: { expires } });
      const path = `/e${calls}`;
      await get(path);
      expect((await get(path)).headers['x-cache']).toBe('MISS');
    }
  });

  it("heuristic: 'last-modified' stores only what has a Last-Modified, for a tenth of its age", async () => {
    await start({ rules: [{ path: '/*', ttl: '5m', heuristic: 'last-modified' }] });
    await get('/plain');
    expect((await get('/plain')).headers['x-cache']).toBe('MISS');
    answer = () => ({ headers: { date: date(now), 'last-modified': date(now - 600_000) } });
    await get('/lm');
    now += 59_000;
    expect((await get('/lm')).headers['x-cache']).toBe('HIT');
    now += 1_000;
    expect((await get('/lm')).headers['x-cache']).toBe('MISS');
  });

  it('a response without freshness lives for the rule TTL, or is not stored when the rule allows no heuristic', async () => {
    await start({
      rules: [
        { path: '/none', heuristic: false },
        { path: '/*', ttl: '10s' },
      ],
    });
    await get('/a');
    now += 9_999;
    expect((await get('/a')).headers['x-cache']).toBe('HIT');
    now += 1;
    expect((await get('/a')).headers['x-cache']).toBe('MISS');
    await get('/none');
    expect((await get('/none')).headers['x-cache']).toBe('MISS');
  });

  it("originFreshness: 'ignore' keeps every response for the rule TTL (but never a private one)", async () => {
    await start({ rules: [{ path: '/*', ttl: '10s', originFreshness: 'ignore' }] });
    answer = () => ({ headers: { 'cache-control': 'max-age=0', age: '500' } });
    await get('/a');
    now += 9_000;
    expect(await get('/a')).toMatchObject({ text: 'body 1', headers: { 'x-cache': 'HIT', age: '9' } });
    answer = () => ({ headers: { 'cache-control': 'private, max-age=600' } });
    await get('/p');
    expect((await get('/p')).headers['x-cache']).toBe('MISS');
  });
});

describe('Age and Date', () => {
  it("keeps the handler's Date and sends the age it arrived with plus the time held, on the miss too", async () => {
    await start();
    const originDate = date(now - 3_000);
    answer = () => ({ headers: { 'cache-control': 'max-age=60', age: '20', date: originDate } });
    const miss = await get('/a');
    expect(miss.headers).toMatchObject({ 'x-cache': 'MISS', age: '20', date: originDate });
    now += 5_000;
    expect((await get('/a')).headers).toMatchObject({ 'x-cache': 'HIT', age: '25', date: originDate });
    // 60 s of freshness with 20 s used up on arrival: stale 40 s after it arrived.
    now += 34_999;
    expect((await get('/a')).headers['x-cache']).toBe('HIT');
    now += 1;
    expect((await get('/a')).headers['x-cache']).toBe('MISS');
  });

  it('an Age that is not delta-seconds is ignored; one past 2^31 makes the response stale', async () => {
    await start();
    answer = () => ({ headers: { 'cache-control': 'max-age=60', age: 'abc' } });
    await get('/a');
    expect((await get('/a')).headers['x-cache']).toBe('HIT');
    answer = () => ({ headers: { 'cache-control': 'max-age=3600', age: '2147483649' } });
    await get('/b');
    expect((await get('/b')).headers['x-cache']).toBe('MISS');
  });
});

describe('revalidation with the handler', () => {
  it('sends If-None-Match; a 304 freshens the stored headers and the stored body is served', async () => {
    await start();
    answer = (n) =>
      n === 1
        ? { headers: { 'cache-control': 'max-age=1', etag: '"v1"', 'x-version': '1' }, body: 'original' }
        : { status: 304, headers: { 'cache-control': 'max-age=60', etag: '"v1"', 'x-version': '2' } };
    await get('/a');
    now += 2_000;
    const revalidated = await get('/a');
    expect(seen[1]).toMatchObject({ inm: '"v1"' });
    expect(revalidated).toMatchObject({
      status: 200,
      text: 'original',
      headers: { 'x-cache': 'REVALIDATED', 'x-version': '2', 'cache-control': 'max-age=60', age: '0' },
    });
    now += 59_000;
    expect(await get('/a')).toMatchObject({
      text: 'original',
      headers: { 'x-cache': 'HIT', 'x-version': '2' },
    });
    expect(calls).toBe(2);
  });

  it('sends If-Modified-Since for a Last-Modified response; a 200 replaces the entry', async () => {
    await start();
    const lm = date(T0 - 86_400_000);
    answer = (n) => ({ headers: { 'cache-control': 'max-age=1', 'last-modified': lm }, body: `v${n}` });
    await get('/a');
    now += 2_000;
    expect(await get('/a')).toMatchObject({ text: 'v2', headers: { 'x-cache': 'MISS' } });
    expect(seen[1]).toMatchObject({ ims: lm, inm: undefined });
    expect((await get('/a')).text).toBe('v2');
  });

  it("never sends the cache's own digest ETag to the handler, nor the client's validators on a miss", async () => {
    await start();
    answer = () => ({ headers: { 'cache-control': 'no-cache' } });
    await get('/a', { 'if-none-match': '"client"' });
    expect(seen[0]).toMatchObject({ inm: undefined });
    // no-cache without a validator: nothing to revalidate by, so nothing is kept.
    expect((await get('/a')).headers['x-cache']).toBe('MISS');
    expect(seen[1]).toMatchObject({ inm: undefined });
  });

  it('a no-cache response with a validator is revalidated before every reuse', async () => {
    await start();
    answer = (n) =>
      n === 1 ? { headers: { 'cache-control': 'no-cache', etag: '"a"' }, body: 'kept' } : { status: 304 };
    await get('/a');
    expect(await get('/a')).toMatchObject({ text: 'kept', headers: { 'x-cache': 'REVALIDATED' } });
    expect(await get('/a')).toMatchObject({ text: 'kept', headers: { 'x-cache': 'REVALIDATED' } });
    expect(calls).toBe(3);
    expect(seen.slice(1).map((s) => s.inm)).toEqual(['"a"', '"a"']);
  });

  it('answers the client’s own conditional request from a revalidated entry', async () => {
    await start();
    answer = (n) => (n === 1 ? { headers: { 'cache-control': 'max-age=1', etag: '"a"' } } : { status: 304 });
    await get('/a');
    now += 2_000;
    const r = await get('/a', { 'if-none-match': '"a"' });
    expect(r.status).toBe(304);
    expect(r.text).toBe('');
  });

  it('revalidations of one key are single-flight', async () => {
    await start();
    answer = (n) =>
      n === 1 ? { headers: { 'cache-control': 'max-age=1', etag: '"a"' }, body: 'one' } : { status: 304 };
    await get('/a');
    now += 2_000;
    gate = deferred();
    const waiting = [get('/a'), get('/a'), get('/a')];
    await vi.waitFor(() => expect(calls).toBe(2));
    gate.resolve();
    const answers = await Promise.all(waiting);
    expect(answers.map((r) => r.text)).toEqual(['one', 'one', 'one']);
    expect(calls).toBe(2);
  });

  it('a write during a revalidation keeps its result out of the cache', async () => {
    await start();
    answer = (n) => ({ headers: { 'cache-control': 'max-age=1', etag: `"${n}"` }, body: `v${n}` });
    await get('/a');
    now += 2_000;
    gate = deferred();
    const pending = get('/a');
    await vi.waitFor(() => expect(calls).toBe(2));
    await cache.clear();
    gate.resolve();
    expect((await pending).text).toBe('v2');
    gate = undefined;
    // The revalidation was detached by the clear: its answer was not stored.
    expect(await get('/a')).toMatchObject({ text: 'v3', headers: { 'x-cache': 'MISS' } });
  });
});

describe('serving stale', () => {
  it('must-revalidate forbids a stale answer when the handler fails, even with the rule’s grace', async () => {
    await start({ rules: [{ path: '/*', ttl: '5m', grace: '1h' }] });
    answer = (n) =>
      n === 1
        ? { headers: { 'cache-control': 'max-age=1, must-revalidate' }, body: 'ok' }
        : { status: 503, body: 'down' };
    await get('/a');
    now += 2_000;
    expect(await get('/a')).toMatchObject({ status: 503, text: 'down' });
  });

  it('stale-if-error answers the stale response inside its window, not after', async () => {
    await start();
    answer = (n) =>
      n === 1
        ? { headers: { 'cache-control': 'max-age=1, stale-if-error=60' }, body: 'ok' }
        : { status: 500, body: 'down' };
    await get('/a');
    now += 30_000;
    expect(await get('/a')).toMatchObject({ status: 200, text: 'ok', headers: { 'x-cache': 'STALE' } });
    now += 32_000;
    expect(await get('/a')).toMatchObject({ status: 500, text: 'down' });
  });

  it("the rule's grace is the fail-safe for a handler that says nothing", async () => {
    await start({ rules: [{ path: '/*', ttl: '10s', grace: '1m' }] });
    answer = (n) => (n === 1 ? { body: 'ok' } : { status: 502, body: 'bad gateway' });
    await get('/a');
    now += 30_000;
    expect(await get('/a')).toMatchObject({ status: 200, text: 'ok', headers: { 'x-cache': 'STALE' } });
    now += 60_000;
    expect((await get('/a')).status).toBe(502);
  });

  it('stale-while-revalidate answers stale at once and revalidates once in the background', async () => {
    await start();
    answer = (n) => ({ headers: { 'cache-control': 'max-age=1, stale-while-revalidate=60' }, body: `v${n}` });
    await get('/a');
    now += 2_000;
    gate = deferred();
    // The handler is held: these answers come from the cache while the background run waits.
    const first = await get('/a');
    const second = await get('/a');
    expect(first).toMatchObject({ text: 'v1', headers: { 'x-cache': 'STALE' } });
    expect(second).toMatchObject({ text: 'v1', headers: { 'x-cache': 'STALE' } });
    expect(calls).toBe(2);
    gate.resolve();
    await vi.waitFor(async () => expect((await get('/a')).text).toBe('v2'));
    expect(calls).toBe(2);
    // Past the window it is not served stale: the request waits for the handler.
    now += 1_000 + 61_000;
    gate = undefined;
    expect(await get('/a')).toMatchObject({ text: 'v3', headers: { 'x-cache': 'MISS' } });
  });
});

describe('invalidation by unsafe requests (RFC 9111 §4.4)', () => {
  it('a successful POST/PUT/DELETE/PATCH invalidates its own URI, Location and Content-Location on the same host', async () => {
    await start();
    for (const p of ['/items/1', '/items/2', '/items/3', '/items/4']) await get(p);
    const stored = () => cache.entries().length;
    expect(stored()).toBe(4);
    answer = (_n, req) =>
      req.method === 'GET'
        ? {}
        : {
            status: 201,
            headers: { location: '/items/2', 'content-location': `http://${req.headers.host}/items/3` },
          };
    await get('/items/1', {}, 'POST');
    expect(stored()).toBe(1);
    expect((await get('/items/4')).headers['x-cache']).toBe('HIT');
  });

  it("a user's write drops every user's per-user copies of the URI, and the shared ones", async () => {
    await start({
      user: (req) => req.headers['x-user'] as string | undefined,
      rules: [
        { path: '/mine', perUser: true },
        { path: '/*', shared: true },
      ],
    });
    const as = (user: string) => ({ 'x-user': user });
    await get('/mine', as('ann'));
    await get('/mine', as('bob'));
    await get('/mine');
    await get('/feed', as('ann'));
    answer = (_n, req) => (req.method === 'GET' ? {} : { status: 204 });
    await get('/mine', as('ann'), 'POST');
    await get('/feed', as('ann'), 'POST');
    // Bob's copy describes the resource Ann changed: it goes too (RFC 9111 §4.4).
    expect((await get('/mine', as('bob'))).headers['x-cache']).toBe('MISS');
    expect((await get('/mine', as('ann'))).headers['x-cache']).toBe('MISS');
    expect((await get('/mine')).headers['x-cache']).toBe('MISS');
    expect((await get('/feed', as('bob'))).headers['x-cache']).toBe('MISS');
  });

  it('a write to a path no rule caches leaves loads in flight alone', async () => {
    await start({ rules: [{ path: '/items/*', ttl: '5m' }] });
    gate = deferred();
    const pending = get('/items/1');
    await vi.waitFor(() => expect(calls).toBe(1));
    // The write answers at once: it does not wait on the held handler.
    const write = get('/other', {}, 'POST');
    await vi.waitFor(() => expect(calls).toBe(2));
    gate.resolve();
    await Promise.all([pending, write]);
    gate = undefined;
    expect((await get('/items/1')).headers['x-cache']).toBe('HIT');
  });

  it('ignores other hosts, failed writes, and safe methods; invalidateOnWrite: false turns it off', async () => {
    await start();
    await get('/items/1');
    await get('/items/2');
    answer = (_n, req) =>
      req.method === 'GET' ? {} : { status: 200, headers: { location: 'http://elsewhere.example/items/2' } };
    await get('/items/1', {}, 'PUT');
    expect(cache.entries().map((e) => e.key)).toEqual([`GET /items/2 host=${new URL(server.url).host}`]);
    await get('/items/2');
    answer = (_n, req) => (req.method === 'GET' ? {} : { status: 500 });
    await get('/items/2', {}, 'DELETE');
    await get('/items/2', {}, 'OPTIONS');
    expect((await get('/items/2')).headers['x-cache']).toBe('HIT');
    await server.close();
    await start({ invalidateOnWrite: false });
    answer = () => ({});
    // The new server listens on another port: its Host makes another key.
    await get('/items/2');
    await get('/items/2', {}, 'DELETE');
    expect((await get('/items/2')).headers['x-cache']).toBe('HIT');
  });
});

describe('Vary (RFC 9111 §4.1)', () => {
  it('reuses a response only for a request with the same values of the headers its Vary names', async () => {
    await start();
    answer = (n, req) => ({
      headers: { 'cache-control': 'max-age=60', vary: 'Foo, Bar' },
      body: `${String(req.headers.foo)} ${n}`,
    });
    expect((await get('/a', { foo: '1', bar: 'x' })).text).toBe('1 1');
    expect(await get('/a', { bar: 'x', foo: '1' })).toMatchObject({
      text: '1 1',
      headers: { 'x-cache': 'HIT' },
    });
    // Another value, or a header left out: never the stored variant.
    expect((await get('/a', { foo: '2', bar: 'x' })).text).toBe('2 2');
    expect((await get('/a', { foo: '2' })).text).toBe('2 3');
    // One variant per key: the last one answered is the one kept.
    expect((await get('/a', { foo: '2' })).headers['x-cache']).toBe('HIT');
    expect((await get('/a', { foo: '1', bar: 'x' })).text).toBe('1 4');
  });

  it('a waiting request of another variant runs its own handler instead of taking the stored one', async () => {
    await start();
    answer = (n, req) => ({
      headers: { 'cache-control': 'max-age=60', vary: 'Accept-Language' },
      body: `${String(req.headers['accept-language'])} ${n}`,
    });
    gate = deferred();
    const en = get('/a', { 'accept-language': 'en' });
    await vi.waitFor(() => expect(calls).toBe(1));
    const fr = get('/a', { 'accept-language': 'fr' });
    gate.resolve();
    expect((await en).text).toBe('en 1');
    expect((await fr).text).toBe('fr 2');
  });
});

describe('targeted fields, client headers and client no-cache', () => {
  it('CDN-Cache-Control overrides Cache-Control for this cache; a configured field overrides both', async () => {
    await start();
    answer = () => ({ headers: { 'cache-control': 'max-age=0', 'cdn-cache-control': 'max-age=60' } });
    await get('/a');
    expect((await get('/a')).headers).toMatchObject({ 'x-cache': 'HIT', 'cache-control': 'max-age=0' });
    await server.close();
    await cache.clear();
    await start({ targetedCacheControl: ['larder-cache-control', 'cdn-cache-control'] });
    answer = () => ({ headers: { 'cdn-cache-control': 'max-age=60', 'larder-cache-control': 'no-cache' } });
    await get('/b');
    expect((await get('/b')).headers['x-cache']).toBe('MISS');
    // `private` in any field keeps a response out, even when the governing field allows storing.
    answer = () => ({ headers: { 'cache-control': 'private', 'cdn-cache-control': 'max-age=60' } });
    await get('/c');
    expect((await get('/c')).headers['x-cache']).toBe('MISS');
    // `no-store` only from the governing field: the origin lets Larder keep what browsers must not.
    answer = () => ({ headers: { 'cache-control': 'no-store', 'cdn-cache-control': 'max-age=60' } });
    await get('/d');
    expect((await get('/d')).headers).toMatchObject({ 'x-cache': 'HIT', 'cache-control': 'no-store' });
  });

  it('a rule can tell clients another Cache-Control than the one that governs Larder', async () => {
    await start({ rules: [{ path: '/*', clientCacheControl: 'public, max-age=5' }] });
    answer = () => ({ headers: { 'cache-control': 's-maxage=600' } });
    expect((await get('/a')).headers['cache-control']).toBe('public, max-age=5');
    now += 300_000;
    expect((await get('/a')).headers).toMatchObject({
      'x-cache': 'HIT',
      'cache-control': 'public, max-age=5',
    });
  });

  it('If-Modified-Since from a client is answered from the cache', async () => {
    await start();
    const lm = date(T0 - 60_000);
    answer = () => ({ headers: { 'cache-control': 'max-age=60', 'last-modified': lm } });
    await get('/a');
    expect((await get('/a', { 'if-modified-since': lm })).status).toBe(304);
    expect((await get('/a', { 'if-modified-since': date(T0 - 120_000) })).status).toBe(200);
    expect(calls).toBe(1);
  });
});

describe('stale-while-revalidate through the framework adapters', () => {
  const swr = { 'cache-control': 'max-age=1, stale-while-revalidate=60' };

  it('Express: the background run goes through the route and replaces the entry', async () => {
    const web = express();
    web.use(expressCache({ cache, clock: () => now, rules: [{ path: '/x', ttl: '5m' }] }));
    web.get('/x', (_req, res) => {
      calls++;
      res.set(swr).send(`express ${calls}`);
    });
    server = await listen(web.listen(0, '127.0.0.1'));
    expect((await get('/x')).text).toBe('express 1');
    now += 2_000;
    expect(await get('/x')).toMatchObject({ text: 'express 1', headers: { 'x-cache': 'STALE' } });
    await vi.waitFor(async () => expect((await get('/x')).text).toBe('express 2'));
    expect(calls).toBe(2);
  });

  it('Fastify: the background run goes through the route and replaces the entry', async () => {
    const app = Fastify();
    await app.register(fastifyCache, { cache, clock: () => now, rules: [{ path: '/x', ttl: '5m' }] });
    app.get('/x', async (_req, reply) => {
      calls++;
      return reply.headers(swr).send(`fastify ${calls}`);
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    server = { url, server: app.server, close: () => app.close() };
    expect((await get('/x')).text).toBe('fastify 1');
    now += 2_000;
    expect(await get('/x')).toMatchObject({ text: 'fastify 1', headers: { 'x-cache': 'STALE' } });
    await vi.waitFor(async () => expect((await get('/x')).text).toBe('fastify 2'));
    expect(calls).toBe(2);
  });
});
