// The PostgreSQL driver passes the conformance suite against the machine's PostgreSQL, in a fresh
// database created for this file and dropped after; then what is particular to it: the table it
// creates, LIKE escaping, batched bulk deletes, the lazy sweep and atomic writes from two pools.
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { registerDriverSuite } from '../../src/entries/test-suite.js';
import { postgresDriver } from '../../src/entries/postgres.js';
import { frame } from '../../src/tiers/stamp.js';
import { GuardedDriver } from '../../src/tiers/guarded-driver.js';
import { LogSink } from '../../src/observability/log-sink.js';
import { randomBytes } from 'node:crypto';
import { manualClock } from '../helpers/clock.js';
import { createTestDatabase, describeWith, PG_MISSING } from './servers.js';
import type { TestDatabase } from './servers.js';

describeWith('PostgresDriver (real PostgreSQL)', PG_MISSING, () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  const clock = manualClock(Date.now());
  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 8 });
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  registerDriverSuite({
    name: 'postgres',
    create: (prefix) => postgresDriver({ pool, prefix, clock: clock.now }),
    advance: (ms) => clock.advance(ms),
  });

  it('needs exactly one of pool or connectionString, a plain table name and sane numbers', () => {
    expect(() => postgresDriver({})).toThrow(/exactly one of pool or connectionString/);
    expect(() => postgresDriver({ pool, connectionString: db.url })).toThrow(/exactly one/);
    expect(() => postgresDriver({ pool: {} as never })).toThrow(/pg Pool/);
    expect(() => postgresDriver({ pool, table: 'x; DROP TABLE y' })).toThrow(/plain identifier/);
    expect(() => postgresDriver({ pool, batchSize: 0 })).toThrow(/batchSize/);
    expect(() => postgresDriver({ pool, prefix: 5 as never })).toThrow(/prefix/);
  });

  it('creates its table (schema-qualified too) and answers Buffers', async () => {
    await pool.query('CREATE SCHEMA IF NOT EXISTS cachez');
    const driver = postgresDriver({ connectionString: db.url, table: 'cachez.entries', prefix: 'p:' });
    await driver.set('k', 'v');
    const { rows } = await pool.query<{ key: string }>('SELECT key FROM cachez.entries');
    expect(rows).toEqual([{ key: 'p:k' }]);
    expect(Buffer.isBuffer(await driver.get('k'))).toBe(true);
    await driver.disconnect();
    await expect(driver.get('k')).rejects.toThrow(/disconnected/);
  });

  it('deletePattern and clear treat % and _ and \\ literally', async () => {
    const driver = postgresDriver({ pool, prefix: 'like%_\\:', clock: clock.now });
    const neighbour = postgresDriver({ pool, prefix: 'likeXY\\:', clock: clock.now });
    await neighbour.set('a', 'n');
    for (const key of ['100%', '1000', 'a_b', 'axb', 'back\\slash', 'backxslash']) await driver.set(key, 'v');
    expect(await driver.deletePattern('100%')).toBe(1);
    expect(await driver.deletePattern('a_b')).toBe(1);
    expect(await driver.deletePattern('back\\*')).toBe(1);
    expect(await driver.getMany(['1000', 'axb', 'backxslash'])).toHaveLength(3);
    expect((await driver.getMany(['1000', 'axb', 'backxslash'])).every((v) => v !== undefined)).toBe(true);
    expect(await driver.clear()).toBe(3);
    expect((await neighbour.get('a'))?.toString()).toBe('n');
  });

  it('bulk deletes go in batches of batchSize and count only live keys', async () => {
    const driver = postgresDriver({ pool, prefix: 'batch:', batchSize: 7, clock: clock.now });
    for (let i = 0; i < 30; i++) await driver.set(`k${i}`, 'v', i < 5 ? 1000 : 0);
    clock.advance(2000); // five of them have expired but are still rows
    const seen: string[] = [];
    const spy = pool.query.bind(pool);
    const counting = Object.assign(Object.create(pool) as pg.Pool, {
      query: (text: string, values: unknown[]) => {
        seen.push(text);
        return spy(text, values);
      },
    });
    const batched = postgresDriver({ pool: counting, prefix: 'batch:', batchSize: 7, clock: clock.now });
    expect(await batched.clear()).toBe(25);
    expect(seen.filter((text) => text.includes('LIKE')).length).toBe(5); // 30 rows: 7+7+7+7+2
    const { rows } = await pool.query("SELECT count(*)::int AS n FROM larder_cache WHERE key LIKE 'batch:%'");
    expect(rows[0].n).toBe(0);
  });

  it('sweeps expired rows lazily from writes, at most once per interval', async () => {
    const driver = postgresDriver({ pool, prefix: 'sweep:', sweepIntervalMs: 10_000, clock: clock.now });
    for (let i = 0; i < 5; i++) await driver.set(`k${i}`, 'v', 100);
    const rowsLeft = async () =>
      (await pool.query("SELECT count(*)::int AS n FROM larder_cache WHERE key LIKE 'sweep:%'")).rows[0].n;
    clock.advance(500);
    await driver.set('trigger', 'v'); // too soon after creation: no sweep
    expect(await rowsLeft()).toBe(6);
    clock.advance(10_000);
    await driver.set('trigger', 'v');
    await expect.poll(rowsLeft).toBe(1);
    expect(await driver.sweep()).toBe(0);
    await driver.disconnect();
  });

  it('setIfNewer stays atomic across two pools writing one key', async () => {
    const other = new pg.Pool({ connectionString: db.url, max: 8 });
    const a = postgresDriver({ pool, prefix: 'two:', clock: clock.now });
    const b = postgresDriver({ pool: other, prefix: 'two:', clock: clock.now });
    const stamps = Array.from({ length: 80 }, (_, i) => 50_000 + ((i * 31) % 80));
    const results = await Promise.all(
      stamps.map((stamp, i) => (i % 2 === 0 ? a : b).setIfNewer('race', frame(stamp, `s${stamp}`), 0)),
    );
    expect((await a.get('race'))?.toString()).toBe(`${String(50_079).padStart(16, '0')}vs50079`);
    expect(results.filter((r) => r === 'stored')).toHaveLength(1);
    // add is exclusive across pools too: one winner among many.
    const wins = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).add('lock', `o${i}`, 5000)),
    );
    expect(wins.filter(Boolean)).toHaveLength(1);
    await other.end();
  });
  it('a key PostgreSQL refuses (past the B-tree row size) fails its call without opening the breaker', async () => {
    const driver = postgresDriver({ pool, prefix: 'limit:', clock: clock.now });
    const guard = new GuardedDriver(driver, {
      name: 'postgres',
      timeoutMs: 5000,
      bulkTimeoutMs: 5000,
      breaker: { threshold: 2, resetAfter: '1h' },
      log: new LogSink({}),
    });
    // Incompressible, so the primary key's index row cannot shrink under its ~2.7 KB limit.
    const huge = randomBytes(3000).toString('hex');
    for (let i = 0; i < 4; i++) {
      await expect(guard.set(`${huge}${i}`, 'v')).rejects.toThrow(/refused set/);
    }
    expect(guard.breaker.state).toBe('closed');
    expect(guard.failing).toBe(false);
    // Every other key is still served.
    await guard.set('ok', 'fine');
    expect((await guard.get('ok'))?.toString()).toBe('fine');
    await driver.disconnect();
  });
});
