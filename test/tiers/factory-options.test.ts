// Every shared-tier factory and driver factory refuses an option it does not know, naming it, before
// it connects to anything: a misspelt option would otherwise leave its default in force unnoticed.
import { describe, expect, it } from 'vitest';
import { memoryTier, redisTier } from '../../src/tiers/redis-tier.js';
import { postgresTier } from '../../src/drivers/postgres-tier.js';
import { postgresDriver } from '../../src/drivers/postgres-driver.js';
import { memcachedDriver } from '../../src/drivers/memcached-driver.js';
import { sqliteDriver } from '../../src/drivers/sqlite-driver.js';
import { keyvDriver } from '../../src/drivers/keyv-driver.js';
import { PostgresBus } from '../../src/drivers/postgres-bus.js';
import { MemoryBusHub } from '../../src/tiers/bus.js';
import { RedisBus } from '../../src/tiers/redis-bus.js';

describe('tier and driver factories refuse unknown options', () => {
  it.each([
    // Port 1 refuses connections; none is opened, as the options fail first.
    ['redisTier', () => redisTier({ url: 'redis://127.0.0.1:1', prefx: 'app:' } as object)],
    ['memoryTier', () => memoryTier({ tagRetention: '1h', tagRetension: '1h' } as object)],
    [
      'postgresTier',
      () => postgresTier({ connectionString: 'postgres://127.0.0.1:1/x', tabel: 't' } as object),
    ],
    [
      'postgresDriver',
      () => postgresDriver({ connectionString: 'postgres://127.0.0.1:1/x', sweepInterval: 5 } as object),
    ],
    ['memcachedDriver', () => memcachedDriver({ servers: '127.0.0.1:1', batchsize: 10 } as object)],
    ['sqliteDriver', () => sqliteDriver({ path: ':memory:', busytimeout: 10 } as object)],
    ['keyvDriver', () => keyvDriver({ keyv: {}, prefixx: 'a' } as object)],
  ])('%s', (name, make) => {
    expect(make).toThrow(TypeError);
    expect(make).toThrow(new RegExp(`^${name}: unknown option "\\w+"$`));
  });

  it('memoryTier still takes its own options and the tier settings', async () => {
    const tier = memoryTier({ instanceId: 'a', store: {}, tagRetention: '1h', timeout: '50ms' });
    await tier.close();
    // `prefix` belongs to the store's options here, not the tier's.
    expect(() => memoryTier({ prefix: 'app:' } as object)).toThrow('memoryTier: unknown option "prefix"');
  });
});

describe('tier and bus factories refuse an instanceId their receivers would drop', () => {
  // Receivers drop a message whose source is not 1 to 256 characters: every invalidation from such an
  // instance would be lost on every peer, so it is refused up front (before anything connects).
  const make: Array<[string, (instanceId: unknown) => unknown]> = [
    ['redisTier', (instanceId) => redisTier({ url: 'redis://127.0.0.1:1', instanceId } as object)],
    ['memoryTier', (instanceId) => memoryTier({ hub: new MemoryBusHub(), instanceId } as object)],
    [
      'postgresTier',
      (instanceId) => postgresTier({ connectionString: 'postgres://127.0.0.1:1/x', instanceId } as object),
    ],
    [
      'RedisBus',
      (instanceId) =>
        new RedisBus({
          client: {} as never,
          channel: 'c',
          instanceId,
          timeoutMs: 1,
          connectTimeoutMs: 1,
        } as never),
    ],
    ['PostgresBus', (instanceId) => new PostgresBus({ pool: {} as never, instanceId } as never)],
    ['MemoryBusHub.connect', (instanceId) => new MemoryBusHub().connect(instanceId as string)],
  ];

  it.each(make)('%s', (_name, create) => {
    expect(() => create('')).toThrow(RangeError);
    expect(() => create('')).toThrow(/^instanceId must be 1 to 256 characters.*got 0$/);
    expect(() => create(`pod-${'x'.repeat(260)}`)).toThrow(
      /^instanceId must be 1 to 256 characters.*got 264$/,
    );
    expect(() => create(5)).toThrow(TypeError);
    expect(() => create(5)).toThrow('instanceId must be a string, got number');
  });

  it('takes an id of 256 characters and gives each instance a random one by default', async () => {
    const hub = new MemoryBusHub();
    expect(hub.connect('x'.repeat(256)).instanceId).toHaveLength(256);
    const a = hub.connect();
    const b = hub.connect();
    expect(a.instanceId).not.toBe(b.instanceId);
    const tier = memoryTier({ hub, instanceId: 'y'.repeat(256) });
    expect(tier.instanceId).toHaveLength(256);
    await tier.close();
  });
});

describe('nested tier options refuse unknown keys', () => {
  it.each([
    ['breaker', { breaker: { treshold: 1 } }, 'breaker: unknown option "treshold"'],
    ['lock', { lock: { timout: '30s' } }, 'lock: unknown option "timout"'],
    ['compression', { compression: { algo: 'brotli' } }, 'compression: unknown option "algo"'],
  ])('%s', (_name, options, message) => {
    expect(() => memoryTier(options as object)).toThrow(TypeError);
    expect(() => memoryTier(options as object)).toThrow(message);
    // The Redis factory closes the connection it had opened.
    expect(() => redisTier({ url: 'redis://127.0.0.1:1', ...options } as object)).toThrow(message);
  });

  it('still takes every known nested option', async () => {
    const tier = memoryTier({
      breaker: { threshold: 3, resetAfter: '1s' },
      lock: { timeout: '1s', pollInterval: '10ms' },
      compression: { algorithm: 'brotli', threshold: 10, maxDecompressedBytes: 1 << 20 },
    });
    expect(tier.driver.breaker.threshold).toBe(3);
    await tier.close();
  });
});
