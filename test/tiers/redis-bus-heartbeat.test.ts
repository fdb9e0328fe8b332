// The bus's subscriber connection lost without a word: a TCP proxy between it and a real redis-server
// stops passing bytes on the connections it holds (as a NAT or firewall that forgets a flow does)
// while new connections go through. Without a check the subscriber never learns, and this instance
// stays deaf to invalidations for good; with the heartbeat it reconnects and its listeners resync.
import { Redis } from 'ioredis';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import type { BusMessage } from '../../src/tiers/bus.js';
import { RedisBus } from '../../src/tiers/redis-bus.js';
import { RedisServer } from '../helpers/redis-server.js';
import { describeWithRedis } from './describe-with-redis.js';

/** A TCP proxy to `port` whose current connections can be made to swallow everything. */
async function startProxy(port: number): Promise<{ url: string; blackhole(): void; close(): Promise<void> }> {
  const pairs: [Socket, Socket][] = [];
  const server: Server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    pairs.push(pair);
    let open = true;
    client.on('data', (chunk) => open && upstream.write(chunk));
    upstream.on('data', (chunk) => open && client.write(chunk));
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    (pair as unknown as { cut: () => void }).cut = () => (open = false);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  return {
    url: `redis://127.0.0.1:${address.port}`,
    blackhole() {
      for (const pair of pairs.splice(0)) (pair as unknown as { cut: () => void }).cut();
    },
    async close() {
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describeWithRedis('RedisBus heartbeat (real redis-server)', () => {
  let redis: RedisServer;
  const cleanups: (() => unknown)[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    await redis.stop();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function listening(heartbeatMs: number) {
    const proxy = await startProxy(redis.port);
    cleanups.push(() => proxy.close());
    const client = new Redis(proxy.url, { maxRetriesPerRequest: 1, retryStrategy: () => 20 });
    cleanups.push(() => client.disconnect());
    const bus = new RedisBus({ client, channel: 'hb', timeoutMs: 500, connectTimeoutMs: 2000, heartbeatMs });
    cleanups.push(() => bus.close());
    const heard: BusMessage[] = [];
    let resyncs = 0;
    await bus.start({ message: (m) => heard.push(m), resync: () => resyncs++ });
    const sender = new Redis(redis.url);
    cleanups.push(() => sender.disconnect());
    const other = new RedisBus({ client: sender, channel: 'hb', timeoutMs: 500, connectTimeoutMs: 2000 });
    cleanups.push(() => other.close());
    await other.start({ message: () => undefined, resync: () => undefined });
    return { proxy, bus, other, heard, resyncs: () => resyncs };
  }

  it('a subscriber cut off silently reconnects and resyncs, and hears what comes after', async () => {
    const { proxy, other, heard, resyncs } = await listening(100);
    await other.publish({ cache: 'c', kind: 'delete', keys: ['a'] });
    await vi.waitFor(() => expect(heard).toHaveLength(1), { timeout: 2000, interval: 10 });
    proxy.blackhole();
    // Published while the subscriber is deaf: lost, so the listener must be told to resync.
    await other.publish({ cache: 'c', kind: 'delete', keys: ['b'] });
    await vi.waitFor(() => expect(resyncs()).toBe(1), { timeout: 3000, interval: 10 });
    await other.publish({ cache: 'c', kind: 'delete', keys: ['c'] });
    await vi.waitFor(() => expect(heard.map((m) => m.keys?.[0])).toContain('c'), {
      timeout: 2000,
      interval: 10,
    });
    expect(heard.map((m) => m.keys?.[0])).not.toContain('b');
  });
});
