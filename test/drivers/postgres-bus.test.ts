// The LISTEN/NOTIFY bus against the machine's PostgreSQL (a fresh database, dropped after): caches
// over one Postgres see each other's invalidations; messages too large for a NOTIFY are split (or
// widened to a clear); a killed listening session reconnects and triggers a resync.
import pg from 'pg';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createCache } from '../../src/index.js';
import type { Cache } from '../../src/index.js';
import { NOTIFY_MAX_BYTES, postgresBus, postgresTier } from '../../src/entries/postgres.js';
import type { BusMessage } from '../../src/tiers/bus.js';
import { createTestDatabase, describeWith, PG_MISSING } from './servers.js';
import type { TestDatabase } from './servers.js';

const inL1 = (cache: Cache): string[] => cache.entries().map((e) => e.key);

describeWith('postgres LISTEN/NOTIFY bus (real PostgreSQL)', PG_MISSING, () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  const caches: Cache[] = [];
  const closers: Array<() => Promise<void>> = [];
  const open = (name: string, id: string, channel = 'larder_bus'): Cache => {
    const cache = createCache({
      name,
      ttl: '1m',
      retry: false,
      l2: postgresTier({ connectionString: db.url, instanceId: id, channel, timeout: '1s' }),
    });
    caches.push(cache);
    return cache;
  };
  const busUp = (cache: Cache): Promise<void> =>
    vi.waitFor(() => expect(cache.health().bus?.status).toBe('ok'), { timeout: 5000 });

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url });
  });
  afterAll(async () => {
    await Promise.all(caches.map((cache) => cache.close()));
    for (const close of closers) await close();
    await pool?.end();
    await db?.drop();
  });

  it('rejects a bad channel and needs exactly one connection option', () => {
    expect(() => postgresBus({ pool, channel: 'a"; DROP' })).toThrow(/channel must be/);
    expect(() => postgresBus({ pool, channel: 'x'.repeat(64) })).toThrow(/channel must be/);
    expect(() => postgresBus({})).toThrow(/exactly one of pool or connectionString/);
  });

  it('three caches: every kind of write on one evicts the others’ L1 copies', async () => {
    const [a, b, c] = ['A', 'B', 'C'].map((id) => open('multi', id)) as [Cache, Cache, Cache];
    await Promise.all([a, b, c].map(busUp));
    await a.set('k', 'v1', { tags: ['org:acme'] });
    await a.set('p:1', 1);
    await a.namespace('ns').set('x', 2);
    for (const cache of [b, c]) {
      expect(await cache.get('k')).toBe('v1');
      expect(await cache.get('p:1')).toBe(1);
      expect(await cache.namespace('ns').get('x')).toBe(2);
    }
    await a.set('k', 'v2', { tags: ['org:acme'] });
    await vi.waitFor(() => expect(inL1(b)).not.toContain('k'));
    expect(await b.get('k')).toBe('v2');
    await a.invalidateTags(['org:acme']);
    await vi.waitFor(() => expect(inL1(c)).not.toContain('k'));
    await a.invalidatePattern('p:*');
    await vi.waitFor(() => expect(inL1(c)).not.toContain('p:1'));
    await a.namespace('ns').clear();
    await vi.waitFor(() => expect(inL1(b)).not.toContain('ns:x'));
    expect(await b.get('k')).toBeUndefined();
    expect(await c.get('p:1')).toBeUndefined();
    expect(await c.namespace('ns').get('x')).toBeUndefined();
    expect(inL1(a)).toEqual([]); // A's own messages did not come back to it
  });

  it('splits a message too large for one NOTIFY, and widens a single huge key to a clear', async () => {
    const sender = postgresBus({ pool, channel: 'split_test', instanceId: 'sender' });
    const receiver = postgresBus({ connectionString: db.url, channel: 'split_test', instanceId: 'receiver' });
    closers.push(
      () => sender.close(),
      () => receiver.close(),
    );
    const heard: BusMessage[] = [];
    await sender.start({ message: () => {}, resync: () => {} });
    await receiver.start({ message: (m) => heard.push(m), resync: () => {} });
    expect(receiver.health().status).toBe('ok');
    const keys = Array.from({ length: 900 }, (_, i) => `user:${i}:${'x'.repeat(40)}`);
    await sender.publish({ cache: 'c', kind: 'delete', keys });
    await vi.waitFor(() => expect(heard.flatMap((m) => m.keys ?? [])).toHaveLength(900));
    expect(heard.length).toBeGreaterThan(Math.ceil((900 * 50) / NOTIFY_MAX_BYTES) - 1);
    expect(heard.flatMap((m) => m.keys)).toEqual(keys); // in order, none lost
    heard.length = 0;
    await sender.publish({ cache: 'c', kind: 'set', keys: ['y'.repeat(9000)] });
    await vi.waitFor(() => expect(heard).toEqual([{ source: 'sender', cache: 'c', kind: 'clear' }]));
  });

  it('reconnects after its listening session is killed, and resyncs', async () => {
    const bus = postgresBus({ pool, channel: 'reconnect_test', instanceId: 'r', reconnectMaxDelay: 100 });
    const sender = postgresBus({ pool, channel: 'reconnect_test', instanceId: 's' });
    closers.push(
      () => bus.close(),
      () => sender.close(),
    );
    const heard: string[] = [];
    let resyncs = 0;
    await bus.start({ message: (m) => heard.push(m.kind), resync: () => resyncs++ });
    await sender.start({ message: () => {}, resync: () => {} });
    expect(resyncs).toBe(0);
    await pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE datname = current_database() AND query LIKE 'LISTEN "reconnect_test"%'`,
    );
    await vi.waitFor(() => expect(resyncs).toBe(1), { timeout: 5000 });
    expect(bus.health()).toMatchObject({ status: 'ok', resyncs: 1 });
    await sender.publish({ cache: 'c', kind: 'clear' });
    await vi.waitFor(() => expect(heard).toEqual(['clear']));
  });

  it('a bus with a secret refuses unsigned messages', async () => {
    const secret = 'sixteen-byte-secret!';
    const signed = postgresBus({ pool, channel: 'signed_test', instanceId: 'a', secret });
    const stranger = postgresBus({ pool, channel: 'signed_test', instanceId: 'b' });
    const friend = postgresBus({ pool, channel: 'signed_test', instanceId: 'c', secret });
    closers.push(
      () => signed.close(),
      () => stranger.close(),
      () => friend.close(),
    );
    const heard: string[] = [];
    const problems: string[] = [];
    await signed.start({
      message: (m) => heard.push(m.source),
      resync: () => {},
      invalid: (p) => problems.push(p),
    });
    await stranger.publish({ cache: 'c', kind: 'clear' });
    await friend.publish({ cache: 'c', kind: 'clear' });
    await vi.waitFor(() => expect(heard).toEqual(['c']));
    expect(problems).toEqual(['message is not signed']);
    expect(signed.rejected).toBe(1);
  });
});
