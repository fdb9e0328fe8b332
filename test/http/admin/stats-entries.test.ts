// `GET stats?limit=N` (the dashboard's poll) summarises at most N entries of each cache: a large
// cache must not cost a summary per entry every two seconds. The totals still count every entry.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCache } from '../../../src/cache/create-cache.js';
import type { Cache, CacheEntrySummary } from '../../../src/cache/types.js';
import { createAdmin, type AdminHandler } from '../../../src/http/admin/admin.js';
import { listen, type TestServer } from '../helpers/server.js';

const KEY = 'k'.repeat(32);
let admin: AdminHandler;
let server: TestServer;
let caches: Cache[] = [];

async function start(source: Record<string, Cache>): Promise<void> {
  admin = createAdmin({ caches: source, apiKey: KEY, prefix: '/cache' });
  server = await listen((req, res) => void admin(req, res));
}

async function stats(query: string): Promise<Record<string, any>> {
  const res = await fetch(`${server.url}/cache/stats?${query}`, { headers: { 'x-api-key': KEY } });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, any>;
}

/** Counts the entry summaries `cache` builds, and fails the test if it lists them all at once. */
function countSummaries(cache: Cache): { built: number } {
  const seen = { built: 0 };
  const each = cache.eachEntry.bind(cache);
  vi.spyOn(cache, 'eachEntry').mockImplementation(function* counted(): IterableIterator<CacheEntrySummary> {
    for (const entry of each()) {
      seen.built++;
      yield entry;
    }
  });
  vi.spyOn(cache, 'entries').mockImplementation(() => {
    throw new Error('GET stats listed every entry');
  });
  return seen;
}

afterEach(async () => {
  vi.restoreAllMocks();
  await server?.close();
  admin?.close();
  await Promise.all(caches.map((c) => c.close()));
  caches = [];
});

describe('admin GET stats entries', () => {
  it('summarises only `limit` entries when there is no filter, and takes the total from the count', async () => {
    const big = createCache<number>({ name: 'big', maxEntries: 10_000 });
    const ns = big.namespace('ns');
    caches = [big];
    for (let i = 0; i < 3000; i++) await big.set(`k:${i}`, i);
    for (let i = 0; i < 40; i++) await ns.set(`n:${i}`, i);
    await start({ big, ns });
    const bigCount = countSummaries(big);
    const nsCount = countSummaries(ns);

    const body = await stats('limit=200');
    expect(body.caches.big.entries).toHaveLength(200);
    expect(body.caches.big.entries_total).toBe(3040);
    expect(body.caches.ns.entries).toHaveLength(40);
    expect(body.caches.ns.entries_total).toBe(40);
    expect(bigCount.built).toBe(200);
    expect(nsCount.built).toBeLessThanOrEqual(40);

    // `limit=0` builds none; a filter still counts every match.
    bigCount.built = 0;
    expect((await stats('limit=0&cache=big')).caches.big).toMatchObject({ entries: [], entries_total: 3040 });
    expect(bigCount.built).toBe(0);
    const filtered = await stats('limit=5&cache=big&q=K:29');
    expect(filtered.caches.big.entries).toHaveLength(5);
    expect(filtered.caches.big.entries_total).toBe(111); // 29, 290-299, 2900-2999
  });
});
