// An in-process driver: the reference implementation of TierDriver, used to run tiers without a
// server (tests, a single process, examples). Bounded: the oldest-written entries go first.
// Time source: the `clock` option (memoryTier passes the tier's), by default `Date.now` like the rest
// of tiers/; it decides when a TTL has lapsed.
import {
  requireStamp,
  restamp,
  setMaxKeeps,
  STAMP_TOMBSTONE,
  stampKindOf,
  stampOf,
  valueBytes,
} from './driver.js';
import type { DriverBaseOptions, DriverValue, SetIfNewerResult, TierDriver } from './driver.js';
import { globToRegExp } from '../util/glob.js';

/** Options of {@link MemoryDriver}. */
export interface MemoryDriverOptions extends DriverBaseOptions {
  /** Upper bound on stored keys (default 100,000); the oldest-written keys are dropped first. */
  maxEntries?: number;
}

interface Slot {
  value: DriverValue;
  /** Absolute expiry in ms, or 0 for none. */
  expiresAt: number;
}

/** A bounded in-memory {@link TierDriver}; several tiers may share one instance to act as one store. */
export class MemoryDriver implements TierDriver {
  /** @inheritdoc */
  readonly name = 'memory';
  readonly #store = new Map<string, Slot>();
  readonly #prefix: string;
  readonly #maxEntries: number;
  readonly #clock: () => number;

  constructor(options: MemoryDriverOptions = {}) {
    const maxEntries = options.maxEntries ?? 100_000;
    if (!Number.isInteger(maxEntries) || maxEntries <= 0) {
      throw new RangeError(`maxEntries must be a positive integer, got ${String(options.maxEntries)}`);
    }
    if (options.prefix !== undefined && typeof options.prefix !== 'string') {
      throw new TypeError('prefix must be a string');
    }
    this.#prefix = options.prefix ?? '';
    this.#maxEntries = maxEntries;
    this.#clock = options.clock ?? Date.now;
  }

  /** Number of live and not-yet-collected keys, all prefixes included. */
  get size(): number {
    return this.#store.size;
  }

  async get(key: string): Promise<DriverValue | undefined> {
    return this.#read(this.#prefix + key);
  }

  async getMany(keys: readonly string[]): Promise<Array<DriverValue | undefined>> {
    return keys.map((key) => this.#read(this.#prefix + key));
  }

  async set(key: string, value: DriverValue, ttlMs?: number): Promise<void> {
    this.#write(this.#prefix + key, value, ttlMs);
  }

  async add(key: string, value: DriverValue, ttlMs: number): Promise<boolean> {
    const full = this.#prefix + key;
    if (this.#read(full) !== undefined) return false;
    this.#write(full, value, ttlMs);
    return true;
  }

  async delete(key: string): Promise<boolean> {
    return this.#remove(this.#prefix + key);
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    let count = 0;
    for (const key of keys) if (this.#remove(this.#prefix + key)) count++;
    return count;
  }

  async clear(namespace = ''): Promise<number> {
    const start = this.#prefix + namespace;
    return this.#removeWhere((full) => full.startsWith(start));
  }

  async deleteIfEquals(key: string, value: DriverValue): Promise<boolean> {
    const full = this.#prefix + key;
    const held = this.#read(full);
    // Byte comparison, as Redis compares: a Buffer holding the UTF-8 of a string matches it too.
    const same = held !== undefined && valueBytes(held).equals(valueBytes(value));
    return same && this.#remove(full);
  }

  async setIfNewer(
    key: string,
    value: DriverValue,
    ttlMs: number,
    always = false,
  ): Promise<SetIfNewerResult> {
    const stamp = requireStamp(value);
    const full = this.#prefix + key;
    const held = this.#read(full);
    let result: SetIfNewerResult = 'stored';
    if (held !== undefined) {
      const heldStamp = stampOf(held);
      if (heldStamp !== undefined && heldStamp >= stamp) {
        if (!always) return 'refused';
        value = restamp(value, Number(heldStamp) + 1);
      }
      if (stampKindOf(held) !== STAMP_TOMBSTONE) result = 'replaced';
    }
    this.#write(full, value, ttlMs);
    return result;
  }

  async setAtLeast(key: string, value: DriverValue, ttlMs: number, keepValue = false): Promise<void> {
    this.#lengthen(this.#prefix + key, value, ttlMs, () => keepValue);
  }

  async setMax(key: string, value: DriverValue, ttlMs: number): Promise<void> {
    this.#lengthen(this.#prefix + key, value, ttlMs, (held) => setMaxKeeps(held, value));
  }

  async deletePattern(pattern: string): Promise<number> {
    const re = globToRegExp(pattern);
    const prefix = this.#prefix;
    return this.#removeWhere((full) => full.startsWith(prefix) && re.test(full.slice(prefix.length)));
  }

  async disconnect(): Promise<void> {
    // Nothing to release: the store is plain memory and the driver owns no timers.
  }

  #read(full: string): DriverValue | undefined {
    const slot = this.#store.get(full);
    if (slot === undefined) return undefined;
    if (slot.expiresAt !== 0 && slot.expiresAt <= this.#clock()) {
      this.#store.delete(full);
      return undefined;
    }
    return slot.value;
  }

  /**
   * Stores `value` under `full` (or, when `keep` says so of the live value held, keeps that one) and
   * makes the key live at least `ttlMs` from now (0 = forever), never shorter: setAtLeast and setMax.
   */
  #lengthen(full: string, value: DriverValue, ttlMs: number, keep: (held: DriverValue) => boolean): void {
    const wanted = ttlMs > 0 ? this.#clock() + ttlMs : 0;
    if (this.#read(full) === undefined) return this.#put(full, value, wanted);
    const slot = this.#store.get(full)!;
    const expiresAt = slot.expiresAt === 0 || wanted === 0 ? 0 : Math.max(slot.expiresAt, wanted);
    this.#put(full, keep(slot.value) ? slot.value : value, expiresAt);
  }

  #write(full: string, value: DriverValue, ttlMs: number | undefined): void {
    this.#put(full, value, ttlMs !== undefined && ttlMs > 0 ? this.#clock() + ttlMs : 0);
  }

  /** Stores a value until `expiresAt` (absolute ms, 0 = never). */
  #put(full: string, value: DriverValue, expiresAt: number): void {
    if (typeof value !== 'string' && !Buffer.isBuffer(value)) {
      throw new TypeError('value must be a string or a Buffer');
    }
    // Re-inserting moves the key to the end of the Map, so iteration order is write order.
    this.#store.delete(full);
    this.#store.set(full, { value, expiresAt });
    if (this.#store.size > this.#maxEntries) {
      const oldest = this.#store.keys().next();
      if (oldest.done !== true) this.#store.delete(oldest.value);
    }
  }

  #remove(full: string): boolean {
    const live = this.#read(full) !== undefined;
    this.#store.delete(full);
    return live;
  }

  #removeWhere(match: (full: string) => boolean): number {
    let count = 0;
    for (const full of [...this.#store.keys()]) {
      if (!match(full)) continue;
      if (this.#remove(full)) count++;
    }
    return count;
  }
}
