// The invalidation bus over PostgreSQL LISTEN/NOTIFY, so a Postgres-only deployment needs no Redis.
// Publishing is `SELECT pg_notify(channel, payload)` on the pool; listening holds one dedicated
// connection (a LISTENing session must stay open). NOTIFY payloads are limited to 8000 bytes, so a
// message is split into several (keys and tags in smaller lists) until each fits, and one that cannot
// fit (a single huge key) widens to a `clear` of its cache — colder, never wrong.
// Reconnect policy: when the listening connection fails, it is reopened with backoff; once LISTEN is
// back after a gap, listeners get `resync` (NOTIFY does not replay what was sent while deaf).
import type { Client, ClientConfig, Notification, Pool } from 'pg';
import { CacheError } from '../errors.js';
import type { BusHealth, BusListeners, BusMessage, BusSecret, InvalidationBus } from '../tiers/bus.js';
import { busKey, checkInstanceId, encodeBusMessage, fitBusMessage, inspectBusMessage } from '../tiers/bus.js';
import { heartbeat, withTimeout } from '../tiers/guarded-driver.js';
import { parseDuration } from '../util/duration.js';
import type { Duration } from '../util/duration.js';
import { lazyModule } from '../util/lazy-require.js';
import { assertKnownOptions, optionNames } from '../util/validate.js';
import { endClient, endPool } from './postgres-driver.js';
import { checkOneOf } from './sql-glob.js';

const loadPg = lazyModule<typeof import('pg')>('pg');

/**
 * How often the listening session is checked with a `SELECT 1`, ms. A session lost without a word
 * (a NAT or firewall dropping an idle connection, a partition) otherwise kept the bus deaf, and the
 * instance serving what others removed, for as long as the process ran: a check that fails (or does
 * not answer within `connectTimeout`) reopens the session, and the resync follows.
 */
export const LISTEN_CHECK_MS = 5000;

/** Largest NOTIFY payload PostgreSQL accepts is 7999 bytes; keep a margin. */
export const NOTIFY_MAX_BYTES = 7900;

/** Options of {@link postgresBus}. */
export interface PostgresBusOptions {
  /** Pool to publish through; the listening connection is opened with the pool's own settings. */
  pool?: Pool;
  /** Or a connection string: the bus opens its own small pool and ends it on `close()`. */
  connectionString?: string;
  /** Channel name, at most 63 characters of `A-Z a-z 0-9 _ . : -` (default `larder_bus`). */
  channel?: string;
  /** Id of this instance, 1 to 256 characters; random by default. */
  instanceId?: string;
  /** Shared secret (at least 16 bytes): messages are signed and unsigned ones refused, as on Redis. */
  secret?: BusSecret;
  /** Timeout of one publish (default `'1s'`). */
  timeout?: Duration;
  /** How long `start()` waits for the first LISTEN (default `'2s'`); after that it keeps trying in the background. */
  connectTimeout?: Duration;
  /** Longest wait between reconnection attempts (default `'2s'`; the first waits 50 ms). */
  reconnectMaxDelay?: Duration;
}

const CHANNEL_RE = /^[A-Za-z0-9_.:-]{1,63}$/;

/** An {@link InvalidationBus} over PostgreSQL LISTEN/NOTIFY. */
export class PostgresBus implements InvalidationBus {
  /** @inheritdoc */
  readonly instanceId: string;
  /** The channel, as given. */
  readonly channel: string;
  readonly #pool: Pool;
  readonly #owned: boolean;
  readonly #connection: ClientConfig;
  readonly #key: Buffer | undefined;
  readonly #timeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #maxDelayMs: number;
  readonly #ownPrefix: string;
  #listeners: BusListeners | undefined;
  #client: Client | undefined;
  #listening = false;
  #everListened = false;
  #startupDone = false;
  #resyncs = 0;
  #rejected = 0;
  #attempt = 0;
  #timer: NodeJS.Timeout | undefined;
  /** Stops the listening session's check (see #watch). */
  #stopCheck: (() => void) | undefined;
  #starting: Promise<void> | undefined;
  #lastError = '';
  #closed = false;

  constructor(options: PostgresBusOptions) {
    checkOneOf(options, 'postgres bus', 'pool', 'connectionString');
    const channel = options.channel ?? 'larder_bus';
    if (typeof channel !== 'string' || !CHANNEL_RE.test(channel)) {
      throw new TypeError(
        `channel must be 1-63 characters of A-Z a-z 0-9 _ . : -, got ${JSON.stringify(channel)}`,
      );
    }
    this.channel = channel;
    this.#key = options.secret === undefined ? undefined : busKey(options.secret);
    this.#timeoutMs = parseDuration(options.timeout ?? '1s', 'timeout');
    this.#connectTimeoutMs = parseDuration(options.connectTimeout ?? '2s', 'connectTimeout');
    this.#maxDelayMs = parseDuration(options.reconnectMaxDelay ?? '2s', 'reconnectMaxDelay');
    this.instanceId = checkInstanceId(options.instanceId);
    this.#ownPrefix = `{"source":${JSON.stringify(this.instanceId)},`;
    if (options.pool !== undefined) {
      if (typeof (options.pool as { query?: unknown }).query !== 'function') {
        throw new TypeError('pool must be a pg Pool');
      }
      this.#pool = options.pool;
      this.#owned = false;
      this.#connection = { ...(options.pool as unknown as { options: ClientConfig }).options };
    } else {
      if (typeof options.connectionString !== 'string')
        throw new TypeError('connectionString must be a string');
      this.#connection = { connectionString: options.connectionString };
      this.#pool = new (loadPg().Pool)({ ...this.#connection, max: 2 });
      this.#owned = true;
      this.#pool.on('error', () => {});
    }
  }

  start(listeners: BusListeners): Promise<void> {
    this.#listeners = listeners;
    this.#starting ??= this.#open();
    return this.#starting;
  }

  async publish(message: Omit<BusMessage, 'source'>): Promise<void> {
    if (this.#closed) throw new CacheError('TIER_UNAVAILABLE', 'bus cannot publish: it is closed');
    const wires = this.#encode(message);
    // One statement for every piece: one round trip, delivered together and in order.
    const sent =
      wires.length === 1
        ? this.#pool.query('SELECT pg_notify($1, $2)', [this.channel, wires[0]])
        : this.#pool.query(
            'SELECT pg_notify($1, p) FROM unnest($2::text[]) WITH ORDINALITY AS w(p, i) ORDER BY i',
            [this.channel, wires],
          );
    await withTimeout(sent, this.#timeoutMs, 'bus publish');
  }

  /** Messages dropped so far as malformed, out of bounds or wrongly signed. */
  get rejected(): number {
    return this.#rejected;
  }

  health(): BusHealth {
    const counts = { resyncs: this.#resyncs, rejected: this.#rejected, signed: this.#key !== undefined };
    if (this.#closed) return { status: 'down', reason: 'closed', ...counts };
    if (this.#listening) return { status: 'ok', ...counts };
    const reason = this.#lastError === '' ? 'not listening' : `not listening: ${this.#lastError}`;
    return { status: 'down', reason, ...counts };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listening = false;
    this.#listeners = undefined;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#stopCheck?.();
    const client = this.#client;
    this.#client = undefined;
    // Bounded: a hung server never closes the sessions (see endPool).
    if (client !== undefined) await endClient(client);
    if (this.#owned) await endPool(this.#pool);
  }

  /** The wire payloads of one message: each at most {@link NOTIFY_MAX_BYTES}. */
  #encode(message: Omit<BusMessage, 'source'>): string[] {
    const out: string[] = [];
    const pending = fitBusMessage(message);
    while (pending.length > 0) {
      const piece = pending.shift()!;
      const wire = encodeBusMessage(
        Object.assign({ source: this.instanceId }, piece) as BusMessage,
        this.#key,
      );
      if (Buffer.byteLength(wire) <= NOTIFY_MAX_BYTES) {
        out.push(wire);
        continue;
      }
      const field = piece.keys !== undefined ? 'keys' : piece.tags !== undefined ? 'tags' : undefined;
      const items = field === undefined ? undefined : piece[field];
      if (field === undefined || items === undefined || items.length < 2) {
        // One item (or a pattern) too large for a NOTIFY: drop the whole cache's L1 instead.
        if (piece.kind === 'clear') throw new RangeError('cache name too long for a NOTIFY payload');
        pending.unshift({ cache: piece.cache, kind: 'clear' });
        continue;
      }
      const half = Math.ceil(items.length / 2);
      pending.unshift({ ...piece, [field]: items.slice(0, half) }, { ...piece, [field]: items.slice(half) });
    }
    return out;
  }

  async #open(): Promise<void> {
    const first = this.#listen();
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#connectTimeoutMs);
      timer.unref();
    });
    await Promise.race([first, waited]);
    clearTimeout(timer);
    this.#startupDone = true;
  }

  /** Opens the listening connection and LISTENs; on failure schedules the next attempt. */
  async #listen(): Promise<void> {
    if (this.#closed) return;
    const client: Client = new (loadPg().Client)({
      ...this.#connection,
      connectionTimeoutMillis: this.#connectTimeoutMs,
      keepAlive: true,
    });
    this.#client = client;
    client.on('error', (error: Error) => this.#lost(client, error));
    client.on('end', () => this.#lost(client, new Error('connection ended')));
    client.on('notification', (note: Notification) => this.#onNotification(note));
    try {
      // Both bounded (connectionTimeoutMillis is connectTimeout): a server that accepts the connection but never
      // answers (a black hole, a paused postmaster) left the bus waiting, and deaf, for good. A
      // timeout fails the attempt like any other error: the client is closed, and the next attempt
      // follows the backoff.
      await client.connect();
      await withTimeout(client.query(`LISTEN "${this.channel}"`), this.#connectTimeoutMs, 'bus LISTEN');
    } catch (error) {
      this.#lost(client, error as Error);
      return;
    }
    if (this.#closed || this.#client !== client) return;
    this.#listening = true;
    this.#attempt = 0;
    this.#lastError = '';
    this.#watch(client);
    // A first LISTEN that lands after start() stopped waiting also follows a deaf period.
    if (this.#everListened || this.#startupDone) {
      this.#resyncs++;
      this.#listeners?.resync();
    }
    this.#everListened = true;
  }

  /** Checks the listening session every {@link LISTEN_CHECK_MS}; one that fails the check is lost. */
  #watch(client: Client): void {
    this.#stopCheck?.();
    this.#stopCheck = heartbeat(
      () => client.query('SELECT 1'),
      LISTEN_CHECK_MS,
      this.#connectTimeoutMs,
      'bus session check',
      (error) => this.#lost(client, error as Error),
    );
  }

  /** The listening connection failed: forget it and try again after a backoff. */
  #lost(client: Client, error: Error): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    this.#listening = false;
    this.#lastError = error.message;
    this.#stopCheck?.();
    client.removeAllListeners('notification');
    client.on('error', () => {});
    void endClient(client);
    if (this.#closed) return;
    const delay = Math.min(this.#maxDelayMs, 50 * 2 ** this.#attempt++);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#listen();
    }, delay);
    this.#timer.unref();
  }

  #onNotification(note: Notification): void {
    if (note.channel !== this.channel || note.payload === undefined) return;
    // Our own messages come back too; their first characters name us.
    if (note.payload.startsWith(this.#ownPrefix)) return;
    const decoded = inspectBusMessage(note.payload, { key: this.#key });
    if (decoded.problem !== undefined) {
      this.#rejected++;
      const untimely = decoded.untimely === true && decoded.message.source !== this.instanceId;
      this.#listeners?.invalid?.(decoded.problem, untimely ? decoded.message : undefined);
      return;
    }
    if (decoded.message.source === this.instanceId) return;
    this.#listeners?.message(decoded.message);
  }
}

const POSTGRES_BUS_OPTIONS = optionNames<PostgresBusOptions>({
  pool: true,
  connectionString: true,
  channel: true,
  instanceId: true,
  secret: true,
  timeout: true,
  connectTimeout: true,
  reconnectMaxDelay: true,
});

/** An {@link InvalidationBus} over PostgreSQL LISTEN/NOTIFY; pass it to `new SharedTier({ bus })`. */
export function postgresBus(options: PostgresBusOptions): PostgresBus {
  // As every other factory: a misspelt option (`chanel`) is refused, not silently left at its default.
  if (options !== null && typeof options === 'object')
    assertKnownOptions(options, POSTGRES_BUS_OPTIONS, 'postgresBus');
  return new PostgresBus(options);
}
