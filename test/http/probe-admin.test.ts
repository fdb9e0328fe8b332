// Hostile input to the admin API and dashboard over real HTTP: bodies that are not what the routes
// document get a 4xx naming the problem and are never applied as something else; keyless callers
// cannot make the server read their bodies; keys no header can carry are refused at start-up.
import { afterEach, describe, expect, it } from 'vitest';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { createCache } from '../../src/cache/create-cache.js';
import type { Cache } from '../../src/cache/types.js';
import { createAdmin, type AdminHandler } from '../../src/http/admin/admin.js';
import { listen, rawRequest, type TestServer } from './helpers/server.js';

const KEY = 'p'.repeat(32);
let admin: AdminHandler;
let server: TestServer;
let cache: Cache<number>;

afterEach(async () => {
  await server?.close();
  admin?.close();
  await cache?.close();
});

/** POSTs raw bytes (fetch would only send text it encodes itself). */
function post(url: string, body: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: 'POST',
        headers: { 'x-api-key': KEY, 'content-type': 'application/json', 'content-length': body.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function start(): Promise<string> {
  cache = createCache<number>({ name: 'w', ttl: '1h' });
  admin = createAdmin({ caches: { w: cache }, apiKey: KEY });
  server = await listen((req, res) => void admin(req, res));
  return server.url;
}

describe('admin request bodies that are not UTF-8', () => {
  it('refuses invalid UTF-8 with a 400 instead of invalidating U+FFFD in its place', async () => {
    const url = await start();
    await cache.set('\uFFFD\uFFFD', 1);
    const body = Buffer.concat([Buffer.from('{"keys":["'), Buffer.from([0xff, 0xfe]), Buffer.from('"]}')]);
    const res = await post(`${url}/invalidate`, body);
    expect(res.status).toBe(400);
    expect((JSON.parse(res.text) as { error: string }).error).toMatch(/not valid UTF-8/);
    expect(await cache.get('\uFFFD\uFFFD')).toBe(1);
  });

  it('refuses a UTF-8 sequence cut in half at the end of the body', async () => {
    const url = await start();
    const euro = Buffer.from('€');
    const res = await post(
      `${url}/config/w`,
      Buffer.concat([Buffer.from('{"ttl":"5m"} '), euro.subarray(0, 2)]),
    );
    expect(res.status).toBe(400);
    expect((JSON.parse(res.text) as { error: string }).error).toMatch(/not valid UTF-8/);
  });

  it('still reads multi-byte UTF-8, and a leading byte order mark', async () => {
    const url = await start();
    await cache.set('café', 1);
    await cache.set('naïve', 2);
    expect((await post(`${url}/invalidate`, Buffer.from('{"keys":["café"]}'))).status).toBe(200);
    expect(await cache.get('café')).toBeUndefined();
    expect((await post(`${url}/invalidate`, Buffer.from('\uFEFF{"keys":["naïve"]}'))).status).toBe(200);
    expect(await cache.get('naïve')).toBeUndefined();
  });
});

describe('admin request bodies cut off by the client', () => {
  it('answers a 400 (not a logged 500) when the client closes the connection mid-body', async () => {
    cache = createCache<number>({ name: 'w', ttl: '1h' });
    const errors: unknown[] = [];
    const logger = { info: () => {}, warn: () => {}, error: (...args: unknown[]) => errors.push(args) };
    admin = createAdmin({ caches: { w: cache }, apiKey: KEY, logger });
    let handled!: Promise<void>;
    let reached!: () => void;
    const bodyStarted = new Promise<void>((resolve) => (reached = resolve));
    let status: number | undefined;
    server = await listen((req, res) => {
      req.once('data', () => reached());
      handled = admin(req, res).then(() => {
        status = res.statusCode;
      });
    });
    const { port } = new URL(server.url);
    const socket = connect(Number(port), '127.0.0.1');
    socket.on('error', () => {});
    socket.write(
      `POST /invalidate HTTP/1.1\r\nhost: x\r\nx-api-key: ${KEY}\r\ncontent-type: application/json\r\n` +
        'content-length: 100\r\n\r\n{"keys":',
    );
    await bodyStarted;
    socket.destroy();
    await handled;
    expect(status).toBe(400);
    expect(errors).toEqual([]);
  });
});

describe('a body parser mounted before the admin API that did not parse the body', () => {
  it('reads the body itself when the parser only left its {} placeholder (body-parser 1.x, Express 4)', async () => {
    cache = createCache<number>({ name: 'w', ttl: '1h' });
    await cache.set('a', 1);
    admin = createAdmin({ caches: { w: cache }, apiKey: KEY });
    // express.json() of Express 4 sets req.body = {} for a type it does not parse (curl -d sends
    // application/x-www-form-urlencoded) and leaves the stream unread.
    server = await listen((req, res) => {
      (req as typeof req & { body?: unknown }).body = {};
      void admin(req, res);
    });
    const res = await fetch(`${server.url}/invalidate`, {
      method: 'POST',
      headers: { 'x-api-key': KEY, 'content-type': 'application/x-www-form-urlencoded' },
      body: '{"keys":["a"]}',
    });
    expect(await res.json()).toMatchObject({ invalidated: 1 });
    expect(await cache.get('a')).toBeUndefined();
  });
});

describe('admin request targets', () => {
  it('serves a request in absolute-form (GET http://host/admin/health) by its path', async () => {
    cache = createCache<number>({ name: 'w', ttl: '1h' });
    admin = createAdmin({ caches: { w: cache }, apiKey: KEY, prefix: '/admin' });
    server = await listen((req, res) => void admin(req, res, () => res.writeHead(404).end('app')));
    const answer = await rawRequest(
      server.url,
      { 'x-api-key': KEY },
      'GET',
      `http://${server.url.slice(7)}/admin/health`,
    );
    expect(answer.status).toBe(200);
    expect(answer.text).toMatch(/"status":"ok"/);
  });
});

describe('publicStats and HEAD', () => {
  it('answers HEAD stats without a key as it answers GET (counters only), not 401', async () => {
    cache = createCache<number>({ name: 'w', ttl: '1h' });
    admin = createAdmin({ caches: { w: cache }, apiKey: KEY, publicStats: true });
    server = await listen((req, res) => void admin(req, res));
    expect((await fetch(`${server.url}/stats`)).status).toBe(200);
    const head = await fetch(`${server.url}/stats`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toMatch(/application\/json/);
    // Other routes stay closed without the key, whatever the method.
    expect((await fetch(`${server.url}/health`, { method: 'HEAD' })).status).toBe(401);
  });
});

describe('an API key no HTTP client can present', () => {
  it.each([
    ['a trailing newline (read from a file)', 'secret-key-123\n'],
    ['a leading space', ' secret-key-123'],
    ['a character beyond Latin-1', 'secret-kéy-€123'],
    ['a control character', 'secret\u0000key'],
  ])('is refused at start-up when it has %s', (_what, apiKey) => {
    cache = createCache<number>({ name: 'w', ttl: '1h' });
    expect(() => createAdmin({ caches: { w: cache }, apiKey })).toThrow(/apiKey .*HTTP header/);
  });

  it('still accepts a Latin-1 key, which a browser sends byte for byte', async () => {
    cache = createCache<number>({ name: 'w', ttl: '1h' });
    admin = createAdmin({ caches: { w: cache }, apiKey: 'pässwörd-123' });
    server = await listen((req, res) => void admin(req, res));
    const res = await fetch(`${server.url}/health`, { headers: { 'x-api-key': 'pässwörd-123' } });
    expect(res.status).toBe(200);
  });
});

describe('a request without the key that carries a body', () => {
  it('gets 401 with Connection: close, so the server does not read the body it refused', async () => {
    cache = createCache<number>({ name: 'w', ttl: '1h' });
    admin = createAdmin({ caches: { w: cache }, apiKey: KEY });
    server = await listen((req, res) => void admin(req, res));
    const { port } = new URL(server.url);
    const socket = connect(Number(port), '127.0.0.1');
    socket.on('error', () => {});
    const first = new Promise<string>((resolve) => socket.once('data', (c: Buffer) => resolve(c.toString())));
    const ended = new Promise<void>((resolve) => socket.once('end', resolve));
    // Declares 100 MB and sends a few bytes: the rest never comes.
    socket.write(
      'POST /invalidate HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n' +
        'content-length: 100000000\r\n\r\n{"keys":',
    );
    const head = await first;
    expect(head).toMatch(/^HTTP\/1\.1 401 /);
    expect(head).toMatch(/\r\nconnection: close\r\n/i);
    await ended;
    socket.destroy();
  });
});

describe('the dashboard page address', () => {
  it('is served only where its script finds the API beside it (dashboard, dashboard/)', async () => {
    cache = createCache<number>({ name: 'w', ttl: '1h' });
    admin = createAdmin({ caches: { w: cache }, apiKey: KEY, prefix: '/admin' });
    server = await listen((req, res) => void admin(req, res));
    for (const path of ['/admin/dashboard', '/admin/dashboard/']) {
      expect((await fetch(`${server.url}${path}`)).status, path).toBe(200);
    }
    // The page calls `<its path without /dashboard>/stats`: from these it would ask
    // /admin/dashboard/index.html/stats or /admin/dashboard///stats and show only errors.
    for (const path of [
      '/admin/dashboard/index.html',
      '/admin/dashboard//',
      '/admin/dashboard//index.html',
    ]) {
      expect((await fetch(`${server.url}${path}`)).status, path).toBe(404);
    }
  });
});
