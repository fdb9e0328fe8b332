// Admin requests that read every entry (`GET stats?format=compact`, and the key search the dashboard
// polls, `GET stats?q=`) walk the entries in slices, giving the event loop a turn between them, so a
// large cache never holds every other request up for the whole walk; keyless compact polls share one
// walk. Turns are counted by a setImmediate loop; the walk is observed through eachEntry.
import { afterEach, describe, expect, it } from 'vitest';
import { createCache } from '../../../src/cache/create-cache.js';
import type { Cache, CacheEntrySummary } from '../../../src/cache/types.js';
import { createAdmin, type AdminHandler } from '../../../src/http/admin/admin.js';
import { SCAN_SLICE } from '../../../src/http/admin/scan.js';
import { manualClock } from '../../helpers/clock.js';
import { listen, type TestServer } from '../helpers/server.js';

const KEY = 'k'.repeat(32);
let admin: AdminHandler | undefined;
let server: TestServer | undefined;
let stopTurns: (() => void) | undefined;

afterEach(async () => {
  stopTurns?.();
  admin?.close();
  await server?.close();
  admin = undefined;
  server = undefined;
});

async function start(caches: Record<string, Cache>): Promise<void> {
  admin = createAdmin({ caches, apiKey: KEY, publicStats: true });
  const handler = admin;
  server = await listen((req, res) => void handler(req, res));
}

const get = async (path: string, key: string | null = KEY) => {
  const res = await fetch(`${server!.url}/${path}`, { headers: key === null ? {} : { 'x-api-key': key } });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};

/**
 * Counts event-loop turns, and wraps `cache.eachEntry` to note the turn each entry was read in: the
 * walks it started, and the most entries read within one turn.
 */
function watchWalks(cache: Cache) {
  let turn = 0;
  let running = true;
  const tick = () => {
    turn++;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  stopTurns = () => (running = false);
  const perTurn = new Map<number, number>();
  const watched = { walks: 0, mostInOneTurn: () => Math.max(0, ...perTurn.values()) };
  const each = cache.eachEntry.bind(cache);
  cache.eachEntry = function* (): IterableIterator<CacheEntrySummary> {
    watched.walks++;
    for (const entry of each()) {
      perTurn.set(turn, (perTurn.get(turn) ?? 0) + 1);
      yield entry;
    }
  };
  return watched;
}

/** A cache of `fresh` fresh entries `key:<i>` and `stale` entries past their TTL, in grace. */
async function filled(fresh: number, stale: number) {
  const clock = manualClock();
  const cache = createCache<number>({ name: 'big', ttl: '1m', grace: '1h', clock: clock.now });
  for (let i = 0; i < stale; i++) await cache.set(`old:${i}`, i, { ttl: 1000 });
  clock.advance(2000);
  for (let i = 0; i < fresh; i++) await cache.set(`key:${i}`, i);
  return cache;
}

describe('admin walks over every entry', () => {
  it('GET stats?format=compact reads at most one slice of entries per event-loop turn', async () => {
    const cache = await filled(4 * SCAN_SLICE, SCAN_SLICE / 2);
    await start({ big: cache });
    const watched = watchWalks(cache);
    const { body } = await get('stats?format=compact&limit=3');
    expect(body.size).toBe(4 * SCAN_SLICE);
    expect(body.entries.map((e: { key: string }) => e.key)).toEqual(['key:0', 'key:1', 'key:2']);
    expect(watched.walks).toBeGreaterThan(0);
    expect(watched.mostInOneTurn()).toBeLessThanOrEqual(SCAN_SLICE);
    const keyless = await get('stats?format=compact', null);
    expect(keyless.body).toMatchObject({ size: 4 * SCAN_SLICE, entries: [] });
    expect(watched.mostInOneTurn()).toBeLessThanOrEqual(SCAN_SLICE);
    await cache.close();
  });

  it('keyless compact polls at the same time share one walk', async () => {
    const cache = await filled(3 * SCAN_SLICE, 0);
    await start({ big: cache });
    const watched = watchWalks(cache);
    const answers = await Promise.all(Array.from({ length: 5 }, () => get('stats?format=compact', null)));
    expect(answers.map((a) => a.body.size)).toEqual(Array(5).fill(3 * SCAN_SLICE));
    expect(watched.walks).toBe(1);
    await cache.close();
  });

  it('the key search (GET stats?q=) reads at most one slice per turn and still finds every match', async () => {
    const cache = await filled(5 * SCAN_SLICE, SCAN_SLICE);
    await start({ big: cache });
    const watched = watchWalks(cache);
    // key:7, key:70…key:79, key:700…: every key whose number starts with 7.
    const { body } = await get('stats?q=KEY:7&limit=5');
    const expected = [...Array(5 * SCAN_SLICE).keys()].filter((i) => String(i).startsWith('7'));
    expect(body.caches.big.entries_total).toBe(expected.length);
    expect(body.caches.big.entries.map((e: { key: string }) => e.key)).toEqual(
      expected.slice(0, 5).map((i) => `key:${i}`),
    );
    expect(watched.mostInOneTurn()).toBeLessThanOrEqual(SCAN_SLICE);
    await cache.close();
  });
});
