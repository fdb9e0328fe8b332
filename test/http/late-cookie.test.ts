// A session middleware mounted ahead of the cache (express-session, cookie-session) writes its cookie
// in a writeHead hook (on-headers), which runs only as the answer goes out, after the capture has
// decided to keep it. A response that sets a cookie is never kept: seen that late, the entry goes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import type { Cache } from '../../src/cache/types.js';
import { expressCache } from '../../src/http/express.js';
import { createHttpCache } from '../../src/http/http-cache.js';
import { listen, rawRequest, type TestServer } from './helpers/server.js';

let cache: Cache;
let server: TestServer;
let visitors = 0;
beforeEach(() => {
  cache = createCache({ name: 'http', ttl: '5m' });
  visitors = 0;
});
afterEach(async () => {
  await server.close();
  await cache.close();
});

/**
 * A session as express-session (saveUninitialized: false) keeps one: a new visitor's session gets a
 * cookie, written in a writeHead hook, only once the handler put something in it.
 */
function session(res: ServerResponse): { csrf(): string } {
  const id = `visitor${++visitors}`;
  let touched = false;
  const writeHead = res.writeHead;
  res.writeHead = function sessionWriteHead(this: ServerResponse, ...args: unknown[]) {
    if (touched) res.setHeader('set-cookie', `sid=${id}; HttpOnly`);
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse['writeHead'];
  return {
    csrf() {
      touched = true;
      return `token-of-${id}`;
    },
  };
}

const page = async (path = '/form') => {
  const res = await rawRequest(server.url + path);
  return `${res.headers['x-cache'] as string} ${String(res.headers['set-cookie'])} ${res.text}`;
};

describe('a cookie a writeHead hook sets as the answer goes out', () => {
  it("keeps one visitor's session-bound page from the next visitor (node:http)", async () => {
    const mw = createHttpCache({ cache, rules: [{ path: '/form' }, { path: '/plain' }] });
    server = await listen((req: IncomingMessage, res: ServerResponse) => {
      const s = session(res);
      void mw(req, res, () => res.end(req.url === '/form' ? `csrf=${s.csrf()}` : 'plain'));
    });
    expect(await page()).toBe('MISS sid=visitor1; HttpOnly csrf=token-of-visitor1');
    expect(await page()).toBe('MISS sid=visitor2; HttpOnly csrf=token-of-visitor2');
    expect(await cache.get(`GET /form host=${new URL(server.url).host}`)).toBeUndefined();
    // A page whose session the handler left alone sets no cookie, and is kept.
    expect(await page('/plain')).toBe('MISS undefined plain');
    expect(await page('/plain')).toBe('HIT undefined plain');
  });

  it('under Express, with the session middleware before the cache', async () => {
    const app = express();
    app.use((_req, res, next) => {
      res.locals.session = session(res);
      next();
    });
    app.use(expressCache({ cache, rules: [{ path: '/form' }] }));
    app.get(
      '/form',
      (_req, res) => void res.send(`csrf=${(res.locals.session as { csrf(): string }).csrf()}`),
    );
    server = await listen((req, res) => app(req, res));
    expect(await page()).toBe('MISS sid=visitor1; HttpOnly csrf=token-of-visitor1');
    expect(await page()).toBe('MISS sid=visitor2; HttpOnly csrf=token-of-visitor2');
  });
});
