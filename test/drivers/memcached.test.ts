// The memcached driver passes the conformance suite (less setAtLeast, which it omits) against a
// memcached started here on a free loopback port; then what is particular to it: TTLs in whole
// seconds that never shorten, memcached's 30-day rule, CAS races, and the key-length limit.
import memjs from 'memjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { memcachedDriver } from '../../src/entries/memcached.js';
import { registerDriverSuite } from '../../src/entries/test-suite.js';
import { frame } from '../../src/tiers/stamp.js';
import { describeWith, MEMCACHED, MemcachedServer } from './servers.js';

describeWith('MemcachedDriver (real memcached)', MEMCACHED === undefined ? 'memcached' : undefined, () => {
  let server: MemcachedServer;
  beforeAll(async () => {
    server = await MemcachedServer.start();
  });
  afterAll(async () => {
    await server?.stop();
  });

  registerDriverSuite({
    name: 'memcached',
    create: (prefix) => memcachedDriver({ servers: server.address, prefix }),
    // Whole seconds, plus one so a key never lapses early, on a clock that ticks once a second.
    expiryWaitMs: (ttl) => Math.ceil(ttl / 1000) * 1000 + 1000 + 700,
    omits: ['setAtLeast'],
  });

  it('needs exactly one of client or servers and leaves setAtLeast undefined', () => {
    expect(() => memcachedDriver({})).toThrow(/exactly one of client or servers/);
    expect(() => memcachedDriver({ client: {} as never })).toThrow(/memjs Client/);
    expect(() => memcachedDriver({ servers: '' })).toThrow(/servers/);
    const driver = memcachedDriver({ servers: server.address });
    expect((driver as unknown as Record<string, unknown>).setAtLeast).toBeUndefined();
  });

  it('sends TTLs as whole seconds rounded up plus one, and an absolute time beyond 30 days', async () => {
    const sent: number[] = [];
    const client = memjs.Client.create(server.address, { logger: { log: () => {} } });
    const perform = client.perform.bind(client);
    client.perform = ((key: string, request: Buffer, seq: number, callback: never) => {
      if (request[1] === 0x01) sent.push(request.readUInt32BE(28));
      return perform(key, request, seq, callback);
    }) as typeof client.perform;
    const now = Math.floor(Date.now() / 1000) * 1000 + 500;
    const driver = memcachedDriver({ client, prefix: 'ttl:', clock: () => now });
    await driver.set('a', 'v', 1);
    await driver.set('b', 'v', 1000);
    await driver.set('c', 'v', 1001);
    await driver.set('d', 'v');
    await driver.set('e', 'v', 31 * 24 * 3600 * 1000);
    expect(sent).toEqual([2, 2, 3, 0, Math.ceil(now / 1000) + 31 * 24 * 3600 + 1]);
    expect((await driver.get('e'))?.toString()).toBe('v'); // an absolute time in the future: kept
    await driver.disconnect();
    client.close();
  });

  it('refuses keys longer than memcached allows, naming the limit', async () => {
    const driver = memcachedDriver({ servers: server.address, prefix: 'p:' });
    await expect(driver.set('k'.repeat(249), 'v')).rejects.toThrow(/at most 250 bytes/);
    await driver.disconnect();
  });

  it('setIfNewer and deleteIfEquals hold under CAS races between two clients', async () => {
    const a = memcachedDriver({ servers: server.address, prefix: 'cas:' });
    const b = memcachedDriver({ servers: server.address, prefix: 'cas:' });
    const stamps = Array.from({ length: 60 }, (_, i) => 70_000 + ((i * 23) % 60));
    const results = await Promise.all(
      stamps.map((stamp, i) => (i % 2 ? a : b).setIfNewer('race', frame(stamp, `s${stamp}`), 0)),
    );
    expect((await a.get('race'))?.toString()).toBe(`${String(70_059).padStart(16, '0')}vs70059`);
    expect(results.filter((r) => r === 'stored')).toHaveLength(1);
    await a.set('lock', 'mine');
    const released = await Promise.all([a.deleteIfEquals('lock', 'mine'), b.deleteIfEquals('lock', 'mine')]);
    expect(released.filter(Boolean)).toHaveLength(1);
    await a.disconnect();
    await b.disconnect();
  });
});
