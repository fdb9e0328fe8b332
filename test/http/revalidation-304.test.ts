// A revalidation's 304 is about the representation its validator names (RFC 9111 §4.3.4): one whose
// ETag, weak or strong, is not the held response's freshens nothing and does not make the held body
// this request's answer. The client gets the 304 itself when its own If-None-Match names that ETag,
// the held response as STALE only where it may be served stale, and a 502 otherwise.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import type { Cache } from '../../src/cache/types.js';
import { createHttpCache } from '../../src/http/http-cache.js';
import { listen, rawRequest, type TestServer } from './helpers/server.js';

let now = Date.UTC(2026, 11, 6, 12);
let cache: Cache;
let server: TestServer;
let calls = 0;
/** What the handler answers any conditional request with: a 304 naming this ETag. */
let notModifiedEtag = 'W/"v2"';
let cacheControl = 'max-age=1';

/**
 * A handler that contradicts itself: "not modified" to any conditional request, naming the ETag of
 * the version it now holds (as one that compares If-None-Match loosely, or by date, may).
 */
function handler(req: IncomingMessage, res: ServerResponse): void {
  calls++;
  res.setHeader('cache-control', cacheControl);
  if (req.headers['if-none-match'] !== undefined) {
    res.setHeader('etag', notModifiedEtag);
    return void res.writeHead(304).end();
  }
  res.setHeader('etag', calls === 1 ? 'W/"v1"' : 'W/"v2"');
  res.end(calls === 1 ? 'version 1' : 'version 2');
}

async function start(rule: Record<string, unknown> = {}): Promise<void> {
  const mw = createHttpCache({ cache, clock: () => now, rules: [{ path: '/doc', ...rule }] });
  server = await listen((req, res) => void mw(req, res, () => handler(req, res)));
}

const get = async (headers: Record<string, string> = {}) => {
  const res = await rawRequest(`${server.url}/doc`, headers);
  return `${res.status} ${res.headers['x-cache'] as string} ${res.headers.etag as string} ${res.text}`.trim();
};

beforeEach(() => {
  now = Date.UTC(2026, 11, 6, 12);
  cache = createCache({ name: 'http', ttl: '5m', clock: () => now });
  calls = 0;
  notModifiedEtag = 'W/"v2"';
  cacheControl = 'max-age=1';
});
afterEach(async () => {
  await server.close();
  await cache.close();
});

describe('a 304 from the handler naming another weak ETag', () => {
  it('freshens nothing: the held body is not served as revalidated, and the next request gets the full answer', async () => {
    await start();
    expect(await get()).toBe('200 MISS W/"v1" version 1');
    now += 2_000;
    const contradicted = await get();
    expect(contradicted).not.toMatch(/REVALIDATED/);
    expect(await get()).toBe('200 MISS W/"v2" version 2');
    expect(await get()).toBe('200 HIT W/"v2" version 2');
    expect(calls).toBe(3);
  });

  it('a 304 naming the held weak ETag still freshens it', async () => {
    notModifiedEtag = 'W/"v1"';
    await start();
    expect(await get()).toBe('200 MISS W/"v1" version 1');
    now += 2_000;
    expect(await get()).toBe('200 REVALIDATED W/"v1" version 1');
    expect(await get()).toBe('200 HIT W/"v1" version 1');
    expect(calls).toBe(2);
  });
});

describe('what the client of a contradicted revalidation gets', () => {
  it('the 304 itself when its own If-None-Match names the ETag the 304 does', async () => {
    await start();
    await get();
    now += 2_000;
    // The client holds version 2 already; the cache asked about version 1.
    expect(await get({ 'if-none-match': 'W/"v2"' })).toBe('304 MISS W/"v2"');
    expect(await get()).toBe('200 MISS W/"v2" version 2');
  });

  it('the held response as STALE where stale-if-error lets it be served stale', async () => {
    cacheControl = 'max-age=1, stale-if-error=60';
    await start();
    await get();
    now += 2_000;
    expect(await get({ 'if-none-match': 'W/"v0"' })).toBe('200 STALE W/"v1" version 1');
    expect(await get()).toBe('200 MISS W/"v2" version 2');
  });

  it('a 502 where the held response may not be served stale (strong ETags too)', async () => {
    notModifiedEtag = '"v2"';
    await start();
    await get();
    now += 2_000;
    expect(await get()).toMatch(/^502 MISS /);
    expect(await get()).toBe('200 MISS W/"v2" version 2');
  });

  it('a 502 where must-revalidate forbids serving it stale, whatever the grace', async () => {
    cacheControl = 'max-age=1, must-revalidate';
    await start({ grace: '1h' });
    await get();
    now += 2_000;
    expect(await get()).toMatch(/^502 MISS /);
  });
});

describe('a 304 from the handler without an ETag', () => {
  it('naming another Last-Modified than the held one freshens nothing', async () => {
    const v1 = 'Sat, 05 Dec 2026 10:00:00 GMT';
    const v2 = 'Sun, 06 Dec 2026 11:00:00 GMT';
    const mw = createHttpCache({ cache, clock: () => now, rules: [{ path: '/doc' }] });
    server = await listen(
      (req, res) =>
        void mw(req, res, () => {
          calls++;
          res.setHeader('cache-control', 'max-age=1, stale-if-error=60');
          if (req.headers['if-modified-since'] !== undefined) {
            res.setHeader('last-modified', v2);
            return void res.writeHead(304).end();
          }
          res.setHeader('last-modified', calls === 1 ? v1 : v2);
          res.end(calls === 1 ? 'version 1' : 'version 2');
        }),
    );
    const text = async () => {
      const res = await rawRequest(`${server.url}/doc`);
      return `${res.headers['x-cache'] as string} ${res.text}`;
    };
    expect(await text()).toBe('MISS version 1');
    now += 2_000;
    expect(await text()).toBe('STALE version 1');
    expect(await text()).toBe('MISS version 2');
    // The same Last-Modified still freshens.
    now += 2_000;
    expect(await text()).toBe('REVALIDATED version 2');
  });
});
