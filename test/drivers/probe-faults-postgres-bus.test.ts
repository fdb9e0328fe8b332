// The LISTEN/NOTIFY bus when its listening session is lost without a word or the way back hangs: a
// TCP proxy in front of the machine's PostgreSQL stops carrying bytes on open connections without
// closing them, or drops every connection and accepts new ones without ever answering (a black hole).
import { createConnection, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createCache } from '../../src/index.js';
import type { Cache } from '../../src/index.js';
import { postgresTier } from '../../src/entries/postgres.js';
import { createTestDatabase, describeWith, PG_MISSING } from './servers.js';
import type { TestDatabase } from './servers.js';

describeWith('postgres bus losing its listening session (real PostgreSQL)', PG_MISSING, () => {
  let db: TestDatabase;
  let proxy: Server;
  let blackHole = false;
  const sockets = new Set<Socket>();
  /** Stops carrying bytes on every connection open now, without closing any (a silent partition). */
  const freezers = new Set<() => void>();
  const caches: Cache[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    const target = new URL(db.url);
    proxy = createServer((client) => {
      sockets.add(client);
      client.on('error', () => {});
      client.on('close', () => sockets.delete(client));
      if (blackHole) return; // accepted, never answered
      const upstream = createConnection({ host: target.hostname, port: Number(target.port || 5432) });
      sockets.add(upstream);
      upstream.on('error', () => {});
      client.pipe(upstream).pipe(client);
      freezers.add(() => {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      });
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => {
        sockets.delete(upstream);
        client.destroy();
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await Promise.all(caches.map((cache) => cache.close()));
    for (const socket of sockets) socket.destroy();
    proxy?.close();
    await db?.drop();
  });

  /** Two caches on one table and channel `name`: A straight to PostgreSQL, B through the proxy; both listening. */
  async function pair(name: string): Promise<[Cache, Cache]> {
    const open = (url: string, id: string): Cache => {
      const cache = createCache({
        name,
        ttl: '1h',
        l2: postgresTier({ connectionString: url, instanceId: id, timeout: '200ms', channel: name }),
      });
      caches.push(cache);
      return cache;
    };
    const proxied = new URL(db.url);
    proxied.host = `127.0.0.1:${(proxy.address() as { port: number }).port}`;
    const pair: [Cache, Cache] = [open(db.url, 'A'), open(proxied.toString(), 'B')];
    for (const cache of pair) {
      await vi.waitFor(() => expect(cache.health().bus?.status).toBe('ok'), { timeout: 5000 });
    }
    return pair;
  }

  it('a reconnection that hangs is given up on and tried again, so the instance hears of deletes once the network heals', async () => {
    const [a, b] = await pair('hole');
    await a.set('k', 'old');
    expect(await b.get('k')).toBe('old'); // in B's L1
    blackHole = true;
    for (const socket of sockets) socket.destroy(); // B loses every session, and cannot get one back
    await vi.waitFor(() => expect(b.health().bus?.status).toBe('down'), { timeout: 5000, interval: 20 });
    await new Promise((resolve) => setTimeout(resolve, 300)); // B's reconnection is under way, and hangs
    blackHole = false; // healed
    await a.delete('k');
    // Before: B's reconnection waited for ever on the black-holed connection, so B stayed deaf and
    // served the deleted value from L1 for good.
    await vi.waitFor(async () => expect(await b.get('k')).toBeUndefined(), { timeout: 8000, interval: 50 });
    expect(b.health().bus).toMatchObject({ status: 'ok' });
  });

  it('a listening session lost without a word (a silent partition) is noticed, so the instance drops what others deleted', async () => {
    const [a, b] = await pair('silent');
    await a.set('k', 'old');
    expect(await b.get('k')).toBe('old'); // in B's L1
    for (const freeze of freezers) freeze(); // B's sessions stay open, and carry nothing
    freezers.clear();
    await a.delete('k'); // its NOTIFY never reaches B
    // Before: nothing told B its session was gone; it served the deleted value from L1 for good.
    await vi.waitFor(async () => expect(await b.get('k')).toBeUndefined(), {
      timeout: 12_000,
      interval: 100,
    });
  }, 20_000);
});
