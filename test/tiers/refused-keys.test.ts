// A key, tag or pattern a store can never take (memcached: over 250 bytes; PostgreSQL: NUL; any
// shared tier: a lone surrogate, which stores keep as U+FFFD) is a bad argument, not an outage: it is
// refused up front with a RangeError naming it and the limit, never reaches the driver, never counts
// against the breaker and never waits in the replay backlog.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCache } from '../../src/index.js';
import type { Cache } from '../../src/index.js';
import { memcachedDriver } from '../../src/entries/memcached.js';
import { postgresDriver } from '../../src/entries/postgres.js';
import { SharedTier } from '../../src/tiers/shared-tier.js';
import type { TierDriver } from '../../src/tiers/driver.js';
import { MemoryBusHub } from '../../src/tiers/bus.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import {
  createTestDatabase,
  describeWith,
  MEMCACHED,
  MemcachedServer,
  PG_MISSING,
} from '../drivers/servers.js';
import type { TestDatabase } from '../drivers/servers.js';

/** Two instances over one store and one bus hub, with a breaker that opens after 2 failures. */
function instances(driver: () => TierDriver): { a: Cache<string>; b: Cache<string>; tier: SharedTier } {
  const hub = new MemoryBusHub();
  const tier = new SharedTier({
    driver: driver(),
    bus: hub.connect('A'),
    breaker: { threshold: 2 },
    timeout: 2000,
  });
  const other = new SharedTier({
    driver: driver(),
    bus: hub.connect('B'),
    breaker: { threshold: 2 },
    timeout: 2000,
  });
  return {
    a: createCache<string>({ name: 'refused', ttl: '1h', l2: tier }),
    b: createCache<string>({ name: 'refused', ttl: '1h', l2: other }),
    tier,
  };
}

/** What every store must do with a key it refuses, `limit` being the words its error names. */
async function refusesWithoutOutage(
  a: Cache<string>,
  b: Cache<string>,
  tier: SharedTier,
  bad: string,
  named: RegExp,
  limit: RegExp,
) {
  await a.set('good', 'g1');
  expect(await b.get('good')).toBe('g1');
  for (let i = 0; i < 6; i++) {
    const error = await a.set(bad, 'v').catch((e: unknown) => e);
    expect(String((error as Error).cause ?? error)).toMatch(named);
    await expect(a.delete(bad)).rejects.toThrow(RangeError);
    await expect(a.delete(bad)).rejects.toThrow(limit);
    // getOrSet answers from the loader (the read is reported as a cache error), storing nothing.
    expect(await a.getOrSet(bad, async () => 'loaded')).toBe('loaded');
  }
  await expect(a.invalidateTags([bad])).rejects.toThrow(limit);
  await expect(a.getMany(['good', bad])).rejects.toThrow();
  // Not an outage: the breaker stays closed, nothing is pending, and writes still reach B.
  expect(a.health().l2).toMatchObject({ status: 'ok', breaker: 'closed', pending: 0 });
  expect(tier.health().l2.status).toBe('ok');
  expect(a.entries().map((entry) => entry.key)).not.toContain(bad);
  await a.set('good', 'g2');
  await vi.waitFor(async () => expect(await b.get('good')).toBe('g2'));
}

describeWith(
  'refused keys on memcached (real memcached)',
  MEMCACHED === undefined ? 'memcached' : undefined,
  () => {
    let server: MemcachedServer;
    beforeAll(async () => {
      server = await MemcachedServer.start();
    });
    afterAll(async () => {
      await server?.stop();
    });

    it('a key over 250 bytes with the prefix is a RangeError, and opens no breaker', async () => {
      const { a, b, tier } = instances(() => memcachedDriver({ servers: server.address, prefix: 'rk:' }));
      await refusesWithoutOutage(
        a,
        b,
        tier,
        'k'.repeat(300),
        /^RangeError: key "k{100}"… \(300 characters\) .*at most 250 bytes with the prefix; this one has 313$/,
        /at most 250 bytes/,
      );
      // A tag whose tag key would be too long is refused the same way.
      await expect(a.set('t', 'v', { tags: ['t'.repeat(300)] })).rejects.toThrow();
      expect(await a.get('t')).toBeUndefined();
      await a.close();
      await b.close();
    });
  },
);

describeWith('refused keys on PostgreSQL (real PostgreSQL)', PG_MISSING, () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('a key holding NUL is a RangeError, and opens no breaker', async () => {
    const { a, b, tier } = instances(() => postgresDriver({ connectionString: db.url, table: 'refused' }));
    await refusesWithoutOutage(a, b, tier, 'bad\u0000key', /key "bad\\u0000key" cannot be used .*NUL/, /NUL/);
    await expect(a.invalidatePattern('x\u0000*')).rejects.toThrow(/pattern .*NUL/);
    await a.close();
    await b.close();
  });
});

describe('refused keys on every shared tier', () => {
  it('a key, tag or pattern with a lone surrogate is a RangeError, so two such keys never share an entry', async () => {
    const driver = new MemoryDriver();
    const { a, b, tier } = instances(() => driver);
    await refusesWithoutOutage(
      a,
      b,
      tier,
      'user\uD800',
      /key "user\\ud800" is not well-formed UTF-16/,
      /not well-formed UTF-16/,
    );
    await expect(a.set('k', 'v', { tags: ['\uDC00'] })).rejects.toThrow();
    await expect(a.invalidatePattern('a\uD800*')).rejects.toThrow(/pattern "a\\ud800\*"/);
    // A well-formed pair is fine.
    await a.set('emoji \uD83D\uDE00', 'smile');
    expect(await b.get('emoji \uD83D\uDE00')).toBe('smile');
    await a.close();
    await b.close();
  });

  it('a cache without a shared tier takes any string key', async () => {
    const local = createCache<string>({ ttl: '1h' });
    await local.set('user\uD800', 'v');
    expect(await local.get('user\uD800')).toBe('v');
  });
});
