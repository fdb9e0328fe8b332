// SharedTier: the L2 a cache talks to. It composes a driver (behind the guard: timeout + breaker),
// the codec, the invalidation bus, per-tag invalidation clocks, the optional distributed lock and the
// backlog of invalidations missed during an outage. Each cache binds to it by name; the binding
// (tier-binding.ts) is the only object the facade calls, and none of its methods throws because Redis
// is down. This file builds the parts and owns the tier's lifecycle (bind, health, close); the read
// path is entry-reader.ts, every write and invalidation goes through the table in invalidations.ts,
// the bus's inbound side is bus-listener.ts, and the L2 key layout is keys.ts.
// Entry writes are versioned (stamp.ts: a compare-by-stamp set, tombstones for deletes) and bulk
// invalidations leave fences (write-fence.ts), so a load that began before a write never lands after it.
import type { Logger } from '../observability/logger.js';
import { CacheError } from '../errors.js';
import { parseDuration } from '../util/duration.js';
import type { Duration } from '../util/duration.js';
import type { BreakerOptions } from './breaker.js';
import type { BusHealth, InvalidationBus } from './bus.js';
import { BusListener } from './bus-listener.js';
import { createCodec } from '../codec/codec.js';
import type { CompressionOptions } from '../codec/codec.js';
import type { TierDriver } from './driver.js';
import { EntryReader } from './entry-reader.js';
import { GuardedBus } from './guarded-bus.js';
import { GuardedDriver } from './guarded-driver.js';
import { Invalidator } from './invalidations.js';
import { tagKey } from './keys.js';
import { DistributedLock } from './lock.js';
import { PublishBatcher } from './publish-batcher.js';
import { assertSerializer, msgpackSerializer } from '../codec/serializer.js';
import type { Serializer } from '../codec/serializer.js';
import { StampClock } from './stamp.js';
import { TagClock } from './tag-clock.js';
import { BoundCache, TierBinding } from './tier-binding.js';
import type { TierParts } from './tier-binding.js';
import { TierLog } from './tier-log.js';
import type { L2Tier, TierHealth } from './types.js';
import { WriteFence } from './write-fence.js';
import { assertKnownOptions, assertPositiveInteger, optionNames } from '../util/validate.js';
import { DEFAULT_MAX_VALUE_BYTES, ValueLimit } from './value-limit.js';

export { TierBinding } from './tier-binding.js';
export type { RestoredStamp } from './entry-reader.js';

/** Marks objects that are shared tiers, so `createCache({ l2 })` can recognise one. */
export const SHARED_TIER = Symbol.for('larder.shared-tier');

/** Options of the distributed lock. */
export interface LockSettings {
  /** Lock lifetime; waiters load themselves after it (default `'5s'`). */
  timeout?: Duration;
  /** First poll delay of a waiter (default `'20ms'`). */
  pollInterval?: Duration;
}

/** Options every shared tier takes (the Redis factory adds connection options). */
export interface SharedTierSettings {
  /** Serializer of values (default msgpack with structured clone; `jsonSerializer()` for interop). */
  serializer?: Serializer;
  /** Compress values above a size threshold (off by default). */
  compression?: CompressionOptions | false;
  /** Timeout of one L2 call (default `'50ms'`). */
  timeout?: Duration;
  /** Timeout of SCAN-based deletes (default `'10s'`). */
  bulkTimeout?: Duration;
  /** Circuit breaker (default 5 failures, reset after 5 s). */
  breaker?: BreakerOptions;
  /** Distributed single-flight across instances (default off). */
  lock?: boolean | LockSettings;
  /** How long tag invalidation times are trusted in memory (default `'1s'`; the bus refreshes them sooner). */
  tagCacheTtl?: Duration;
  /**
   * How long the store keeps a tag's invalidation time after its last invalidation (default `'24h'`;
   * `0` keeps them forever), so per-user tags do not pile up. Never too short: an entry whose TTL
   * plus grace outlasts it keeps its tags' times in the store until the entry itself expires.
   */
  tagRetention?: Duration;
  /**
   * How long a delete's tombstone and a bulk invalidation's fence are kept (default `'2m'`): a load
   * that started longer ago than this is answered but not stored. Keep it above the longest load (the
   * default hard timeout is 60 s).
   */
  fenceRetention?: Duration;
  /** Upper bound on invalidations kept for replay during an outage (default 10,000). */
  maxPending?: number;
  /**
   * Largest value, in bytes, the tier writes to or reads from L2 (default 4 MiB): both as stored and,
   * with compression, as serialized (what a value may inflate to is the lower of this and
   * `compression.maxDecompressedBytes`). L2 is untrusted: a value read that is larger is not decoded
   * (it could block the event loop for seconds) but read as corrupt: a miss, reported as a
   * `SERIALIZATION_FAILED` error and removed. A value whose encoding is larger is not written: it
   * stays in L1 only, the key's old L2 value is deleted and other instances are told, as by a set
   * (logged at warn, at most once a minute). The default fits an HTTP response of the default 1 MiB
   * `maxResponseBytes` (its body takes up to 2 MiB as msgpack); `jsonSerializer()` writes a body of
   * control bytes as `\u00XX`, up to 6 bytes per byte. Counted in `health().l2.oversizedReads` and
   * `oversizedWrites`.
   */
  maxValueBytes?: number;
  /**
   * File that keeps invalidations L2 has not received yet across restarts (every bound cache's; a cache
   * created with `persist` uses `<persist.path>.outbox` for its own). Read when the tier is created and
   * replayed before the first read is answered. Without one, close() logs at error what it drops.
   */
  outbox?: string;
  /**
   * Where outages, recoveries and bus resyncs are logged (and serialization failures, which caches
   * also report as `Cache ERROR`). Default: the logger of the first cache bound to the tier that has
   * one; each line is written once, however many caches share the tier.
   */
  logger?: Logger;
  /**
   * Time source, ms, for everything in the tier: write stamps, tag and fence times, the breaker, the
   * call deadlines and the connection gate (default `Date.now`; inject one in tests).
   */
  clock?: () => number;
}

/** The names of the settings every shared tier takes (the tier factories check their options against them). */
export const SHARED_TIER_SETTING_NAMES = optionNames<SharedTierSettings>({
  serializer: true,
  compression: true,
  timeout: true,
  bulkTimeout: true,
  breaker: true,
  lock: true,
  tagCacheTtl: true,
  tagRetention: true,
  fenceRetention: true,
  maxPending: true,
  maxValueBytes: true,
  outbox: true,
  logger: true,
  clock: true,
});

/** Options of {@link SharedTier}: a driver, an optional bus, and the settings. */
export interface SharedTierOptions extends SharedTierSettings {
  driver: TierDriver;
  /** Cross-instance invalidation; without one, other instances' L1s are not told about writes. */
  bus?: InvalidationBus;
  /** True when the bus publishes on the driver's own ordered connection (PUBLISH may then share a round trip with the write). */
  publishInOrder?: boolean;
  /** Name for logs (default: the driver's name). */
  name?: string;
}

const CACHE_NAME_RE = /^[^:{}*?[\]\\]+$/;

const LOCK_OPTIONS = optionNames<LockSettings>({ timeout: true, pollInterval: true });

/** An L2 tier shared by caches (and, through the store and the bus, by instances). */
export class SharedTier implements L2Tier {
  /** Brand read by `createCache`. */
  readonly [SHARED_TIER] = true;
  /** This instance's id on the bus. */
  readonly instanceId: string;
  readonly #driver: GuardedDriver;
  readonly #bus: InvalidationBus | undefined;
  readonly #listener: BusListener | undefined;
  readonly #log: TierLog;
  readonly #clock: () => number;
  readonly #tagCacheTtl: number;
  readonly #tagRetention: number;
  readonly #invalidator: Invalidator;
  readonly #caches = new Map<string, BoundCache>();
  readonly #outboxPath: string | undefined;
  readonly #stamps: StampClock;
  readonly #limit: ValueLimit;
  /** What bindings call: the parts, not this class's methods. */
  readonly #parts: TierParts;
  #closing: Promise<void> | undefined;
  #closed = false;

  constructor(options: SharedTierOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('tier options are required');
    if (options.driver === null || typeof options.driver?.get !== 'function') {
      throw new TypeError('driver must implement TierDriver');
    }
    const serializer = options.serializer ?? msgpackSerializer();
    assertSerializer(serializer);
    const maxValueBytes = assertPositiveInteger(
      options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES,
      'maxValueBytes',
      'number of bytes',
    );
    const codec = createCodec(serializer, options.compression, maxValueBytes);
    this.#log = new TierLog(options.logger);
    this.#clock = options.clock ?? Date.now;
    const maxPending = options.maxPending ?? 10_000;
    if (!Number.isInteger(maxPending) || maxPending <= 0) {
      throw new RangeError(`maxPending must be a positive integer, got ${String(options.maxPending)}`);
    }
    this.#tagCacheTtl = parseDuration(options.tagCacheTtl ?? '1s', 'tagCacheTtl');
    this.#tagRetention = parseDuration(options.tagRetention ?? '24h', 'tagRetention');
    const fenceRetention = parseDuration(options.fenceRetention ?? '2m', 'fenceRetention');
    if (fenceRetention < 1000) {
      throw new RangeError(
        `fenceRetention must be at least 1s (longer than any load), got ${fenceRetention}ms`,
      );
    }
    this.#stamps = new StampClock(this.#clock);
    this.#limit = new ValueLimit(maxValueBytes, this.#log, this.#clock);
    const fence = new WriteFence({ retentionMs: fenceRetention, clock: this.#clock });
    const name = options.name ?? options.driver.name;
    this.#driver = new GuardedDriver(options.driver, {
      name,
      timeoutMs: parseDuration(options.timeout ?? '50ms', 'timeout'),
      bulkTimeoutMs: parseDuration(options.bulkTimeout ?? '10s', 'bulkTimeout'),
      breaker: options.breaker,
      log: this.#log,
      clock: this.#clock,
      onRecover: () => this.#invalidator.backlog.schedule(0),
      // Redis answers again after a hang: replay now, so other instances hear of the writes at once.
      onReachable: () => this.#invalidator.backlog.schedule(0),
    });
    const lock = this.#createLock(options.lock);
    // Behind the breaker: a hung Redis must not make every write wait for the publish timeout.
    this.#bus = options.bus === undefined ? undefined : new GuardedBus(options.bus, this.#driver);
    this.#invalidator = new Invalidator({
      driver: this.#driver,
      codec,
      limit: this.#limit,
      bus: this.#bus,
      publisher: this.#bus === undefined ? undefined : new PublishBatcher(this.#bus),
      publishInOrder: options.publishInOrder ?? false,
      stamps: this.#stamps,
      fence,
      log: this.#log,
      clock: this.#clock,
      maxPending,
      retryMs: Math.max(50, this.#driver.breaker.resetAfterMs),
      // A cache not bound (yet) in this process, from an outbox file, still gets its tags' times.
      tagsOf: (cache) => this.#caches.get(cache)?.tags ?? this.#tagClock(cache),
    });
    this.#listener =
      this.#bus === undefined
        ? undefined
        : new BusListener({
            bus: this.#bus,
            caches: this.#caches,
            invalidator: this.#invalidator,
            log: this.#log,
            clock: this.#clock,
            tier: this.#driver.name,
          });
    this.instanceId = options.bus?.instanceId ?? 'local';
    if (options.outbox !== undefined && (typeof options.outbox !== 'string' || options.outbox === '')) {
      throw new TypeError('outbox must be a non-empty file path');
    }
    this.#outboxPath = options.outbox;
    const backlog = this.#invalidator.backlog;
    this.#parts = {
      tier: this,
      stamps: this.#stamps,
      reader: new EntryReader({
        driver: this.#driver,
        codec,
        limit: this.#limit,
        backlog,
        log: this.#log,
        clock: this.#clock,
      }),
      invalidator: this.#invalidator,
      backlog,
      lock,
      log: this.#log,
      keyProblem: options.driver.keyProblem?.bind(options.driver),
      release: () => this.#release(),
    };
  }

  /** The guarded driver (for tests and health). */
  get driver(): GuardedDriver {
    return this.#driver;
  }

  /** A stamp for a write beginning now (getOrSet takes one before its L2 read; see stamp.ts). */
  stamp(): number {
    return this.#stamps.next();
  }

  /** Whether `lock: true` was given. */
  get lockEnabled(): boolean {
    return this.#parts.lock !== undefined;
  }

  /** Binds a cache by name. The tier is closed when the last binding closes. */
  bind(cache: string): TierBinding {
    if (this.#closed) throw new CacheError('TIER_UNAVAILABLE', 'this tier was closed; create a new one');
    if (typeof cache !== 'string' || !CACHE_NAME_RE.test(cache)) {
      throw new TypeError(
        `cache name ${JSON.stringify(cache)} cannot be used with a shared tier (no : { } * ? [ ] \\)`,
      );
    }
    let bound = this.#caches.get(cache);
    if (bound === undefined) {
      bound = new BoundCache(cache, this.#tagClock(cache));
      this.#caches.set(cache, bound);
      const backlog = this.#invalidator.backlog;
      if (this.#outboxPath !== undefined && !backlog.hasOutbox(cache))
        backlog.attachOutbox(cache, this.#outboxPath);
    }
    const binding = new TierBinding(bound, this.#parts);
    this.#listener?.start();
    return binding;
  }

  /**
   * The store may have lost writes: it restarted from an older snapshot, or a replica that had not
   * received every write took over. What it holds (entries, tombstones, tag times) may predate deletes
   * and invalidations made since, so the L2 entries of every bound cache are not trusted (reads miss)
   * until a clear of the cache has been delivered, which is replayed at once like an undelivered one.
   * Only colder, never stale. `reason` is logged.
   */
  storeReset(reason: string): void {
    if (this.#closed || this.#caches.size === 0) return;
    const backlog = this.#invalidator.backlog;
    const caches = [...this.#caches.keys()];
    for (const cache of caches) backlog.pending.clear(cache);
    // Debug: the restart itself was the outage's error and recovery lines.
    this.#log.debug('L2 store may have lost writes; clearing the caches bound to it', {
      tier: this.#driver.name,
      reason,
      caches,
    });
    void backlog.save(caches);
    backlog.schedule(0);
  }

  /** Closes the tier when no cache was ever bound to it (see {@link L2Tier.abandon}); else does nothing. */
  abandon(): void {
    if (this.#caches.size === 0) void this.close();
  }

  /** Health under `l2` and `bus` as `cache.health()` reports it. */
  health(): { l2: TierHealth; bus?: BusHealth } {
    const breaker = this.#driver.breaker.state;
    const pending = this.#invalidator.backlog.size;
    const base = { driver: this.#driver.name, breaker, pending, ...this.#limit.counts() };
    let l2: TierHealth;
    if (this.#closed) l2 = { ...base, status: 'down', reason: 'closed' };
    else if (breaker === 'open')
      l2 = { ...base, status: 'down', reason: `circuit open: ${this.#driver.lastError}` };
    else if (breaker === 'half-open' || this.#driver.failing) {
      l2 = { ...base, status: 'degraded', reason: `L2 failing: ${this.#driver.lastError}` };
    } else l2 = { ...base, status: 'ok' };
    return this.#bus === undefined ? { l2 } : { l2, bus: this.#bus.health() };
  }

  /**
   * Releases the bus, the driver and the replay timer. Invalidations still pending get one bounded
   * last attempt (1 s); what is left is written to the outbox, or logged at error as dropped. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const backlog = this.#invalidator.backlog;
    await backlog.flush();
    this.#closed = true;
    for (const bound of this.#caches.values()) bound.members.clear();
    await backlog.keepOrDrop();
    await this.#bus?.close();
    await this.#driver.disconnect();
  }

  /** A binding closed: the tier closes with the last one. */
  async #release(): Promise<void> {
    for (const bound of this.#caches.values()) if (bound.members.size > 0) return;
    await this.close();
  }

  #tagClock(cache: string): TagClock {
    return new TagClock(this.#driver, {
      keyOf: (tag) => tagKey(cache, tag),
      cacheTtlMs: this.#tagCacheTtl,
      retentionMs: this.#tagRetention,
      clock: this.#clock,
    });
  }

  #createLock(setting: boolean | LockSettings | undefined): DistributedLock | undefined {
    if (setting === undefined || setting === false) return undefined;
    if (setting !== true && (setting === null || typeof setting !== 'object')) {
      throw new TypeError('lock must be a boolean or { timeout, pollInterval }');
    }
    const settings = setting === true ? {} : setting;
    assertKnownOptions(settings, LOCK_OPTIONS, 'lock');
    return new DistributedLock(this.#driver, {
      timeoutMs: parseDuration(settings.timeout ?? '5s', 'lock.timeout'),
      pollMs: Math.max(1, parseDuration(settings.pollInterval ?? '20ms', 'lock.pollInterval')),
      clock: this.#clock,
    });
  }
}
