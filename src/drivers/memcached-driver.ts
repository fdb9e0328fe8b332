// The Memcached driver: TierDriver over one or more memcached servers through `memjs` (loaded only
// by `larder-cache/memcached`), speaking memcached's binary protocol.
// - add is memcached's own ADD (atomic). setIfNewer and deleteIfEquals are optimistic CAS loops:
//   read the value with its CAS token, decide, then write or delete only if the token still holds
//   (memcached refuses otherwise, and the loop reads again), so they are atomic per key.
// - setAtLeast is omitted: memcached does not tell a key's remaining life, so the tier keeps tag
//   invalidation times without expiry. setMax (which writes them) is a CAS loop like setIfNewer, and
//   keeps its keys without expiry for the same reason: a tag's time never moves backwards.
// - clear(namespace) and deletePattern list keys with `lru_crawler metadump all` (memcached ≥ 1.4.31,
//   on the same port, text protocol; not available behind SASL): the crawler walks items in a
//   background thread, never blocking the server, and the driver deletes the matches in batches.
//   Like SCAN, a key written while the walk runs may be missed; a key the LRU maintainer moves during
//   the walk may be too, so the walk repeats until one finds no match (two walks at least).
// - TTLs: memcached counts whole seconds on a clock that ticks once a second, so a TTL is rounded up
//   and one second is added (a key never lapses early; it may live up to ~2 s longer). Beyond 30 days
//   memcached reads the number as a Unix time: the driver then sends one, from its `clock`.
// - Memcached evicts under memory pressure: size it so the tier's keys (values, tombstones, tag
//   times) are not evicted early, or accept that an evicted tag time forgets an invalidation.
// Keys are at most 250 bytes (memcached's limit, prefix included); longer ones are refused.
import { createConnection } from 'node:net';
import type { Socket } from 'node:net';
import type { Client as MemjsClient, ClientOptions } from 'memjs';
import {
  requireStamp,
  restamp,
  setMaxKeeps,
  STAMP_TOMBSTONE,
  stampKindOf,
  stampOf,
  valueBytes,
} from '../tiers/driver.js';
import type { DriverBaseOptions, DriverValue, SetIfNewerResult, TierDriver } from '../tiers/driver.js';
import { compileGlob } from '../util/glob.js';
import { lazyModule } from '../util/lazy-require.js';
import { checkClock, checkOneOf, checkPrefix, positiveInteger } from './sql-glob.js';
import { assertKnownOptions, optionNames } from '../util/validate.js';

const loadMemjs = lazyModule<typeof import('memjs')>('memjs');
/** Key listings one clear or deletePattern makes per server at most (see #deleteWhere). */
const MAX_DELETE_WALKS = 4;

/** Options of {@link memcachedDriver}: a memjs client or a server list, and a key prefix. */
export interface MemcachedDriverOptions extends DriverBaseOptions {
  /** A memjs Client to use (never closed by the driver). */
  client?: MemjsClient;
  /** Or servers, `host:port[,host:port…]`: the driver opens its own client and closes it on `disconnect()`. */
  servers?: string;
  /** Options of the driver's own client (with `servers`). */
  clientOptions?: ClientOptions;
  /** Keys deleted at once by `clear` and `deletePattern` (default 200). */
  batchSize?: number;
  /** Timeout of one key listing (`lru_crawler metadump`) per server, ms (default 10,000). */
  listTimeoutMs?: number;
}

const OP = { get: 0x00, set: 0x01, add: 0x02, delete: 0x04 } as const;
const STATUS = { ok: 0x0000, notFound: 0x0001, exists: 0x0002, notStored: 0x0005 } as const;
/** Statuses of memcached refusing a request's arguments: value too large (E2BIG), invalid arguments. */
const REFUSED_INPUT: ReadonlySet<number> = new Set([0x0003, 0x0004]);
/** Longest key memcached accepts, bytes. */
export const MEMCACHED_MAX_KEY_BYTES = 250;
/** Relative expirations above this (30 days, s) are read by memcached as Unix times. */
const MAX_RELATIVE_SECONDS = 60 * 60 * 24 * 30;
/** Attempts of a CAS loop before it gives up (only under heavy contention on one key). */
const MAX_CAS_ATTEMPTS = 100;

interface Reply {
  status: number;
  value: Buffer;
  cas: Buffer;
}

/** A {@link TierDriver} over memcached; without setAtLeast, with setMax (see above). */
export class MemcachedDriver implements TierDriver {
  /** @inheritdoc */
  readonly name = 'memcached';
  /** The memjs client. */
  readonly client: MemjsClient;
  /** The key prefix, as given. */
  readonly prefix: string;
  readonly #owned: boolean;
  readonly #clock: () => number;
  readonly #batch: number;
  readonly #listTimeout: number;
  #closed = false;

  constructor(options: MemcachedDriverOptions) {
    checkOneOf(options, 'memcached driver', 'client', 'servers');
    this.prefix = checkPrefix(options.prefix);
    this.#batch = positiveInteger(options.batchSize, 200, 'batchSize');
    this.#listTimeout = positiveInteger(options.listTimeoutMs, 10_000, 'listTimeoutMs');
    this.#clock = checkClock(options.clock);
    if (options.client !== undefined) {
      if (typeof (options.client as { perform?: unknown }).perform !== 'function') {
        throw new TypeError('client must be a memjs Client');
      }
      this.client = options.client;
      this.#owned = false;
    } else {
      if (typeof options.servers !== 'string' || options.servers === '') {
        throw new TypeError('servers must be a non-empty string of host:port pairs');
      }
      const silent = { log: () => {} };
      this.client = loadMemjs().Client.create(options.servers, {
        retries: 1,
        timeout: 1,
        logger: silent,
        ...options.clientOptions,
      });
      this.#owned = true;
    }
    for (const server of this.client.servers) repairConnections(server as unknown as MemjsServer);
  }

  async get(key: string): Promise<DriverValue | undefined> {
    const reply = await this.#send(OP.get, this.#key(key));
    return reply.status === STATUS.ok ? reply.value : this.#absent(reply, 'get');
  }

  async getMany(keys: readonly string[]): Promise<Array<DriverValue | undefined>> {
    return Promise.all(keys.map((key) => this.get(key)));
  }

  async set(key: string, value: DriverValue, ttlMs?: number): Promise<void> {
    const reply = await this.#send(
      OP.set,
      this.#key(key),
      valueBytes(checked(value)),
      this.#expiration(ttlMs),
    );
    if (reply.status !== STATUS.ok) throw failure('set', reply);
  }

  async add(key: string, value: DriverValue, ttlMs: number): Promise<boolean> {
    const expiration = this.#expiration(Math.max(1, ttlMs));
    const reply = await this.#send(OP.add, this.#key(key), valueBytes(checked(value)), expiration);
    if (reply.status === STATUS.ok) return true;
    if (reply.status === STATUS.exists || reply.status === STATUS.notStored) return false;
    throw failure('add', reply);
  }

  async delete(key: string): Promise<boolean> {
    return this.#deleteFull(this.#key(key));
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    const removed = await Promise.all(keys.map((key) => this.delete(key)));
    return removed.filter(Boolean).length;
  }

  async clear(namespace = ''): Promise<number> {
    const start = this.prefix + namespace;
    return this.#deleteWhere((full) => full.startsWith(start));
  }

  async deletePattern(pattern: string): Promise<number> {
    const glob = compileGlob(pattern);
    const prefix = this.prefix;
    return this.#deleteWhere((full) => full.startsWith(prefix) && glob.test(full.slice(prefix.length)));
  }

  async deleteIfEquals(key: string, value: DriverValue): Promise<boolean> {
    const full = this.#key(key);
    const wanted = valueBytes(checked(value));
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const held = await this.#send(OP.get, full);
      if (held.status !== STATUS.ok) return this.#absent(held, 'deleteIfEquals') ?? false;
      if (!held.value.equals(wanted)) return false;
      const reply = await this.#send(OP.delete, full, undefined, undefined, held.cas);
      if (reply.status === STATUS.ok) return true;
      if (reply.status === STATUS.notFound) return false;
      if (reply.status !== STATUS.exists) throw failure('deleteIfEquals', reply);
      // Changed since it was read: read again.
    }
    throw new Error(`memcached deleteIfEquals gave up after ${MAX_CAS_ATTEMPTS} contended attempts`);
  }

  async setIfNewer(
    key: string,
    value: DriverValue,
    ttlMs: number,
    always = false,
  ): Promise<SetIfNewerResult> {
    const stamp = requireStamp(value);
    const full = this.#key(key);
    const bytes = valueBytes(value);
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const held = await this.#send(OP.get, full);
      const expiration = this.#expiration(ttlMs);
      if (held.status === STATUS.notFound) {
        const added = await this.#send(OP.add, full, bytes, expiration);
        if (added.status === STATUS.ok) return 'stored';
        if (added.status !== STATUS.exists && added.status !== STATUS.notStored)
          throw failure('setIfNewer', added);
        continue; // someone stored it meanwhile
      }
      if (held.status !== STATUS.ok) throw failure('setIfNewer', held);
      let stored: Buffer = bytes;
      const heldStamp = stampOf(held.value);
      if (heldStamp !== undefined && heldStamp >= stamp) {
        if (!always) return 'refused';
        stored = restamp(bytes, Number(heldStamp) + 1) as Buffer;
      }
      const result = stampKindOf(held.value) === STAMP_TOMBSTONE ? 'stored' : 'replaced';
      const reply = await this.#send(OP.set, full, stored, expiration, held.cas);
      if (reply.status === STATUS.ok) return result;
      if (reply.status !== STATUS.exists && reply.status !== STATUS.notFound)
        throw failure('setIfNewer', reply);
      // Changed or gone since it was read: read again.
    }
    throw new Error(`memcached setIfNewer gave up after ${MAX_CAS_ATTEMPTS} contended attempts`);
  }

  /**
   * See TierDriver.setMax: a CAS loop, so atomic per key. The key is kept without expiry whatever
   * `ttlMs` (memcached does not tell a key's remaining life, so it could shorten one otherwise); a
   * held value that stays is written back without expiry too, under its CAS token.
   */
  async setMax(key: string, value: DriverValue, _ttlMs: number): Promise<void> {
    const full = this.#key(key);
    const bytes = valueBytes(checked(value));
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const held = await this.#send(OP.get, full);
      if (held.status === STATUS.notFound) {
        const added = await this.#send(OP.add, full, bytes, 0);
        if (added.status === STATUS.ok) return;
        if (added.status !== STATUS.exists && added.status !== STATUS.notStored)
          throw failure('setMax', added);
        continue; // someone stored it meanwhile
      }
      if (held.status !== STATUS.ok) throw failure('setMax', held);
      const stored = setMaxKeeps(held.value, bytes) ? held.value : bytes;
      const reply = await this.#send(OP.set, full, stored, 0, held.cas);
      if (reply.status === STATUS.ok) return;
      if (reply.status !== STATUS.exists && reply.status !== STATUS.notFound) throw failure('setMax', reply);
      // Changed or gone since it was read: read again.
    }
    throw new Error(`memcached setMax gave up after ${MAX_CAS_ATTEMPTS} contended attempts`);
  }

  async disconnect(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#owned) return;
    this.client.close();
    // A connection ending on a paused server would wait for its FIN and keep the process alive.
    for (const server of this.client.servers) {
      for (const socket of (server as unknown as MemjsServer)[SOCKETS] ?? []) socket.destroy();
    }
  }

  /** Why memcached can never store `key` (over 250 bytes with the prefix), or undefined; see TierDriver. */
  keyProblem(key: string, pattern = false): string | undefined {
    if (pattern) return undefined;
    const bytes = Buffer.byteLength(this.prefix) + Buffer.byteLength(key);
    return bytes > MEMCACHED_MAX_KEY_BYTES
      ? `memcached keys are at most ${MEMCACHED_MAX_KEY_BYTES} bytes with the prefix; this one has ${bytes}`
      : undefined;
  }

  /**
   * Whether `error` is memcached refusing a call's arguments (a value over its item size limit, 1 MB
   * by default, or invalid arguments) rather than being unreachable; see TierDriver. Without it, a
   * few writes of one large value opened the breaker and took the tier down for every key.
   */
  refusesInput(error: unknown): boolean {
    return error instanceof MemcachedStatusError && REFUSED_INPUT.has(error.status);
  }

  /** The full key, checked against memcached's limits. */
  #key(key: string): string {
    const problem = this.keyProblem(key);
    if (problem !== undefined) throw new RangeError(problem);
    return this.prefix + key;
  }

  /** memcached's expiration for a TTL in ms: 0 for none, else whole seconds rounded up plus one. */
  #expiration(ttlMs: number | undefined): number {
    if (ttlMs === undefined || ttlMs <= 0) return 0;
    const seconds = Math.ceil(ttlMs / 1000) + 1;
    if (seconds <= MAX_RELATIVE_SECONDS) return seconds;
    return Math.ceil(this.#clock() / 1000) + seconds;
  }

  /** A GET that found nothing answers undefined; any other status is an error. */
  #absent(reply: Reply, what: string): undefined {
    if (reply.status === STATUS.notFound) return undefined;
    throw failure(what, reply);
  }

  async #deleteFull(full: string): Promise<boolean> {
    const reply = await this.#send(OP.delete, full);
    if (reply.status === STATUS.ok) return true;
    if (reply.status === STATUS.notFound) return false;
    throw failure('delete', reply);
  }

  /** Lists every server's keys and deletes the matching ones, a batch at a time. */
  async #deleteWhere(match: (full: string) => boolean): Promise<number> {
    this.#open();
    let count = 0;
    for (const server of this.client.servers) {
      // The crawler walks one LRU after another while other threads move and lock items (a read marks
      // an item active and the LRU maintainer moves it from HOT to WARM); an item moved behind the walk,
      // or locked when the walk reaches it, is not listed (seen once in CI: a clear() that found 0 of
      // 1). An invalidation that missed a key would leave a removed value to be served, so the walk
      // repeats until one finds nothing more (at least twice).
      for (let walk = 0; walk < MAX_DELETE_WALKS; walk++) {
        const keys = (await listKeys(server.host, Number(server.port), this.#listTimeout)).filter(match);
        for (let i = 0; i < keys.length; i += this.#batch) {
          const batch = keys.slice(i, i + this.#batch);
          const removed = await Promise.all(batch.map((key) => this.#deleteFull(key)));
          count += removed.filter(Boolean).length;
        }
        if (keys.length === 0 && walk > 0) break;
      }
    }
    return count;
  }

  #open(): void {
    if (this.#closed) throw new Error('memcached driver is disconnected');
  }

  /** Sends one binary-protocol request (with a CAS token when given) and resolves with the reply. */
  #send(opcode: number, key: string, value?: Buffer, expiration?: number, cas?: Buffer): Promise<Reply> {
    this.#open();
    const client = this.client as MemjsClient & { incrSeq(): void; seq: number };
    client.incrSeq();
    const seq = client.seq;
    const request = requestBuffer(opcode, key, value, expiration, cas, seq);
    return new Promise((resolve, reject) => {
      client.perform(key, request, seq, (error: Error | null, response?: unknown) => {
        if (error !== null || response === undefined || response === null) {
          reject(error ?? new Error('memcached sent no reply'));
          return;
        }
        const { header, val } = response as { header: { status: number; cas: Buffer }; val: Buffer };
        resolve({ status: header.status, value: Buffer.from(val), cas: Buffer.from(header.cas) });
      });
    });
  }
}

const SOCKETS = Symbol('larder.memcachedSockets');

/** The parts of a memjs 1.x Server (not in its types) that {@link repairConnections} wraps. */
interface MemjsServer {
  _socket?: Socket;
  responseBuffer: Buffer;
  sock(sasl: boolean, go: (socket: Socket) => void): void;
  error(error: Error): void;
  [SOCKETS]?: Set<Socket>;
}

/**
 * Repairs memjs's connection handling of one server, where a fault would otherwise break the driver
 * for good or leak connections:
 * - a reply cut off by a dropped connection stayed in the server's one response buffer, in front of
 *   the next connection's replies: every later reply was misframed (calls hung or timed out forever,
 *   and a misframed reply could reach another call). Each failure and each new connection start an
 *   empty buffer, and a connection memjs gave up on is destroyed, so its late replies cannot land there;
 * - a connection the server closed (restart, FIN) left its calls waiting forever: they fail at once;
 * - when a connection memjs gave up on closed, memjs forgot the *current* one, which stayed open
 *   (the process could not exit) while every later call opened another: only the current one's close
 *   resets the server's state.
 * Idempotent (several drivers may share one client); a server without these parts (a memjs other
 * than 1.x) is left alone.
 */
function repairConnections(server: MemjsServer): void {
  if (server[SOCKETS] !== undefined) return;
  // Another memjs whose servers lack these parts is left as it is rather than broken.
  if (typeof server.sock !== 'function' || typeof server.error !== 'function') return;
  const sockets = new Set<Socket>();
  server[SOCKETS] = sockets;
  const { sock, error } = server;
  server.error = function (this: MemjsServer, cause: Error): void {
    this.responseBuffer = Buffer.alloc(0);
    for (const socket of sockets) socket.destroy();
    error.call(this, cause);
  };
  server.sock = function (this: MemjsServer, sasl: boolean, go: (socket: Socket) => void): void {
    const before = this._socket;
    sock.call(this, sasl, go);
    const socket = this._socket;
    if (socket === undefined || socket === before) return;
    this.responseBuffer = Buffer.alloc(0);
    for (const old of sockets) old.destroy();
    sockets.add(socket);
    const onClose = socket.listeners('close') as Array<(this: Socket) => void>;
    socket.removeAllListeners('close');
    socket.on('close', () => {
      sockets.delete(socket);
      if (this._socket !== socket) return;
      for (const listener of onClose) listener.call(socket);
      this.error(new Error('memcached closed the connection'));
    });
  };
}

function checked(value: DriverValue): DriverValue {
  if (typeof value !== 'string' && !Buffer.isBuffer(value))
    throw new TypeError('value must be a string or a Buffer');
  return value;
}

/** memcached answered a request with an error status. */
class MemcachedStatusError extends Error {
  /** The binary protocol's response status. */
  readonly status: number;

  constructor(message: string, status: number) {
    super(message);
    this.name = 'MemcachedStatusError';
    this.status = status;
  }
}

function failure(what: string, reply: Reply): Error {
  const text = reply.value.length > 0 ? reply.value.toString('utf8') : `status ${reply.status}`;
  return new MemcachedStatusError(`memcached ${what} failed: ${text}`, reply.status);
}

/** A binary-protocol request: 24-byte header, extras (flags and expiration for SET/ADD), key, value. */
function requestBuffer(
  opcode: number,
  key: string,
  value: Buffer | undefined,
  expiration: number | undefined,
  cas: Buffer | undefined,
  opaque: number,
): Buffer {
  const keyBytes = Buffer.from(key, 'utf8');
  const extras = opcode === OP.set || opcode === OP.add ? 8 : 0;
  const body = value ?? Buffer.alloc(0);
  const buffer = Buffer.alloc(24 + extras + keyBytes.length + body.length);
  buffer.writeUInt8(0x80, 0);
  buffer.writeUInt8(opcode, 1);
  buffer.writeUInt16BE(keyBytes.length, 2);
  buffer.writeUInt8(extras, 4);
  buffer.writeUInt32BE(extras + keyBytes.length + body.length, 8);
  buffer.writeUInt32BE(opaque >>> 0, 12);
  if (cas !== undefined) cas.copy(buffer, 16);
  if (extras > 0) {
    buffer.writeUInt32BE(0, 24); // flags
    buffer.writeUInt32BE(expiration ?? 0, 28);
  }
  keyBytes.copy(buffer, 24 + extras);
  body.copy(buffer, 24 + extras + keyBytes.length);
  return buffer;
}

/**
 * Every key of one server, from `lru_crawler metadump all` on a connection of its own (the crawler
 * runs in the server's background thread). Retries while another crawl is running.
 */
export async function listKeys(host: string, port: number, timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const dump = await metadump(host, port, Math.max(1, deadline - Date.now()));
    if (dump !== 'busy') return dump;
    if (Date.now() >= deadline)
      throw new Error('memcached key listing timed out: the LRU crawler stayed busy');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function metadump(host: string, port: number, timeoutMs: number): Promise<string[] | 'busy'> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host, port });
    const keys: string[] = [];
    let pending = '';
    const finish = (error?: Error, result?: string[] | 'busy'): void => {
      clearTimeout(timer);
      socket.destroy();
      if (error !== undefined) reject(error);
      else resolve(result!);
    };
    const timer = setTimeout(() => finish(new Error('memcached key listing timed out')), timeoutMs);
    socket.setEncoding('latin1');
    socket.once('error', (error) => finish(error));
    // Closed before END (a restart, a dropped connection): fail now, not after the whole timeout.
    socket.once('close', () =>
      finish(new Error('memcached closed the connection before the key listing ended')),
    );
    socket.once('connect', () => socket.write('lru_crawler metadump all\r\n'));
    socket.on('data', (chunk: string) => {
      pending += chunk;
      let newline: number;
      while ((newline = pending.indexOf('\n')) !== -1) {
        const line = pending.slice(0, newline).replace(/\r$/, '');
        pending = pending.slice(newline + 1);
        if (line === 'END') return finish(undefined, keys);
        if (line.startsWith('BUSY')) return finish(undefined, 'busy');
        if (line.startsWith('ERROR') || line.startsWith('CLIENT_ERROR') || line.startsWith('SERVER_ERROR')) {
          return finish(new Error(`memcached cannot list keys: ${line}`));
        }
        if (line.startsWith('key=')) {
          const end = line.indexOf(' ');
          const encoded = line.slice(4, end === -1 ? undefined : end);
          keys.push(decodeKey(encoded));
        }
      }
    });
  });
}

/** memcached percent-encodes the bytes of keys in a metadump. */
function decodeKey(encoded: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < encoded.length; i++) {
    if (
      encoded[i] === '%' &&
      i + 2 < encoded.length &&
      /^[0-9A-Fa-f]{2}$/.test(encoded.slice(i + 1, i + 3))
    ) {
      bytes.push(parseInt(encoded.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(encoded.charCodeAt(i));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

const MEMCACHED_DRIVER_OPTIONS = optionNames<MemcachedDriverOptions>({
  client: true,
  servers: true,
  clientOptions: true,
  batchSize: true,
  listTimeoutMs: true,
  prefix: true,
  clock: true,
});

/** A {@link TierDriver} over memcached; pass it to `new SharedTier({ driver })`. */
export function memcachedDriver(options: MemcachedDriverOptions): MemcachedDriver {
  if (options !== null && typeof options === 'object')
    assertKnownOptions(options, MEMCACHED_DRIVER_OPTIONS, 'memcachedDriver');
  return new MemcachedDriver(options);
}
