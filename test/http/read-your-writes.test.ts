// Read-your-writes over HTTP: a GET that starts after a successful PUT has been answered (its
// invalidation awaited before the answer went out) never gets the pre-write body, even while a GET
// that started before the PUT is still running its handler. Interleavings are driven by deferreds.
import Fastify from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import type { Cache } from '../../src/cache/types.js';
import { fastifyCache } from '../../src/http/fastify.js';
import { createHttpCache } from '../../src/http/http-cache.js';
import { deferred, type Deferred } from '../helpers/deferred.js';
import { listen, rawRequest, type TestServer } from './helpers/server.js';

/** `cache` whose delete / invalidateTags / invalidatePattern first await `before()`. */
function gatedInvalidation(target: Cache, before: () => Promise<void>): Cache {
  const gatedMethods = new Set(['delete', 'invalidateTags', 'invalidatePattern']);
  return new Proxy(target, {
    get(obj, name) {
      const member = Reflect.get(obj, name) as unknown;
      if (typeof member !== 'function') return member;
      const bound = (member as (...args: unknown[]) => unknown).bind(obj);
      if (!gatedMethods.has(String(name))) return bound;
      return async (...args: unknown[]) => {
        await before();
        return bound(...args);
      };
    },
  });
}

let cache: Cache | undefined;
let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  await cache?.close();
});

describe('GET after a write over HTTP', () => {
  it.each([
    ['keys', { keys: ['GET /item'] }],
    ['tags', { tags: ['item'] }],
    ['patterns', { patterns: ['GET /item*'] }],
  ] as const)(
    'a GET after an answered PUT (invalidating %s) is a MISS with the new body',
    async (_kind, targets) => {
      cache = createCache({ name: 'api' });
      let value = 'v1';
      let gets = 0;
      const firstGetRunning = deferred();
      const releaseFirstGet = deferred();
      // The invalidation is held at a gate, so the test sees whether the PUT's answer waits for it.
      const invalidating = deferred();
      const gate = deferred();
      let putResponse: ServerResponse | undefined;
      let answeredBeforeInvalidation: boolean | undefined;
      const gated = gatedInvalidation(cache, async () => {
        answeredBeforeInvalidation = putResponse?.writableEnded ?? true;
        invalidating.resolve();
        await gate.promise;
      });
      const mw = createHttpCache({
        cache: gated,
        rules: [{ path: '/item', ttl: '1h', tags: ['item'] }],
        invalidate: [{ path: '/item', ...targets }],
      });
      const app = async (req: IncomingMessage, res: ServerResponse) => {
        if (req.method === 'PUT') {
          putResponse = res;
          value = 'v2';
          res.writeHead(204);
          return void res.end();
        }
        const read = value; // the handler reads before it is slowed down, as a query would
        if (++gets === 1) {
          firstGetRunning.resolve();
          await releaseFirstGet.promise;
        }
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(read);
      };
      const arrived: Deferred[] = [deferred(), deferred(), deferred()];
      let requests = 0;
      server = await listen((req, res) => {
        if (req.method === 'GET') arrived[requests++]?.resolve();
        void mw(req, res, () => app(req, res));
      });
      const url = `${server.url}/item`;

      const first = rawRequest(url);
      await firstGetRunning.promise;
      const put = rawRequest(url, {}, 'PUT');
      await invalidating.promise;
      gate.resolve();
      expect((await put).status).toBe(204);
      // The write's answer waited for its invalidation (read-your-writes for the client that wrote).
      expect(answeredBeforeInvalidation).toBe(false);

      // The PUT was answered, so its invalidation ran: this GET must not join the first one's load.
      const second = rawRequest(url);
      await arrived[1]!.promise;
      releaseFirstGet.resolve();
      const [a, b] = await Promise.all([first, second]);
      expect(a.text).toBe('v1'); // it started before the write: the old answer is fine for it
      expect(b.text).toBe('v2');
      expect(b.headers['x-cache']).toBe('MISS');
      expect(gets).toBe(2);
      // The pre-write load was never stored over the new one.
      const third = await rawRequest(url);
      expect(third).toMatchObject({ text: 'v2' });
      expect(third.headers['x-cache']).toBe('HIT');
    },
  );

  it('Fastify: the PUT is answered only after its invalidation, so the next GET misses', async () => {
    cache = createCache({ name: 'api' });
    let value = 'v1';
    let gets = 0;
    const firstGetRunning = deferred();
    const releaseFirstGet = deferred();
    const secondArrived = deferred();
    const invalidating = deferred();
    const gate = deferred();
    let putResponse: ServerResponse | undefined;
    let answeredBeforeInvalidation: boolean | undefined;
    const gated = gatedInvalidation(cache, async () => {
      answeredBeforeInvalidation = putResponse?.writableEnded ?? true;
      invalidating.resolve();
      await gate.promise;
    });
    const app = Fastify();
    app.addHook('onRequest', async (req) => {
      if (req.method === 'GET' && gets === 1) secondArrived.resolve();
    });
    await app.register(fastifyCache, {
      cache: gated,
      rules: [{ path: '/item', ttl: '1h', tags: ['item'] }],
      invalidate: [{ path: '/item', tags: ['item'] }],
    });
    app.get('/item', async () => {
      const read = value;
      if (++gets === 1) {
        firstGetRunning.resolve();
        await releaseFirstGet.promise;
      }
      return read;
    });
    app.put('/item', async (_req, reply) => {
      putResponse = reply.raw;
      value = 'v2';
      return reply.code(204).send();
    });
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const first = rawRequest(`${base}/item`);
      await firstGetRunning.promise;
      const put = rawRequest(`${base}/item`, {}, 'PUT');
      await invalidating.promise;
      gate.resolve();
      expect((await put).status).toBe(204);
      expect(answeredBeforeInvalidation).toBe(false);
      const second = rawRequest(`${base}/item`);
      await secondArrived.promise;
      releaseFirstGet.resolve();
      const [a, b] = await Promise.all([first, second]);
      expect(a.text).toBe('v1');
      expect(b).toMatchObject({ text: 'v2' });
      expect(b.headers['x-cache']).toBe('MISS');
      expect((await rawRequest(`${base}/item`)).headers['x-cache']).toBe('HIT');
    } finally {
      releaseFirstGet.resolve(); // so that close() never waits on a handler a failed assertion left blocked
      await app.close();
    }
  });
});
