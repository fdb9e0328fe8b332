// The SQLite driver under faults: a file that is no database at open, and a file locked by another
// process (the sqlite3 shell holding BEGIN EXCLUSIVE with an uncommitted write, then killed) while
// caches use it.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createCache } from '../../src/index.js';
import type { Cache } from '../../src/index.js';
import { sqliteDriver } from '../../src/entries/sqlite.js';
import { SharedTier } from '../../src/entries/tiers.js';
import { describeWith } from './servers.js';

const dir = mkdtempSync(join(tmpdir(), 'larder-sqlite-faults-'));
const children = new Set<ChildProcess>();
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

const SQLITE3 = spawnSync('sh', ['-c', 'command -v sqlite3'], { encoding: 'utf8' }).stdout.trim();

/** Open file descriptors of this process (Linux), or undefined elsewhere. */
const openFds = (): number | undefined =>
  existsSync('/proc/self/fd') ? readdirSync('/proc/self/fd').length : undefined;

describe('SqliteDriver at open', () => {
  it('a file that is no database is refused, and each attempt closes what it opened', () => {
    const file = join(dir, 'garbage.db');
    writeFileSync(file, Buffer.alloc(8192, 0x41));
    const before = openFds();
    for (let i = 0; i < 20; i++) expect(() => sqliteDriver({ path: file })).toThrow(/not a database/);
    // Before: every attempt left the file open (20 descriptors here).
    if (before !== undefined) expect(openFds()! - before).toBeLessThan(5);
  });
});

describe('SqliteDriver whose file is deleted while it runs', () => {
  it('follows its path: another process’s writes and deletes reach it again within a second', async () => {
    const file = join(dir, 'deleted.db');
    const a = sqliteDriver({ path: file, prefix: 'del:' });
    cleanups.push(() => a.disconnect());
    await a.set('k', 'old');
    await a.set('gone', 'old');
    // "Clearing the cache" by hand, then a process started afterwards opens a fresh file there.
    for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
    const b = sqliteDriver({ path: file, prefix: 'del:' });
    cleanups.push(() => b.disconnect());
    await b.set('k', 'new');
    // Before: A kept working on the deleted file for good, serving what B replaced or never had.
    await vi.waitFor(async () => expect(String(await a.get('k'))).toBe('new'), {
      timeout: 3000,
      interval: 50,
    });
    expect(await a.get('gone')).toBeUndefined();
    await a.set('fromA', 'yes');
    expect(String(await b.get('fromA'))).toBe('yes');
  });
});

describe('SqliteDriver holding values another program damaged', () => {
  it('a truncated, garbage or huge value reads as a miss: the loader answers, and the next load overwrites it', async () => {
    const file = join(dir, 'damaged.db');
    const driver = sqliteDriver({ path: file, prefix: 'dmg:' });
    const cache = createCache({ name: 'd', ttl: '1h', l2: new SharedTier({ driver }) });
    cleanups.push(() => cache.close());
    await cache.set('user:1', { name: 'alice', secret: 'a'.repeat(100) });
    const raw = new Database(file);
    try {
      const good = raw
        .prepare(`SELECT value FROM larder_cache WHERE key = 'dmg:e:d:user:1'`)
        .pluck()
        .get() as Buffer;
      const damaged = {
        truncated: good.subarray(0, Math.floor(good.length / 2)),
        garbage: Buffer.from('not an entry at all'),
        header: Buffer.concat([good.subarray(0, 17), Buffer.alloc(64, 0xc1)]),
        huge: Buffer.concat([good.subarray(0, 17), Buffer.alloc(8 * 1024 * 1024, 0xff)]),
      };
      const put = raw.prepare(
        `INSERT OR REPLACE INTO larder_cache (key, value, expires_at) VALUES (?, ?, NULL)`,
      );
      for (const [name, bytes] of Object.entries(damaged)) {
        put.run(`dmg:e:d:${name}`, bytes);
        const fresh = createCache({
          name: 'd',
          ttl: '1h',
          l2: new SharedTier({ driver: sqliteDriver({ path: file, prefix: 'dmg:' }) }),
        });
        cleanups.push(() => fresh.close());
        const started = performance.now();
        expect(await fresh.getOrSet(name, () => `loaded ${name}`)).toBe(`loaded ${name}`);
        expect(performance.now() - started).toBeLessThan(1000);
        expect(fresh.health().l2?.status).toBe('ok');
        const other = createCache({
          name: 'd',
          ttl: '1h',
          l2: new SharedTier({ driver: sqliteDriver({ path: file, prefix: 'dmg:' }) }),
        });
        cleanups.push(() => other.close());
        expect(await other.get(name)).toBe(`loaded ${name}`); // the load replaced it in L2
      }
    } finally {
      raw.close();
    }
  });
});

describeWith('SqliteDriver locked by another process', SQLITE3 === '' ? 'sqlite3' : undefined, () => {
  it('a delete made while the sqlite3 shell holds the write lock is kept, replayed once it is killed, and its uncommitted row never appears', async () => {
    const file = join(dir, 'locked.db');
    const open = (): Cache => {
      const driver = sqliteDriver({ path: file, prefix: 'lock:', busyTimeout: 100 });
      const cache = createCache({
        name: 'l',
        ttl: '1h',
        l2: new SharedTier({ driver, breaker: { threshold: 1, resetAfter: '100ms' } }),
      });
      cleanups.push(() => cache.close());
      return cache;
    };
    const a = open();
    await a.set('k', 'old');
    const locker = spawn(SQLITE3, [file], { stdio: ['pipe', 'pipe', 'ignore'] });
    children.add(locker);
    const lines = createInterface({ input: locker.stdout! })[Symbol.asyncIterator]();
    locker.stdin!.write(
      ".timeout 5000\nBEGIN EXCLUSIVE;\nINSERT INTO larder_cache VALUES ('lock:junk', x'00', NULL);\nSELECT 'locked';\n",
    );
    expect((await lines.next()).value).toBe('locked');
    await a.delete('k'); // waits busyTimeout, fails: kept for replay
    expect(a.health().l2?.pending).toBeGreaterThan(0);
    expect(await a.get('k')).toBeUndefined();
    const exited = new Promise((resolve) => locker.once('exit', resolve));
    locker.kill('SIGKILL'); // in the middle of its transaction
    await exited;
    await vi.waitFor(() => expect(a.health().l2?.pending).toBe(0), { timeout: 5000, interval: 20 });
    const b = open();
    expect(await b.get('k')).toBeUndefined();
    const db = new Database(file, { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(db.prepare(`SELECT count(*) FROM larder_cache WHERE key = 'lock:junk'`).pluck().get()).toBe(0);
    } finally {
      db.close();
    }
  });
});
