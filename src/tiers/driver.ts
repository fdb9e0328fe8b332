// The driver interface of a remote (L2) tier: a small bytes-in/bytes-out key-value store.
// Serialization, TTL bookkeeping, tags, the breaker and the bus live above drivers, so a driver
// only moves strings or Buffers and can be checked by one conformance suite (larder/test-suite).

/** What a driver stores and returns: a string or raw bytes. */
export type DriverValue = string | Buffer;

/** A key-value store used as a remote tier. Keys are relative to the driver's own prefix. */
export interface TierDriver {
  /** A short name for logs and health reports, e.g. `'redis'` or `'memory'`. */
  readonly name: string;
  /** The stored value, or `undefined` when absent or expired. */
  get(key: string): Promise<DriverValue | undefined>;
  /** Values for several keys in one round trip where the store allows it, in the order asked. */
  getMany(keys: readonly string[]): Promise<Array<DriverValue | undefined>>;
  /** Stores a value; `ttlMs` of 0 or undefined means no expiry. */
  set(key: string, value: DriverValue, ttlMs?: number): Promise<void>;
  /** Stores a value only when the key is absent (used for distributed locks); true when stored. */
  add(key: string, value: DriverValue, ttlMs: number): Promise<boolean>;
  /** Removes a key; true when it existed. */
  delete(key: string): Promise<boolean>;
  /** Removes several keys; returns how many existed. */
  deleteMany(keys: readonly string[]): Promise<number>;
  /** Removes every key that starts with `namespace` (all of the driver's keys when omitted); returns the count. */
  clear(namespace?: string): Promise<number>;
  /** Removes every key matching a glob (`*` any run, `?` one character); returns the count. Never blocks the store. */
  deletePattern(pattern: string): Promise<number>;
  /**
   * Optional: `undefined` when the store can take commands now, else a promise that resolves once it
   * can (e.g. a brief wait for a first connection) or rejects. Sync on the fast path so that commands
   * issued one after another in one tick stay in order on a pipelined connection.
   */
  whenReady?(): Promise<void> | undefined;
  /** Optional: deletes `key` only while it still holds `value` (atomic where the store allows). */
  deleteIfEquals?(key: string, value: string): Promise<boolean>;
  /**
   * Optional: stores `value` and makes the key live at least `ttlMs` from now (0 = forever), never
   * shortening a longer remaining life; with `keepValue`, a key that exists keeps its value and only
   * lives longer. Must be atomic: tag timestamps use it to expire without ever lapsing too early.
   * Without it, the tier keeps tag timestamps forever.
   */
  setAtLeast?(key: string, value: DriverValue, ttlMs: number, keepValue?: boolean): Promise<void>;
  /** Releases connections and timers the driver opened. Idempotent. */
  disconnect(): Promise<void>;
}

/** Options that every driver factory accepts. */
export interface DriverBaseOptions {
  /** Prefix put before every key so several applications can share one store. */
  prefix?: string;
}

/** Escapes the characters Redis MATCH treats specially, so a literal string matches only itself. */
export function escapeRedisGlob(literal: string): string {
  return literal.replace(/[*?[\]\\^]/g, '\\$&');
}

/** Turns a Larder glob into a Redis MATCH pattern: `*` and `?` stay wildcards, everything else is literal. */
export function globToRedisMatch(pattern: string): string {
  let out = '';
  for (const ch of pattern) out += ch === '*' || ch === '?' ? ch : escapeRedisGlob(ch);
  return out;
}
