// Probes of the adapters side by side, over real servers on loopback ports: what a handler that fails
// part-way through its body leaves on the connection, under each framework's own error handling.
import express from 'express';
import Fastify from 'fastify';
import { connect, type AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import type { Cache } from '../../src/cache/types.js';
import { expressCache } from '../../src/http/express.js';
import { fastifyCache } from '../../src/http/fastify.js';
import { listen, rawRequest, type TestServer } from './helpers/server.js';

let cache: Cache;
let closers: (() => Promise<unknown>)[];
/** Whether the streamed route fails after its first chunk. */
let failing: boolean;

beforeEach(() => {
  cache = createCache({ name: 'http' });
  closers = [];
  failing = true;
});
afterEach(async () => {
  for (const close of closers) await close();
  await cache.close();
});

/** A body of two chunks; when failing, the stream errors where its second chunk would be. */
function body(): Readable {
  let reads = 0;
  const fail = failing;
  return new Readable({
    read() {
      reads++;
      if (reads === 1) this.push('partial-data-');
      else if (fail) this.destroy(new Error('upstream broke mid-stream'));
      else {
        this.push('rest');
        this.push(null);
      }
    },
  });
}

/**
 * Sends `GET /s` then `GET /ok` pipelined on one connection (the second asking to close it) and
 * resolves with every byte that came back once the connection closed.
 */
function pipelined(url: string): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.write(
        'GET /s HTTP/1.1\r\nHost: a\r\n\r\nGET /ok HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
      );
    });
    let out = '';
    socket.on('data', (chunk: Buffer) => (out += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(out));
  });
}

/**
 * Splits what a connection carried into responses by their Content-Length, failing when the bytes
 * after one response are not the start of the next (a body longer than its Content-Length).
 */
function framed(raw: string): { head: string; body: string }[] {
  const out: { head: string; body: string }[] = [];
  let rest = raw;
  while (rest !== '') {
    expect(rest.startsWith('HTTP/1.1 ')).toBe(true);
    const end = rest.indexOf('\r\n\r\n');
    if (end === -1) break;
    const head = rest.slice(0, end);
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (length === null) break; // chunked or close-delimited: the last thing on the connection
    const size = Number(length[1]);
    out.push({ head, body: rest.slice(end + 4, end + 4 + size) });
    rest = rest.slice(end + 4 + size);
  }
  return out;
}

async function expressApp(): Promise<string> {
  const app = express();
  app.use(expressCache({ cache, rules: [{ path: '/*', ttl: '5m' }] }));
  app.get('/s', (_req, res, next) => {
    res.type('text/plain');
    // The usual Express idiom: a failing stream goes to the error handler.
    body().on('error', next).pipe(res);
  });
  app.get('/ok', (_req, res) => void res.send('fine'));
  const server: TestServer = await listen(createServer(app));
  closers.push(() => server.close());
  return server.url;
}

async function fastifyApp(): Promise<string> {
  const app = Fastify();
  await app.register(fastifyCache, { cache, rules: [{ path: '/*', ttl: '5m' }] });
  app.get('/s', (_req, reply) => reply.type('text/plain').send(body()));
  app.get('/ok', () => 'fine');
  await app.listen({ port: 0, host: '127.0.0.1' });
  closers.push(() => app.close());
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

describe.each([
  ['express', expressApp],
  ['fastify', fastifyApp],
])('a stream that fails part-way on a miss (%s)', (_name, start) => {
  it('never sends its part glued to an error page, and stores nothing', async () => {
    const url = await start();
    const raw = await pipelined(url);
    // The framework's error page must not follow the part already captured under the page's own
    // Content-Length: the extra bytes would be read as the start of the next response.
    for (const { body: text } of framed(raw)) expect(text).not.toContain('partial-data-');
    failing = false;
    const next = await rawRequest(`${url}/s`);
    expect(next).toMatchObject({ status: 200, text: 'partial-data-rest' });
    expect(next.headers['x-cache']).toBe('MISS');
    expect((await rawRequest(`${url}/s`)).headers['x-cache']).toBe('HIT');
  });
});
