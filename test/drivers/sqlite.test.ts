// The SQLite driver passes the conformance suite on a temporary file (its clock moved by the suite,
// no sleeping); then what is particular to it: WAL mode, a database given by the caller, GLOB
// escaping, the lazy sweep, and two processes racing on one file with nothing lost or doubled.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createCache } from '../../src/index.js';
import { registerDriverSuite } from '../../src/entries/test-suite.js';
import { sqliteDriver } from '../../src/entries/sqlite.js';
import { SharedTier } from '../../src/entries/tiers.js';
import { frame } from '../../src/tiers/stamp.js';
import { manualClock } from '../helpers/clock.js';

const dir = mkdtempSync(join(tmpdir(), 'larder-sqlite-'));
const file = join(dir, 'cache.db');
const clock = manualClock(Date.now());

afterAll(() => rmSync(dir, { recursive: true, force: true }));

registerDriverSuite({
  name: 'sqlite',
  create: (prefix) => sqliteDriver({ path: file, prefix, clock: clock.now }),
  advance: (ms) => clock.advance(ms),
});

describe('SqliteDriver', () => {
  it('needs exactly one of path or database, a plain table name and sane numbers', () => {
    expect(() => sqliteDriver({})).toThrow(/exactly one of path or database/);
    expect(() => sqliteDriver({ path: '' })).toThrow(/path must be/);
    expect(() => sqliteDriver({ database: {} as never })).toThrow(/better-sqlite3 Database/);
    expect(() => sqliteDriver({ path: file, table: 'a.b' })).toThrow(/plain identifier/);
    expect(() => sqliteDriver({ path: file, busyTimeout: -1 })).toThrow(/busyTimeout/);
  });

  it('opens its file in WAL mode; a database given is used as it is and never closed', async () => {
    const driver = sqliteDriver({ path: file, prefix: 'wal:' });
    expect(driver.database.pragma('journal_mode', { simple: true })).toBe('wal');
    await driver.disconnect();
    expect(driver.database.open).toBe(false);
    await expect(driver.get('k')).rejects.toThrow(/disconnected/);
    const db = new Database(':memory:');
    const given = sqliteDriver({ database: db, table: 'mine' });
    await given.set('k', 'v');
    expect(db.prepare('SELECT key FROM mine').pluck().all()).toEqual(['k']);
    await given.disconnect();
    expect(db.open).toBe(true);
    db.close();
  });

  it('deletePattern treats [ ] and other GLOB syntax literally', async () => {
    const driver = sqliteDriver({ path: file, prefix: 'g[l]ob*:', clock: clock.now });
    const neighbour = sqliteDriver({ path: file, prefix: 'gxlxobX:', clock: clock.now });
    await neighbour.set('a', 'n');
    for (const key of ['[ab]', 'a', 'b', 'A1', 'a1']) await driver.set(key, 'v');
    expect(await driver.deletePattern('[ab]')).toBe(1);
    expect(await driver.deletePattern('a?')).toBe(1); // case-sensitive: A1 stays
    expect((await driver.getMany(['a', 'b', 'A1'])).every((v) => v !== undefined)).toBe(true);
    expect(await driver.clear()).toBe(3);
    expect((await neighbour.get('a'))?.toString()).toBe('n');
    await driver.disconnect();
    await neighbour.disconnect();
  });

  it('a pattern reaches what it matches in L1: `?` is one UTF-16 code unit, and NUL keys are refused', async () => {
    const open = () =>
      createCache<string>({
        name: 'emoji',
        ttl: '1h',
        l2: new SharedTier({ driver: sqliteDriver({ path: file, prefix: 'q:', clock: clock.now }) }),
      });
    const writer = open();
    await writer.set('a\u{1F600}', 'old a');
    await writer.set('b\u{1F600}', 'old b');
    const invalidator = open();
    // `?` matches one UTF-16 code unit, as in L1: `a??` reaches a😀 (two units), `b?` does not reach b😀.
    await invalidator.invalidatePattern('a??');
    await invalidator.invalidatePattern('b?');
    const reader = open();
    expect(await reader.get('a\u{1F600}')).toBeUndefined();
    expect(await reader.get('b\u{1F600}')).toBe('old b');
    // GLOB reads a key only up to a NUL: such a key could not be reached by a pattern.
    await expect(writer.set('x\0y', 'v')).rejects.toThrow(/GLOB stops at NUL/);
    await expect(writer.invalidatePattern('x\0*')).rejects.toThrow(RangeError);
    for (const cache of [writer, invalidator, reader]) await cache.close();
  });

  it('reads a number or text another program left in the value column as bytes, and writes over it', async () => {
    const driver = sqliteDriver({ path: file, prefix: 'odd:', clock: clock.now });
    driver.database
      .prepare(
        `INSERT OR REPLACE INTO larder_cache (key, value, expires_at)
        VALUES ('odd:n', 42, NULL), ('odd:r', 4.5, NULL), ('odd:t', 'text', NULL)`,
      )
      .run();
    expect(await driver.getMany(['n', 'r', 't'])).toEqual([
      Buffer.from('42'),
      Buffer.from('4.5'),
      Buffer.from('text'),
    ]);
    const stamped = Buffer.from('0000000000000001v');
    for (const key of ['n', 'r', 't']) expect(await driver.setIfNewer(key, stamped, 0)).toBe('replaced');
    expect(await driver.get('n')).toEqual(stamped);
    await driver.clear();
    await driver.disconnect();
  });

  it('sweeps expired rows from writes, at most batchSize per interval', async () => {
    // A file of its own: a sweep removes expired rows of every prefix.
    const driver = sqliteDriver({
      path: join(dir, 'sweep.db'),
      prefix: 'sweep:',
      batchSize: 3,
      sweepIntervalMs: 10_000,
      clock: clock.now,
    });
    const rows = () =>
      driver.database.prepare("SELECT count(*) FROM larder_cache WHERE key GLOB 'sweep:*'").pluck().get();
    for (let i = 0; i < 5; i++) await driver.set(`k${i}`, 'v', 100);
    clock.advance(500);
    await driver.set('t', 'v');
    expect(rows()).toBe(6);
    clock.advance(10_000);
    await driver.set('t', 'v');
    expect(rows()).toBe(3); // one bounded batch
    expect(driver.sweep()).toBe(2);
    expect(rows()).toBe(1);
    await driver.disconnect();
  });

  it('two processes sharing the file: versioned writes keep the highest stamp, add has one winner per key', async () => {
    const count = 1000;
    const script = fileURLToPath(new URL('./fixtures/sqlite-worker.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script, file, '1', String(count)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    expect((await lines.next()).value).toBe('ready');
    const driver = sqliteDriver({ path: file, prefix: 'two:', busyTimeout: 5000 });
    // Each side surely takes one key, so the race cannot end before it began on a busy machine: this
    // process takes lock:0 before the child starts, and goes past the middle only once the child
    // reports it has taken its first key (it adds from lock:999 down); in between they run side by side.
    let wins = 0;
    for (let i = 0; i < count; i++) {
      if (i === 1) child.stdin!.write('go\n');
      if (i === count / 2) expect((await lines.next()).value).toBe('started');
      await driver.setIfNewer('race', frame(100_000 + 2 * i, 'p0'), 0);
      if (await driver.add(`lock:${i}`, 'p0', 60_000)) wins++;
      await driver.setAtLeast('life', 'p0', 1000 + i, true);
      if (i % 20 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    const theirs = JSON.parse((await lines.next()).value as string) as { wins: number };
    expect(wins + theirs.wins).toBe(count);
    expect(wins).toBeGreaterThan(0);
    expect(theirs.wins).toBeGreaterThan(0);
    expect((await driver.get('race'))?.toString()).toBe(
      `${String(100_000 + 2 * (count - 1) + 1).padStart(16, '0')}vp1`,
    );
    await driver.disconnect();
  }, 30_000);
});
