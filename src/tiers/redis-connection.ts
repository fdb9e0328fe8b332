// Opens the ioredis client a Redis tier talks through (standalone, Sentinel or Cluster) and gates
// calls on it: while the first connection is still opening a call waits for it briefly; after that
// a disconnected client fails fast instead of queueing, so an outage never piles up memory or latency.
// The gate remembers why the connection is down (refused, unknown host, wrong or missing password) so
// errors and health say so, and refuses every call when the server rejected the DB index. Each new
// connection of a standalone or Sentinel client is checked before calls go through it: a server with
// another run_id than before restarted (maybe from an older snapshot) or replaced the old one (a
// failover), and may hold data that deletes and invalidations made since have removed.
// Time source: the driver's `clock` (redisTier passes the tier's), by default `Date.now` like the rest
// of tiers/; it dates the first-connection deadline.
//
// ioredis is the client because one maintained package gives us standalone, Sentinel and Cluster
// behind the same command API, auto-pipelining (concurrent commands share one write), and control
// over the offline queue (we turn it off and fail fast; the breaker above decides what to do).
import type { Cluster, ClusterNode, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { CacheError } from '../errors.js';
import { parseDuration } from '../util/duration.js';
import type { Duration } from '../util/duration.js';
import { lazyModule } from '../util/lazy-require.js';

/** ioredis (an optional peer dependency), loaded when the first connection is opened or adopted. */
const ioredis = lazyModule<typeof import('ioredis')>('ioredis', 'larder-cache/redis');

/** Whether `client` is a Cluster client, read from the client so that ioredis itself need not be loaded. */
export function isCluster(client: RedisClient): client is Cluster {
  return client.isCluster;
}

/**
 * Sends one command on `client`'s socket at once, or returns undefined when that could reorder it.
 * ioredis's auto-pipeline holds a command until the event loop's check phase, and while one pipeline
 * is awaiting its replies it holds every later command until they arrive: a batched write would wait
 * a whole round trip before Redis even saw it. Writing it now is safe exactly when nothing issued
 * earlier is still held there (else the caller queues behind it, as any command would). A Cluster
 * client always answers undefined: it must route each command to the node of its keys.
 */
export function sendNow(
  client: RedisClient,
  name: string,
  args: ReadonlyArray<string | number | Buffer>,
  replyEncoding: 'utf8' | null = 'utf8',
): Promise<unknown> | undefined {
  if (isCluster(client)) return undefined;
  if (client.options.enableAutoPipelining === true && client.autoPipelineQueueSize > 0) return undefined;
  const { Command } = ioredis();
  return client.sendCommand(
    new Command(name, args as Array<string | number | Buffer>, { replyEncoding }),
  ) as Promise<unknown>;
}

/** A standalone/Sentinel client or a Cluster client. */
export type RedisClient = Redis | Cluster;

/** How to reach Redis: exactly one of `url`, `client`, `redis` (host/port or Sentinel), `sentinels` or `cluster`. */
export interface RedisConnectionOptions {
  /** `redis://[:password@]host:port[/db]` or `rediss://…` for TLS (`undefined` counts as not given). */
  url?: string | undefined;
  /** An ioredis client you own; Larder never closes it (it duplicates it for the bus subscriber). */
  client?: RedisClient;
  /** ioredis options for a standalone or Sentinel connection (host, port, password, tls, db, …). */
  redis?: RedisOptions;
  /** Sentinel nodes; with `sentinelName`, the master is discovered through them. */
  sentinels?: Array<{ host: string; port: number }>;
  /** The Sentinel master group name (ioredis `name`), default `'mymaster'`. */
  sentinelName?: string;
  /** Startup nodes of a Redis Cluster. */
  cluster?: ClusterNode[];
  /** ioredis Cluster options (e.g. `redisOptions: { password }`, `natMap`). */
  clusterOptions?: ClusterOptions;
  /** How long calls wait for the first connection before failing fast (default `'1s'`). */
  connectTimeout?: Duration;
  /** Longest pause between reconnection attempts (default `'1s'`); short so recovery is quick. */
  reconnectMaxDelay?: Duration;
}

/** A client plus whether Larder opened it (and so must close it). */
export interface OpenedClient {
  client: RedisClient;
  owned: boolean;
}

/** The options every client Larder opens gets; the caller's own options win where they overlap. */
function baseOptions(reconnectMaxDelay: number): RedisOptions {
  return {
    enableAutoPipelining: true,
    // Commands must not queue during an outage: they would grow without bound and answer late.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 10), reconnectMaxDelay),
  };
}

/** Opens (or adopts) the client described by `options`. Throws a TypeError naming a bad option. */
export function openRedisClient(options: RedisConnectionOptions): OpenedClient {
  const reconnectMaxDelay = parseDuration(options.reconnectMaxDelay ?? '1s', 'reconnectMaxDelay');
  const given = ['url', 'client', 'redis', 'sentinels', 'cluster'].filter(
    (name) => options[name as keyof RedisConnectionOptions] !== undefined,
  );
  if (given.length > 1 && !(given.length === 2 && given.includes('redis') && given.includes('sentinels'))) {
    throw new TypeError(
      `redisTier takes one of url, client, redis, sentinels or cluster, got ${given.join(', ')}`,
    );
  }
  const { Cluster, Redis } = ioredis();
  if (options.client !== undefined) {
    if (!(options.client instanceof Redis) && !(options.client instanceof Cluster)) {
      throw new TypeError('client must be an ioredis Redis or Cluster instance');
    }
    // SCAN MATCH ignores ioredis' keyPrefix, so pattern deletes would miss every key: use `prefix`.
    if (options.client.options.keyPrefix) {
      throw new TypeError('client must not set keyPrefix; give redisTier a prefix option instead');
    }
    return { client: options.client, owned: false };
  }
  const base = baseOptions(reconnectMaxDelay);
  if (options.cluster !== undefined) {
    if (!Array.isArray(options.cluster) || options.cluster.length === 0) {
      throw new TypeError('cluster must be a non-empty array of startup nodes');
    }
    const { retryStrategy: _ignored, enableOfflineQueue: _queue, ...redisOptions } = base;
    const cluster = new Cluster(options.cluster, {
      enableAutoPipelining: true,
      enableOfflineQueue: false,
      clusterRetryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 10), reconnectMaxDelay),
      ...options.clusterOptions,
      redisOptions: { ...redisOptions, ...options.clusterOptions?.redisOptions },
    });
    return { client: cluster, owned: true };
  }
  if (options.sentinels !== undefined) {
    if (!Array.isArray(options.sentinels) || options.sentinels.length === 0) {
      throw new TypeError('sentinels must be a non-empty array of { host, port }');
    }
    const client = new Redis({
      ...base,
      ...options.redis,
      sentinels: options.sentinels,
      name: options.sentinelName ?? 'mymaster',
    });
    return { client, owned: true };
  }
  if (options.url !== undefined) {
    if (typeof options.url !== 'string' || !/^rediss?:\/\//.test(options.url)) {
      throw new TypeError(`url must be a redis:// or rediss:// URL, got ${JSON.stringify(options.url)}`);
    }
    checkUrlDb(options.url);
    return { client: new Redis(options.url, base), owned: true };
  }
  if (options.redis !== undefined) {
    checkDb(options.redis.db, 'redis.db');
    return { client: new Redis({ ...base, ...options.redis }), owned: true };
  }
  throw new TypeError('redisTier needs one of url, client, redis, sentinels or cluster');
}

/** A DB index must be a non-negative integer; whether the server has that many DBs is checked on connect. */
function checkDb(db: unknown, what: string): void {
  if (db !== undefined && (typeof db !== 'number' || !Number.isInteger(db) || db < 0)) {
    throw new TypeError(`${what} must be a non-negative integer, got ${String(db)}`);
  }
}

function checkUrlDb(url: string): void {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    throw new TypeError(`url is not a valid URL: ${JSON.stringify(url)}`);
  }
  if (path === '' || path === '/') return;
  if (!/^\/\d{1,9}$/.test(path)) {
    throw new TypeError(`url must end in /<db index> (a non-negative integer), got ${JSON.stringify(path)}`);
  }
}

const HINTS: Record<string, string> = {
  ECONNREFUSED: 'nothing listens at that host and port',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name could not be resolved (DNS unavailable)',
  ETIMEDOUT: 'the server did not accept the connection in time',
  WRONGPASS: 'the password (or user) is wrong',
  NOAUTH: 'the server requires a password and none was given',
};

/**
 * Why a connection failed, in one line that starts with its code (`ECONNREFUSED`, `ENOTFOUND`,
 * `WRONGPASS`, `NOAUTH`, …) and says what it means.
 */
export function connectionCause(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown } | null;
  const message = typeof e?.message === 'string' ? e.message : String(error);
  const code =
    typeof e?.code === 'string' && e.code !== '' ? e.code : (/^[A-Z][A-Z_]+(?=\s)/.exec(message)?.[0] ?? '');
  const hint = HINTS[code];
  if (code === '') return message;
  const text = message.startsWith(code) ? message.slice(code.length).trim() : message;
  return `${code}: ${text}${hint === undefined ? '' : ` (${hint})`}`;
}

/**
 * Decides whether a call may go to Redis now: yes when connected; before the first connection it
 * waits up to `connectTimeout`; afterwards a disconnected client fails fast with TIER_UNAVAILABLE.
 */
export class ConnectionGate {
  readonly #client: RedisClient;
  readonly #clock: () => number;
  readonly #deadline: number;
  readonly #connectTimeoutMs: number;
  #everReady: boolean;
  #firstReady: Promise<void> | undefined;
  #cause: string | undefined;
  #fatal: CacheError | undefined;
  /** The server's run_id when last checked (undefined before the first check, or when INFO is refused). */
  #runId: string | undefined;
  /** The connection (ioredis stream) whose server was checked; a Cluster client is never checked. */
  #checked: unknown;
  /** The check of the current connection, while it is out. */
  #checking: Promise<void> | undefined;
  #onServerChange: ((previous: string, current: string) => void) | undefined;

  constructor(client: RedisClient, connectTimeoutMs: number, clock: () => number = Date.now) {
    this.#client = client;
    this.#clock = clock;
    this.#deadline = clock() + connectTimeoutMs;
    this.#connectTimeoutMs = connectTimeoutMs;
    this.#everReady = client.status === 'ready';
    if (!this.#everReady) client.once('ready', () => (this.#everReady = true));
    client.on('error', (error: unknown) => this.#onError(error));
    client.on('ready', () => (this.#cause = undefined));
  }

  /** True when commands can be sent right now (connected, and this connection's server checked). */
  get ready(): boolean {
    const client = this.#client;
    return (
      this.#fatal === undefined &&
      client.status === 'ready' &&
      (isCluster(client) || this.#checked === client.stream)
    );
  }

  /**
   * Calls `listener` when a new connection reaches a server with another run_id than the last one
   * checked: it restarted (maybe from an older snapshot) or another server took over. It is called
   * before any call goes through that connection.
   */
  onServerChange(listener: (previous: string, current: string) => void): void {
    this.#onServerChange = listener;
  }

  /** Why the connection is (or last was) down, e.g. `ECONNREFUSED: connect … (nothing listens …)`. */
  get cause(): string | undefined {
    return this.#fatal?.message ?? this.#cause;
  }

  /** A configuration error the server reported (an out-of-range DB index): every call fails with it. */
  get fatal(): CacheError | undefined {
    return this.#fatal;
  }

  /** The client's connection status as ioredis reports it. */
  get status(): string {
    return this.#client.status;
  }

  /** Resolves when a call may proceed, or rejects with CacheError TIER_UNAVAILABLE. */
  async pass(): Promise<void> {
    if (this.#fatal !== undefined) throw this.#fatal;
    if (this.#client.status === 'ready') return this.#verified();
    const left = this.#deadline - this.#clock();
    if (this.#everReady || left <= 0 || this.#client.status === 'end') throw this.#unavailable();
    this.#firstReady ??= new Promise<void>((resolve) => this.#client.once('ready', () => resolve()));
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, left);
      timer.unref();
    });
    await Promise.race([this.#firstReady, expired]);
    clearTimeout(timer);
    if (this.#fatal !== undefined) throw this.#fatal;
    if ((this.#client.status as string) !== 'ready') throw this.#unavailable();
    return this.#verified();
  }

  /**
   * Resolves once the current connection's server was checked (at most `connectTimeout`, else
   * TIER_UNAVAILABLE; the check goes on, and the next call waits for it again).
   */
  async #verified(): Promise<void> {
    if (this.ready) return;
    this.#checking ??= this.#check().finally(() => (this.#checking = undefined));
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), this.#connectTimeoutMs);
      timer.unref();
    });
    const late = await Promise.race([this.#checking.then(() => false), expired]);
    clearTimeout(timer);
    if (late) throw this.#unavailable();
  }

  /** Reads the server's run_id on the current connection and reports a change before marking it checked. */
  async #check(): Promise<void> {
    const client = this.#client as Redis;
    const stream: unknown = client.stream;
    let info: string;
    try {
      info = await client.info('server');
    } catch (error) {
      // The server answered but refuses INFO (an ACL, a renamed command): there is nothing to compare.
      if ((error as Error | null)?.name !== 'ReplyError' || client.stream !== stream) {
        throw new CacheError('TIER_UNAVAILABLE', `Redis server check failed: ${String(error)}`, {
          cause: error,
        });
      }
      this.#checked = stream;
      return;
    }
    const runId = /^run_id:(\w+)/m.exec(info)?.[1];
    if (runId !== undefined) {
      const previous = this.#runId;
      this.#runId = runId;
      if (previous !== undefined && previous !== runId) this.#onServerChange?.(previous, runId);
    }
    // Answered on an older connection (it closed since): the new one is checked on its own.
    if (client.stream === stream) this.#checked = stream;
  }

  #unavailable(): CacheError {
    const cause = this.#cause === undefined ? '' : `: ${this.#cause}`;
    return new CacheError(
      'TIER_UNAVAILABLE',
      `Redis is not connected (status: ${this.#client.status})${cause}`,
    );
  }

  #onError(error: unknown): void {
    const cause = connectionCause(error);
    // ioredis reports a failed SELECT and then declares the connection ready on DB 0: never use it.
    if (/DB index is out of range/i.test(cause)) {
      const db = (this.#client.options as { db?: number }).db;
      this.#fatal ??= new CacheError(
        'TIER_UNAVAILABLE',
        `Redis refused DB index ${String(db)}: ${cause} (the server has fewer databases; see "databases" in redis.conf)`,
        { cause: error, retryable: false },
      );
      return;
    }
    this.#cause = cause;
  }
}
