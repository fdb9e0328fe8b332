// A write answered with a redirect (post-redirect-get) has done its write: its rules' tags and
// patterns go, as RFC 9111 §4.4 invalidates on any non-error status. A 304 to a write reports that it
// changed nothing, and an error changed nothing: neither invalidates by the rules.
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
let reads = 0;

// The list is cached under a path the write's own URI and its Location never name, so only the rule
// (tag `items`, pattern `GET /summary*`) can reach it.
const rules = [
  { path: '/dashboard', tags: ['items'] },
  { path: '/summary', ttl: '5m' },
  { path: '/items/:id', ttl: '5m' },
];
const invalidate = [{ method: 'POST', path: '/items/new', tags: ['items'], patterns: ['GET /summary*'] }];

beforeEach(() => {
  cache = createCache({ name: 'http', ttl: '5m' });
  reads = 0;
});
afterEach(async () => {
  await server.close();
  await cache.close();
});

/** POSTs to /items/new, whose handler answers `status`; resolves with the status the client got. */
const write = async (status: number) => {
  const res = await rawRequest(`${server.url}/items/new?status=${status}`, {}, 'POST');
  return res.status;
};
const read = async (path: string) => {
  const res = await rawRequest(server.url + path);
  return `${res.headers['x-cache'] as string} ${res.text}`;
};

/** Runs the same expectations on whichever server the test started. */
async function expectRuleFiresOn(status: number): Promise<void> {
  expect(await read('/dashboard')).toBe('MISS dashboard 1');
  expect(await read('/summary')).toBe('MISS summary 2');
  expect(await read('/dashboard')).toBe('HIT dashboard 1');
  expect(await write(status)).toBe(status);
  expect(await read('/dashboard')).toBe('MISS dashboard 3');
  expect(await read('/summary')).toBe('MISS summary 4');
}

async function expectRuleIgnores(status: number): Promise<void> {
  expect(await read('/dashboard')).toBe('MISS dashboard 1');
  expect(await read('/summary')).toBe('MISS summary 2');
  expect(await write(status)).toBe(status);
  expect(await read('/dashboard')).toBe('HIT dashboard 1');
  expect(await read('/summary')).toBe('HIT summary 2');
}

describe('write rules on a node:http server', () => {
  beforeEach(async () => {
    const mw = createHttpCache({ cache, rules, invalidate });
    server = await listen(
      (req: IncomingMessage, res: ServerResponse) =>
        void mw(req, res, () => {
          const url = new URL(req.url!, 'http://x');
          if (req.method === 'POST') {
            const status = Number(url.searchParams.get('status'));
            if (status >= 300 && status < 400 && status !== 304) res.setHeader('location', '/items/42');
            res.writeHead(status).end();
            return;
          }
          res.end(`${url.pathname.slice(1)} ${++reads}`);
        }),
    );
  });

  for (const status of [301, 302, 303, 307, 308])
    it(`fire when the write is answered ${status} (post-redirect-get)`, () => expectRuleFiresOn(status));

  it('still fire on a 2xx', () => expectRuleFiresOn(201));

  for (const status of [304, 400, 404, 409, 500])
    it(`do not fire when the write is answered ${status}`, () => expectRuleIgnores(status));
});

describe('write rules under Express', () => {
  beforeEach(async () => {
    const app = express();
    app.use(expressCache({ cache, rules, invalidate }));
    app.get(['/dashboard', '/summary'], (req, res) => void res.send(`${req.path.slice(1)} ${++reads}`));
    app.post('/items/new', (req, res) => {
      const status = Number(req.query.status);
      // Express's res.redirect answers 302 unless told otherwise; 303 See Other is the canonical PRG.
      if (status === 302) return res.redirect('/items/42');
      if (status === 303) return res.redirect(303, '/items/42');
      res.sendStatus(status);
    });
    server = await listen((req, res) => app(req, res));
  });

  it('fire after res.redirect() (302)', () => expectRuleFiresOn(302));
  it('fire after res.redirect(303, …)', () => expectRuleFiresOn(303));
  it('do not fire after a 422', () => expectRuleIgnores(422));
});
