// The memcached driver under faults, against real memcached processes on free loopback ports: a
// connection dropped in the middle of a reply (through a small TCP proxy), a server paused
// (SIGSTOP/SIGCONT) so calls hang, and a server killed and restarted empty on the same port.
import { existsSync, readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import type { ClientOptions } from 'memjs';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createCache } from '../../src/index.js';
import type { Cache } from '../../src/index.js';
import { memcachedDriver } from '../../src/entries/memcached.js';
import type { MemcachedDriver } from '../../src/entries/memcached.js';
import { SharedTier } from '../../src/entries/tiers.js';
import { describeWith, MEMCACHED, MemcachedServer } from './servers.js';

/** memjs gives up on a call after 0.2 s (its `timeout`, a server option its types leave out of ClientOptions). */
const QUICK_MEMJS = { timeout: 0.2 } as ClientOptions;

/** SIGSTOP, and (on Linux) wait until the process is stopped indeed. */
async function pause(server: MemcachedServer): Promise<void> {
  const child = server.process!;
  child.kill('SIGSTOP');
  const stat = `/proc/${child.pid}/stat`;
  if (!existsSync(stat)) return;
  await vi.waitFor(() => expect(readFileSync(stat, 'utf8').split(') ')[1]?.[0]).toBe('T'), {
    timeout: 2000,
    interval: 5,
  });
}

/** Sockets of this process connected to `port`, but those in `except`. */
function openTo(port: number, except: ReadonlySet<unknown>): number {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles.filter((h) => !except.has(h) && (h as { remotePort?: number }).remotePort === port).length;
}

/** Settles with the outcome of `promise`, or 'pending' after `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | Error | 'pending'> {
  return Promise.race([
    promise.catch((error: unknown) => error as Error),
    new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), ms)),
  ]);
}

describeWith(
  'memcached under faults (real memcached)',
  MEMCACHED === undefined ? 'memcached' : undefined,
  () => {
    let port: number;
    let server: MemcachedServer;
    let proxy: Server;
    /** When set, the proxy forwards only this many bytes of memcached's next reply, then closes. */
    let cutNextReply: number | undefined;
    const proxied = new Set<Socket>();
    const cleanups: Array<() => Promise<unknown>> = [];

    beforeAll(async () => {
      server = await MemcachedServer.start();
      port = server.port;
      proxy = createServer((client) => {
        const upstream = createConnection({ host: '127.0.0.1', port });
        proxied.add(client).add(upstream);
        client.on('data', (data) => upstream.write(data));
        upstream.on('data', (data) => {
          if (cutNextReply === undefined) return void client.write(data);
          client.end(data.subarray(0, cutNextReply));
          cutNextReply = undefined;
          upstream.destroy();
        });
        for (const socket of [client, upstream]) socket.on('error', () => {});
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    });
    afterAll(async () => {
      for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => {});
      proxy?.close();
      for (const socket of proxied) socket.destroy();
      await server?.stop();
    });

    const driver = (servers: string, extra: Partial<Parameters<typeof memcachedDriver>[0]> = {}) => {
      const made: MemcachedDriver = memcachedDriver({ servers, prefix: 'pf:', ...extra });
      cleanups.push(() => made.disconnect());
      return made;
    };

    it('a connection dropped mid-reply fails its call at once, and later calls get their own values', async () => {
      const proxyPort = (proxy.address() as { port: number }).port;
      const d = driver(`127.0.0.1:${proxyPort}`);
      await d.set('alice', `alice:${'a'.repeat(200)}`);
      await d.set('bob', `bob:${'b'.repeat(200)}`);
      cutNextReply = 40; // the header and a few bytes of alice's value
      // Before: the call never settled (memjs ignored the connection's end), and the 40 bytes stayed
      // in front of the next connection's replies, so every later call hung or timed out.
      const cut = await within(d.get('alice'), 2000);
      expect(cut).toBeInstanceOf(Error);
      for (let i = 0; i < 3; i++) {
        const value = await within(d.get('bob'), 2000);
        expect(String(value)).toBe(`bob:${'b'.repeat(200)}`);
      }
      expect(String(await d.get('alice'))).toBe(`alice:${'a'.repeat(200)}`);
    });

    it('a key listing cut off by a dropped connection fails at once, not after listTimeoutMs', async () => {
      const proxyPort = (proxy.address() as { port: number }).port;
      const d = driver(`127.0.0.1:${proxyPort}`, { listTimeoutMs: 10_000 });
      for (let i = 0; i < 20; i++) await d.set(`list:${i}`, 'v');
      cutNextReply = 30; // the metadump's first line, in part
      // Before: the listing waited for an END that never came, for the whole listTimeoutMs.
      const cut = await within(d.clear('list:'), 2000);
      expect(cut).toBeInstanceOf(Error);
      expect(String(cut)).toMatch(/closed the connection/);
      expect(await d.clear('list:')).toBe(20);
    });

    it('a value over memcached’s item size fails its write without opening the breaker', async () => {
      const tier = (): SharedTier =>
        new SharedTier({ driver: memcachedDriver({ servers: `127.0.0.1:${port}`, prefix: 'big:' }) });
      const a = createCache({ name: 'b', ttl: '1h', l2: tier() });
      const b = createCache({ name: 'b', ttl: '1h', l2: tier() });
      try {
        const big = 'x'.repeat(2 * 1024 * 1024); // memcached's default item size is 1 MB
        for (let i = 0; i < 8; i++) await a.set(`big${i}`, big);
        // Before: each refusal counted as an outage, and the fifth opened the circuit for every key.
        expect(a.health().l2).toMatchObject({ status: 'ok', breaker: 'closed' });
        await a.set('small', 'v');
        expect(await b.get('small')).toBe('v');
        expect(await b.get('big0')).toBeUndefined();
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('paused: calls time out within the tier timeout, a delete made then holds, and close leaves no connection open', async () => {
      const open = (): Cache => {
        const d = memcachedDriver({
          servers: `127.0.0.1:${port}`,
          prefix: 'pause:',
          clientOptions: QUICK_MEMJS,
        });
        const cache = createCache({
          name: 'p',
          ttl: '1h',
          l2: new SharedTier({ driver: d, timeout: '50ms', breaker: { threshold: 2, resetAfter: '150ms' } }),
        });
        cleanups.push(() => cache.close());
        return cache;
      };
      const a = open();
      await a.set('k', 'old');
      await pause(server);
      try {
        const took: number[] = [];
        for (let i = 0; i < 4; i++) {
          const started = performance.now();
          expect(await a.getOrSet(`miss${i}`, () => 'loaded')).toBe('loaded');
          took.push(performance.now() - started);
        }
        expect(Math.max(...took)).toBeLessThan(400);
        expect(a.health().l2?.breaker).toBe('open');
        await a.delete('k');
        expect(a.health().l2?.pending).toBeGreaterThan(0);
        // Long enough for memjs to give up on connections (its own 0.2 s timeout) and probe again.
        await new Promise((resolve) => setTimeout(resolve, 700));
      } finally {
        server.process!.kill('SIGCONT');
      }
      await vi.waitFor(() => expect(a.health().l2?.pending).toBe(0), { timeout: 5000, interval: 50 });
      const b = open();
      expect(await b.get('k')).toBeUndefined();
      expect(await a.get('k')).toBeUndefined();
      await a.close();
      await b.close();
      await vi.waitFor(() => expect(openTo(port, proxied)).toBe(0), { timeout: 2000, interval: 50 });
    });

    it('a connection given up on during a pause does not orphan the next one: disconnect closes every connection', async () => {
      const d = driver(`127.0.0.1:${port}`, { clientOptions: QUICK_MEMJS });
      await d.set('k', 'old');
      await pause(server);
      let deleted: Promise<boolean | Error>;
      try {
        // memjs gives up on this connection after its 0.2 s timeout (it ends it, the server paused)…
        expect(await within(d.get('k'), 2000)).toBeInstanceOf(Error);
        // …and opens another for the next call.
        deleted = d.delete('k').catch((error: unknown) => error as Error);
        await new Promise((resolve) => setTimeout(resolve, 50));
      } finally {
        server.process!.kill('SIGCONT');
      }
      expect(await deleted).toBe(true);
      expect(await d.get('k')).toBeUndefined();
      await d.disconnect();
      // Before: the first connection's close, once the server resumed, made memjs forget the live
      // one, which stayed open after disconnect (the process could not exit) while the next call
      // opened a third.
      await vi.waitFor(() => expect(openTo(port, proxied)).toBe(0), { timeout: 2000, interval: 50 });
    });

    it('killed with a call in flight, then restarted empty on its port: the call fails at once, and a delete made meanwhile is replayed', async () => {
      const d = memcachedDriver({ servers: `127.0.0.1:${port}`, prefix: 'kill:' });
      const tier = new SharedTier({
        driver: d,
        timeout: '50ms',
        breaker: { threshold: 1, resetAfter: '100ms' },
      });
      const cache = createCache({ name: 'k', ttl: '1h', l2: tier });
      cleanups.push(() => cache.close());
      await cache.set('gone', 'old');
      await pause(server);
      // Its failure is taken at once: it comes while the test waits on the kill below.
      const inFlight = d.get('kill-probe').catch((error: unknown) => error as Error);
      await new Promise((resolve) => setTimeout(resolve, 20));
      await server.stop(); // SIGKILL: a stopped process too, without resuming it
      expect(await within(inFlight, 500)).toBeInstanceOf(Error);
      await cache.delete('gone'); // the store is down: kept for replay
      expect(cache.health().l2?.pending).toBeGreaterThan(0);
      server = await MemcachedServer.start(port);
      await vi.waitFor(() => expect(cache.health().l2?.pending).toBe(0), { timeout: 5000, interval: 50 });
      expect(await cache.get('gone')).toBeUndefined();
      await cache.set('back', 'yes');
      const other = createCache({
        name: 'k',
        ttl: '1h',
        l2: new SharedTier({ driver: memcachedDriver({ servers: `127.0.0.1:${port}`, prefix: 'kill:' }) }),
      });
      cleanups.push(() => other.close());
      expect(await other.get('back')).toBe('yes');
      expect(await other.get('gone')).toBeUndefined();
    });
  },
);
