// The Redis driver: TierDriver over an ioredis client (standalone, Sentinel or Cluster). Keys get
// the driver's prefix so applications can share a Redis; pattern deletes walk SCAN on every master
// (never KEYS, which blocks the server) and UNLINK in batches.
// Time source: the `clock` option (redisTier passes the tier's), by default `Date.now` like the rest of
// tiers/; only the connection gate reads it, since key expiry is the server's own.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { parseDuration } from '../util/duration.js';
import { compileGlob } from '../util/glob.js';
import type { DriverBaseOptions, DriverValue, SetIfNewerResult, TierDriver } from './driver.js';
import { escapeRedisGlob, globToRedisMatch, requireStamp, STAMP_TOMBSTONE, STAMP_WIDTH } from './driver.js';
import { ConnectionGate, isCluster, openRedisClient, sendNow } from './redis-connection.js';
import type { RedisClient, RedisConnectionOptions } from './redis-connection.js';

// Atomic compare-and-delete, so a lock holder never releases a lock that expired and was re-taken.
const DELETE_IF_EQUALS =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

// Set-and-extend in one step: a new key gets `ttl` (0 = none); an existing one keeps the longer of its
// remaining life and `ttl` (no expiry beats any), and its value unless ARGV[3] asks to replace it:
// '1' replaces it (setAtLeast), '0' keeps it (keepValue), 'max' keeps it when it and the new value are
// both decimal integers and it is not the smaller (setMax; digits compared as strings after their
// leading zeros, so a number of any length is exact). A key of another type is replaced, as SET does.
const SET_AT_LEAST = `
local function digits(s)
  if type(s) ~= 'string' or not string.find(s, '^%d+$') then return nil end
  return string.match(s, '^0*(%d+)$')
end
local left = redis.call('pttl', KEYS[1])
local ttl = tonumber(ARGV[2])
if left == -2 then
  if ttl > 0 then return redis.call('set', KEYS[1], ARGV[1], 'PX', ttl) end
  return redis.call('set', KEYS[1], ARGV[1])
end
local mode = ARGV[3]
if mode == 'max' then
  local held = digits(redis.pcall('get', KEYS[1]))
  local new = held and digits(ARGV[1])
  if not (new and (#held > #new or (#held == #new and held >= new))) then mode = '1' end
end
if mode == '1' then redis.call('set', KEYS[1], ARGV[1], 'KEEPTTL') end
if left >= 0 then
  if ttl == 0 then redis.call('persist', KEYS[1]) elseif ttl > left then redis.call('pexpire', KEYS[1], ttl) end
end
return 'OK'`;

// Versioned writes (see TierDriver.setIfNewer), several keys in one call: for each key in turn,
// compare the fixed-width stamp in front of the held value with the new one's, so a load that began
// before a write can never land on top of it. ARGV: the stamp width, the tombstone kind byte, one flag
// per key ('1': a write that replaces whatever is held), the TTLs (ms, 0 = none: one for every key, or
// one per key joined by commas) and the values as one MessagePack array of strings (see packValues).
// The answer is one character per key: 's' stored, 'r' replaced, 'x' refused, '!' its SET failed (the
// others still run); with a failure, a list of that string and the errors in key order.
// Every write of the tier passes here and the script holds Redis while it runs, so it is kept cheap:
// the values arrive as two arguments rather than two per key (most of a batch's cost on both sides
// was one RESP argument, one Lua string and one reply per key), the held values come from one MGET (a
// key written earlier in the same call is compared with what that write stored), the digits of a held
// header are checked only where they change the outcome, PSETEX sets the TTL, and a key holding
// another type reads as absent and is overwritten, as a plain SET would.
const SET_IF_NEWER = `
local width = tonumber(ARGV[1])
local tombstone = string.byte(ARGV[2])
local always = ARGV[3]
local ttl = ARGV[4]
local ttls
if string.find(ttl, ',', 1, true) then
  ttls = {}
  for each in string.gmatch(ttl, '%d+') do ttls[#ttls + 1] = each end
end
local values = cmsgpack.unpack(ARGV[5])
local helds = redis.call('mget', unpack(KEYS))
local written = {}
local codes = {}
local errors
for i = 1, #KEYS do
  local key = KEYS[i]
  local new = values[i]
  local held = written[key] or helds[i]
  local code = 's'
  if held then
    local stamp = string.sub(held, 1, width)
    if stamp >= string.sub(new, 1, width) then
      if #held <= width or string.find(stamp, '%D') then
        code = 'r'
      elseif string.byte(always, i) == 49 then
        new = string.format('%0' .. width .. '.0f', tonumber(stamp) + 1) .. string.sub(new, width + 1)
        if string.byte(held, width + 1) ~= tombstone then code = 'r' end
      else
        code = 'x'
      end
    elseif string.byte(held, width + 1) ~= tombstone or string.find(stamp, '%D') then
      code = 'r'
    end
  end
  if code ~= 'x' then
    if ttls then ttl = ttls[i] end
    local reply
    if ttl == '0' then reply = redis.pcall('set', key, new) else reply = redis.pcall('psetex', key, ttl, new) end
    if reply.err then
      code = '!'
      errors = errors or {}
      errors[#errors + 1] = tostring(reply.err)
    else
      written[key] = new
    end
  end
  codes[i] = code
end
if errors then return { table.concat(codes), unpack(errors) } end
return table.concat(codes)`;

/** A Lua script with its SHA1, sent by EVALSHA (EVAL once when the server does not have it yet). */
interface Script {
  source: string;
  sha: string;
}
const script = (source: string): Script => ({
  source,
  sha: createHash('sha1').update(source).digest('hex'),
});
const SCRIPTS = { setIfNewer: script(SET_IF_NEWER) };

/** The hash tag of a key as Redis Cluster computes it (`{…}`, first non-empty one), or the key itself. */
export function hashTagOf(key: string): string {
  const open = key.indexOf('{');
  if (open === -1) return key;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}

/** True when every key hashes to the same slot because they share a hash tag. */
function sameHashTag(keys: readonly string[]): boolean {
  const first = hashTagOf(keys[0]!);
  return keys.every((key) => hashTagOf(key) === first);
}

/** What each answer character of the setIfNewer script means ('!' is a failed SET). */
const WRITE_CODES: Readonly<Record<string, SetIfNewerResult>> = { s: 'stored', r: 'replaced', x: 'refused' };

/**
 * Settles each write of a setIfNewer call from the script's reply: its string of codes, one per key,
 * or after a failed SET a list of that string and the errors in key order.
 */
function settleWrites(
  reply: unknown,
  resolve: ReadonlyArray<(result: SetIfNewerResult) => void>,
  reject: ReadonlyArray<(error: unknown) => void>,
): void {
  const codes: unknown = Array.isArray(reply) ? reply[0] : reply;
  if (typeof codes !== 'string' || codes.length !== resolve.length) {
    const error = new Error(`unexpected reply to setIfNewer: ${String(reply)}`);
    for (const fail of reject) fail(error);
    return;
  }
  let failure = 1;
  for (let i = 0; i < codes.length; i++) {
    const result = WRITE_CODES[codes[i]!];
    if (result !== undefined) resolve[i]!(result);
    else if (codes[i] === '!' && Array.isArray(reply)) reject[i]!(new Error(String(reply[failure++])));
    else reject[i]!(new Error(`unexpected reply to setIfNewer: ${codes}`));
  }
}

/**
 * The values of a setIfNewer call as one MessagePack array of strings, the script's last argument:
 * one argument to encode and one Lua string to make, instead of one per value. Only the str16 and
 * str32 forms, which every Redis's Lua cmsgpack reads; strings are sent as UTF-8, as ioredis would.
 */
function packValues(values: readonly DriverValue[]): Buffer {
  let size = 3;
  const lengths = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    const length = typeof value === 'string' ? Buffer.byteLength(value) : value.length;
    lengths[i] = length;
    size += (length < 0x10000 ? 3 : 5) + length;
  }
  const packed = Buffer.allocUnsafe(size);
  packed[0] = 0xdc; // array 16 (a batch holds at most MAX_WRITE_BATCH values)
  packed.writeUInt16BE(values.length, 1);
  let at = 3;
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    const length = lengths[i]!;
    if (length < 0x10000) {
      packed[at] = 0xda;
      packed.writeUInt16BE(length, at + 1);
      at += 3;
    } else {
      packed[at] = 0xdb;
      packed.writeUInt32BE(length, at + 1);
      at += 5;
    }
    if (typeof value === 'string') packed.write(value, at, length, 'utf8');
    else packed.set(value, at);
    at += length;
  }
  return packed;
}

/** The TTL argument of a setIfNewer call: one for all keys when they agree (the usual case), else one per key. */
function ttlArgument(ttls: readonly number[]): string {
  const first = ttls[0]!;
  for (let i = 1; i < ttls.length; i++) if (ttls[i] !== first) return ttls.join(',');
  return String(first);
}

/** The setIfNewer script's ARGV for these values, TTLs and replace flags. */
function writeArguments(
  values: readonly DriverValue[],
  ttls: readonly number[],
  always: string,
): Array<string | number | Buffer> {
  return [STAMP_WIDTH, STAMP_TOMBSTONE, always, ttlArgument(ttls), packValues(values)];
}

/** Most keys one batched MGET carries. */
const MAX_BATCH = 1000;

/** GETs waiting for the MGET that will answer them all. */
interface ReadBatch {
  keys: string[];
  waiters: Array<{ resolve: (value: DriverValue | undefined) => void; reject: (error: unknown) => void }>;
}

/**
 * Most keys one batched versioned write carries. A batch is sent as soon as it is full, so under
 * concurrency Redis runs one script call while this process prepares the next batch, instead of the
 * two taking turns once per tick: on a quiet 2-core machine, 16 made two-tier sets without a bus
 * 1.2-1.45x cache-manager's where 256 gave 0.9-1.03x (bench:redis), and each call still amortises
 * its fixed cost over 16 keys.
 */
const MAX_WRITE_BATCH = 16;
/** Value bytes after which a batched write is sent at once (one script call holds Redis while it runs). */
const MAX_WRITE_BYTES = 1024 * 1024;

/** setIfNewer calls waiting for the script call that will store them all. */
interface WriteBatch {
  keys: string[];
  values: DriverValue[];
  /** Each key's TTL, ms (0 = none). */
  ttls: number[];
  /** One character per key: '1' for a write that replaces whatever is held, else '0'. */
  always: string;
  bytes: number;
  resolve: Array<(result: SetIfNewerResult) => void>;
  reject: Array<(error: unknown) => void>;
}

/** Options of {@link RedisDriver}: how to connect, plus a key prefix. */
export interface RedisDriverOptions extends RedisConnectionOptions, DriverBaseOptions {
  /** Keys per SCAN step and per UNLINK batch (default 500). */
  scanCount?: number;
}

/** A {@link TierDriver} over Redis. */
export class RedisDriver implements TierDriver {
  /** @inheritdoc */
  readonly name = 'redis';
  /** The ioredis client (shared with the bus, which duplicates it for its subscriber). */
  readonly client: RedisClient;
  /** The key prefix, as given. */
  readonly prefix: string;
  readonly #owned: boolean;
  readonly #gate: ConnectionGate;
  readonly #scanCount: number;
  readonly #isCluster: boolean;
  #closed = false;
  #reads: ReadBatch | undefined;
  #writes: WriteBatch | undefined;
  #writeTick = false;

  constructor(options: RedisDriverOptions) {
    if (options === null || typeof options !== 'object')
      throw new TypeError('redis driver options are required');
    if (options.prefix !== undefined && typeof options.prefix !== 'string') {
      throw new TypeError('prefix must be a string');
    }
    const scanCount = options.scanCount ?? 500;
    if (!Number.isInteger(scanCount) || scanCount <= 0) {
      throw new RangeError(`scanCount must be a positive integer, got ${String(options.scanCount)}`);
    }
    const connectTimeout = parseDuration(options.connectTimeout ?? '1s', 'connectTimeout');
    const opened = openRedisClient(options);
    this.client = opened.client;
    this.#owned = opened.owned;
    this.prefix = options.prefix ?? '';
    this.#scanCount = scanCount;
    this.#isCluster = isCluster(this.client);
    this.#gate = new ConnectionGate(this.client, connectTimeout, options.clock);
    // Without a listener ioredis prints every connection error; the breaker above reports outages once.
    if (this.#owned) this.client.on('error', () => {});
  }

  /** True while commands can be sent. */
  get connected(): boolean {
    return this.#gate.ready;
  }

  /** The connection status as ioredis reports it (`ready`, `connecting`, `reconnecting`, `end`, …). */
  get status(): string {
    return this.#gate.status;
  }

  /**
   * Calls `listener` when the driver reconnects to a server with another run_id (standalone and
   * Sentinel): it restarted, maybe from an older snapshot, or a replica took over. Called before any
   * command goes through the new connection. One listener (redisTier's).
   */
  onServerChange(listener: (previous: string, current: string) => void): void {
    this.#gate.onServerChange(listener);
  }

  /** `undefined` when connected, else a promise that resolves once a command may be sent (or rejects). */
  whenReady(): Promise<void> | undefined {
    return this.#gate.ready ? undefined : this.#gate.pass();
  }

  async get(key: string): Promise<DriverValue | undefined> {
    if (!this.#gate.ready) await this.#gate.pass();
    if (this.#isCluster) return (await this.client.getBuffer(this.prefix + key)) ?? undefined;
    // GETs issued in the same tick travel as one MGET: one command to parse and answer, not one per key.
    let batch = this.#reads;
    if (batch === undefined) {
      const fresh: ReadBatch = { keys: [], waiters: [] };
      batch = this.#reads = fresh;
      process.nextTick(() => this.#flushReads(fresh));
    }
    batch.keys.push(this.prefix + key);
    // A full batch is closed now (it still goes out on its tick); later GETs start the next one.
    if (batch.keys.length >= MAX_BATCH) this.#reads = undefined;
    const open = batch;
    return new Promise((resolve, reject) => open.waiters.push({ resolve, reject }));
  }

  #flushReads(batch: ReadBatch): void {
    if (this.#reads === batch) this.#reads = undefined;
    // Writes issued in the same tick go first, as they would unbatched.
    this.#sendWrites();
    const { keys, waiters } = batch;
    // At once when nothing issued earlier waits in the auto-pipeline (see sendNow).
    const reply =
      (sendNow(this.client, 'mget', keys, null) as Promise<Array<Buffer | null>> | undefined) ??
      (this.client as Redis).mgetBuffer(...keys);
    reply.then(
      (values) => {
        for (let i = 0; i < waiters.length; i++) waiters[i]!.resolve(values[i] ?? undefined);
      },
      (error: unknown) => {
        for (const waiter of waiters) waiter.reject(error);
      },
    );
  }

  async getMany(keys: readonly string[]): Promise<Array<DriverValue | undefined>> {
    if (keys.length === 0) return [];
    if (!this.#gate.ready) await this.#gate.pass();
    this.#sendWrites();
    const full = keys.map((key) => this.prefix + key);
    // A cluster refuses MGET across slots: keys sharing a hash tag (one slot) still go as one MGET,
    // others as single GETs that auto-pipelining sends in one write per node.
    const values =
      this.#isCluster && !sameHashTag(full)
        ? await Promise.all(full.map((key) => this.client.getBuffer(key)))
        : await this.client.mgetBuffer(...full);
    return values.map((value) => value ?? undefined);
  }

  async set(key: string, value: DriverValue, ttlMs?: number): Promise<void> {
    if (!this.#gate.ready) await this.#gate.pass();
    this.#sendWrites();
    if (ttlMs !== undefined && ttlMs > 0)
      await this.client.set(this.prefix + key, value, 'PX', Math.ceil(ttlMs));
    else await this.client.set(this.prefix + key, value);
  }

  async add(key: string, value: DriverValue, ttlMs: number): Promise<boolean> {
    if (!this.#gate.ready) await this.#gate.pass();
    this.#sendWrites();
    const reply = await this.client.set(this.prefix + key, value, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX');
    return reply === 'OK';
  }

  async delete(key: string): Promise<boolean> {
    if (!this.#gate.ready) await this.#gate.pass();
    this.#sendWrites();
    return (await this.client.unlink(this.prefix + key)) > 0;
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0;
    if (!this.#gate.ready) await this.#gate.pass();
    this.#sendWrites();
    return this.#unlink(
      this.client,
      keys.map((key) => this.prefix + key),
    );
  }

  async clear(namespace = ''): Promise<number> {
    return this.#scanDelete(escapeRedisGlob(this.prefix + namespace) + '*');
  }

  async deletePattern(pattern: string): Promise<number> {
    const match = globToRedisMatch(pattern);
    if (!pattern.includes('?')) return this.#scanDelete(escapeRedisGlob(this.prefix) + match);
    // A Larder glob's `?` is one UTF-16 code unit, MATCH's one byte (`é` is two): SCAN with `*` in its
    // place, a superset, and delete exactly the keys the pattern matches.
    const glob = compileGlob(pattern);
    const skip = this.prefix.length;
    return this.#scanDelete(escapeRedisGlob(this.prefix) + match.replace(/\?/g, '*'), (key) =>
      glob.test(key.slice(skip)),
    );
  }

  setIfNewer(key: string, value: DriverValue, ttlMs: number, always = false): Promise<SetIfNewerResult> {
    try {
      requireStamp(value);
    } catch (error) {
      return Promise.reject(error);
    }
    const ttl = ttlMs > 0 ? Math.ceil(ttlMs) : 0;
    const full = this.prefix + key;
    if (!this.#gate.ready) return this.#gate.pass().then(() => this.#write(full, value, ttl, always));
    return this.#write(full, value, ttl, always);
  }

  /**
   * Sends what versioned writes are waiting now, instead of at the end of the tick (the bus calls it
   * before a PUBLISH on the same connection, so the message never overtakes a write it may announce).
   */
  flushWrites(): void {
    this.#sendWrites();
  }

  /**
   * Queues one versioned write. The writes of one tick travel as script calls of up to MAX_WRITE_BATCH
   * keys, each sent once full, when the tick ends or, earlier, before any other command of this
   * driver, so the order in which commands reach Redis is the order they were issued in. A cluster
   * sends each write alone (its keys span slots).
   */
  #write(full: string, value: DriverValue, ttl: number, always: boolean): Promise<SetIfNewerResult> {
    if (this.#isCluster) {
      return new Promise((resolve, reject) => {
        this.#run(SCRIPTS.setIfNewer, [full], writeArguments([value], [ttl], always ? '1' : '0')).then(
          (reply) => settleWrites(reply, [resolve], [reject]),
          reject,
        );
      });
    }
    let batch = this.#writes;
    if (batch === undefined) {
      batch = this.#writes = {
        keys: [],
        values: [],
        ttls: [],
        always: '',
        bytes: 0,
        resolve: [],
        reject: [],
      };
      if (!this.#writeTick) {
        this.#writeTick = true;
        process.nextTick(this.#endOfTick);
      }
    }
    batch.keys.push(full);
    batch.values.push(value);
    batch.ttls.push(ttl);
    batch.always += always ? '1' : '0';
    batch.bytes += value.length;
    const open = batch;
    const done = new Promise<SetIfNewerResult>((resolve, reject) => {
      open.resolve.push(resolve);
      open.reject.push(reject);
    });
    if (open.keys.length >= MAX_WRITE_BATCH || open.bytes >= MAX_WRITE_BYTES) this.#sendWrites();
    return done;
  }

  readonly #endOfTick = (): void => {
    this.#writeTick = false;
    this.#sendWrites();
  };

  /** Sends the waiting writes as one script call and answers each from its own result. */
  #sendWrites(): void {
    const batch = this.#writes;
    if (batch === undefined) return;
    this.#writes = undefined;
    const { resolve, reject } = batch;
    this.#run(SCRIPTS.setIfNewer, batch.keys, writeArguments(batch.values, batch.ttls, batch.always)).then(
      (reply) => settleWrites(reply, resolve, reject),
      (error: unknown) => {
        for (const fail of reject) fail(error);
      },
    );
  }

  /** EVALSHA of a script; on NOSCRIPT (a fresh or restarted server) EVAL loads it. */
  async #run(
    script: Script,
    keys: readonly string[],
    args: ReadonlyArray<string | number | Buffer>,
  ): Promise<unknown> {
    try {
      const sent = sendNow(this.client, 'evalsha', [script.sha, keys.length, ...keys, ...args]);
      return await (sent ?? this.client.evalsha(script.sha, keys.length, ...keys, ...args));
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return this.client.eval(script.source, keys.length, ...keys, ...args);
    }
  }

  async deleteIfEquals(key: string, value: DriverValue): Promise<boolean> {
    if (!this.#gate.ready) await this.#gate.pass();
    this.#sendWrites();
    const removed = await this.client.eval(DELETE_IF_EQUALS, 1, this.prefix + key, value);
    return Number(removed) === 1;
  }

  async setAtLeast(key: string, value: DriverValue, ttlMs: number, keepValue = false): Promise<void> {
    await this.#setAtLeast(key, value, ttlMs, keepValue ? '0' : '1');
  }

  async setMax(key: string, value: DriverValue, ttlMs: number): Promise<void> {
    await this.#setAtLeast(key, value, ttlMs, 'max');
  }

  /** Runs SET_AT_LEAST in `mode` (what to do with a held value: see the script). */
  async #setAtLeast(key: string, value: DriverValue, ttlMs: number, mode: '0' | '1' | 'max'): Promise<void> {
    if (!this.#gate.ready) await this.#gate.pass();
    this.#sendWrites();
    const ttl = ttlMs > 0 ? Math.ceil(ttlMs) : 0;
    await this.client.eval(SET_AT_LEAST, 1, this.prefix + key, value, ttl, mode);
  }

  /** PING (on a Cluster, to one of its nodes): resolves once the server answers. */
  async ping(): Promise<void> {
    if (!this.#gate.ready) await this.#gate.pass();
    await this.client.ping();
  }

  async disconnect(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Writes of this tick still go out (or fail) before the connection closes.
    this.#sendWrites();
    if (this.#owned) this.client.disconnect();
  }

  /** UNLINKs, batch by batch, the keys SCAN finds for `match` (only those `keep` accepts, when given) on every master. */
  async #scanDelete(match: string, keep?: (key: string) => boolean): Promise<number> {
    if (!this.#gate.ready) await this.#gate.pass();
    this.#sendWrites();
    const nodes: Redis[] = isCluster(this.client) ? this.client.nodes('master') : [this.client];
    const counts = await Promise.all(nodes.map((node) => this.#scanNode(node, match, keep)));
    return counts.reduce((a, b) => a + b, 0);
  }

  async #scanNode(node: Redis, match: string, keep?: (key: string) => boolean): Promise<number> {
    let cursor = '0';
    let count = 0;
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', match, 'COUNT', this.#scanCount);
      cursor = next;
      const keys = keep === undefined ? found : found.filter(keep);
      if (keys.length > 0) count += await this.#unlink(node, keys);
    } while (cursor !== '0');
    return count;
  }

  /** UNLINKs full keys. On a cluster one key per command, since keys of one node may still span slots. */
  async #unlink(client: RedisClient, keys: readonly string[]): Promise<number> {
    if (!this.#isCluster) return client.unlink(...keys);
    if (isCluster(client)) {
      // Auto-pipelining groups these per node; a Cluster pipeline would demand one node for all keys.
      const removed = await Promise.all(keys.map((key) => client.unlink(key)));
      return removed.reduce((a, b) => a + b, 0);
    }
    const pipeline = client.pipeline();
    for (const key of keys) pipeline.unlink(key);
    const replies = (await pipeline.exec()) ?? [];
    let count = 0;
    for (const [error, removed] of replies) {
      if (error) throw error;
      count += Number(removed);
    }
    return count;
  }
}
