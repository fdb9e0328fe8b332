// A write answered with a streamed body whose client goes away mid-body, in every adapter, over real
// servers on loopback ports: its response never ends, and the write's invalidation, which ran when the
// response ended, must run all the same — when the client leaves, and again once the handler is done
// (its stream ended, its promise settled) or, where that cannot be seen, after `backgroundTimeout`.
import 'reflect-metadata';
import { createAdaptorServer, type HttpBindings } from '@hono/node-server';
import { Controller, Delete, Get, Module, Res, StreamableFile } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import Koa from 'koa';
import type { AddressInfo } from 'node:net';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import type { Cache } from '../../src/cache/types.js';
import { expressCache } from '../../src/http/express.js';
import { fastifyCache } from '../../src/http/fastify.js';
import { honoCache } from '../../src/http/hono.js';
import { createHttpCache, type HttpCacheOptions } from '../../src/http/http-cache.js';
import { koaCache } from '../../src/http/koa.js';
import { LarderModule } from '../../src/nestjs/module.js';
import { deferred, type Deferred } from '../helpers/deferred.js';
import { listen, rawRequest } from './helpers/server.js';

/** What the test and the server share: the item's version and the handler's milestones. */
interface Stage {
  version: number;
  /** The write's status. */
  status: number;
  /** Whether the handler ends its stream once it committed (else it leaves it open). */
  endsStream: boolean;
  /** Released by the test: the handler sends a second chunk (after the client left), then waits for `commit`. */
  more: Deferred | undefined;
  /** The write's node response closed (the client went away). */
  closed: Deferred;
  /** Released by the test: the handler commits its write (and ends its stream). */
  commit: Deferred;
  /** The handler committed. */
  committed: Deferred;
}

let cache: Cache;
let stage: Stage;
let closers: (() => Promise<unknown>)[];

beforeEach(() => {
  cache = createCache({ name: 'http' });
  closers = [];
  stage = {
    version: 1,
    status: 200,
    endsStream: true,
    more: undefined,
    closed: deferred(),
    commit: deferred(),
    committed: deferred(),
  };
});
afterEach(async () => {
  for (const close of closers) await close();
  await cache.close();
});

const RULES = [{ path: '/items/:id', ttl: '1m' }];
/** Where the handler's end cannot be seen, the write is invalidated again this long after the client left. */
const SETTLE = '1s';

/** The GET answer. */
const item = (): string => `item 1 v${stage.version}`;

/** The write's body as a node stream: a first chunk now, the rest once the test lets it commit. */
function writeBody(res: ServerResponse): PassThrough {
  const body = new PassThrough();
  body.on('error', () => undefined); // destroyed by some frameworks when the client goes away
  res.once('close', () => stage.closed.resolve());
  body.write('first-chunk-');
  void stage.commit.promise.then(() => {
    stage.version++;
    stage.committed.resolve();
    if (stage.endsStream) body.end('rest');
  });
  return body;
}

/** The same as a web stream (Hono). */
function webBody(res: ServerResponse): ReadableStream<Uint8Array> {
  res.once('close', () => stage.closed.resolve());
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('first-chunk-'));
      void stage.more?.promise.then(() => controller.enqueue(new TextEncoder().encode('more-')));
      void stage.commit.promise.then(() => {
        stage.version++;
        stage.committed.resolve();
        try {
          if (stage.endsStream) controller.close();
        } catch {
          // Cancelled already.
        }
      });
    },
  });
}

/** Starts an app on a loopback port with the cache in front; resolves with its base URL. */
type App = (options: HttpCacheOptions) => Promise<string>;

const plainApp: App = async (options) => {
  const httpCache = createHttpCache(options);
  const app = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method === 'GET') return void res.end(item());
    res.statusCode = stage.status;
    writeBody(res).pipe(res);
  };
  const server = await listen((req, res) => void httpCache(req, res, () => app(req, res)));
  closers.push(() => server.close());
  return server.url;
};

const expressApp: App = async (options) => {
  const app = express();
  app.use(expressCache(options as never));
  app.get('/items/:id', (_req, res) => void res.send(item()));
  app.delete('/items/:id', (_req, res) => {
    res.status(stage.status).type('text/plain');
    writeBody(res).pipe(res);
  });
  const server = await listen(createServer(app));
  closers.push(() => server.close());
  return server.url;
};

const koaApp: App = async (options) => {
  const app = new Koa();
  app.silent = true; // the stream cut off by the client is reported as an error
  app.use(koaCache(options as never));
  app.use((ctx) => {
    if (ctx.method === 'GET') ctx.body = item();
    else {
      ctx.status = stage.status;
      ctx.type = 'text/plain';
      ctx.body = writeBody(ctx.res);
    }
  });
  const server = await listen(createServer(app.callback()));
  closers.push(() => server.close());
  return server.url;
};

const fastifyApp: App = async (options) => {
  const app = Fastify();
  await app.register(fastifyCache, options as never);
  app.get('/items/:id', () => item());
  app.delete('/items/:id', (_req, reply) =>
    reply.code(stage.status).type('text/plain').send(writeBody(reply.raw)),
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  closers.push(() => app.close());
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
};

const honoApp: App = async (options) => {
  const app = new Hono<{ Bindings: HttpBindings }>();
  app.use(honoCache(options as never));
  app.get('/items/:id', (c) => c.text(item()));
  app.delete('/items/:id', (c) =>
    c.body(webBody(c.env.outgoing), stage.status as 200, { 'content-type': 'text/plain' }),
  );
  const server = await listen(createAdaptorServer({ fetch: app.fetch }) as Server);
  closers.push(() => server.close());
  return server.url;
};

const nestApp: App = async (options) => {
  // Decorators applied by hand: this folder compiles without experimentalDecorators.
  class ItemsController {
    read(): string {
      return item();
    }
    remove(res: ServerResponse): StreamableFile {
      res.statusCode = stage.status;
      return new StreamableFile(writeBody(res), { type: 'text/plain' });
    }
  }
  const proto = ItemsController.prototype;
  const method = (name: keyof ItemsController) => Object.getOwnPropertyDescriptor(proto, name)!;
  Get(':id')(proto, 'read', method('read'));
  Delete(':id')(proto, 'remove', method('remove'));
  // `@Res({ passthrough: true })`: the raw response, with Nest still sending the returned value.
  Res({ passthrough: true })(proto, 'remove', 0);
  Controller('items')(ItemsController);
  class AppModule {}
  Module({
    imports: [
      LarderModule.forRoot({ caches: { pages: {} }, http: { ...options, cache: undefined } as never }),
    ],
    controllers: [ItemsController],
  })(AppModule);
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  closers.push(() => app.close());
  const { port } = (app.getHttpServer() as { address(): AddressInfo }).address();
  return `http://127.0.0.1:${port}`;
};

/** Sends `DELETE /items/1` and destroys it at the first chunk of its body; resolves with its status. */
function abortedWrite(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/items/1`, { method: 'DELETE' }, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve(res.statusCode ?? 0);
      });
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ECONNRESET') reject(error);
    });
    req.end();
  });
}

const get = async (url: string) => rawRequest(`${url}/items/1`);

/** Waits (polling, at most `timeout` ms) until a read of the item sees the write: its invalidation ran. */
const seesWrite = (url: string, timeout = 5_000) =>
  vi.waitFor(async () => expect((await get(url)).text).toBe('item 1 v2'), { timeout, interval: 25 });

describe.each([
  ['node:http', plainApp],
  ['express', expressApp],
  ['koa', koaApp],
  ['fastify', fastifyApp],
  ['hono', honoApp],
  ['nestjs', nestApp],
] as const)('a streamed write whose client left mid-body (%s)', (_name, app) => {
  it('is invalidated once its handler is done, not only when the client left', async () => {
    const url = await app({ cache, rules: RULES, backgroundTimeout: SETTLE });
    expect((await get(url)).text).toBe('item 1 v1');
    expect((await get(url)).headers['x-cache']).toBe('HIT');
    expect(await abortedWrite(url)).toBe(200);
    await stage.closed.promise;
    // A reader while the handler is still committing: the data has not changed yet, and may be cached.
    expect((await get(url)).text).toBe('item 1 v1');
    stage.commit.resolve();
    await stage.committed.promise;
    await seesWrite(url, 10_000);
  });
});

describe.each([
  ['node:http', plainApp],
  ['express', expressApp],
  ['hono', honoApp],
] as const)('a streamed write whose client left mid-body, handler seen to finish (%s)', (_name, app) => {
  it('is invalidated when its stream ends, without waiting for backgroundTimeout', async () => {
    const url = await app({ cache, rules: RULES, backgroundTimeout: '1h' });
    expect((await get(url)).text).toBe('item 1 v1');
    expect(await abortedWrite(url)).toBe(200);
    await stage.closed.promise;
    expect((await get(url)).text).toBe('item 1 v1');
    stage.commit.resolve();
    await stage.committed.promise;
    await seesWrite(url);
  });
});

describe('a streamed write whose client left mid-body (rules and status)', () => {
  it("runs the write rules' invalidation too", async () => {
    await cache.set('report:1', 'old');
    const url = await expressApp({
      cache,
      rules: RULES,
      invalidate: [{ method: 'DELETE', path: '/items/:id', keys: ['report:{id}'] }],
      backgroundTimeout: '1h',
    });
    expect(await abortedWrite(url)).toBe(200);
    await stage.closed.promise;
    await vi.waitFor(async () => expect(await cache.get('report:1')).toBeUndefined());
    await cache.set('report:1', 'old'); // re-read before the handler committed
    stage.commit.resolve();
    await vi.waitFor(async () => expect(await cache.get('report:1')).toBeUndefined());
  });

  it('invalidates after backgroundTimeout when the handler never ends its stream', async () => {
    stage.endsStream = false;
    const url = await expressApp({ cache, rules: RULES, backgroundTimeout: '300ms' });
    expect((await get(url)).text).toBe('item 1 v1');
    expect(await abortedWrite(url)).toBe(200);
    await stage.closed.promise;
    expect((await get(url)).text).toBe('item 1 v1');
    stage.commit.resolve();
    await stage.committed.promise;
    await seesWrite(url);
  });

  it('invalidates nothing when the write failed (a 500 streamed)', async () => {
    stage.status = 500;
    const url = await expressApp({ cache, rules: RULES, backgroundTimeout: '1h' });
    expect((await get(url)).text).toBe('item 1 v1');
    expect(await abortedWrite(url)).toBe(500);
    await stage.closed.promise;
    stage.commit.resolve();
    await stage.committed.promise;
    // The stream has ended: what would be invalidated then has had its turn.
    await new Promise((resolve) => setImmediate(resolve));
    const after = await get(url);
    expect(after.headers['x-cache']).toBe('HIT');
    expect(after.text).toBe('item 1 v1');
  });
});

describe('a streamed write whose client left mid-body, sending on after it left (hono)', () => {
  it('is invalidated once its stream ends, not at the first chunk it could not send', async () => {
    stage.more = deferred();
    const url = await honoApp({ cache, rules: RULES, backgroundTimeout: '1h' });
    expect((await get(url)).text).toBe('item 1 v1');
    expect(await abortedWrite(url)).toBe(200);
    await stage.closed.promise;
    stage.more.resolve();
    // The handler is still at work after its next chunk: a reader meanwhile may cache what it read.
    await new Promise((resolve) => setImmediate(resolve));
    expect((await get(url)).text).toBe('item 1 v1');
    stage.commit.resolve();
    await stage.committed.promise;
    await seesWrite(url);
  });
});

describe('a write whose client left before it answered (koa)', () => {
  it('is invalidated once its middleware answered', async () => {
    let version = 1;
    const entered = deferred();
    const app = new Koa();
    app.use(koaCache({ cache, rules: RULES, backgroundTimeout: '1h' }));
    app.use(async (ctx) => {
      if (ctx.method === 'GET') return void (ctx.body = `item 1 v${version}`);
      ctx.res.once('close', () => stage.closed.resolve());
      entered.resolve();
      await stage.commit.promise;
      version++;
      ctx.body = { deleted: true };
    });
    const server = await listen(createServer(app.callback()));
    closers.push(() => server.close());
    expect((await get(server.url)).text).toBe('item 1 v1');
    const write = request(`${server.url}/items/1`, { method: 'DELETE' });
    write.on('error', () => undefined); // destroyed below, before the answer
    write.end();
    await entered.promise;
    write.destroy();
    await stage.closed.promise;
    expect((await get(server.url)).text).toBe('item 1 v1');
    stage.commit.resolve();
    await seesWrite(server.url);
  });
});

describe('a write whose client left mid-body, its handler a promise (node:http)', () => {
  it('is invalidated when the promise settles, though the handler never ends the response', async () => {
    const httpCache = createHttpCache({ cache, rules: RULES, backgroundTimeout: '1h' });
    const app = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
      if (req.method === 'GET') return void res.end(item());
      res.once('close', () => stage.closed.resolve());
      res.write('first-chunk-');
      await stage.commit.promise;
      stage.version++;
      if (!res.destroyed) res.end('rest'); // the client is gone: nothing to end
    };
    const server = await listen((req, res) => void httpCache(req, res, () => app(req, res)));
    closers.push(() => server.close());
    expect((await get(server.url)).text).toBe('item 1 v1');
    expect(await abortedWrite(server.url)).toBe(200);
    await stage.closed.promise;
    expect((await get(server.url)).text).toBe('item 1 v1');
    stage.commit.resolve();
    await seesWrite(server.url);
  });
});
