import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { captureResponse, type CaptureResult } from '../../src/http/capture.js';
import { deferred } from '../helpers/deferred.js';
import { listen, type TestServer } from './helpers/server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Runs `handler` under a capture; a captured response is sent afterwards with an X-Captured header. */
async function run(limit: number, handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const results: CaptureResult[] = [];
  server = await listen((req, res) => {
    const capture = captureResponse(res, limit);
    void capture.result.then((r) => {
      results.push(r);
      if (r.outcome !== 'captured') return;
      capture.release();
      res.writeHead(r.response.status, {
        ...r.response.headers,
        'x-captured': String(r.response.body.length),
      });
      res.end(r.response.body);
    });
    try {
      handler(req, res);
    } catch (error) {
      capture.fail(error);
      res.statusCode = 500;
      res.end('handler threw');
    }
  });
  return { results, url: server.url };
}

describe('captureResponse', () => {
  it('buffers writeHead/write/end and hands over status, headers and body', async () => {
    const { results, url } = await run(1024, (_req, res) => {
      res.setHeader('x-a', '1');
      res.writeHead(201, 'Made', { 'content-type': 'text/plain' });
      res.write('hel');
      res.write(Buffer.from('lo '));
      res.end('wörld', 'utf8');
    });
    const r = await fetch(url);
    expect(r.status).toBe(201);
    expect(r.headers.get('x-captured')).toBe(String(Buffer.byteLength('hello wörld')));
    expect(await r.text()).toBe('hello wörld');
    const [result] = results;
    expect(result!.outcome).toBe('captured');
    if (result!.outcome === 'captured') {
      expect(result!.response.headers).toMatchObject({ 'x-a': '1', 'content-type': 'text/plain' });
    }
  });

  it('keeps repeated headers given to writeHead as a raw array', async () => {
    const { url } = await run(1024, (_req, res) => {
      res.writeHead(200, ['Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'X-One', 'y']);
      res.end();
    });
    const r = await fetch(url);
    expect(r.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(r.headers.get('x-one')).toBe('y');
  });

  it('passes a body past the limit through whole, without storing it', async () => {
    const big = 'x'.repeat(5000);
    const { results, url } = await run(1000, (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      for (let i = 0; i < 5; i++) res.write(big.slice(i * 1000, (i + 1) * 1000));
      res.end('!');
    });
    const r = await fetch(url);
    expect(r.headers.get('x-captured')).toBeNull();
    expect(await r.text()).toBe(`${big}!`);
    expect(results.map((x) => x.outcome)).toEqual(['passed-through']);
  });

  it('passes through a single end() larger than the limit', async () => {
    const { results, url } = await run(10, (_req, res) => res.end('0123456789abc'));
    expect(await (await fetch(url)).text()).toBe('0123456789abc');
    expect(results[0]!.outcome).toBe('passed-through');
  });

  it('lets a handler that flushes headers stream', async () => {
    const { results, url } = await run(1024, (_req, res) => {
      res.statusCode = 202;
      res.flushHeaders();
      res.end('streamed');
    });
    const r = await fetch(url);
    expect(r.status).toBe(202);
    expect(await r.text()).toBe('streamed');
    expect(results[0]!.outcome).toBe('passed-through');
  });

  it('reports a handler that throws, and gives the response back for the error answer', async () => {
    const { results, url } = await run(1024, () => {
      throw new Error('boom');
    });
    const r = await fetch(url);
    expect(r.status).toBe(500);
    expect(await r.text()).toBe('handler threw');
    expect(results[0]).toMatchObject({ outcome: 'failed' });
  });

  it('reports a connection closed before the handler ended', async () => {
    // Resolved once the handler has started writing (wrapped, so the result is not awaited with it).
    const started = deferred<{ settled: Promise<CaptureResult> }>();
    server = await listen((_req, res) => {
      const settled = captureResponse(res, 1024).result;
      res.write('partial');
      started.resolve({ settled });
    });
    const controller = new AbortController();
    const pending = fetch(server.url, { signal: controller.signal }).catch(() => undefined);
    const { settled } = await started.promise;
    controller.abort();
    await pending;
    expect((await settled).outcome).toBe('failed');
  });
});
