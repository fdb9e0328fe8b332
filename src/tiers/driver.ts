// The driver interface of a remote (L2) tier: a small bytes-in/bytes-out key-value store.
// Serialization, TTL bookkeeping, tags, the breaker and the bus live above drivers, so a driver
// only moves strings or Buffers and can be checked by one conformance suite (larder-cache/test-suite).
import { checkGlob } from '../util/glob.js';

/** What a driver stores and returns: a string or raw bytes (what a serializer produces). */
export type { DriverValue } from '../codec/serializer.js';
import type { DriverValue } from '../codec/serializer.js';

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
  /**
   * Optional: why the store can never accept `key` (a key as the tier passes it, without the driver's
   * prefix), or undefined. With `pattern` true it is a glob or prefix that is matched against keys, not
   * stored (so a length limit does not apply). The tier refuses such a key with a RangeError before
   * any call, so a bad argument is never mistaken for an outage.
   */
  keyProblem?(key: string, pattern?: boolean): string | undefined;
  /**
   * Optional: whether `error`, from a call of this driver, is the store refusing that call's arguments
   * (a value or key it cannot take: PostgreSQL's data exceptions and program limits, say) rather than
   * being unreachable. Such a failure fails its call but does not count toward the circuit breaker or
   * start an outage, so one oversized key never takes the tier down for every other key.
   */
  refusesInput?(error: unknown): boolean;
  /** Optional: deletes `key` only while it still holds `value`, byte for byte (atomic where the store allows). */
  deleteIfEquals?(key: string, value: DriverValue): Promise<boolean>;
  /**
   * Optional: a versioned write. `value` starts with a stamp header (see {@link STAMP_WIDTH}); it is
   * stored (for `ttlMs`, 0 = forever) only when the key is absent, holds a value without a header, or
   * holds one whose stamp is lower. Atomic, and touching only `key` (so Cluster-safe). Resolves
   * `'replaced'` when it overwrote a live value, `'stored'` when the key was absent or held a
   * tombstone, `'refused'` when the held stamp is equal or higher. With `always`, it stores whatever the
   * key holds, first raising the value's stamp to one above the held stamp when that is not lower (a
   * write made now is ordered after what it replaces, even across hosts in the same millisecond).
   * Without this method the tier writes with plain `set` and keeps no tombstones: a load racing a
   * write may then store its older value.
   */
  setIfNewer?(key: string, value: DriverValue, ttlMs: number, always?: boolean): Promise<SetIfNewerResult>;
  /**
   * Optional: stores `value` and makes the key live at least `ttlMs` from now (0 = forever), never
   * shortening a longer remaining life; with `keepValue`, a key that exists keeps its value and only
   * lives longer. Must be atomic: tag timestamps use it to expire without ever lapsing too early.
   * Without it, the tier keeps tag timestamps forever.
   */
  setAtLeast?(key: string, value: DriverValue, ttlMs: number, keepValue?: boolean): Promise<void>;
  /**
   * Optional: {@link setAtLeast} (without `keepValue`) for a number that must never move backwards.
   * When the key holds a decimal integer (ASCII digits only, leading zeros allowed) and `value` is one
   * too, the larger of the two is what stays (the held one when equal); otherwise `value` replaces
   * what is held. Either way the key lives at least `ttlMs` from now (0 = forever), never shorter than
   * it had left; a store that cannot tell a key's remaining life may keep it forever instead. Must be
   * atomic: tag invalidation times use it, so that an older time written last by another instance
   * cannot replace a newer one. Without it, the tier reads, compares and then writes, which narrows
   * that race but cannot close it.
   */
  setMax?(key: string, value: DriverValue, ttlMs: number): Promise<void>;
  /**
   * Optional: a cheap round trip that resolves once the store answers (Redis PING). The tier sends it
   * only during an outage, backed off and one at a time, so that health recovers without traffic.
   * Without it, the tier reads a key it never writes (`p:probe`) instead.
   */
  ping?(): Promise<void>;
  /** Releases connections and timers the driver opened. Idempotent. */
  disconnect(): Promise<void>;
}

/** What {@link TierDriver.setIfNewer} did. */
export type SetIfNewerResult = 'replaced' | 'stored' | 'refused';

/**
 * Versioned values start with a header: STAMP_WIDTH ASCII digits (the write's stamp, zero-padded, so
 * byte order is numeric order) and one kind byte, {@link STAMP_VALUE} or {@link STAMP_TOMBSTONE}.
 */
export const STAMP_WIDTH = 16;
/** Kind byte of a header in front of a stored entry. */
export const STAMP_VALUE = 'v';
/** Kind byte of a tombstone: the key was deleted at the stamp; reads treat it as absent. */
export const STAMP_TOMBSTONE = 't';

/** The stamp of a versioned value's header, or undefined when `value` has none (any other data). */
export function stampOf(value: DriverValue): string | undefined {
  if (!hasStamp(value)) return undefined;
  return typeof value === 'string' ? value.slice(0, STAMP_WIDTH) : value.toString('latin1', 0, STAMP_WIDTH);
}

/** Whether `value` starts with a stamp header (STAMP_WIDTH ASCII digits and at least one byte more). */
function hasStamp(value: DriverValue): boolean {
  if (value.length <= STAMP_WIDTH) return false;
  // Every versioned write passes here: the digits are checked in place, without a copy or a RegExp.
  if (typeof value === 'string') {
    for (let i = 0; i < STAMP_WIDTH; i++) {
      const c = value.charCodeAt(i);
      if (c < 48 || c > 57) return false;
    }
  } else {
    for (let i = 0; i < STAMP_WIDTH; i++) {
      const c = value[i]!;
      if (c < 48 || c > 57) return false;
    }
  }
  return true;
}

/** The stamp of `value`'s header; a TypeError when it has none (what every setIfNewer requires). */
export function requireStamp(value: DriverValue): string {
  const stamp = stampOf(value);
  if (stamp === undefined) throw new TypeError('setIfNewer needs a value that starts with a stamp header');
  return stamp;
}

/** The kind byte of a versioned value (undefined without a header). */
export function stampKindOf(value: DriverValue): string | undefined {
  if (stampOf(value) === undefined) return undefined;
  return typeof value === 'string' ? value[STAMP_WIDTH] : String.fromCharCode(value[STAMP_WIDTH]!);
}

/** `value` (which has a stamp header) with its stamp replaced by `stamp`. */
export function restamp(value: DriverValue, stamp: number): DriverValue {
  const header = String(stamp).padStart(STAMP_WIDTH, '0');
  if (typeof value === 'string') return header + value.slice(STAMP_WIDTH);
  return Buffer.concat([Buffer.from(header, 'latin1'), value.subarray(STAMP_WIDTH)]);
}

/**
 * What {@link TierDriver.setMax} does with a key holding `held`: true when `held` and `value` are both
 * decimal integers and `held` is not the smaller (it stays), false when `value` replaces it. Exact for
 * any number of digits: nothing is parsed into a float.
 */
export function setMaxKeeps(held: DriverValue, value: DriverValue): boolean {
  const kept = decimalDigits(held);
  const offered = kept === undefined ? undefined : decimalDigits(value);
  if (kept === undefined || offered === undefined) return false;
  return kept.length === offered.length ? kept >= offered : kept.length > offered.length;
}

/** The digits of a decimal integer without its leading zeros ('0' for zero), or undefined for anything else. */
function decimalDigits(value: DriverValue): string | undefined {
  const text = typeof value === 'string';
  if (!text && !Buffer.isBuffer(value)) return undefined;
  if (value.length === 0) return undefined;
  let start = -1;
  for (let i = 0; i < value.length; i++) {
    const c = text ? value.charCodeAt(i) : value[i]!;
    if (c < 48 || c > 57) return undefined;
    if (start < 0 && c !== 48) start = i;
  }
  if (start < 0) return '0';
  return text ? value.slice(start) : value.toString('latin1', start);
}

/** Bytes of a driver value, to compare values byte for byte whatever their type. */
export function valueBytes(value: DriverValue): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

/** Options that every driver factory accepts. */
export interface DriverBaseOptions {
  /** Prefix put before every key so several applications can share one store. */
  prefix?: string;
  /** Time source, ms (default `Date.now`, the default of every part of tiers/); the tiers pass theirs. */
  clock?: () => number;
}

/** Escapes the characters Redis MATCH treats specially, so a literal string matches only itself. */
export function escapeRedisGlob(literal: string): string {
  return literal.replace(/[*?[\]\\^]/g, '\\$&');
}

/** Turns a Larder glob into a Redis MATCH pattern: `*` and `?` stay wildcards, everything else is literal. */
export function globToRedisMatch(pattern: string): string {
  // The same limits as every other matcher: Redis's own MATCH backtracks on many stars too.
  checkGlob(pattern);
  let out = '';
  for (const ch of pattern) out += ch === '*' || ch === '?' ? ch : escapeRedisGlob(ch);
  return out;
}
