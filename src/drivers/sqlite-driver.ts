// The SQLite driver: TierDriver over one table of a SQLite file, through `better-sqlite3` (loaded
// only by `larder-cache/sqlite`), for single-host persistence shared by the processes of one machine.
// The file is opened in WAL mode with a busy timeout, so several processes read while one writes and
// a writer waits its turn. SQLite has one writer at a time, so a BEGIN IMMEDIATE transaction (which
// takes the write lock first) is atomic across processes: setIfNewer, setAtLeast and setMax read and
// write in one. Expiry is an `expires_at` column (ms since the epoch) checked on every read; expired
// rows are swept lazily from writes, a bounded number per round. Bulk deletes go in LIMITed batches
// and yield to the event loop between them.
// better-sqlite3 is synchronous: a call runs on the event loop, and while another process holds the
// write lock a write may wait up to `busyTimeout` (default 1 s) there. Keep transactions of other
// programs on the same file short.
// A driver that opened its file by `path` follows that path: once the file there is deleted or
// replaced, it opens the new one within a second (see #followFile).
// Time source: the `clock` option (default `Date.now`); processes sharing a file share a wall clock.
import { statSync } from 'node:fs';
import type { Database, Statement } from 'better-sqlite3';
import {
  requireStamp,
  restamp,
  setMaxKeeps,
  STAMP_TOMBSTONE,
  stampKindOf,
  stampOf,
} from '../tiers/driver.js';
import type { DriverBaseOptions, DriverValue, SetIfNewerResult, TierDriver } from '../tiers/driver.js';
import { compileGlob, type GlobMatcher } from '../util/glob.js';
import { lazyModule } from '../util/lazy-require.js';
import { assertKnownOptions, optionNames } from '../util/validate.js';
import {
  checkClock,
  checkOneOf,
  checkPrefix,
  checkTableName,
  escapeSqliteGlob,
  expiryOf,
  globToSqliteGlob,
  positiveInteger,
} from './sql-glob.js';

type DatabaseConstructor = typeof import('better-sqlite3');
const loadSqlite = lazyModule<DatabaseConstructor>('better-sqlite3');

/** Options of {@link sqliteDriver}: a file path or an open database, a table and a key prefix. */
export interface SqliteDriverOptions extends DriverBaseOptions {
  /** Path of the database file (created if missing): the driver opens it and closes it on `disconnect()`. */
  path?: string;
  /** Or an open better-sqlite3 Database: used as it is (its journal mode untouched), never closed. */
  database?: Database;
  /** Table holding the entries (default `larder_cache`); created if missing. */
  table?: string;
  /** How long a write waits for another process's write lock, ms (default 1000; a file the driver opens). */
  busyTimeout?: number;
  /** Rows per batch of a bulk delete (`clear`, `deletePattern`) and of an expiry sweep (default 500). */
  batchSize?: number;
  /** How often, at most, writes trigger a sweep of expired rows, ms (default 60,000). */
  sweepIntervalMs?: number;
}

interface Row {
  value: Buffer;
  expires_at: number | null;
}

/** A {@link TierDriver} over a SQLite table. */
export class SqliteDriver implements TierDriver {
  /** @inheritdoc */
  readonly name = 'sqlite';
  #database: Database;
  /** The key prefix, as given. */
  readonly prefix: string;
  readonly #owned: boolean;
  readonly #clock: () => number;
  readonly #batch: number;
  readonly #sweepInterval: number;
  #sql!: Record<
    'get' | 'row' | 'put' | 'add' | 'delete' | 'deleteIfEquals' | 'deleteGlob' | 'deleteMatching' | 'sweep',
    Statement
  >;
  #getMany!: (keys: readonly string[], now: number) => Array<DriverValue | undefined>;
  #deleteMany!: (keys: readonly string[], now: number) => number;
  #setIfNewer!: (key: string, value: Buffer, ttlMs: number, always: boolean) => SetIfNewerResult;
  #setAtLeast!: (key: string, value: Buffer, ttlMs: number, keepValue: boolean) => void;
  #setMax!: (key: string, value: Buffer, ttlMs: number) => void;
  readonly #path: string | undefined;
  readonly #table: string;
  readonly #busyTimeout: number;
  /** The file the driver opened (device and inode), and when it last looked whether `path` still is it. */
  #file: { dev: number; ino: number } | undefined;
  #checkedAt = 0;
  #lastSweep: number;
  #closed = false;

  constructor(options: SqliteDriverOptions) {
    checkOneOf(options, 'sqlite driver', 'path', 'database');
    if (options.path !== undefined && (typeof options.path !== 'string' || options.path === '')) {
      throw new TypeError('path must be a non-empty string');
    }
    if (
      options.database !== undefined &&
      typeof (options.database as { prepare?: unknown }).prepare !== 'function'
    ) {
      throw new TypeError('database must be a better-sqlite3 Database');
    }
    this.prefix = checkPrefix(options.prefix);
    this.#table = checkTableName(options.table ?? 'larder_cache', false);
    this.#busyTimeout = positiveInteger(options.busyTimeout, 1000, 'busyTimeout');
    this.#batch = positiveInteger(options.batchSize, 500, 'batchSize');
    this.#sweepInterval = positiveInteger(options.sweepIntervalMs, 60_000, 'sweepIntervalMs');
    this.#clock = checkClock(options.clock);
    this.#lastSweep = this.#clock();
    this.#path = options.database === undefined ? options.path : undefined;
    this.#owned = this.#path !== undefined;
    if (options.database === undefined) {
      this.#database = this.#openFile();
    } else {
      this.#database = options.database;
      this.#prepare(options.database);
    }
  }

  /** The database the driver works on (a new one once the file at `path` was deleted or replaced). */
  get database(): Database {
    return this.#database;
  }

  /** Opens the file at `path` and prepares everything on it; closes it again if that fails. */
  #openFile(): Database {
    const db = new (loadSqlite())(this.#path!, { timeout: this.#busyTimeout });
    try {
      db.pragma('journal_mode = WAL');
      // A cache may lose its last writes on power loss; it must not corrupt: NORMAL is safe in WAL.
      db.pragma('synchronous = NORMAL');
      this.#prepare(db);
      this.#file = fileOf(this.#path!);
      this.#checkedAt = performance.now();
      return db;
    } catch (error) {
      // A file that is no database (garbage, corrupt) fails here: the file the driver opened is closed
      // again, where each attempt used to leave it open (a file descriptor leaked per attempt).
      db.close();
      throw error;
    }
  }

  /** Creates the table on `db` if missing and prepares the statements the calls run. */
  #prepare(db: Database): void {
    const table = this.#table;
    const t = `"${table}"`;
    db.exec(`CREATE TABLE IF NOT EXISTS ${t} (
      key TEXT PRIMARY KEY NOT NULL,
      value BLOB NOT NULL,
      expires_at INTEGER) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS "${table}_expires_at" ON ${t} (expires_at) WHERE expires_at IS NOT NULL;`);
    // A Larder glob's `?` is one UTF-16 code unit, GLOB's one character: for a character outside the
    // BMP (two units) they differ. Patterns with `?` select by a GLOB with `*` in its place, a superset,
    // and this function keeps exactly the keys the pattern matches.
    let last: GlobMatcher | undefined;
    db.function(
      'larder_glob_match',
      { deterministic: true },
      (pattern: unknown, skip: unknown, key: unknown) => {
        if (typeof pattern !== 'string' || typeof key !== 'string') return 0;
        if (last?.pattern !== pattern) last = compileGlob(pattern);
        return last.test(key.slice(Number(skip))) ? 1 : 0;
      },
    );
    const live = (alias = '') => `(${alias}expires_at IS NULL OR ${alias}expires_at > @now)`;
    // Read as bytes whatever the row holds: a number or text another program left in the column would
    // otherwise come back as a JS number or string, and a number breaks the stamp checks of every write.
    const bytes = 'CAST(value AS BLOB) AS value';
    this.#sql = {
      get: db.prepare(`SELECT ${bytes} FROM ${t} WHERE key = @key AND ${live()}`).pluck(),
      row: db.prepare(`SELECT ${bytes}, expires_at FROM ${t} WHERE key = @key AND ${live()}`),
      put: db.prepare(`INSERT INTO ${t} (key, value, expires_at) VALUES (@key, @value, @expires)
        ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`),
      add: db.prepare(`INSERT INTO ${t} (key, value, expires_at) VALUES (@key, @value, @expires)
        ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
        WHERE NOT ${live(`${t}.`)}`),
      delete: db.prepare(`DELETE FROM ${t} WHERE key = @key RETURNING ${live()} AS live`).pluck(),
      deleteIfEquals: db.prepare(`DELETE FROM ${t} WHERE key = @key AND value = @value AND ${live()}`),
      deleteGlob: db
        .prepare(
          `DELETE FROM ${t} WHERE key IN (SELECT key FROM ${t} WHERE key GLOB @glob LIMIT @limit)
          RETURNING ${live()} AS live`,
        )
        .pluck(),
      deleteMatching: db
        .prepare(
          `DELETE FROM ${t} WHERE key IN (SELECT key FROM ${t}
            WHERE key GLOB @glob AND larder_glob_match(@pattern, @skip, key) LIMIT @limit)
          RETURNING ${live()} AS live`,
        )
        .pluck(),
      sweep: db.prepare(
        `DELETE FROM ${t} WHERE key IN (SELECT key FROM ${t} WHERE expires_at <= @now LIMIT @limit)`,
      ),
    };
    const get = this.#sql.get;
    this.#getMany = db.transaction((keys: readonly string[], now: number) =>
      keys.map((key) => (get.get({ key: this.prefix + key, now }) as Buffer | undefined) ?? undefined),
    );
    const del = this.#sql.delete;
    this.#deleteMany = db.transaction((keys: readonly string[], now: number) => {
      let count = 0;
      for (const key of keys) if (del.get({ key: this.prefix + key, now }) === 1) count++;
      return count;
    });
    const setIfNewer = db.transaction(
      (key: string, value: Buffer, ttlMs: number, always: boolean): SetIfNewerResult => {
        const now = this.#now();
        const held = this.#sql.row.get({ key, now }) as Row | undefined;
        let result: SetIfNewerResult = 'stored';
        let stored: DriverValue = value;
        if (held !== undefined) {
          const heldStamp = stampOf(held.value);
          if (heldStamp !== undefined && heldStamp >= stampOf(value)!) {
            if (!always) return 'refused';
            stored = restamp(value, Number(heldStamp) + 1);
          }
          if (stampKindOf(held.value) !== STAMP_TOMBSTONE) result = 'replaced';
        }
        this.#sql.put.run({ key, value: stored, expires: expiryOf(now, ttlMs) });
        return result;
      },
    );
    this.#setIfNewer = (...args) => setIfNewer.immediate(...args);
    // setAtLeast and setMax: stores `value`, or keeps the live value held when `keep` says so of it, and
    // makes the key live at least `ttlMs` from now (0 = forever), never shorter.
    const lengthen = (key: string, value: Buffer, ttlMs: number, keep: (held: Buffer) => boolean): void => {
      const now = this.#now();
      const wanted = expiryOf(now, ttlMs);
      const held = this.#sql.row.get({ key, now }) as Row | undefined;
      if (held === undefined) {
        this.#sql.put.run({ key, value, expires: wanted });
        return;
      }
      const expires = held.expires_at === null || wanted === null ? null : Math.max(held.expires_at, wanted);
      this.#sql.put.run({ key, value: keep(held.value) ? held.value : value, expires });
    };
    const setAtLeast = db.transaction((key: string, value: Buffer, ttlMs: number, keepValue: boolean) =>
      lengthen(key, value, ttlMs, () => keepValue),
    );
    this.#setAtLeast = (...args) => setAtLeast.immediate(...args);
    const setMax = db.transaction((key: string, value: Buffer, ttlMs: number) =>
      lengthen(key, value, ttlMs, (held) => setMaxKeeps(held, value)),
    );
    this.#setMax = (...args) => setMax.immediate(...args);
  }

  async get(key: string): Promise<DriverValue | undefined> {
    this.#open();
    return (
      (this.#sql.get.get({ key: this.prefix + key, now: this.#now() }) as Buffer | undefined) ?? undefined
    );
  }

  async getMany(keys: readonly string[]): Promise<Array<DriverValue | undefined>> {
    this.#open();
    if (keys.length === 0) return [];
    return this.#getMany(keys, this.#now());
  }

  async set(key: string, value: DriverValue, ttlMs?: number): Promise<void> {
    this.#open();
    const now = this.#now();
    this.#sql.put.run({ key: this.prefix + key, value: bytesOf(value), expires: expiryOf(now, ttlMs) });
    this.#maybeSweep(now);
  }

  async add(key: string, value: DriverValue, ttlMs: number): Promise<boolean> {
    this.#open();
    const now = this.#now();
    const expires = expiryOf(now, Math.max(1, ttlMs));
    return this.#sql.add.run({ key: this.prefix + key, value: bytesOf(value), expires, now }).changes === 1;
  }

  async delete(key: string): Promise<boolean> {
    this.#open();
    return this.#sql.delete.get({ key: this.prefix + key, now: this.#now() }) === 1;
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    this.#open();
    if (keys.length === 0) return 0;
    return this.#deleteMany(keys, this.#now());
  }

  async clear(namespace = ''): Promise<number> {
    return this.#deleteGlob(escapeSqliteGlob(this.prefix + namespace) + '*');
  }

  async deletePattern(pattern: string): Promise<number> {
    const glob = globToSqliteGlob(this.prefix, pattern);
    if (!pattern.includes('?')) return this.#deleteGlob(glob);
    const head = escapeSqliteGlob(this.prefix);
    const superset = head + glob.slice(head.length).replace(/\?/g, '*');
    return this.#deleteGlob(superset, { pattern, skip: this.prefix.length });
  }

  /**
   * Why SQLite cannot hold `key` within reach of every operation, or undefined; see TierDriver. GLOB
   * reads a key only up to a NUL, so a pattern could not reach what follows one.
   */
  keyProblem(key: string): string | undefined {
    return key.includes('\0')
      ? "SQLite's GLOB stops at NUL (\\u0000), so patterns could not reach such keys"
      : undefined;
  }

  async deleteIfEquals(key: string, value: DriverValue): Promise<boolean> {
    this.#open();
    const params = { key: this.prefix + key, value: bytesOf(value), now: this.#now() };
    return this.#sql.deleteIfEquals.run(params).changes === 1;
  }

  async setIfNewer(
    key: string,
    value: DriverValue,
    ttlMs: number,
    always = false,
  ): Promise<SetIfNewerResult> {
    this.#open();
    requireStamp(value);
    const result = this.#setIfNewer(this.prefix + key, bytesOf(value), ttlMs, always);
    this.#maybeSweep(this.#now());
    return result;
  }

  async setAtLeast(key: string, value: DriverValue, ttlMs: number, keepValue = false): Promise<void> {
    this.#open();
    this.#setAtLeast(this.prefix + key, bytesOf(value), ttlMs, keepValue);
  }

  async setMax(key: string, value: DriverValue, ttlMs: number): Promise<void> {
    this.#open();
    this.#setMax(this.prefix + key, bytesOf(value), ttlMs);
  }

  /**
   * Deletes up to `batchSize` expired rows, whatever their prefix (they are dead for every reader).
   * Runs by itself from writes at most once per `sweepIntervalMs`; call it to sweep now. Returns how
   * many rows it removed.
   */
  sweep(): number {
    this.#open();
    return this.#sql.sweep.run({ now: this.#now(), limit: this.#batch }).changes;
  }

  async disconnect(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#owned) this.#database.close();
  }

  #now(): number {
    return Math.floor(this.#clock());
  }

  #open(): void {
    if (this.#closed) throw new Error('sqlite driver is disconnected');
    if (this.#owned && performance.now() - this.#checkedAt >= FILE_CHECK_MS) this.#followFile();
  }

  /**
   * Reopens `path` when the file there is no longer the one the driver opened (deleted, or replaced
   * by a rename). SQLite keeps working on the file it opened, so the driver kept reading and writing
   * a file no other process saw any more: their writes and deletes never reached it, and it served
   * values they had removed. Looked at once per FILE_CHECK_MS at most.
   */
  #followFile(): void {
    this.#checkedAt = performance.now();
    const file = fileOf(this.#path!);
    if (file !== undefined && file.dev === this.#file?.dev && file.ino === this.#file.ino) return;
    const stale = this.#database;
    try {
      this.#database = this.#openFile();
    } catch (error) {
      this.#checkedAt = -Infinity; // never the stale file again: every call tries until one opens it
      throw error;
    }
    stale.close();
  }

  #maybeSweep(now: number): void {
    if (now - this.#lastSweep < this.#sweepInterval) return;
    this.#lastSweep = now;
    try {
      this.sweep();
    } catch {
      // Busy or read-only: the rows stay dead (reads skip them) until a later sweep.
    }
  }

  /**
   * Deletes every key matching a GLOB (and, with `exact`, the Larder pattern too), a batch per
   * statement, yielding to the event loop in between.
   */
  async #deleteGlob(glob: string, exact?: { pattern: string; skip: number }): Promise<number> {
    let count = 0;
    for (;;) {
      this.#open();
      const params = { glob, limit: this.#batch, now: this.#now() };
      const lived = (
        exact === undefined
          ? this.#sql.deleteGlob.all(params)
          : this.#sql.deleteMatching.all({ ...params, ...exact })
      ) as number[];
      for (const live of lived) if (live === 1) count++;
      if (lived.length < this.#batch) return count;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

/** How often, at most, a driver that opened its file looks whether the file at its path is still it, ms. */
const FILE_CHECK_MS = 1000;

/** Device and inode of the file at `path`, or undefined when there is none. */
function fileOf(path: string): { dev: number; ino: number } | undefined {
  try {
    const stats = statSync(path);
    return { dev: stats.dev, ino: stats.ino };
  } catch {
    return undefined;
  }
}

/** A string value as its UTF-8 bytes: the column is a BLOB, and reads answer Buffers. */
function bytesOf(value: DriverValue): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (!Buffer.isBuffer(value)) throw new TypeError('value must be a string or a Buffer');
  return value;
}

const SQLITE_DRIVER_OPTIONS = optionNames<SqliteDriverOptions>({
  path: true,
  database: true,
  table: true,
  busyTimeout: true,
  batchSize: true,
  sweepIntervalMs: true,
  prefix: true,
  clock: true,
});

/** A {@link TierDriver} over SQLite; pass it to `new SharedTier({ driver })` (larder-cache/tiers). */
export function sqliteDriver(options: SqliteDriverOptions): SqliteDriver {
  if (options !== null && typeof options === 'object')
    assertKnownOptions(options, SQLITE_DRIVER_OPTIONS, 'sqliteDriver');
  return new SqliteDriver(options);
}
