// Every shared-tier factory and driver factory refuses an option it does not know, naming it, before
// it connects to anything: a misspelt option would otherwise leave its default in force unnoticed.
import { describe, expect, it } from 'vitest';
import { memoryTier, redisTier } from '../../src/tiers/redis-tier.js';
import { postgresTier } from '../../src/drivers/postgres-tier.js';
import { postgresDriver } from '../../src/drivers/postgres-driver.js';
import { memcachedDriver } from '../../src/drivers/memcached-driver.js';
import { sqliteDriver } from '../../src/drivers/sqlite-driver.js';
import { keyvDriver } from '../../src/drivers/keyv-driver.js';

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
