// A response that is a stream of records (NDJSON, JSON Lines, JSON text sequences, multipart
// x-mixed-replace) or that asks proxies not to buffer it (`X-Accel-Buffering: no`) under a cached path
// must reach its client as it is written: held back until its end (or until 1 MiB), a long-lived one
// delivered nothing at all. Such a response is passed through and not stored, as server-sent events are.
import express from 'express';
import { createServer, type ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import type { Cache } from '../../src/cache/types.js';
import { createHttpCache } from '../../src/http/http-cache.js';
import { expressCache } from '../../src/http/express.js';
import { deferred, type Deferred } from '../helpers/deferred.js';
import { listen, rawRequest, receivedWhileOpen } from './helpers/server.js';

let cache: Cache;
let closers: (() => Promise<unknown>)[];

beforeEach(() => {
  cache = createCache({ name: 'http' });
  closers = [];
});
afterEach(async () => {
  for (const close of closers) await close();
  await cache.close();
});

const STREAMS: [string, Record<string, string>][] = [
  ['NDJSON', { 'content-type': 'application/x-ndjson' }],
  ['NDJSON (application/ndjson; charset)', { 'content-type': 'application/ndjson; charset=utf-8' }],
  ['JSON Lines', { 'content-type': 'application/jsonl' }],
  ['JSON text sequences', { 'content-type': 'application/json-seq' }],
  ['multipart x-mixed-replace', { 'content-type': 'multipart/x-mixed-replace; boundary=frame' }],
  ['X-Accel-Buffering: no', { 'content-type': 'application/json', 'x-accel-buffering': 'no' }],
];

/** A handler that writes one record, then waits for `more` before the rest. */
async function stream(res: ServerResponse, headers: Record<string, string>, more: Deferred): Promise<void> {
  res.writeHead(200, headers);
  res.write('{"n":1}\n');
  await more.promise;
  res.end('{"n":2}\n');
}

describe.each(STREAMS)('a %s response under a cached path', (_name, headers) => {
  it('reaches a node:http client as it is written, and is not stored', async () => {
    const more = deferred();
    let runs = 0;
    const http = createHttpCache({ cache, rules: [{ path: '/feed', ttl: '1m' }] });
    const server = await listen(
      createServer((req, res) => {
        void http(req, res, () => {
          runs++;
          void stream(res, headers, more);
        });
      }),
    );
    closers.push(() => server.close());
    try {
      expect(await receivedWhileOpen(`${server.url}/feed`, '{"n":1}')).toContain('{"n":1}');
    } finally {
      more.resolve();
    }
    // Passed through, not stored: the next request runs the handler again.
    expect((await rawRequest(`${server.url}/feed`)).text).toBe('{"n":1}\n{"n":2}\n');
    expect(runs).toBe(2);
  });

  it('reaches an Express client as it is written', async () => {
    const more = deferred();
    const app = express();
    app.use(expressCache({ cache, rules: [{ path: '/api/*', ttl: '1m' }] }));
    app.get('/api/feed', (_req, res) => void stream(res, headers, more));
    const server = await listen(createServer(app));
    closers.push(() => server.close());
    try {
      expect(await receivedWhileOpen(`${server.url}/api/feed`, '{"n":1}')).toContain('{"n":1}');
    } finally {
      more.resolve();
    }
  });
});

describe('an ordinary JSON response under the same rule', () => {
  it('is still stored (the stream types are told apart by their media type)', async () => {
    let runs = 0;
    const http = createHttpCache({ cache, rules: [{ path: '/list', ttl: '1m' }] });
    const server = await listen(
      createServer((req, res) => {
        void http(req, res, () => {
          runs++;
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write('[1,');
          res.end('2]');
        });
      }),
    );
    closers.push(() => server.close());
    expect((await rawRequest(`${server.url}/list`)).text).toBe('[1,2]');
    expect((await rawRequest(`${server.url}/list`)).text).toBe('[1,2]');
    expect(runs).toBe(1);
  });
});
