// The PostgreSQL driver: TierDriver over one table, through `pg` (loaded only by `larder-cache/postgres`).
// Every operation is one statement: UPSERTs (INSERT … ON CONFLICT DO UPDATE … WHERE) make add,
// setIfNewer, setAtLeast and setMax atomic per key, since PostgreSQL locks the conflicting row and
// re-checks the WHERE on its latest version. Bulk deletes go in LIMITed batches, each a short
// statement, so no call holds locks on many rows at once. Expiry is an `expires_at` column (ms since
// the epoch) checked on every read; expired rows are swept lazily, a bounded number per round, from
// the write path.
// Time source: the `clock` option (default `Date.now`): every instance sharing a table must have a
// sane wall clock, as write stamps already require; skew between hosts shifts expiry by that skew.
// Keys are `text COLLATE "C"` (byte order, so prefix LIKEs use the primary key): a key may not hold
// NUL, and the btree limits one to about 2,700 bytes.
import type { Socket } from 'node:net';
import type { Client, Pool, PoolConfig, QueryResultRow } from 'pg';
import { requireStamp, STAMP_TOMBSTONE, STAMP_WIDTH } from '../tiers/driver.js';
import { withTimeout } from '../tiers/guarded-driver.js';
import type { DriverBaseOptions, DriverValue, SetIfNewerResult, TierDriver } from '../tiers/driver.js';
import { compileGlob } from '../util/glob.js';
import { lazyModule } from '../util/lazy-require.js';
import { assertKnownOptions, optionNames } from '../util/validate.js';
import {
  checkClock,
  checkOneOf,
  checkPrefix,
  checkTableName,
  escapeLike,
  expiryOf,
  globToLike,
  positiveInteger,
  quoteTable,
} from './sql-glob.js';

const loadPg = lazyModule<typeof import('pg')>('pg');

/** How long after the driver is made calls wait for the server's first answer (see whenReady), ms. */
export const PG_READY_WAIT_MS = 2000;
/** How long `disconnect()` waits for sessions to end before it closes their sockets, ms. */
export const PG_CLOSE_WAIT_MS = 1000;

/** Options of {@link postgresDriver}: a pool or a connection string, a table and a key prefix. */
export interface PostgresDriverOptions extends DriverBaseOptions {
  /** A `pg` Pool to use; the driver never ends it (its owner does). */
  pool?: Pool;
  /** Or a connection string: the driver opens its own Pool and ends it on `disconnect()`. */
  connectionString?: string;
  /** Extra settings of the driver's own Pool (with `connectionString`), e.g. `max`. */
  poolConfig?: Omit<PoolConfig, 'connectionString'>;
  /** Table holding the entries, `name` or `schema.name` (default `larder_cache`); created if missing. */
  table?: string;
  /** Rows per batch of a bulk delete (`clear`, `deletePattern`) and of an expiry sweep (default 1000). */
  batchSize?: number;
  /** How often, at most, writes trigger a sweep of expired rows, ms (default 60,000). */
  sweepIntervalMs?: number;
}

/** The live-row condition for a table alias (or none), `$now` being the parameter number of now. */
const live = (alias: string, now: number): string =>
  `(${alias}expires_at IS NULL OR ${alias}expires_at > $${now}::bigint)`;

/** A {@link TierDriver} over a PostgreSQL table. */
export class PostgresDriver implements TierDriver {
  /** @inheritdoc */
  readonly name = 'postgres';
  /** The pool the driver queries through. */
  readonly pool: Pool;
  /** The key prefix, as given. */
  readonly prefix: string;
  /** The table, as given (unquoted). */
  readonly table: string;
  readonly #owned: boolean;
  readonly #clock: () => number;
  readonly #batch: number;
  readonly #sweepInterval: number;
  readonly #sql: ReturnType<typeof statements>;
  #ready = false;
  #schema: Promise<void> | undefined;
  #recreating: Promise<void> | undefined;
  /** Until when (performance.now()) calls wait for the table to be made (see whenReady). */
  readonly #readyBy = performance.now() + PG_READY_WAIT_MS;
  #lastSweep: number;
  #sweeping: Promise<void> | undefined;
  #closed = false;

  constructor(options: PostgresDriverOptions) {
    checkOneOf(options, 'postgres driver', 'pool', 'connectionString');
    if (options.pool !== undefined && typeof (options.pool as { query?: unknown }).query !== 'function') {
      throw new TypeError('pool must be a pg Pool');
    }
    if (options.connectionString !== undefined && typeof options.connectionString !== 'string') {
      throw new TypeError('connectionString must be a string');
    }
    this.prefix = checkPrefix(options.prefix);
    this.table = checkTableName(options.table ?? 'larder_cache', true);
    this.#batch = positiveInteger(options.batchSize, 1000, 'batchSize');
    this.#sweepInterval = positiveInteger(options.sweepIntervalMs, 60_000, 'sweepIntervalMs');
    this.#clock = checkClock(options.clock);
    this.#lastSweep = this.#clock();
    this.#sql = statements(quoteTable(this.table), this.table.split('.').pop()!);
    if (options.pool !== undefined) {
      this.pool = options.pool;
      this.#owned = false;
    } else {
      const { Pool: PgPool } = loadPg();
      this.pool = new PgPool({ ...options.poolConfig, connectionString: options.connectionString });
      this.#owned = true;
      // An idle client losing its connection must not crash the process; the next query reports it.
      this.pool.on('error', () => {});
    }
  }

  /** `undefined` once the table is known to exist, else a promise that resolves when it does. */
  whenReady(): Promise<void> | undefined {
    if (this.#ready) return undefined;
    // Bounded as Redis's first connection is: a server that hangs (paused, black-holed) made every
    // call of a tier made then wait for it, outside the call's timeout, for good (loaders never ran).
    // Until PG_READY_WAIT_MS after the driver was made calls wait for the table; then they fail fast
    // (the breaker takes over) while it is still being made.
    const left = this.#readyBy - performance.now();
    return withTimeout(this.#ensureSchema(), Math.max(1, left), 'postgres first connection');
  }

  /** Why PostgreSQL can never take `key` (text may not hold NUL), or undefined; see TierDriver. */
  keyProblem(key: string): string | undefined {
    return key.includes('\0') ? 'PostgreSQL text cannot hold NUL (\\u0000)' : undefined;
  }

  /**
   * Whether `error` is PostgreSQL refusing a call's arguments rather than being unreachable: SQLSTATE
   * class 22 (data exception) or 54 (program limit exceeded: a key past the B-tree's row size, about
   * 2.7 KB after compression). See TierDriver.
   */
  refusesInput(error: unknown): boolean {
    const code = (error as { code?: unknown } | null)?.code;
    return typeof code === 'string' && code.length === 5 && (code.startsWith('22') || code.startsWith('54'));
  }

  async get(key: string): Promise<DriverValue | undefined> {
    const rows = await this.#query<{ value: Buffer }>(this.#sql.get, [this.prefix + key, this.#now()]);
    return rows[0]?.value;
  }

  async getMany(keys: readonly string[]): Promise<Array<DriverValue | undefined>> {
    if (keys.length === 0) return [];
    const full = keys.map((key) => this.prefix + key);
    const rows = await this.#query<{ key: string; value: Buffer }>(this.#sql.getMany, [full, this.#now()]);
    const found = new Map(rows.map((row) => [row.key, row.value]));
    return full.map((key) => found.get(key));
  }

  async set(key: string, value: DriverValue, ttlMs?: number): Promise<void> {
    const now = this.#now();
    await this.#query(this.#sql.set, [this.prefix + key, bytesOf(value), expiryOf(now, ttlMs)]);
    this.#maybeSweep(now);
  }

  async add(key: string, value: DriverValue, ttlMs: number): Promise<boolean> {
    const now = this.#now();
    const expires = expiryOf(now, Math.max(1, ttlMs));
    const rows = await this.#query(this.#sql.add, [this.prefix + key, bytesOf(value), expires, now]);
    return rows.length === 1;
  }

  async delete(key: string): Promise<boolean> {
    const rows = await this.#query<{ live: boolean }>(this.#sql.delete, [[this.prefix + key], this.#now()]);
    return rows.some((row) => row.live);
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0;
    const full = keys.map((key) => this.prefix + key);
    const rows = await this.#query<{ live: boolean }>(this.#sql.delete, [full, this.#now()]);
    return rows.filter((row) => row.live).length;
  }

  async clear(namespace = ''): Promise<number> {
    return this.#deleteLike(escapeLike(this.prefix + namespace) + '%');
  }

  async deletePattern(pattern: string): Promise<number> {
    if (!pattern.includes('?')) return this.#deleteLike(globToLike(this.prefix, pattern));
    // A Larder glob's `?` is one UTF-16 code unit, LIKE's `_` one character (a character outside the
    // BMP is two units): select by LIKE with `%` in its place, a superset, and delete exactly the keys
    // the pattern matches.
    const superset = globToLike(this.prefix, pattern, '%');
    const glob = compileGlob(pattern);
    const skip = this.prefix.length;
    let count = 0;
    for (let after = ''; ;) {
      const rows = await this.#query<{ key: string }>(this.#sql.selectLike, [superset, after, this.#batch]);
      const doomed = rows.map((row) => row.key).filter((key) => glob.test(key.slice(skip)));
      if (doomed.length > 0) {
        const deleted = await this.#query<{ live: boolean }>(this.#sql.delete, [doomed, this.#now()]);
        count += deleted.filter((row) => row.live).length;
      }
      if (rows.length < this.#batch) return count;
      after = rows[rows.length - 1]!.key;
    }
  }

  async deleteIfEquals(key: string, value: DriverValue): Promise<boolean> {
    const rows = await this.#query(this.#sql.deleteIfEquals, [
      this.prefix + key,
      bytesOf(value),
      this.#now(),
    ]);
    return rows.length === 1;
  }

  async setIfNewer(
    key: string,
    value: DriverValue,
    ttlMs: number,
    always = false,
  ): Promise<SetIfNewerResult> {
    requireStamp(value);
    const now = this.#now();
    const params = [this.prefix + key, bytesOf(value), expiryOf(now, ttlMs), now, always];
    const rows = await this.#query<{ replaced: boolean }>(this.#sql.setIfNewer, params);
    this.#maybeSweep(now);
    const row = rows[0];
    if (row === undefined) return 'refused';
    return row.replaced ? 'replaced' : 'stored';
  }

  async setAtLeast(key: string, value: DriverValue, ttlMs: number, keepValue = false): Promise<void> {
    const now = this.#now();
    const params = [this.prefix + key, bytesOf(value), expiryOf(now, ttlMs), now, keepValue];
    await this.#query(this.#sql.setAtLeast, params);
  }

  async setMax(key: string, value: DriverValue, ttlMs: number): Promise<void> {
    const now = this.#now();
    await this.#query(this.#sql.setMax, [this.prefix + key, bytesOf(value), expiryOf(now, ttlMs), now]);
  }

  /**
   * Deletes up to `batchSize` expired rows per statement, and at most ten batches, whatever their
   * prefix (they are dead for every reader). Runs by itself from writes; call it to sweep now.
   * Resolves with how many rows it removed.
   */
  async sweep(): Promise<number> {
    let removed = 0;
    for (let round = 0; round < 10; round++) {
      const rows = await this.#query(this.#sql.sweep, [this.#now(), this.#batch]);
      removed += rows.length;
      if (rows.length < this.#batch) break;
    }
    return removed;
  }

  async disconnect(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#owned) await endPool(this.pool);
    else await withTimeout(this.#sweeping ?? Promise.resolve(), PG_CLOSE_WAIT_MS, 'sweep').catch(() => {});
  }

  #now(): number {
    return Math.floor(this.#clock());
  }

  /** Starts a sweep when the last one is older than the interval; never awaited by the write. */
  #maybeSweep(now: number): void {
    if (this.#sweeping !== undefined || now - this.#lastSweep < this.#sweepInterval || this.#closed) return;
    this.#lastSweep = now;
    this.#sweeping = this.sweep().then(
      () => (this.#sweeping = undefined),
      () => (this.#sweeping = undefined),
    );
  }

  /**
   * Deletes every key matching a LIKE pattern, batch by batch; counts the live ones. It stops after a
   * batch that selected fewer rows than the batch size, not one that deleted fewer: rows of a batch
   * that a concurrent delete (another instance's, or a sweep) removed first are not deleted again, and
   * stopping then would leave the matching rows beyond the batch.
   */
  async #deleteLike(like: string): Promise<number> {
    let count = 0;
    for (;;) {
      const rows = await this.#query<{ selected: number; live: number }>(this.#sql.deleteLike, [
        like,
        this.#batch,
        this.#now(),
      ]);
      const { selected, live } = rows[0]!;
      count += live;
      if (selected < this.#batch) return count;
    }
  }

  async #query<R extends QueryResultRow = QueryResultRow>(text: string, values: unknown[]): Promise<R[]> {
    if (this.#closed) throw new Error('postgres driver is disconnected');
    if (!this.#ready) await this.#ensureSchema();
    try {
      return (await this.pool.query<R>(text, values)).rows;
    } catch (error) {
      // undefined_table: the server came back empty (or the table was dropped). Without this every
      // call failed from then on and the tier stayed down: make the table again and retry once (the
      // statement did nothing without its table).
      if ((error as { code?: unknown } | null)?.code !== '42P01') throw error;
      // Calls failing together share one re-creation; the table existed, so whenReady stays fast.
      this.#recreating ??= this.#createSchema().finally(() => (this.#recreating = undefined));
      await this.#recreating;
      return (await this.pool.query<R>(text, values)).rows;
    }
  }

  #ensureSchema(): Promise<void> {
    this.#schema ??= this.#createSchema().then(
      () => {
        this.#ready = true;
      },
      (error: unknown) => {
        // Try again on the next call (the server may come up later).
        this.#schema = undefined;
        throw error;
      },
    );
    return this.#schema;
  }

  async #createSchema(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.pool.query(this.#sql.createTable);
        await this.pool.query(this.#sql.createIndex);
        return;
      } catch (error) {
        // Two processes creating the table at once: one of them loses a race on the catalog.
        const code = (error as { code?: string }).code;
        if (attempt < 2 && (code === '23505' || code === '42P07')) continue;
        throw error;
      }
    }
  }
}

/** The socket under a pg Client (pg keeps it as `connection.stream`). */
function socketOf(client: Client): Socket | undefined {
  return (client as unknown as { connection?: { stream?: Socket } }).connection?.stream;
}

/**
 * Ends a pool the driver or the bus opened, waiting at most {@link PG_CLOSE_WAIT_MS} for the server
 * to close every session, then closing what is left. A hung server (paused, unreachable) never
 * answers: pool.end() waited for ever for the statements in flight, and the sessions it ended stayed
 * half-closed, so close() hung or the sockets kept the process alive.
 */
export function endPool(pool: Pool): Promise<void> {
  const clients = [...((pool as unknown as { _clients?: Client[] })._clients ?? [])];
  return endWithin(clients, pool.end());
}

/** Ends one pg Client as {@link endPool} ends a pool. */
export function endClient(client: Client): Promise<void> {
  return endWithin([client], client.end());
}

async function endWithin(clients: readonly Client[], ending: Promise<void>): Promise<void> {
  const sockets = clients
    .map(socketOf)
    .filter((socket): socket is Socket => socket !== undefined && !socket.destroyed);
  const closed = sockets.map((socket) => new Promise((resolve) => socket.once('close', resolve)));
  await withTimeout(Promise.all([ending, ...closed]), PG_CLOSE_WAIT_MS, 'postgres close').catch(() => {
    for (const socket of sockets) socket.destroy();
  });
}

/** A string value as its UTF-8 bytes: the column is bytea, and reads answer Buffers. */
function bytesOf(value: DriverValue): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (!Buffer.isBuffer(value)) throw new TypeError('value must be a string or a Buffer');
  return value;
}

/** The SQL of every operation, for one table. */
function statements(t: string, bare: string) {
  const held = `substring(c.value from 1 for ${STAMP_WIDTH})`;
  const incoming = `substring(EXCLUDED.value from 1 for ${STAMP_WIDTH})`;
  // A held value is versioned when it starts with STAMP_WIDTH ASCII digits and has a kind byte.
  const stamped = `(length(c.value) > ${STAMP_WIDTH} AND encode(${held}, 'hex') ~ '^(3[0-9]){${STAMP_WIDTH}}$')`;
  const tombstone = `substring(c.value from ${STAMP_WIDTH + 1} for 1) = '\\x${Buffer.from(STAMP_TOMBSTONE).toString('hex')}'::bytea`;
  const liveC = live('c.', 4);
  // setAtLeast's life: a dead row takes the new expiry; a live one the later of the two (none beats any).
  const lengthened = `expires_at = CASE WHEN NOT ${liveC} THEN EXCLUDED.expires_at
          WHEN c.expires_at IS NULL OR EXCLUDED.expires_at IS NULL THEN NULL
          ELSE GREATEST(c.expires_at, EXCLUDED.expires_at) END`;
  const decimal = (value: string): string => `encode(${value}, 'escape') ~ '^[0-9]+$'`;
  const digits = (value: string): string => `ltrim(encode(${value}, 'escape'), '0')`;
  return {
    createTable: `CREATE TABLE IF NOT EXISTS ${t} (
      key text COLLATE "C" PRIMARY KEY,
      value bytea NOT NULL,
      expires_at bigint,
      replaced boolean NOT NULL DEFAULT false)`,
    createIndex: `CREATE INDEX IF NOT EXISTS "${bare}_expires_at" ON ${t} (expires_at) WHERE expires_at IS NOT NULL`,
    get: `SELECT value FROM ${t} WHERE key = $1 AND ${live('', 2)}`,
    getMany: `SELECT key, value FROM ${t} WHERE key = ANY($1::text[]) AND ${live('', 2)}`,
    set: `INSERT INTO ${t} AS c (key, value, expires_at) VALUES ($1, $2, $3)
      ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at`,
    add: `INSERT INTO ${t} AS c (key, value, expires_at) VALUES ($1, $2, $3)
      ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at
      WHERE NOT ${liveC} RETURNING 1 AS stored`,
    delete: `DELETE FROM ${t} WHERE key = ANY($1::text[]) RETURNING ${live('', 2)} AS live`,
    deleteIfEquals: `DELETE FROM ${t} WHERE key = $1 AND value = $2 AND ${live('', 3)} RETURNING 1 AS deleted`,
    selectLike: `SELECT key FROM ${t} WHERE key LIKE $1 ESCAPE '\\' AND key > $2 ORDER BY key LIMIT $3`,
    deleteLike: `WITH doomed AS (SELECT key FROM ${t} WHERE key LIKE $1 ESCAPE '\\' LIMIT $2),
      gone AS (DELETE FROM ${t} d USING doomed WHERE d.key = doomed.key RETURNING ${live('d.', 3)} AS live)
      SELECT (SELECT count(*) FROM doomed)::int AS selected, (SELECT count(*) FROM gone WHERE live)::int AS live`,
    sweep: `DELETE FROM ${t} d USING (SELECT key FROM ${t} WHERE expires_at <= $1::bigint LIMIT $2) doomed
      WHERE d.key = doomed.key RETURNING 1 AS swept`,
    // $5: always. The `replaced` column records, in the same statement, whether a live value (not a
    // tombstone) was overwritten, since RETURNING sees only the new row.
    setIfNewer: `INSERT INTO ${t} AS c (key, value, expires_at, replaced) VALUES ($1, $2, $3, false)
      ON CONFLICT (key) DO UPDATE SET
        value = CASE WHEN $5::boolean AND ${liveC} AND ${stamped} AND ${held} >= ${incoming}
          THEN convert_to(lpad((encode(${held}, 'escape')::numeric + 1)::text, ${STAMP_WIDTH}, '0'), 'UTF8')
            || substring(EXCLUDED.value from ${STAMP_WIDTH + 1})
          ELSE EXCLUDED.value END,
        expires_at = EXCLUDED.expires_at,
        replaced = ${liveC} AND NOT (${stamped} AND ${tombstone})
      WHERE $5::boolean OR NOT ${liveC} OR NOT ${stamped} OR ${held} < ${incoming}
      RETURNING c.replaced`,
    // $5: keep the held value.
    setAtLeast: `INSERT INTO ${t} AS c (key, value, expires_at) VALUES ($1, $2, $3)
      ON CONFLICT (key) DO UPDATE SET
        value = CASE WHEN $5::boolean AND ${liveC} THEN c.value ELSE EXCLUDED.value END,
        ${lengthened}`,
    // The held value stays when it and the new one are decimal integers and it is not the smaller:
    // digits compared by length, then in byte order, after their leading zeros (exact at any length).
    setMax: `INSERT INTO ${t} AS c (key, value, expires_at) VALUES ($1, $2, $3)
      ON CONFLICT (key) DO UPDATE SET
        value = CASE WHEN ${liveC} AND ${decimal('c.value')} AND ${decimal('EXCLUDED.value')}
          AND (length(${digits('c.value')}), ${digits('c.value')} COLLATE "C")
            >= (length(${digits('EXCLUDED.value')}), ${digits('EXCLUDED.value')} COLLATE "C")
          THEN c.value ELSE EXCLUDED.value END,
        ${lengthened}`,
  };
}

/** The names of {@link postgresDriver}'s options (postgresTier takes them too). */
export const POSTGRES_DRIVER_OPTION_NAMES = optionNames<PostgresDriverOptions>({
  pool: true,
  connectionString: true,
  poolConfig: true,
  table: true,
  batchSize: true,
  sweepIntervalMs: true,
  prefix: true,
  clock: true,
});

/** A {@link TierDriver} over PostgreSQL; pass it to `new SharedTier({ driver })` or use `postgresTier()`. */
export function postgresDriver(options: PostgresDriverOptions): PostgresDriver {
  if (options !== null && typeof options === 'object')
    assertKnownOptions(options, POSTGRES_DRIVER_OPTION_NAMES, 'postgresDriver');
  return new PostgresDriver(options);
}
