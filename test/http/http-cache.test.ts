import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import type { Cache } from '../../src/cache/types.js';
import { createHttpCache, type HttpCacheOptions } from '../../src/http/http-cache.js';
import { deferred, type Deferred } from '../helpers/deferred.js';
import { listen, rawRequest, type TestServer } from './helpers/server.js';

let now = 1_000_000;
let calls: Record<string, number> = {};
let cache: Cache;
let server: TestServer;
let failFlaky = false;
/** Holds the /slow route until the test lets it answer. */
let slowGate: Deferred;

/** The application behind the cache: each route counts its calls and shows the count in the body. */
async function app(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0]!;
  const n = (calls[path] = (calls[path] ?? 0) + 1);
  const send = (status: number, body: string, headers: Record<string, string | string[]> = {}) => {
    res.writeHead(status, { 'content-type': 'text/plain', ...headers });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  switch (path) {
    case '/slow':
      await slowGate.promise;
      return send(200, `slow ${n}`);
    case '/cookie':
      return send(200, `cookie ${n}`, { 'set-cookie': 'sid=secret' });
    case '/private':
      return send(200, `private ${n}`, { 'cache-control': 'private, max-age=60' });
    case '/nostore':
      return send(200, `nostore ${n}`, { 'cache-control': 'no-store' });
    case '/vary-star':
      return send(200, `vary ${n}`, { vary: '*' });
    case '/err':
      return send(500, `err ${n}`);
    case '/missing':
      return send(404, `missing ${n}`);
    case '/flaky':
      return failFlaky ? send(503, 'down') : send(200, `flaky ${n}`);
    case '/crash':
      if (failFlaky) throw new Error('handler crashed');
      return send(200, `crash ${n}`);
    case '/big':
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      for (let i = 0; i < 4; i++) res.write(Buffer.alloc(512 * 1024, 97 + i));
      return void res.end();
    case '/me':
      return send(200, `me ${String(req.headers['x-user'])} ${n}`);
    case '/own-etag':
      return send(200, `own ${n}`, { etag: '"v1"' });
    case '/multi':
      res.setHeader('link', ['</a>; rel=preload', '</b>; rel=preload']);
      return send(200, `multi ${n}`, { connection: 'keep-alive' });
    case '/bin':
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      return void res.end(Buffer.from([0, 0xff, 0x80, 0xc3, 0x28, n]));
    case '/stream':
      res.statusCode = 200;
      res.flushHeaders();
      return void res.end(`stream ${n}`);
    default:
      return send(200, `${path} ${n}`);
  }
}

async function start(overrides: Partial<HttpCacheOptions> = {}): Promise<void> {
  const mw = createHttpCache({
    cache,
    user: (req) => req.headers['x-user'] as string | undefined,
    clock: () => now,
    rules: [
      { path: '/me', perUser: true },
      { path: '/shared', shared: true },
      { path: '/flaky', ttl: '10s', grace: '1h' },
      { path: '/crash', ttl: '10s', grace: '1h' },
      { path: '/q', varyQuery: ['a', 'b'] },
      { path: '/nostore', perUser: true, storePrivate: true },
      { path: '/missing', ttl: '10s', statusTtl: { 404: '30s' } },
      { path: '/*', ttl: '10s' },
    ],
    ...overrides,
  });
  server = await listen((req, res) => {
    mw(req, res, () => app(req, res)).catch((error: unknown) => {
      res.statusCode = 500;
      res.end(`middleware error: ${(error as Error).message}`);
    });
  });
}

const get = (path: string, headers: Record<string, string> = {}, method = 'GET') =>
  fetch(server.url + path, { method, headers });

async function body(path: string, headers: Record<string, string> = {}) {
  const r = await get(path, headers);
  return {
    status: r.status,
    xCache: r.headers.get('x-cache'),
    age: r.headers.get('age'),
    text: await r.text(),
    r,
  };
}

beforeEach(() => {
  now = 1_000_000;
  calls = {};
  failFlaky = false;
  slowGate = deferred();
  cache = createCache({ name: 'http', clock: () => now });
});
afterEach(async () => {
  slowGate.resolve(); // a failed test must not leave a handler hanging
  await server.close();
  await cache.close();
});

describe('createHttpCache over node:http', () => {
  it('answers MISS then HIT with the same body, an ETag and a growing Age', async () => {
    await start();
    const first = await body('/a');
    expect(first).toMatchObject({ status: 200, xCache: 'MISS', age: '0', text: '/a 1' });
    const etag = first.r.headers.get('etag');
    expect(etag).toMatch(/^"[\w-]{27}"$/);
    now += 4_500;
    const second = await body('/a');
    expect(second).toMatchObject({ xCache: 'HIT', age: '4', text: '/a 1' });
    expect(second.r.headers.get('etag')).toBe(etag);
    expect(second.r.headers.get('content-type')).toBe('text/plain');
    expect(calls['/a']).toBe(1);
  });

  it('expires with the rule TTL', async () => {
    await start();
    await body('/a');
    now += 10_001;
    expect(await body('/a')).toMatchObject({ xCache: 'MISS', text: '/a 2' });
  });

  it('answers a matching If-None-Match with 304 and no body, another one with the body', async () => {
    await start();
    const etag = (await get('/a')).headers.get('etag')!;
    const r = await rawRequest(server.url + '/a', { 'if-none-match': etag });
    expect(r).toMatchObject({ status: 304, text: '' });
    expect(r.headers).toMatchObject({ 'x-cache': 'HIT', etag });
    expect(r.headers['content-type']).toBeUndefined();
    const other = await rawRequest(server.url + '/a', { 'if-none-match': '"nope"' });
    expect(other).toMatchObject({ status: 200, text: '/a 1' });
    expect(calls['/a']).toBe(1);
  });

  it('keeps the handler ETag and answers 304 on the miss too', async () => {
    await start();
    const r = await rawRequest(server.url + '/own-etag', { 'if-none-match': '"v1"' });
    expect(r.status).toBe(304);
    expect(r.headers['x-cache']).toBe('MISS');
    expect((await get('/own-etag')).headers.get('etag')).toBe('"v1"');
  });

  it('revalidates a conditional no-cache request and still answers 304 when the body is unchanged', async () => {
    await start({ rules: [{ path: '/own-etag', requestNoCache: 'revalidate' }] });
    await get('/own-etag');
    const r = await rawRequest(server.url + '/own-etag', {
      'if-none-match': '"v1"',
      'cache-control': 'no-cache',
    });
    expect(r.status).toBe(304);
    expect(r.headers['x-cache']).toBe('MISS');
    expect(calls['/own-etag']).toBe(2);
  });

  it('keys by the varied query params, in any order', async () => {
    await start();
    expect((await body('/q?a=1&b=2&utm=x')).text).toBe('/q 1');
    expect(await body('/q?b=2&a=1')).toMatchObject({ xCache: 'HIT', text: '/q 1' });
    expect(await body('/q?a=2&b=1')).toMatchObject({ xCache: 'MISS', text: '/q 2' });
  });

  it('revalidates on Cache-Control: no-cache where the rule says so, and stores the new answer', async () => {
    await start({ rules: [{ path: '/a', requestNoCache: 'revalidate' }] });
    await body('/a');
    expect(await body('/a', { 'cache-control': 'no-cache' })).toMatchObject({ xCache: 'MISS', text: '/a 2' });
    expect(await body('/a', { pragma: 'no-cache' })).toMatchObject({ xCache: 'MISS', text: '/a 3' });
    expect(await body('/a')).toMatchObject({ xCache: 'HIT', text: '/a 3' });
    // What browsers send on reload: no stored answer is fresh enough (RFC 9111 §5.2.1.1).
    expect(await body('/a', { 'cache-control': 'max-age=0' })).toMatchObject({
      xCache: 'MISS',
      text: '/a 4',
    });
    expect(await body('/a', { 'cache-control': 'max-age=5' })).toMatchObject({ xCache: 'HIT', text: '/a 4' });
  });

  it('revalidates on max-age=0 by default on a perUser rule, and answers it from the cache on a shared one', async () => {
    await start({ rules: [{ path: '/mine', perUser: true }, { path: '/a' }] });
    await body('/mine');
    expect(await body('/mine', { 'cache-control': 'max-age=0' })).toMatchObject({
      xCache: 'MISS',
      text: '/mine 2',
    });
    await body('/a');
    expect(await body('/a', { 'cache-control': 'max-age=0' })).toMatchObject({ xCache: 'HIT', text: '/a 1' });
  });

  it("answers a client's no-cache from the cache on a shared rule by default (no handler run per request)", async () => {
    await start();
    await body('/a');
    for (let i = 0; i < 3; i++) {
      expect(await body('/a', { 'cache-control': 'no-cache' })).toMatchObject({
        xCache: 'HIT',
        text: '/a 1',
      });
      expect(await body('/a', { pragma: 'no-cache' })).toMatchObject({ xCache: 'HIT', text: '/a 1' });
    }
    expect(calls['/a']).toBe(1);
  });

  it.each(['/cookie', '/private', '/vary-star', '/err'])('never stores %s', async (path) => {
    await start();
    const a = await body(path);
    const b = await body(path);
    expect(b.xCache).toBe('MISS');
    expect(a.text).not.toBe(b.text);
    expect(calls[path]).toBe(2);
  });

  it('passes the Set-Cookie of an unstored response to its own client only', async () => {
    await start();
    const r = await get('/cookie');
    expect(r.headers.getSetCookie()).toEqual(['sid=secret']);
  });

  it('never stores a 404 by default: the id may be created the next moment', async () => {
    await start({ rules: [{ path: '/*', ttl: '10m' }] });
    expect(await body('/missing')).toMatchObject({ status: 404, xCache: 'MISS', text: 'missing 1' });
    expect(await body('/missing')).toMatchObject({ status: 404, xCache: 'MISS', text: 'missing 2' });
    expect(cache.entries()).toEqual([]);
  });

  it('stores a 404 a rule opts in to with its own TTL, and no-store answers of a per-user rule that allows them', async () => {
    await start();
    await body('/missing');
    expect(await body('/missing')).toMatchObject({ status: 404, xCache: 'HIT', text: 'missing 1' });
    now += 20_000; // past the rule's 10 s, within the 404's own 30 s
    expect(await body('/missing')).toMatchObject({ xCache: 'HIT', text: 'missing 1' });
    now += 11_000;
    expect(await body('/missing')).toMatchObject({ status: 404, xCache: 'MISS', text: 'missing 2' });
    await body('/nostore', { 'x-user': 'u' });
    expect(await body('/nostore', { 'x-user': 'u' })).toMatchObject({ xCache: 'HIT' });
  });

  it('never stores or serves a shared answer to requests with Authorization, cookies or a user', async () => {
    await start();
    await body('/a');
    const credentialed: Record<string, string>[] = [
      { authorization: 'Bearer t' },
      { cookie: 'sid=1' },
      { 'x-user': 'alice' },
    ];
    for (const headers of credentialed) {
      const r = await body('/a', headers);
      expect(r.xCache).toBeNull();
      expect(r.text).not.toBe('/a 1');
    }
    expect(await body('/a')).toMatchObject({ xCache: 'HIT', text: '/a 1' });
    // shared: true serves everyone one answer, the user not being part of the key.
    await body('/shared', { cookie: 'sid=1' });
    expect(await body('/shared', { 'x-user': 'bob' })).toMatchObject({ xCache: 'HIT', text: '/shared 1' });
  });

  it("keeps users apart on a per-user rule: A never receives B's body", async () => {
    await start();
    const a = await body('/me', { 'x-user': 'alice' });
    const b = await body('/me', { 'x-user': 'bob' });
    expect(a.text).toBe('me alice 1');
    expect(b.text).toBe('me bob 2');
    expect(await body('/me', { 'x-user': 'alice' })).toMatchObject({ xCache: 'HIT', text: 'me alice 1' });
    expect(await body('/me', { 'x-user': 'bob' })).toMatchObject({ xCache: 'HIT', text: 'me bob 2' });
    // A request with credentials but no user cannot be told apart, so it bypasses.
    expect((await body('/me', { cookie: 'x=1' })).xCache).toBeNull();
  });

  it("binds a per-user entry to the credentials: X-User alice with another Authorization never gets alice's body", async () => {
    await start();
    const alice = { 'x-user': 'alice', authorization: 'Bearer alice-token' };
    expect(await body('/me', alice)).toMatchObject({ xCache: 'MISS', text: 'me alice 1' });
    expect(await body('/me', alice)).toMatchObject({ xCache: 'HIT', text: 'me alice 1' });
    const spoofed = await body('/me', { 'x-user': 'alice', authorization: 'Bearer mallory-token' });
    expect(spoofed).toMatchObject({ xCache: 'MISS', text: 'me alice 2' });
    const bare = await body('/me', { 'x-user': 'alice' });
    expect(bare).toMatchObject({ xCache: 'MISS', text: 'me alice 3' });
    expect(await body('/me', alice)).toMatchObject({ xCache: 'HIT', text: 'me alice 1' });
    expect(calls['/me']).toBe(3);
  });

  it('credentialHeaders: a shared rule bypasses requests with any of them (seed 003 authenticates with X-API-Key)', async () => {
    await start();
    await body('/a');
    // Not a credential by default: the shared answer is served.
    expect(await body('/a', { 'x-api-key': 'acme_api_1' })).toMatchObject({ xCache: 'HIT', text: '/a 1' });
    await server.close();
    await cache.clear();
    calls = {};
    await start({ credentialHeaders: ['authorization', 'cookie', 'X-API-Key'] });
    await body('/a');
    const keyed = await body('/a', { 'x-api-key': 'acme_api_1' });
    expect(keyed.xCache).toBeNull();
    expect(keyed.text).toBe('/a 2');
    expect(await body('/a')).toMatchObject({ xCache: 'HIT', text: '/a 1' });
    // shared: true still serves everyone.
    await body('/shared');
    expect(await body('/shared', { 'x-api-key': 'globex_api_2' })).toMatchObject({ xCache: 'HIT' });
    // A per-user rule keys by the API key too: another key for the same user is a miss.
    await body('/me', { 'x-user': 'acme', 'x-api-key': 'acme_api_1' });
    expect(await body('/me', { 'x-user': 'acme', 'x-api-key': 'acme_api_1' })).toMatchObject({
      xCache: 'HIT',
    });
    expect(await body('/me', { 'x-user': 'acme', 'x-api-key': 'forged' })).toMatchObject({ xCache: 'MISS' });
  });

  it('answers a matching If-None-Match with the stored 404 itself, never a 304', async () => {
    await start();
    const etag = (await get('/missing')).headers.get('etag')!;
    const r = await rawRequest(server.url + '/missing', { 'if-none-match': etag });
    expect(r).toMatchObject({ status: 404, text: 'missing 1' });
    expect(r.headers['x-cache']).toBe('HIT');
  });

  it('revalidates a HEAD with Cache-Control: no-cache (the handler runs) and keeps the GET entry', async () => {
    await start({ rules: [{ path: '/h', requestNoCache: 'revalidate' }] });
    await get('/h');
    const head = await get('/h', { 'cache-control': 'no-cache' }, 'HEAD');
    expect(head.headers.get('x-cache')).toBeNull();
    expect(calls['/h']).toBe(2);
    expect(await body('/h')).toMatchObject({ xCache: 'HIT', text: '/h 1' });
    expect((await get('/h', {}, 'HEAD')).headers.get('x-cache')).toBe('HIT');
  });

  it("honours a rule's method: a HEAD-only rule leaves GET requests to the next rule", async () => {
    await start({ rules: [{ method: 'HEAD', path: '/h' }] });
    await get('/h');
    expect(await body('/h')).toMatchObject({ xCache: null, text: '/h 2' });
    expect(() => createHttpCache({ cache, rules: [{ method: 'PUT' as 'GET', path: '/h' }] })).toThrow(
      /rules\[0\]\.method must be GET or HEAD/,
    );
  });

  it('answers HEAD from the GET entry without a body, and passes a HEAD miss through', async () => {
    await start();
    const miss = await get('/h', {}, 'HEAD');
    expect(miss.headers.get('x-cache')).toBeNull();
    await get('/h');
    const hit = await get('/h', {}, 'HEAD');
    expect(hit.headers.get('x-cache')).toBe('HIT');
    expect(hit.headers.get('content-length')).toBe('4');
    expect(await hit.text()).toBe('');
  });

  it('answers the MISS with the same headers as the HIT, repeated ones included', async () => {
    await start();
    const miss = await rawRequest(server.url + '/multi');
    const hit = await rawRequest(server.url + '/multi');
    expect(miss.headers['x-cache']).toBe('MISS');
    expect(hit.headers['x-cache']).toBe('HIT');
    for (const r of [miss, hit]) {
      expect(r.headers.link).toBe('</a>; rel=preload, </b>; rel=preload');
      expect(r.headers['content-type']).toBe('text/plain');
      expect(r.headers.etag).toBe(miss.headers.etag);
      expect(r.text).toBe('multi 1');
    }
  });

  it('replays a binary body byte for byte', async () => {
    await start();
    const first = Buffer.from(await (await get('/bin')).arrayBuffer());
    const hit = await get('/bin');
    expect(hit.headers.get('x-cache')).toBe('HIT');
    expect(Buffer.from(await hit.arrayBuffer()).equals(first)).toBe(true);
    expect([...first]).toEqual([0, 0xff, 0x80, 0xc3, 0x28, 1]);
  });

  it('passes large and streaming bodies through without storing them', async () => {
    await start();
    for (const path of ['/big', '/big']) {
      const r = await get(path);
      const buf = Buffer.from(await r.arrayBuffer());
      expect(buf.length).toBe(2 * 1024 * 1024);
      expect(buf[buf.length - 1]).toBe(100);
    }
    expect(calls['/big']).toBe(2);
    await get('/stream');
    expect(await body('/stream')).toMatchObject({ text: 'stream 2' });
  });

  it('runs the handler once for concurrent identical misses', async () => {
    await start();
    const pending = Promise.all(Array.from({ length: 8 }, () => body('/slow')));
    // The handler answers only once the seven other requests have joined its load.
    await vi.waitFor(() => expect(cache.stats().coalesced).toBe(7));
    slowGate.resolve();
    const all = await pending;
    expect(calls['/slow']).toBe(1);
    expect(new Set(all.map((x) => x.text))).toEqual(new Set(['slow 1']));
    expect(all.filter((x) => x.xCache === 'MISS')).toHaveLength(1);
  });

  it('serves STALE within grace when the handler fails, then fresh again when it recovers', async () => {
    await start();
    expect((await body('/flaky')).text).toBe('flaky 1');
    now += 11_000;
    failFlaky = true;
    expect(await body('/flaky')).toMatchObject({ status: 200, xCache: 'STALE', age: '11', text: 'flaky 1' });
    failFlaky = false;
    now += 6_000; // past the fail-safe backoff
    expect(await body('/flaky')).toMatchObject({ xCache: 'MISS', text: 'flaky 3' });
  });

  it('serves STALE when the handler throws, and reports the error when there is nothing stale', async () => {
    await start();
    failFlaky = true;
    expect(await body('/crash')).toMatchObject({ status: 500, text: 'middleware error: handler crashed' });
    failFlaky = false;
    await body('/crash');
    now += 11_000;
    failFlaky = true;
    expect(await body('/crash')).toMatchObject({ status: 200, xCache: 'STALE', text: 'crash 2' });
  });

  it('passes a path without a rule through untouched, and everything when the cache is disabled', async () => {
    await start({ rules: [{ path: '/only' }] });
    expect((await body('/other')).xCache).toBeNull();
    cache.configure({ enabled: false });
    await body('/only');
    expect(await body('/only')).toMatchObject({ xCache: null, text: '/only 2' });
  });

  it('rejects bad options by name', () => {
    expect(() => createHttpCache({ cache, rule: [] } as never)).toThrow(/unknown option "rule"/);
    expect(() => createHttpCache({ cache, maxResponseBytes: -1 })).toThrow(
      /maxResponseBytes must be a positive integer/,
    );
    expect(() => createHttpCache({ cache: {} as never })).toThrow(/cache must name at least one cache/);
    expect(() => createHttpCache({ cache, rules: [{ path: '/x', cache: 'nope' }] })).toThrow(
      /rules\[0\]\.cache names an unknown cache "nope"/,
    );
    expect(() => createHttpCache({ cache, user: 'x' as never })).toThrow(/user must be a function/);
    expect(() => createHttpCache({ cache, waitTimeout: 0 })).toThrow(/waitTimeout must be more than 0 ms/);
    expect(() => createHttpCache({ cache, backgroundTimeout: 'soon' })).toThrow(/backgroundTimeout/);
    expect(() => createHttpCache({ cache, clock: 5 as never })).toThrow(
      new TypeError('clock must be a function returning the time in ms, got number'),
    );
    expect(() => createHttpCache({ cache, credentialHeaders: 'x-api-key' as never })).toThrow(
      /credentialHeaders must be an array of header names/,
    );
  });

  it('refuses header names that are not tokens, which would never match a request', () => {
    // 'authorization, cookie, x-api-key'.split(',') leaves a space before two of the names.
    const split = 'authorization, cookie, x-api-key'.split(',');
    expect(() => createHttpCache({ cache, credentialHeaders: split })).toThrow(
      new TypeError(
        'credentialHeaders[1] must be a header name (an RFC 9110 token, no spaces), got " cookie"',
      ),
    );
    expect(() =>
      createHttpCache({ cache, rules: [{ path: '/x', varyHeaders: [' accept-language'] }] }),
    ).toThrow(
      /rules\[0\]\.varyHeaders\[0\] must be a header name \(an RFC 9110 token, no spaces\), got " accept-language"/,
    );
    expect(() => createHttpCache({ cache, rules: [{ path: '/x', varyHeaders: ['x:y'] }] })).toThrow(
      TypeError,
    );
  });

  it('folds the case of header names it is given', async () => {
    await start({
      credentialHeaders: ['Authorization', 'X-API-Key'],
      rules: [{ path: '/v', varyHeaders: ['Accept-Language'] }],
    });
    expect(await body('/v', { 'accept-language': 'en' })).toMatchObject({ xCache: 'MISS', text: '/v 1' });
    expect(await body('/v', { 'accept-language': 'fr' })).toMatchObject({ xCache: 'MISS', text: '/v 2' });
    expect(await body('/v', { 'accept-language': 'en' })).toMatchObject({ xCache: 'HIT', text: '/v 1' });
    expect(await body('/v', { 'accept-language': 'en', 'x-api-key': 'k' })).toMatchObject({ xCache: null });
  });
});
