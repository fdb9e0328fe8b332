import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listen, type TestServer } from '../http/helpers/server.js';
import { startProxy, type RunningProxy } from './proxy.js';

/** What the origin received. */
interface Seen {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A response as the client got it, with its raw header lines. */
interface Got {
  status: number;
  message: string | undefined;
  raw: [string, string][];
  headers: IncomingMessage['headers'];
  body: string;
}

function send(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
) {
  return new Promise<Got>((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: options.method ?? 'GET', headers: options.headers, agent: false },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => {
          const raw: [string, string][] = [];
          for (let i = 0; i < res.rawHeaders.length; i += 2)
            raw.push([res.rawHeaders[i]!.toLowerCase(), res.rawHeaders[i + 1]!]);
          resolve({
            status: res.statusCode ?? 0,
            message: res.statusMessage,
            raw,
            headers: res.headers,
            body,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const values = (got: Got, name: string): string[] => got.raw.filter(([n]) => n === name).map(([, v]) => v);

describe('the conformance proxy', () => {
  let origin: TestServer;
  let proxy: RunningProxy;
  let seen: Seen[];
  let lastDate: string;

  beforeEach(async () => {
    seen = [];
    origin = await listen((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body });
        const path = req.url ?? '';
        if (path.endsWith('/die')) return void req.socket.destroy();
        if (path.endsWith('/etag')) {
          if (req.headers['if-none-match'] === '"v1"') return void res.writeHead(304, { etag: '"v1"' }).end();
          return void res.writeHead(200, { 'cache-control': 'max-age=0', etag: '"v1"' }).end('tagged');
        }
        res.writeHead(203, 'Custom Reason', [
          ['Cache-Control', 'max-age=60'],
          ['X-Multi', 'a'],
          ['X-Multi', 'b'],
          ['Connection', 'x-conn'],
          ['X-Conn', 'per-connection'],
          ['Keep-Alive', 'timeout=5'],
          ['Upgrade', 'h2c'],
          ['Age', '7'],
          // A past second, so that Date cannot be one the proxy made up.
          ['Date', (lastDate = new Date(Date.now() - 1000).toUTCString())],
        ]);
        res.end(`body of ${path}`);
      });
    });
    proxy = await startProxy({ origin: origin.url });
  });

  afterEach(async () => {
    await proxy.close();
    await origin.close();
  });

  it('forwards the method, target, body and end-to-end request headers, dropping hop-by-hop ones', async () => {
    await send(`${proxy.url}/config/abc?x=1`, {
      method: 'PUT',
      headers: { connection: 'x-req', 'x-req': 'per-connection', te: 'trailers', 'x-keep': 'yes' },
      body: 'payload',
    });
    expect(seen).toHaveLength(1);
    const [got] = seen;
    expect(got).toMatchObject({ method: 'PUT', url: '/config/abc?x=1', body: 'payload' });
    expect(got!.headers['x-keep']).toBe('yes');
    expect(got!.headers['x-req']).toBeUndefined();
    expect(got!.headers.te).toBeUndefined();
  });

  it('sends back the status, reason, every line of a repeated header and Date and Age, without hop-by-hop fields', async () => {
    const got = await send(`${proxy.url}/config/abc`);
    expect([got.status, got.message, got.body]).toEqual([203, 'Custom Reason', 'body of /config/abc']);
    expect(values(got, 'x-multi')).toEqual(['a', 'b']);
    expect(values(got, 'age')).toEqual(['7']);
    expect(values(got, 'date')).toEqual([lastDate]);
    expect(values(got, 'x-conn')).toEqual([]);
    expect(values(got, 'upgrade')).toEqual([]);
    expect(values(got, 'connection')).not.toContain('x-conn');
  });

  it('caches the test paths and never the harness channel', async () => {
    const first = await send(`${proxy.url}/test/one`);
    const second = await send(`${proxy.url}/test/one`);
    expect(first.headers['x-cache']).toBe('MISS');
    expect(second.headers['x-cache']).toBe('HIT');
    expect(values(second, 'x-multi')).toEqual(['a', 'b']);
    expect(second.body).toBe('body of /test/one');

    await send(`${proxy.url}/state/one`);
    const state = await send(`${proxy.url}/state/one`);
    expect(state.headers['x-cache']).toBeUndefined();
    expect(seen.map((s) => s.url)).toEqual(['/test/one', '/state/one', '/state/one']);
  });

  it('forwards the validators the cache sets when it revalidates', async () => {
    await send(`${proxy.url}/test/etag`);
    const again = await send(`${proxy.url}/test/etag`);
    expect(seen).toHaveLength(2);
    expect(seen[1]!.headers['if-none-match']).toBe('"v1"');
    expect([again.status, again.body, again.headers['x-cache']]).toEqual([200, 'tagged', 'REVALIDATED']);
  });

  it('answers 502 when the origin drops the connection', async () => {
    const got = await send(`${proxy.url}/test/die`);
    expect(got.status).toBe(502);
    expect(got.body).toMatch(/^proxy: /);
  });
});
