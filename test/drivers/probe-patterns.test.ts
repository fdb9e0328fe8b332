// Hostile probes of pattern and prefix invalidation in every driver: each driver's deletePattern and
// clear(namespace) are compared with a reference glob matcher (a plain dynamic program over UTF-16
// code units, independent of util/glob.ts) on keys and prefixes full of SQL LIKE/GLOB and Redis MATCH
// metacharacters, case variants, control characters and astral characters. A key the pattern matches
// must be gone (never served again); a key it does not match must survive.
import Database from 'better-sqlite3';
import KeyvRedis from '@keyv/redis';
import Keyv from 'keyv';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCache } from '../../src/index.js';
import type { Cache, CacheKey } from '../../src/index.js';
import { MemoryBusHub } from '../../src/tiers/bus.js';
import { keyvDriver } from '../../src/entries/keyv.js';
import { memcachedDriver } from '../../src/entries/memcached.js';
import { postgresDriver } from '../../src/entries/postgres.js';
import { sqliteDriver } from '../../src/entries/sqlite.js';
import { SharedTier } from '../../src/entries/tiers.js';
import type { TierDriver } from '../../src/tiers/driver.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { RedisDriver } from '../../src/tiers/redis-driver.js';
import { manualClock } from '../helpers/clock.js';
import { RedisServer } from '../helpers/redis-server.js';
import { describeWithRedis } from '../tiers/describe-with-redis.js';
import { createTestDatabase, describeWith, MEMCACHED, MemcachedServer, PG_MISSING } from './servers.js';
import type { TestDatabase } from './servers.js';

/** Whether `key` matches the Larder glob `pattern` (`*` any run, `?` one UTF-16 unit, all else literal). */
function referenceMatch(pattern: string, key: string): boolean {
  let row = new Array<boolean>(key.length + 1).fill(false);
  row[0] = true;
  for (const ch of pattern.split('')) {
    const next = new Array<boolean>(key.length + 1).fill(false);
    if (ch === '*') {
      let any = false;
      for (let j = 0; j <= key.length; j++) next[j] = any ||= row[j]!;
    } else {
      for (let j = 1; j <= key.length; j++) next[j] = row[j - 1]! && (ch === '?' || key[j - 1] === ch);
    }
    row = next;
  }
  return row[key.length]!;
}

/** A deterministic generator (so a failure names a reproducible case). */
function random(seed: number): (n: number) => number {
  let s = seed;
  return (n) => {
    s = (Math.imul(s, 1103515245) + 12345) & 0x7fffffff;
    return s % n;
  };
}

const HOSTILE = [
  'a',
  'A',
  'b',
  '%',
  '_',
  '\\',
  '[',
  ']',
  '^',
  '-',
  '!',
  '*',
  '?',
  "'",
  '"',
  ' ',
  '\n',
  '\t',
  'é',
  'É',
  '\u{1F600}',
  '\uE000',
  ':',
  '{',
  '}',
  '.',
  '$',
  '\u2028',
];

interface Probe {
  /** Whether the store can hold NUL in a key. */
  nul: boolean;
  /** Rounds of the property test (servers are slower). */
  rounds: number;
}

function hostileKeys(rnd: (n: number) => number, nul: boolean, count: number): string[] {
  const alphabet = nul ? [...HOSTILE, '\0'] : HOSTILE;
  const keys = new Set<string>();
  while (keys.size < count) {
    let key = '';
    const length = 1 + rnd(6);
    for (let i = 0; i < length; i++) key += alphabet[rnd(alphabet.length)];
    keys.add(key);
  }
  return [...keys];
}

/** A pattern derived from one of `keys`: some characters become `?`, some runs `*`, some change case. */
function patternFrom(rnd: (n: number) => number, keys: readonly string[]): string {
  // By code points: the tier refuses a lone surrogate in a pattern, as in a key.
  const chars = Array.from(keys[rnd(keys.length)]!);
  let out = '';
  for (let i = 0; i < chars.length; i++) {
    const roll = rnd(10);
    if (roll === 0) out += '?';
    else if (roll === 1) {
      out += '*';
      i += rnd(3);
    } else if (roll === 2)
      out += chars[i]!.toUpperCase() === chars[i] ? chars[i]!.toLowerCase() : chars[i]!.toUpperCase();
    else out += chars[i];
  }
  if (rnd(4) === 0) out += '*';
  if (rnd(6) === 0) out = '*' + out;
  return out === '' ? '?' : out;
}

async function present(driver: TierDriver, keys: readonly string[]): Promise<string[]> {
  const values = await driver.getMany(keys);
  return keys.filter((_, i) => values[i] !== undefined);
}

/**
 * The property tests of one driver: `create(prefix)` makes a driver over one shared store. Two drivers
 * whose prefixes differ only in metacharacters share the store, so a pattern escaping its prefix shows.
 */
function probePatterns(create: (prefix: string) => TierDriver | Promise<TierDriver>, probe: Probe): void {
  const prefixes = ['p%_\\[*?]:', 'pX_\\[*?]:', 'pxYY[*?]:', 'P%_\\[*?]:'];

  /**
   * Rounds of hostile keys written through every driver; `remove` makes one removal through the first
   * and says what it must leave there: the neighbours, whose prefixes differ only in metacharacters or
   * case, must keep every key.
   */
  async function rounds(
    seed: number,
    remove: (
      driver: TierDriver,
      keys: string[],
      rnd: (n: number) => number,
    ) => Promise<{ count: number; expected: string[]; what: string }>,
  ): Promise<void> {
    const drivers = await Promise.all(prefixes.map((prefix) => create(prefix)));
    const [driver, ...neighbours] = drivers as [TierDriver, ...TierDriver[]];
    const rnd = random(seed);
    try {
      for (let round = 0; round < probe.rounds; round++) {
        const keys = hostileKeys(rnd, probe.nul, 12);
        for (const d of drivers) await d.clear();
        for (const d of drivers) for (const key of keys) await d.set(key, 'v');
        const { count, expected, what: removal } = await remove(driver, keys, rnd);
        const left = await present(driver, keys);
        const what = `${removal} over ${JSON.stringify(keys)}`;
        expect(left, what).toEqual(expected);
        expect(count, what).toBe(keys.length - expected.length);
        for (const neighbour of neighbours) expect(await present(neighbour, keys), what).toEqual(keys);
      }
    } finally {
      for (const d of drivers) await d.clear().catch(() => {});
      await Promise.all(drivers.map((d) => d.disconnect()));
    }
  }

  it('deletePattern removes exactly the keys the reference glob matches, and none of a neighbour prefix', () =>
    rounds(7, async (driver, keys, rnd) => {
      const pattern = patternFrom(rnd, keys);
      const expected = keys.filter((key) => !referenceMatch(pattern, key));
      return {
        count: await driver.deletePattern(pattern),
        expected,
        what: `pattern ${JSON.stringify(pattern)}`,
      };
    }));

  it('deleteMany removes every key named, counting each live key once however often it is named', async () => {
    const driver = await create(prefixes[0]!);
    try {
      await driver.clear();
      await driver.set('a', 'v');
      await driver.set('b', 'v');
      expect(await driver.deleteMany([])).toBe(0);
      expect(await driver.deleteMany(['a', 'a', 'nope', 'b', 'a', 'nope'])).toBe(2);
      expect(await driver.getMany(['a', 'b'])).toEqual([undefined, undefined]);
    } finally {
      await driver.disconnect();
    }
  });

  it('clear(namespace) removes exactly the keys starting with it, and none of a neighbour prefix', () =>
    rounds(11, async (driver, keys, rnd) => {
      const points = Array.from(keys[rnd(keys.length)]!);
      const namespace = points.slice(0, 1 + rnd(points.length)).join('');
      const expected = keys.filter((key) => !key.startsWith(namespace));
      return {
        count: await driver.clear(namespace),
        expected,
        what: `namespace ${JSON.stringify(namespace)}`,
      };
    }));
}

describe('probe: MemoryDriver patterns', () => {
  // Each MemoryDriver has its own store: this checks the matching, not the prefixes.
  probePatterns((prefix) => new MemoryDriver({ prefix }), { nul: true, rounds: 300 });
});

describe('probe: SqliteDriver patterns', () => {
  const database = new Database(':memory:');
  afterAll(() => database.close());
  probePatterns((prefix) => sqliteDriver({ database, prefix }), { nul: false, rounds: 300 });
  describe('in batches of 2', () => {
    probePatterns((prefix) => sqliteDriver({ database, prefix, batchSize: 2 }), { nul: false, rounds: 100 });
  });
});

describe('probe: keyv (Map store) patterns', () => {
  const store = new Map();
  probePatterns((prefix) => keyvDriver({ keyv: new Keyv({ store, throwOnErrors: true }), prefix }), {
    nul: true,
    rounds: 150,
  });
  describe('caches', () =>
    probeCaches(() => keyvDriver({ keyv: new Keyv({ store, throwOnErrors: true }), prefix: 'c:' })));
  describe('in batches of 2', () => {
    probePatterns(
      (prefix) => keyvDriver({ keyv: new Keyv({ store, throwOnErrors: true }), prefix, batchSize: 2 }),
      { nul: true, rounds: 60 },
    );
  });
});

describeWith('probe: PostgresDriver patterns', PG_MISSING, () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });
  probePatterns((prefix) => postgresDriver({ pool, prefix }), { nul: false, rounds: 120 });
  describe('caches', () => probeCaches(() => postgresDriver({ pool, prefix: 'c:' })));

  for (const how of ['deletePattern', 'clear'] as const) {
    it(`${how} goes on past a batch that a concurrent delete thinned, leaving no matching row`, async () => {
      const driver = postgresDriver({ pool, prefix: `thin-${how}:`, batchSize: 2 });
      const keys = ['p1', 'p2', 'p3', 'p4', 'p5'];
      for (const key of keys) await driver.set(key, 'v');
      // Another session (an instance's delete, or a sweep) holds p1 deleted but not committed: the
      // first batch (p1, p2) waits on it, then finds p1 gone and deletes only p2.
      const other = new pg.Client({ connectionString: db.url });
      await other.connect();
      try {
        await other.query('BEGIN');
        await other.query('DELETE FROM larder_cache WHERE key = $1', [`thin-${how}:p1`]);
        const deleting = how === 'clear' ? driver.clear('p') : driver.deletePattern('p*');
        // Until the first batch waits on the other session's lock (a condition, not a time).
        for (;;) {
          const { rows } = await pool.query<{ waiting: number }>(
            "SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
          );
          if (rows[0]!.waiting > 0) break;
        }
        await other.query('COMMIT');
        expect(await deleting).toBe(4);
        expect(await driver.getMany(keys)).toEqual(keys.map(() => undefined));
      } finally {
        await other.end();
        await driver.disconnect();
      }
    });
  }
  describe('in batches of 2', () => {
    probePatterns((prefix) => postgresDriver({ pool, prefix, batchSize: 2 }), { nul: false, rounds: 60 });
  });
});

describeWith('probe: MemcachedDriver patterns', MEMCACHED === undefined ? 'memcached' : undefined, () => {
  let server: MemcachedServer;
  beforeAll(async () => {
    server = await MemcachedServer.start();
  });
  afterAll(async () => {
    await server?.stop();
  });
  probePatterns((prefix) => memcachedDriver({ servers: server.address, prefix }), { nul: true, rounds: 25 });
  describe('caches', () => probeCaches(() => memcachedDriver({ servers: server.address, prefix: 'c:' })));
});

describeWithRedis('probe: RedisDriver patterns', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(async () => {
    await server?.destroy();
  });
  probePatterns((prefix) => new RedisDriver({ url: server.url, prefix }), { nul: true, rounds: 120 });
  describe('caches', () => probeCaches(() => new RedisDriver({ url: server.url, prefix: 'c:' })));
  describe('scanning 2 at a time', () => {
    probePatterns((prefix) => new RedisDriver({ url: server.url, prefix, scanCount: 2 }), {
      nul: true,
      rounds: 15,
    });
  });
});

describeWithRedis('probe: keyv over @keyv/redis', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(async () => {
    await server?.destroy();
  });
  probePatterns((prefix) => keyvDriver({ store: new KeyvRedis(server.url), prefix }), {
    nul: false,
    rounds: 40,
  });

  it('a key that vanishes between SCAN and MGET does not stop a pattern invalidation halfway', async () => {
    // @keyv/redis lists keys by SCAN, then reads them by MGET: one that expired (or another instance
    // deleted) in between reads as absent, and Keyv's iterator threw on it, ending the walk.
    const store = new KeyvRedis(server.url);
    const a = createCache({
      name: 'plans',
      ttl: '1m',
      l2: new SharedTier({ driver: keyvDriver({ store, prefix: 'gone:' }) }),
    });
    for (const key of ['p1', 'p2', 'p3']) await a.set(key, 'old');
    // mget is private in @keyv/redis's types: the test wraps it on this one instance.
    const reads = store as unknown as { mget(keys: string[]): Promise<unknown[]> };
    const mget = reads.mget.bind(store);
    const client = (await store.getClient()) as unknown as { del(key: string): Promise<number> };
    let vanished = 0;
    reads.mget = async (keys) => {
      if (vanished === 0) vanished += await client.del(keys[0]!);
      return mget(keys);
    };
    await a.invalidatePattern('p*');
    expect(vanished).toBe(1);
    const otherStore = new KeyvRedis(server.url);
    const b = createCache({
      name: 'plans',
      ttl: '1m',
      l2: new SharedTier({ driver: keyvDriver({ store: otherStore, prefix: 'gone:' }) }),
    });
    expect(await Promise.all(['p1', 'p2', 'p3'].map((key) => b.get(key)))).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    await a.close();
    await b.close();
  });

  it('refuses a store namespace that its iterator would read as a glob and so list none of its keys', async () => {
    // @keyv/redis lists a namespace's keys by SCAN MATCH `<namespace>::*`, unescaped: `app[1]::*`
    // matches `app1::…` and never `app[1]::…`, so no clear or pattern invalidation would reach a key.
    for (const namespace of ['app[1]', 'a*b', 'a?b', 'a\\b']) {
      const keyv = new Keyv({ store: new KeyvRedis(server.url), namespace, throwOnErrors: true });
      expect(() => keyvDriver({ keyv, prefix: 'x:' }), namespace).toThrow(/without \* \? \[ \] \\/);
      await keyv.disconnect();
    }
    const keyv = new Keyv({ store: new KeyvRedis(server.url), namespace: 'app-1.x', throwOnErrors: true });
    const driver = keyvDriver({ keyv, prefix: 'x:' });
    await driver.set('k', 'v');
    expect(await driver.deletePattern('k')).toBe(1);
    expect(await driver.get('k')).toBeUndefined();
    await driver.disconnect();
    await keyv.disconnect();
  });

  it('over a store without a namespace, a key its iterator would skip is refused, never left out of invalidations', async () => {
    // @keyv/redis without a namespace lists only keys without its separator `::`: such a key, once
    // stored, would outlive every clear and pattern invalidation and be served again.
    const open = () =>
      new Keyv({ store: new KeyvRedis(server.url), namespace: '', useKeyPrefix: false, throwOnErrors: true });
    const writer = open();
    const driver = keyvDriver({ keyv: writer, prefix: 'bare:' });
    expect(driver.keyProblem('e:c:user::1')).toMatch(/holds "::"/);
    expect(driver.keyProblem('e:c:user:1')).toBeUndefined();
    expect(driver.keyProblem('e:c:user::*', true)).toBeUndefined();
    const a = createCache({ name: 'plans', ttl: '1m', l2: new SharedTier({ driver }) });
    await expect(a.set('user::1', 'old')).rejects.toMatchObject({ cause: expect.any(RangeError) });
    await a.set('user:1', 'old');
    await a.invalidatePattern('user*');
    const reader = open();
    const b = createCache({
      name: 'plans',
      ttl: '1m',
      l2: new SharedTier({ driver: keyvDriver({ keyv: reader, prefix: 'bare:' }) }),
    });
    expect(await b.get('user:1')).toBeUndefined();
    // With noNamespaceAffectsAll the iterator lists every key, and nothing is refused.
    const all = new KeyvRedis(server.url, { noNamespaceAffectsAll: true });
    const every = keyvDriver({ keyv: new Keyv({ store: all, namespace: '', useKeyPrefix: false }) });
    expect(every.keyProblem('e:c:user::1')).toBeUndefined();
    await every.set('user::2', 'v');
    expect(await every.deletePattern('user*')).toBe(1);
    await a.close();
    await b.close();
    await every.disconnect();
    await all.disconnect();
    await writer.disconnect();
    await reader.disconnect();
  });
});

/**
 * Two instances over one store and bus: after A invalidates a pattern (at the root or in a namespace,
 * where number keys are marked), neither A nor B serves a matched key again, from L1 or L2, and both
 * still serve every unmatched one.
 */
/** A namespace name full of the metacharacters a namespace may hold (not `: * ? [ ]`). */
const NS = 'n%_\\^{}-\'" é\u{1F600}';

function probeCaches(makeDriver: () => TierDriver): void {
  // makeDriver() answers a driver over one store each time (an instance closing closes its own).
  it('invalidatePattern across two instances: matched keys never served again, others kept', async () => {
    const driver = makeDriver();
    const hub = new MemoryBusHub();
    const make = (id: string): Cache =>
      createCache({
        name: 'probe',
        ttl: '1h',
        retry: false,
        // A call timeout far above the default 50 ms: on a loaded machine a timed-out read is a miss,
        // which is right for a cache but is not what this test looks at.
        l2: new SharedTier({ driver, bus: hub.connect(id), publishInOrder: true, timeout: '5s' }),
      });
    const a = make('A');
    const b = make('B');
    const rnd = random(23);
    try {
      for (let round = 0; round < 60; round++) {
        const strings = hostileKeys(rnd, false, 8);
        const keys: CacheKey[] = [...strings, rnd(100), -rnd(5) / 4, 1e21 * (1 + rnd(3))];
        const inNamespace = rnd(2) === 0;
        const [viewA, viewB] = inNamespace ? [a.namespace(NS), b.namespace(NS)] : [a, b];
        await a.clear();
        for (const key of keys) await viewA.set(key, `v${String(key)}`);
        for (const key of keys) expect(await viewB.get(key)).toBe(`v${String(key)}`); // into B's L1
        const pattern =
          rnd(3) === 0 ? patternFrom(rnd, keys.map(String).slice(-3)) : patternFrom(rnd, strings);
        await viewA.invalidatePattern(pattern);
        await new Promise((resolve) => setTimeout(resolve, 0)); // the bus delivers
        const what = `${inNamespace ? 'namespace ' : ''}pattern ${JSON.stringify(pattern)} over ${JSON.stringify(keys)}`;
        for (const view of [viewA, viewB]) {
          const served = await Promise.all(keys.map((key) => view.get(key)));
          const expected = keys.map((key) =>
            referenceMatch(pattern, String(key)) ? undefined : `v${String(key)}`,
          );
          expect(served, what).toEqual(expected);
        }
      }
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("a namespace's clear() across two instances removes its keys (nested ones too) and no neighbour's", async () => {
    const hub = new MemoryBusHub();
    const make = (id: string): Cache =>
      createCache({
        name: 'probe',
        ttl: '1h',
        retry: false,
        l2: new SharedTier({
          driver: makeDriver(),
          bus: hub.connect(id),
          publishInOrder: true,
          timeout: '5s',
        }),
      });
    const a = make('A');
    const b = make('B');
    try {
      const views = (cache: Cache) => ({
        target: cache.namespace(NS),
        nested: cache.namespace(NS).namespace('in'),
        prefixOf: cache.namespace(NS.slice(0, 3)),
        extended: cache.namespace(`${NS}x`),
        root: cache,
      });
      const keys: CacheKey[] = ['k', 'k%', 7, '\uE000k'];
      for (const view of Object.values(views(a))) for (const key of keys) await view.set(key, 'v');
      for (const view of Object.values(views(b)))
        for (const key of keys) expect(await view.get(key)).toBe('v');
      await views(a).target.clear();
      await new Promise((resolve) => setTimeout(resolve, 0)); // the bus delivers
      const fresh = make('C');
      for (const cache of [a, b, fresh]) {
        const v = views(cache);
        for (const key of keys) {
          const what = `${cache === a ? 'A' : cache === b ? 'B' : 'C'} ${String(key)}`;
          expect(await v.target.get(key), what).toBeUndefined();
          expect(await v.nested.get(key), what).toBeUndefined();
          expect(await v.prefixOf.get(key), what).toBe('v');
          expect(await v.extended.get(key), what).toBe('v');
          expect(await v.root.get(key), what).toBe('v');
        }
      }
      await fresh.close();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('invalidateTags across two instances with hostile tags: tagged keys never served again, others kept', async () => {
    const hub = new MemoryBusHub();
    // A write in the millisecond of a tag invalidation counts as invalidated: each round is later.
    const clock = manualClock(Date.now());
    const make = (id: string): Cache =>
      createCache({
        name: 'probe',
        ttl: '1h',
        retry: false,
        clock: clock.now,
        l2: new SharedTier({
          driver: makeDriver(),
          bus: hub.connect(id),
          publishInOrder: true,
          clock: clock.now,
          timeout: '5s',
        }),
      });
    const a = make('A');
    const b = make('B');
    const rnd = random(29);
    try {
      for (let round = 0; round < 40; round++) {
        clock.advance(10);
        const keys = hostileKeys(rnd, false, 6);
        // A tag may not start with U+E000 (namespaces' tags are marked with it).
        const tags = hostileKeys(rnd, false, 4).map((tag) => (tag.startsWith('\uE000') ? `t${tag}` : tag));
        const tagged = keys.map(() => tags.filter(() => rnd(3) === 0));
        for (let i = 0; i < keys.length; i++) await a.set(keys[i]!, `v${round}`, { tags: tagged[i]! });
        for (const key of keys) expect(await b.get(key)).toBe(`v${round}`);
        const gone = tags.filter(() => rnd(2) === 0);
        await a.invalidateTags(gone);
        await new Promise((resolve) => setTimeout(resolve, 0)); // the bus delivers
        const what = `tags ${JSON.stringify(gone)} over ${JSON.stringify(tagged)}`;
        for (const cache of [a, b]) {
          const served = await Promise.all(keys.map((key) => cache.get(key)));
          const expected = tagged.map((t) => (t.some((tag) => gone.includes(tag)) ? undefined : `v${round}`));
          expect(served, what).toEqual(expected);
        }
        // A fresh instance reads L2 only.
        const c = make('C' + String(round));
        const fresh = await Promise.all(keys.map((key) => c.get(key)));
        expect(fresh, what).toEqual(
          tagged.map((t) => (t.some((tag) => gone.includes(tag)) ? undefined : `v${round}`)),
        );
        await c.close();
      }
    } finally {
      await a.close();
      await b.close();
    }
  });
}

describe('probe: caches over the memory driver', () => {
  const driver = new MemoryDriver();
  probeCaches(() => driver);
});

describe('probe: caches over SQLite', () => {
  const database = new Database(':memory:');
  afterAll(() => database.close());
  probeCaches(() => sqliteDriver({ database, prefix: 'c:' }));
});
