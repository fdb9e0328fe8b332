// The Keyv bridge: TierDriver over any Keyv 5 instance or store (`keyv` is loaded only by
// `larder-cache/keyv`), so every store of the Keyv ecosystem can serve as a shared tier.
// Keyv offers get/set/delete (and getMany/deleteMany) but no compare-and-set, so the operations the
// tier would need atomic are left out and the tier degrades as TierDriver documents:
// - no setIfNewer: writes are plain sets, no tombstones; a load racing a write may store its older
//   value (until the entry's TTL or the next write);
// - no setAtLeast: tag invalidation times are kept without expiry (they never lapse too early);
// - no setMax: the tier writes a tag's invalidation time by get, compare, then set, best effort only:
//   when two instances invalidate one tag at the same moment, the older time can still land last, and
//   an instance that missed the newer one's bus message serves what it hid until the tag's next
//   invalidation;
// - no deleteIfEquals: a lock is released by get-then-delete (its TTL bounds any mistake);
// - `add` is get-then-set, not atomic: with `lock: true`, two instances may both load at once.
// `clear(namespace)` and `deletePattern` walk Keyv's iterator, a batch of keys at a time (yielding
// to the event loop between batches); a store Keyv cannot iterate is refused when the driver is made,
// since those calls would fail forever and the tier would count each failure as an outage.
// Values are kept in an envelope `<expiresAt>:<base64>` (expiry by the driver's clock, so bytes and
// expiry survive any Keyv serializer); the TTL is passed to Keyv too, so the store reclaims space.
import type { KeyvStoreAdapter } from 'keyv';
import type Keyv from 'keyv';
import { CacheError } from '../errors.js';
import type { DriverBaseOptions, DriverValue, TierDriver } from '../tiers/driver.js';
import { withTimeout } from '../tiers/guarded-driver.js';
import { compileGlob } from '../util/glob.js';
import { lazyModule, MISSING_DEPENDENCY } from '../util/lazy-require.js';
import { checkClock, checkOneOf, checkPrefix, expiryOf, positiveInteger } from './sql-glob.js';
import { assertKnownOptions, optionNames } from '../util/validate.js';

// Keyv 6 makes a Keyv without a namespace and iterates its stores otherwise (the driver suite fails
// with it); npm installs it beside this package with only a warning, so its major is checked here.
const loadKeyv = lazyModule<typeof import('keyv')>('keyv', 'larder-cache/keyv', [5]);
/** How long `disconnect()` waits, at most, for the driver's own Keyv to disconnect, ms. */
const KEYV_CLOSE_WAIT_MS = 1000;

/** Options of {@link keyvDriver}: a Keyv instance or a store, and a key prefix. */
export interface KeyvDriverOptions extends DriverBaseOptions {
  /**
   * A Keyv 5 instance to use (never disconnected by the driver). Give it `throwOnErrors: true`: by
   * default Keyv answers a failing store with `undefined`, which the tier would take for a miss rather
   * than an outage. The driver wraps its deserializer so that a value it cannot parse reads as absent
   * (see `tolerateUnparsable`).
   */
  keyv?: Keyv;
  /** Or a Keyv store (e.g. `new KeyvRedis(url)` or a `Map`): the driver wraps it in its own Keyv. */
  store?: KeyvStoreAdapter | Map<unknown, unknown>;
  /** Keys deleted per batch by `clear` and `deletePattern` (default 500). */
  batchSize?: number;
}

/** Parses the driver's envelope; a value another writer stored without one is read as its bytes. */
function open(raw: unknown): { expiresAt: number; bytes: Buffer } | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'string') {
    return Buffer.isBuffer(raw) ? { expiresAt: 0, bytes: raw } : undefined;
  }
  const cut = raw.indexOf(':');
  const expiresAt = cut > 0 ? Number(raw.slice(0, cut)) : Number.NaN;
  if (!Number.isSafeInteger(expiresAt)) return { expiresAt: 0, bytes: Buffer.from(raw, 'utf8') };
  return { expiresAt, bytes: Buffer.from(raw.slice(cut + 1), 'base64') };
}

/** What the driver reads of a Keyv store: @keyv/redis and @keyv/valkey namespace keys themselves. */
interface IteratingStore {
  namespace?: unknown;
  keyPrefixSeparator?: unknown;
  noNamespaceAffectsAll?: unknown;
}

/** A {@link TierDriver} over Keyv 5; without setIfNewer, setAtLeast, setMax and deleteIfEquals (see above). */
export class KeyvDriver implements TierDriver {
  /** @inheritdoc */
  readonly name = 'keyv';
  /** The Keyv instance the driver works through. */
  readonly keyv: Keyv;
  /** The key prefix, as given. */
  readonly prefix: string;
  readonly #owned: boolean;
  readonly #clock: () => number;
  readonly #batch: number;
  #closed = false;

  constructor(options: KeyvDriverOptions) {
    checkOneOf(options, 'keyv driver', 'keyv', 'store');
    this.prefix = checkPrefix(options.prefix);
    this.#batch = positiveInteger(options.batchSize, 500, 'batchSize');
    this.#clock = checkClock(options.clock);
    if (options.keyv !== undefined) {
      if (typeof (options.keyv as { get?: unknown }).get !== 'function') {
        throw new TypeError('keyv must be a Keyv instance');
      }
      // A Keyv given is most likely made by the keyv installed here: refuse one of a major that fails.
      try {
        loadKeyv();
      } catch (error) {
        if ((error as { code?: unknown }).code !== MISSING_DEPENDENCY) throw error;
      }
      this.keyv = options.keyv;
      this.#owned = false;
    } else {
      const { Keyv: KeyvClass } = loadKeyv();
      this.keyv = new KeyvClass({ store: options.store, throwOnErrors: true });
      this.#owned = true;
      // Failures reach the caller (throwOnErrors); the tier reports outages once.
      this.keyv.on('error', () => {});
    }
    tolerateUnparsable(this.keyv);
    tolerateVanished(this.keyv);
    const namespace = this.#namespace();
    if (namespace !== undefined && (namespace === '' || namespace.includes(':'))) {
      throw new TypeError(
        `keyv driver needs a Keyv whose namespace is non-empty and has no ':' (or one with useKeyPrefix: false), got ${JSON.stringify(namespace)}: ` +
          "Keyv's iterator drops a key's first ':'-separated part as the namespace, so clear(namespace) and deletePattern would miss keys",
      );
    }
    if (namespace !== undefined && this.prefix.startsWith(`${namespace}:`)) {
      throw new TypeError(
        `keyv driver: prefix ${JSON.stringify(this.prefix)} starts with the Keyv's own namespace "${namespace}:", which Keyv adds to every key itself; ` +
          "leave it out of the prefix (Keyv's get and set take such a key as namespaced already, its getMany and deleteMany namespace it again)",
      );
    }
    const store = this.#store();
    const listed = `${String(store?.namespace ?? '')}${String(store?.keyPrefixSeparator ?? '')}`;
    if (typeof store?.keyPrefixSeparator === 'string' && /[*?[\]\\]/.test(listed)) {
      throw new TypeError(
        `keyv driver needs a store namespace and keyPrefixSeparator without * ? [ ] \\, got ${JSON.stringify(listed)}: ` +
          "the store's iterator (@keyv/redis, @keyv/valkey) finds its keys by SCAN MATCH on them unescaped, so clear(namespace) and deletePattern would miss keys",
      );
    }
    if (typeof this.keyv.iterator !== 'function') {
      throw new TypeError(
        'keyv driver needs a store Keyv can iterate (a Map, Redis, Valkey, SQLite, Postgres, MySQL, Mongo, etcd): ' +
          'without one, clear(namespace) and deletePattern — how caches clear and invalidate patterns — cannot work',
      );
    }
  }

  async get(key: string): Promise<DriverValue | undefined> {
    this.#check();
    return this.#live(await this.keyv.get(this.prefix + key));
  }

  async getMany(keys: readonly string[]): Promise<Array<DriverValue | undefined>> {
    this.#check();
    if (keys.length === 0) return [];
    const raw = (await this.keyv.getMany(keys.map((key) => this.prefix + key))) as unknown[];
    return keys.map((_, i) => this.#live(raw[i]));
  }

  async set(key: string, value: DriverValue, ttlMs?: number): Promise<void> {
    this.#check();
    await this.#put(this.prefix + key, value, expiryOf(this.#clock(), ttlMs));
  }

  /** Not atomic (get, then set): see the file's notes on `lock`. */
  async add(key: string, value: DriverValue, ttlMs: number): Promise<boolean> {
    this.#check();
    const full = this.prefix + key;
    if (this.#live(await this.keyv.get(full)) !== undefined) return false;
    await this.#put(full, value, expiryOf(this.#clock(), Math.max(1, ttlMs)));
    return true;
  }

  async delete(key: string): Promise<boolean> {
    this.#check();
    const full = this.prefix + key;
    const held = this.#live(await this.keyv.get(full));
    await this.keyv.delete(full);
    return held !== undefined;
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    this.#check();
    if (keys.length === 0) return 0;
    return this.#deleteFull(keys.map((key) => this.prefix + key));
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

  async disconnect(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#owned) return;
    // A store whose server hangs (paused, unreachable) never finishes a graceful disconnect while
    // calls are in flight (@keyv/redis waits for their replies), and close() hung with it. Not
    // waited for past KEYV_CLOSE_WAIT_MS: the store's connection closes once the server answers.
    await withTimeout(this.keyv.disconnect(), KEYV_CLOSE_WAIT_MS, 'keyv disconnect').catch(
      (error: unknown) => {
        if (!(error instanceof CacheError && error.type === 'TIMEOUT')) throw error;
      },
    );
  }

  /**
   * Why Keyv cannot hold `key` consistently, or undefined; see TierDriver. A full key starting with the
   * Keyv's namespace and `:` is taken as namespaced already by Keyv's get, set and delete but namespaced
   * again by its getMany and deleteMany, so a batch delete (clear, deletePattern) would leave it live.
   * A full key holding the separator of a store whose iterator skips such keys (see #hiddenBy) would
   * never be listed, so clear and deletePattern would leave it live too.
   */
  keyProblem(key: string, pattern = false): string | undefined {
    if (pattern) return undefined;
    const full = this.prefix + key;
    const namespace = this.#namespace();
    if (namespace !== undefined && full.startsWith(`${namespace}:`))
      return `it starts with the Keyv's namespace "${namespace}:", which Keyv would not add to it in get and set but would in getMany and deleteMany`;
    const separator = this.#hiddenBy();
    if (separator !== undefined && full.includes(separator))
      return `it holds "${separator}", and the store (without a namespace) leaves keys holding its keyPrefixSeparator out of its iterator, so clear and deletePattern would never reach it`;
    return undefined;
  }

  /**
   * The separator whose keys the store's iterator skips, or undefined: @keyv/redis (and @keyv/valkey)
   * without a namespace iterate only keys without their `keyPrefixSeparator` (`::`), taking the others
   * for namespaced keys, unless `noNamespaceAffectsAll` is set.
   */
  #hiddenBy(): string | undefined {
    const store = this.#store();
    if (store === undefined) return undefined;
    const separator = store.keyPrefixSeparator;
    if (typeof separator !== 'string' || separator === '') return undefined;
    if (store.noNamespaceAffectsAll === true) return undefined;
    return typeof store.namespace === 'string' && store.namespace !== '' ? undefined : separator;
  }

  /** The Keyv's store, as far as the driver reads it (a Map has none of these). */
  #store(): IteratingStore | undefined {
    const store = this.keyv.store as IteratingStore | null | undefined;
    return store ?? undefined;
  }

  /** The namespace Keyv puts before every key, or undefined when it puts none. */
  #namespace(): string | undefined {
    const keyv = this.keyv as { namespace?: unknown; useKeyPrefix?: unknown };
    if (keyv.useKeyPrefix === false) return undefined;
    return typeof keyv.namespace === 'string' ? keyv.namespace : '';
  }

  #check(): void {
    if (this.#closed) throw new Error('keyv driver is disconnected');
  }

  /** The bytes of a stored envelope, or undefined when absent or expired by the driver's clock. */
  #live(raw: unknown): Buffer | undefined {
    const held = open(raw);
    if (held === undefined) return undefined;
    if (held.expiresAt !== 0 && held.expiresAt <= this.#clock()) return undefined;
    return held.bytes;
  }

  async #put(full: string, value: DriverValue, expiresAt: number | null): Promise<void> {
    if (typeof value !== 'string' && !Buffer.isBuffer(value)) {
      throw new TypeError('value must be a string or a Buffer');
    }
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    const envelope = `${expiresAt ?? 0}:${bytes.toString('base64')}`;
    // The store's own TTL is never shorter than the envelope's (rounded up to whole ms).
    const ttl = expiresAt === null ? undefined : Math.max(1, Math.ceil(expiresAt - this.#clock()));
    const stored = await this.keyv.set(full, envelope, ttl);
    if (stored === false) throw new Error(`keyv store refused to set ${full}`);
  }

  /** Deletes full keys; counts those that were live, each once however often it is named. */
  async #deleteFull(full: readonly string[]): Promise<number> {
    const unique = [...new Set(full)];
    const raw = (await this.keyv.getMany(unique)) as unknown[];
    await this.keyv.deleteMany(unique);
    return raw.filter((value) => this.#live(value) !== undefined).length;
  }

  /** Walks Keyv's iterator and deletes the matching keys a batch at a time. */
  async #deleteWhere(match: (full: string) => boolean): Promise<number> {
    this.#check();
    // Keyv's generated iterator is bound to its instance and takes no argument.
    const iterate = this.keyv.iterator as unknown as () => AsyncIterable<[string, unknown]>;
    let count = 0;
    let batch: string[] = [];
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      const keys = batch;
      batch = [];
      count += await this.#deleteFull(keys);
      // Let other work of this process run between batches.
      await new Promise((resolve) => setImmediate(resolve));
    };
    for await (const [key] of iterate()) {
      if (typeof key !== 'string' || !match(key)) continue;
      batch.push(key);
      if (batch.length >= this.#batch) await flush();
    }
    await flush();
    return count;
  }
}

const TOLERANT = Symbol('larder.tolerantDeserialize');

type Parse = ((data: string) => unknown) & { [TOLERANT]?: true };

/**
 * Makes `keyv` read a stored value its deserializer cannot parse, or that parses to no record (another
 * writer's, or a truncated one), as a record without a value, which Keyv answers as absent. Otherwise
 * Keyv's get and getMany throw on it (counted against the tier's breaker, for every key) and its
 * iterator stops there, so every clear and deletePattern would fail to reach L2 while it stays.
 */
function tolerateUnparsable(keyv: Keyv): void {
  const parse = keyv.deserialize as Parse | undefined;
  if (typeof parse !== 'function' || parse[TOLERANT] === true) return;
  const tolerant: Parse = async (data) => {
    try {
      const parsed: unknown = await parse.call(keyv, data);
      return typeof parsed === 'object' && parsed !== null ? parsed : { value: undefined };
    } catch {
      return { value: undefined };
    }
  };
  tolerant[TOLERANT] = true;
  keyv.deserialize = tolerant as Keyv['deserialize'];
}

type Unpack = ((data: unknown) => Promise<unknown>) & { [TOLERANT]?: true };

/**
 * Makes Keyv's iterator pass over a key that vanished between being listed and its value being read
 * (it expired, or another instance deleted it: @keyv/redis SCANs, then MGETs). The iterator hands such
 * an absent value to deserializeData, which answers undefined, and then throws reading its expiry, so
 * the clear or deletePattern walking it would fail, leaving the keys after it live. Only the iterator
 * passes deserializeData an absent value: it now gets a record without a value (and the key's delete
 * does nothing).
 */
function tolerateVanished(keyv: Keyv): void {
  const unpack = keyv.deserializeData as unknown as Unpack | undefined;
  if (typeof unpack !== 'function' || unpack[TOLERANT] === true) return;
  const tolerant: Unpack = async (data) =>
    data === undefined || data === null ? { value: undefined } : unpack.call(keyv, data);
  tolerant[TOLERANT] = true;
  keyv.deserializeData = tolerant as unknown as Keyv['deserializeData'];
}

const KEYV_DRIVER_OPTIONS = optionNames<KeyvDriverOptions>({
  keyv: true,
  store: true,
  batchSize: true,
  prefix: true,
  clock: true,
});

/** A {@link TierDriver} over a Keyv 5 instance or store; pass it to `new SharedTier({ driver })`. */
export function keyvDriver(options: KeyvDriverOptions): KeyvDriver {
  if (options !== null && typeof options === 'object')
    assertKnownOptions(options, KEYV_DRIVER_OPTIONS, 'keyvDriver');
  return new KeyvDriver(options);
}
