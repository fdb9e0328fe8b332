// A handler that never ends must not stall its key: requests collapsed onto its run wait at most
// `waitTimeout` and then run their own handler, and a detached stale-while-revalidate run is failed
// after `backgroundTimeout`. Handlers are held with promises the test controls.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import type { Cache } from '../../src/cache/types.js';
import { createHttpCache, type HttpCacheOptions } from '../../src/http/http-cache.js';
import { listen, rawRequest, type TestServer } from './helpers/server.js';

let now = Date.UTC(2026, 11, 4, 12);
let cache: Cache;
let server: TestServer;
let calls: number;
/** Calls whose handler hangs until released. */
let hang: Set<number>;
const held: (() => void)[] = [];

async function app(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const n = ++calls;
  if (hang.has(n)) await new Promise<void>((resolve) => held.push(resolve));
  res.setHeader('cache-control', 'max-age=1, stale-while-revalidate=60');
  res.end(`v${n}`);
}

async function start(options: Partial<HttpCacheOptions> = {}): Promise<void> {
  const mw = createHttpCache({ cache, clock: () => now, rules: [{ path: '/slow' }], ...options });
  server = await listen((req, res) => void mw(req, res, () => app(req, res)));
}

const get = () => rawRequest(`${server.url}/slow`);

beforeEach(() => {
  cache = createCache({ name: 'http', ttl: '5m', clock: () => now });
  calls = 0;
  hang = new Set();
});
afterEach(async () => {
  for (const release of held.splice(0)) release();
  await server.close();
  await cache.close();
});

describe('a hung handler run', () => {
  it('holds a request collapsed onto it for waitTimeout at most, then that request runs its own handler', async () => {
    await start({ waitTimeout: 50 });
    hang.add(1);
    const leader = get();
    await vi.waitFor(() => expect(held).toHaveLength(1));
    const started = Date.now();
    const follower = await get();
    expect(follower).toMatchObject({ status: 200, text: 'v2' });
    expect(follower.headers['x-cache']).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(2_000);
    // The waited-for run goes on, and its answer is stored.
    held.shift()!();
    expect((await leader).headers['x-cache']).toBe('MISS');
    expect(await get()).toMatchObject({ text: 'v1', headers: { 'x-cache': 'HIT' } });
  });

  it('is failed after backgroundTimeout when it is a stale-while-revalidate run, so the key revalidates again', async () => {
    await start({ backgroundTimeout: 50 });
    await get();
    now += 2_000;
    hang.add(2);
    expect(await get()).toMatchObject({ text: 'v1', headers: { 'x-cache': 'STALE' } });
    await vi.waitFor(() => expect(held).toHaveLength(1));
    // Past the deadline the hung run no longer holds the key: the next stale answer starts a new run.
    await vi.waitFor(
      async () => {
        expect(await get()).toMatchObject({ text: 'v1', headers: { 'x-cache': 'STALE' } });
        expect(calls).toBe(3);
      },
      { timeout: 2_000, interval: 20 },
    );
    await vi.waitFor(async () =>
      expect(await get()).toMatchObject({ text: 'v3', headers: { 'x-cache': 'HIT' } }),
    );
    // The hung handler's late answer goes nowhere.
    held.shift()!();
    expect(await get()).toMatchObject({ text: 'v3', headers: { 'x-cache': 'HIT' } });
  });
});
