// SharedTier: the L2 a cache talks to. It composes a driver (behind the guard: timeout + breaker),
// the codec, the invalidation bus, per-tag invalidation clocks, the optional distributed lock and the
// backlog of invalidations missed during an outage. Each cache binds to it by name; the binding is
// the only object the facade calls, and none of its methods throws because Redis is down.
// Entry writes are versioned (stamp.ts: a compare-by-stamp set, tombstones for deletes) and bulk
// invalidations leave fences (write-fence.ts), so a load that began before a write never lands after it.
import type { Logger } from '../observability/logger.js';
import { errorMessage } from '../observability/log-sink.js';
import type { LogSink } from '../observability/log-sink.js';
import { CacheError } from '../errors.js';
import { parseDuration } from '../util/duration.js';
import type { Duration } from '../util/duration.js';
import type { BreakerOptions } from './breaker.js';
import type { BusHealth, BusMessage, InvalidationBus } from './bus.js';
import { createCodec } from '../codec/codec.js';
import type { Codec, CompressionOptions } from '../codec/codec.js';
import type { DriverValue, TierDriver } from './driver.js';
import { GuardedBus } from './guarded-bus.js';
import { GuardedDriver, withTimeout } from './guarded-driver.js';
import { DistributedLock } from './lock.js';
import type { SnapshotFs } from '../util/atomic-write.js';
import { OutboxFiles } from './outbox.js';
import { PendingInvalidations } from './pending.js';
import type { PendingRecord } from './pending.js';
import { PublishBatcher } from './publish-batcher.js';
import { assertSerializer, msgpackSerializer, serializationError } from '../codec/serializer.js';
import type { Serializer } from '../codec/serializer.js';
import { frame, STAMP_PER_MS, StampClock, stampMs, unframe } from './stamp.js';
import { TagClock } from './tag-clock.js';
import { TierLog } from './tier-log.js';
import type { L2Tier, RemoteInvalidation, TierEntry, TierHealth } from './types.js';
import { WriteFence } from './write-fence.js';
import type { BulkScope } from './write-fence.js';

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
  /** Time source, ms (tests). */
  clock?: () => number;
}

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

interface CacheState {
  name: string;
  tags: TagClock;
  bindings: Set<TierBinding>;
  /** Bumped by every remote invalidation, so a read that raced one can be retried. */
  epoch: number;
}

const CACHE_NAME_RE = /^[^:{}*?[\]\\]+$/;

/** Keys per MGET when restored entries are checked against L2. */
const VERIFY_BATCH = 500;

/** What identifies one write of a key: an entry restored locally is trusted only if L2 holds the same. */
export interface RestoredStamp {
  key: string;
  createdAt: number;
  staleAt: number;
  graceUntil: number;
}

/** At most one warn line per this many ms about dropped bus messages. */
const INVALID_LOG_EVERY_MS = 60_000;

/** How long close() tries to deliver pending invalidations before persisting or dropping them, ms. */
const CLOSE_FLUSH_MS = 1000;

/** An L2 tier shared by caches (and, through the store and the bus, by instances). */
export class SharedTier implements L2Tier {
  /** Brand read by `createCache`. */
  readonly [SHARED_TIER] = true;
  /** This instance's id on the bus. */
  readonly instanceId: string;
  readonly #driver: GuardedDriver;
  readonly #bus: InvalidationBus | undefined;
  readonly #publisher: PublishBatcher | undefined;
  readonly #codec: Codec;
  readonly #log: TierLog;
  readonly #clock: () => number;
  readonly #lock: DistributedLock | undefined;
  readonly #tagCacheTtl: number;
  readonly #tagRetention: number;
  readonly #pending: PendingInvalidations;
  readonly #publishInOrder: boolean;
  readonly #caches = new Map<string, CacheState>();
  readonly #retryMs: number;
  readonly #outbox = new OutboxFiles();
  readonly #outboxPath: string | undefined;
  readonly #stamps: StampClock;
  readonly #fence: WriteFence;
  /** Set while a restored outbox has not been replayed once: reads wait for that attempt. */
  #ready: Promise<void> | undefined;
  #replayRun: Promise<void> | undefined;
  #busStarted = false;
  #invalidLoggedAt = 0;
  #invalidSinceLog = 0;
  #replayTimer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;
  #closed = false;

  constructor(options: SharedTierOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('tier options are required');
    if (options.driver === null || typeof options.driver?.get !== 'function') {
      throw new TypeError('driver must implement TierDriver');
    }
    const serializer = options.serializer ?? msgpackSerializer();
    assertSerializer(serializer);
    this.#codec = createCodec(serializer, options.compression);
    this.#log = new TierLog(options.logger);
    this.#clock = options.clock ?? Date.now;
    const maxPending = options.maxPending ?? 10_000;
    if (!Number.isInteger(maxPending) || maxPending <= 0) {
      throw new RangeError(`maxPending must be a positive integer, got ${String(options.maxPending)}`);
    }
    this.#pending = new PendingInvalidations(maxPending);
    this.#tagCacheTtl = parseDuration(options.tagCacheTtl ?? '1s', 'tagCacheTtl');
    this.#tagRetention = parseDuration(options.tagRetention ?? '24h', 'tagRetention');
    const fenceRetention = parseDuration(options.fenceRetention ?? '2m', 'fenceRetention');
    if (fenceRetention < 1000) {
      throw new RangeError(
        `fenceRetention must be at least 1s (longer than any load), got ${fenceRetention}ms`,
      );
    }
    this.#stamps = new StampClock(this.#clock);
    this.#fence = new WriteFence({ retentionMs: fenceRetention, clock: this.#clock });
    const name = options.name ?? options.driver.name;
    this.#driver = new GuardedDriver(options.driver, {
      name,
      timeoutMs: parseDuration(options.timeout ?? '50ms', 'timeout'),
      bulkTimeoutMs: parseDuration(options.bulkTimeout ?? '10s', 'bulkTimeout'),
      breaker: options.breaker,
      log: this.#log,
      clock: this.#clock,
      onRecover: () => this.#scheduleReplay(0),
      // Redis answers again after a hang: replay now, so other instances hear of the writes at once.
      onReachable: () => this.#scheduleReplay(0),
    });
    this.#retryMs = Math.max(50, this.#driver.breaker.resetAfterMs);
    this.#lock = this.#createLock(options.lock);
    // Behind the breaker: a hung Redis must not make every write wait for the publish timeout.
    this.#bus = options.bus === undefined ? undefined : new GuardedBus(options.bus, this.#driver);
    this.#publisher = this.#bus === undefined ? undefined : new PublishBatcher(this.#bus);
    this.#publishInOrder = options.publishInOrder ?? false;
    this.instanceId = options.bus?.instanceId ?? 'local';
    if (options.outbox !== undefined && (typeof options.outbox !== 'string' || options.outbox === '')) {
      throw new TypeError('outbox must be a non-empty file path');
    }
    this.#outboxPath = options.outbox;
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
    return this.#lock !== undefined;
  }

  /** Binds a cache by name. The tier is closed when the last binding closes. */
  bind(cache: string): TierBinding {
    if (this.#closed) throw new CacheError('TIER_UNAVAILABLE', 'this tier was closed; create a new one');
    if (typeof cache !== 'string' || !CACHE_NAME_RE.test(cache)) {
      throw new TypeError(
        `cache name ${JSON.stringify(cache)} cannot be used with a shared tier (no : { } * ? [ ] \\)`,
      );
    }
    let state = this.#caches.get(cache);
    if (state === undefined) {
      state = { name: cache, bindings: new Set(), epoch: 0, tags: this.#tagClock(cache) };
      this.#caches.set(cache, state);
      if (this.#outboxPath !== undefined && this.#outbox.pathOf(cache) === undefined)
        this.keepOutbox(state, this.#outboxPath);
    }
    const binding = new TierBinding(this, state);
    state.bindings.add(binding);
    this.#startBus();
    return binding;
  }

  /** Health under `l2` and `bus` as `cache.health()` reports it. */
  health(): { l2: TierHealth; bus?: BusHealth } {
    const breaker = this.#driver.breaker.state;
    const pending = this.#pending.size;
    const base = { driver: this.#driver.name, breaker, pending };
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
    if (this.#pending.size > 0)
      await withTimeout(this.#replayNow(), CLOSE_FLUSH_MS, 'final replay').catch(() => {});
    this.#closed = true;
    if (this.#replayTimer !== undefined) clearTimeout(this.#replayTimer);
    for (const state of this.#caches.values()) state.bindings.clear();
    if (this.#pending.size > 0) await this.#keepOrDrop();
    await this.#bus?.close();
    await this.#driver.disconnect();
  }

  // ---- used by TierBinding -------------------------------------------------------------------

  /**
   * @internal Persists `state`'s backlog at `path` and replays what an earlier process left there;
   * until that first replay attempt ends (applied, or L2 known unreachable), reads wait. An unreadable
   * file is logged and left in place (it is overwritten by the next backlog change).
   */
  keepOutbox(state: CacheState, path: string, fs?: SnapshotFs): void {
    let content;
    try {
      content = this.#outbox.attach(state.name, path, fs);
    } catch (error) {
      this.#log.error('L2 outbox could not be read; its invalidations are not replayed', {
        path,
        error: errorMessage(error),
      });
      return;
    }
    for (const [cache, record] of content) this.#pending.import(cache, record);
    if (content.size === 0 || this.#pending.size === 0) return;
    this.#log.info('L2 replays invalidations an earlier process could not deliver', {
      path,
      pending: this.#pending.size,
    });
    const ready = this.#replayNow().finally(() => {
      if (this.#ready === ready) this.#ready = undefined;
    });
    this.#ready = ready;
  }

  /**
   * @internal Which of `items` (entries restored from a local snapshot) L2 still vouches for: it holds
   * the same write (createdAt, staleAt, graceUntil) under the key, none of its tags was invalidated
   * since, and no undelivered invalidation concerns it. Batched: one MGET per 500 keys and per 500
   * tags; what a failed batch covers is not vouched for (logged at warn).
   */
  async verifyRestored(state: CacheState, items: readonly RestoredStamp[]): Promise<boolean[]> {
    if (this.#ready !== undefined) await this.#ready;
    const started = performance.now();
    const ok = new Array<boolean>(items.length).fill(false);
    const tagged: Array<{ index: number; tags: readonly string[]; since: number }> = [];
    let unchecked = 0;
    let failure: unknown;
    // Batch by batch: a batch that fails (timeout, outage) drops its own entries, not the others'.
    for (let from = 0; from < items.length; from += VERIFY_BATCH) {
      const batch = items.slice(from, from + VERIFY_BATCH);
      let raws;
      try {
        raws = await this.#driver.getMany(batch.map((item) => `e:${state.name}:${item.key}`));
      } catch (error) {
        unchecked += batch.length;
        failure = error;
        continue;
      }
      for (let i = 0; i < batch.length; i++) {
        const item = batch[i]!;
        const raw = raws[i];
        if (raw === undefined) continue;
        let entry: TierEntry | undefined;
        try {
          entry = this.#decode(raw);
        } catch {
          continue;
        }
        if (entry === undefined) continue; // a tombstone: deleted since
        const same =
          entry.createdAt === item.createdAt &&
          entry.staleAt === item.staleAt &&
          entry.graceUntil === item.graceUntil;
        const tags = entry.indexTags ?? entry.tags;
        const since = sinceOf(entry);
        if (!same || this.#pending.covers(state.name, item.key, since, tags)) continue;
        ok[from + i] = true;
        if (tags.length > 0) tagged.push({ index: from + i, tags, since });
      }
    }
    const distinct = [...new Set(tagged.flatMap((t) => t.tags))];
    const times = new Map<string, number>();
    for (let from = 0; from < distinct.length; from += VERIFY_BATCH) {
      const batch = distinct.slice(from, from + VERIFY_BATCH);
      try {
        for (const [tag, at] of await state.tags.times(batch)) times.set(tag, at);
      } catch (error) {
        failure = error;
        for (const tag of batch) times.set(tag, Infinity); // unknown: cannot prove the entry valid
      }
    }
    for (const { index, tags, since } of tagged) {
      if (tags.some((tag) => (times.get(tag) ?? 0) >= since)) ok[index] = false;
    }
    const kept = ok.filter(Boolean).length;
    const fields = {
      cache: state.name,
      kept,
      dropped: items.length - kept,
      durationMs: Math.round(performance.now() - started),
    };
    if (failure === undefined) this.#log.info('L2 validated restored entries', fields);
    else
      this.#log.warn('L2 validated restored entries, but could not check them all (dropped)', {
        ...fields,
        unchecked,
        error: errorMessage(failure),
      });
    return ok;
  }

  /** @internal */
  async readEntry(state: CacheState, key: string): Promise<TierEntry | undefined> {
    if (this.#ready !== undefined) await this.#ready;
    return this.#readEntry(state, key);
  }

  /**
   * @internal Writes an entry stamped with `entry.version` (the start of its load) or, without one, now.
   * Resolves false when it was not stored because a write or invalidation newer than its stamp is
   * known (in L2, or as a bulk fence): the caller must not keep serving it either. A value that cannot
   * be serialized is reported and its key deleted instead.
   */
  async writeEntry(state: CacheState, key: string, entry: TierEntry, origin?: TierBinding): Promise<boolean> {
    const now = this.#clock();
    if (entry.graceUntil !== 0 && entry.graceUntil <= now) {
      await this.removeKeys(state, [key], origin);
      return true;
    }
    const stamp = entry.version ?? this.#stamps.next();
    // A load that began before a bulk invalidation (or too long ago to be vouched for by tombstones).
    if (entry.version !== undefined && !this.#fence.admits(state.name, key, stamp)) return false;
    let data;
    try {
      data = this.#codec.encode({
        value: entry.value,
        createdAt: entry.createdAt,
        staleAt: entry.staleAt,
        graceUntil: entry.graceUntil,
        tags: entry.tags,
        ...(entry.indexTags === undefined || entry.indexTags === entry.tags
          ? {}
          : { indexTags: entry.indexTags }),
      });
    } catch (error) {
      const failure = serializationError(key, 'serialize', error);
      // Only to a logger of the tier's own: the caches bound to it log the failure as `Cache ERROR`.
      this.#log.own?.error('L2 cannot store a value; it stays in L1 only', {
        cache: state.name,
        key,
        error: failure.message,
      });
      this.#emitError(state, failure, key);
      // The old L2 value (and other instances' L1 copies) must not outlive this write.
      await this.removeKeys(state, [key], origin);
      return true;
    }
    data = frame(stamp, data);
    const ttl = entry.graceUntil === 0 ? 0 : entry.graceUntil - now;
    const message: Omit<BusMessage, 'source'> = { cache: state.name, kind: 'set', keys: [key] };
    this.#siblings(state, origin, { kind: 'set', keys: [key] });
    const tags = entry.indexTags ?? entry.tags;
    // Before it is sent: a bulk fence heard while it travels must find it (see write-fence.ts).
    this.#fence.remember(state.name, key, stamp);
    const written = await this.#mutate(
      async () => {
        // A set() is made now: it replaces whatever is held. A load's result only lands on older data.
        const always = entry.version === undefined;
        const stored = this.#driver.setIfNewer(`e:${state.name}:${key}`, data, ttl, always);
        const held = state.tags.hold(tags, entry.createdAt, entry.graceUntil);
        return held === undefined ? stored : (await Promise.all([stored, held]))[0];
      },
      message,
      () => this.#pending.keys(state.name, [key]),
    );
    if (written?.result === 'refused') return false;
    // A pending delete of this key (from an earlier failed write) would now remove the newer value.
    if (written !== undefined && this.#pending.settle(state.name, key)) void this.#savePending([state.name]);
    return true;
  }

  /** @internal Deletes keys; resolves how many L2 held (0 when L2 was unreachable: kept for replay). */
  async removeKeys(state: CacheState, keys: readonly string[], origin?: TierBinding): Promise<number> {
    this.#siblings(state, origin, { kind: 'delete', keys });
    const full = keys.map((key) => `e:${state.name}:${key}`);
    const message: Omit<BusMessage, 'source'> = { cache: state.name, kind: 'delete', keys: [...keys] };
    const done = await this.#mutate(
      () => this.#deleteKeys(full),
      message,
      () => this.#pending.keys(state.name, keys),
    );
    return done?.result ?? 0;
  }

  /**
   * Deletes full keys; resolves how many held a live value. With a versioned store each key gets a
   * tombstone stamped now (kept `fenceRetention`), so a load that began earlier cannot store over it.
   */
  async #deleteKeys(full: readonly string[]): Promise<number> {
    if (!this.#driver.versioned)
      return full.length === 1 ? Number(await this.#driver.delete(full[0]!)) : this.#driver.deleteMany(full);
    return this.#tombstone(full, this.#stamps.next(), true);
  }

  /**
   * Writes a tombstone stamped `stamp` on each full key; counts the live values it replaced. A delete
   * made now replaces `always`; a fence's tombstone spares values newer than it.
   */
  async #tombstone(full: readonly string[], stamp: number, always = false): Promise<number> {
    const tombstone = frame(stamp);
    const ttl = this.#fence.retentionMs;
    const results = await Promise.all(
      full.map((key) => this.#driver.setIfNewer(key, tombstone, ttl, always)),
    );
    return results.filter((result) => result === 'replaced').length;
  }

  /** @internal */
  async invalidateTags(state: CacheState, tags: readonly string[], origin?: TierBinding): Promise<void> {
    const at = this.#clock();
    this.#siblings(state, origin, { kind: 'tags', tags });
    const message: Omit<BusMessage, 'source'> = { cache: state.name, kind: 'tags', tags: [...tags], at };
    await this.#mutate(
      () => state.tags.invalidate(tags, at),
      message,
      () => this.#pending.tags(state.name, tags, at),
    );
  }

  /** @internal Resolves how many L2 entries matched (0 when L2 was unreachable: kept for replay). */
  async invalidatePattern(state: CacheState, pattern: string, origin?: TierBinding): Promise<number> {
    this.#siblings(state, origin, { kind: 'pattern', pattern });
    const at = stampMs(this.#stamps.next());
    const message: Omit<BusMessage, 'source'> = { cache: state.name, kind: 'pattern', pattern, at };
    const done = await this.#mutate(
      () =>
        this.#bulk(
          state.name,
          { kind: 'pattern', pattern },
          at,
          this.#driver.deletePattern(`e:${state.name}:${pattern}`),
        ),
      message,
      () => this.#pending.pattern(state.name, pattern),
    );
    return done?.result ?? 0;
  }

  /** @internal Resolves how many L2 entries had the prefix (0 when L2 was unreachable: kept for replay). */
  async invalidatePrefix(state: CacheState, prefix: string, origin?: TierBinding): Promise<number> {
    this.#siblings(state, origin, { kind: 'namespace-clear', prefix });
    const at = stampMs(this.#stamps.next());
    const message: Omit<BusMessage, 'source'> = {
      cache: state.name,
      kind: 'namespace-clear',
      pattern: prefix,
      at,
    };
    const done = await this.#mutate(
      () =>
        this.#bulk(
          state.name,
          { kind: 'prefix', prefix },
          at,
          this.#driver.clear(`e:${state.name}:${prefix}`),
        ),
      message,
      () => this.#pending.prefix(state.name, prefix),
    );
    return done?.result ?? 0;
  }

  /** @internal */
  async clearCache(state: CacheState, origin?: TierBinding): Promise<void> {
    this.#siblings(state, origin, { kind: 'clear' });
    const at = stampMs(this.#stamps.next());
    const message: Omit<BusMessage, 'source'> = { cache: state.name, kind: 'clear', at };
    await this.#mutate(
      () => this.#bulk(state.name, { kind: 'all' }, at, this.#driver.clear(`e:${state.name}:`)),
      message,
      () => this.#pending.clear(state.name),
    );
  }

  /** @internal */
  async lockedLoad(
    state: CacheState,
    key: string,
    load: () => Promise<TierEntry | undefined>,
    origin?: TierBinding,
  ): Promise<{ entry: TierEntry | undefined; loaded: boolean }> {
    if (this.#lock === undefined) return { entry: await load(), loaded: true };
    let loaded = false;
    const entry = await this.#lock.run(
      `${state.name}:${key}`,
      () => this.#readEntry(state, key),
      async () => {
        loaded = true;
        const fresh = await load();
        // Waiters poll L2, so the value must be there before the lock is released.
        if (fresh !== undefined) await this.writeEntry(state, key, fresh, origin);
        return fresh as TierEntry;
      },
    );
    return { entry, loaded };
  }

  /** @internal */
  lendLog(binding: TierBinding, sink: () => LogSink): void {
    this.#log.lend(binding, sink);
  }

  /** @internal */
  async release(state: CacheState, binding: TierBinding): Promise<void> {
    state.bindings.delete(binding);
    try {
      for (const other of this.#caches.values()) if (other.bindings.size > 0) return;
      await this.close();
    } finally {
      // After close(): what it drops is logged to this cache's sink when the tier has no logger.
      this.#log.withdraw(binding);
    }
  }

  // ---- internals -----------------------------------------------------------------------------

  /**
   * The fence side of a bulk invalidation at `at` (ms) whose L2 delete is `deleting`: the fence is
   * known here at once (loads of this instance that began earlier are not stored), written to the
   * store's fence key (read after a bus resync), and once the delete is done, this instance's recent
   * stores it reaches get a tombstone at `at` in case they landed after the delete passed them.
   * By cache name: a replayed backlog may concern a cache not bound in this process.
   */
  async #bulk(cache: string, scope: BulkScope, at: number, deleting: Promise<number>): Promise<number> {
    const reached = this.#fence.bulk(cache, scope, at);
    const count = await deleting;
    if (!this.#driver.versioned) return count;
    const stamp = fenceStamp(at);
    const full = reached.map((key) => `e:${cache}:${key}`);
    await Promise.all([
      this.#driver.setIfNewer(`f:${cache}`, frame(stamp), this.#fence.retentionMs),
      this.#tombstone(full, stamp),
    ]);
    return count;
  }

  /** A bulk invalidation at `at` heard from elsewhere (bus, or the fence key after a resync). */
  #heardBulk(state: CacheState, scope: BulkScope, at: number): void {
    const reached = this.#fence.bulk(state.name, scope, at);
    if (reached.length === 0 || !this.#driver.versioned) return;
    // Best effort: when L2 is unreachable now, the outage bound covers what stays.
    this.#tombstone(
      reached.map((key) => `e:${state.name}:${key}`),
      fenceStamp(at),
    ).catch(() => {});
  }

  /** After a bus resync (messages may have been missed): learn each cache's latest bulk fence from L2. */
  async #refreshFences(): Promise<void> {
    if (!this.#driver.versioned) return;
    const states = [...this.#caches.values()];
    if (states.length === 0) return;
    const raws = await this.#driver.getMany(states.map((state) => `f:${state.name}`));
    for (let i = 0; i < states.length; i++) {
      const raw = raws[i];
      if (raw === undefined) continue;
      const fence = unframe(raw);
      if (fence.stamp !== undefined) this.#heardBulk(states[i]!, { kind: 'all' }, stampMs(fence.stamp));
    }
  }

  /** Decodes what L2 holds under an entry key: the entry (with its stamp), or undefined for a tombstone. */
  #decode(raw: DriverValue): TierEntry | undefined {
    const stored = unframe(raw);
    if (stored.tombstone) return undefined;
    const entry = toEntry(this.#codec.decode(stored.body));
    if (stored.stamp !== undefined) entry.version = stored.stamp;
    return entry;
  }

  async #readEntry(state: CacheState, key: string): Promise<TierEntry | undefined> {
    // A remote invalidation that lands while a read is in flight may concern the value being read;
    // read again once rather than hand a possibly stale value to L1.
    for (let attempt = 0; attempt < 2; attempt++) {
      const epoch = state.epoch;
      const entry = await this.#readOnce(state, key);
      if (state.epoch === epoch) return entry;
    }
    return undefined;
  }

  async #readOnce(state: CacheState, key: string): Promise<TierEntry | undefined> {
    const full = `e:${state.name}:${key}`;
    let raw;
    try {
      raw = await this.#driver.get(full);
    } catch {
      return undefined; // The guard has logged the outage; the cache answers from L1 or the loader.
    }
    if (raw === undefined) return undefined;
    let entry: TierEntry | undefined;
    try {
      entry = this.#decode(raw);
      if (entry === undefined) return undefined; // a tombstone: deleted (kept so older loads cannot land)
    } catch (error) {
      this.#emitError(state, serializationError(key, 'deserialize', error), key);
    }
    const now = this.#clock();
    if (entry === undefined || (entry.graceUntil !== 0 && entry.graceUntil <= now)) {
      this.#driver.delete(full).catch(() => {});
      return undefined;
    }
    const tags = entry.indexTags ?? entry.tags;
    // Compared with when the write began (a load's start), not when it was stored: see stamp.ts.
    const since = sinceOf(entry);
    // An invalidation still waiting for replay may concern this entry: L2 cannot be trusted for it yet.
    if (this.#pending.covers(state.name, key, since, tags)) return undefined;
    if (tags.length > 0) {
      let invalidatedAt: number;
      try {
        invalidatedAt = await state.tags.latest(tags);
      } catch {
        return undefined; // Cannot prove the entry is still valid.
      }
      if (invalidatedAt >= since) return undefined;
    }
    return entry;
  }

  /**
   * Runs an L2 change and publishes it; resolves `{ result }` of the change, or undefined when it
   * failed: then it is kept for replay (and in the outbox file, before this resolves) instead of thrown.
   */
  async #mutate<T>(
    change: () => Promise<T>,
    message: Omit<BusMessage, 'source'>,
    remember: () => void,
  ): Promise<{ result: T } | undefined> {
    const bus = this.#publisher;
    try {
      let result: T;
      if (bus === undefined) result = await change();
      else if (this.#publishInOrder) {
        // Same connection, same order: the PUBLISH reaches Redis after the write, in the same round trip.
        const [changed, published] = await Promise.allSettled([change(), bus.publish(message)]);
        if (changed.status === 'rejected') throw changed.reason;
        if (published.status === 'rejected') throw published.reason;
        result = changed.value;
      } else {
        result = await change();
        await bus.publish(message);
      }
      return { result };
    } catch {
      remember();
      this.#scheduleReplay(this.#retryMs);
      await this.#savePending([message.cache]);
      return undefined;
    }
  }

  /** Writes the outbox files of `caches` (all when omitted); a failure is logged, never thrown. */
  async #savePending(caches?: string[]): Promise<void> {
    if (!this.#outbox.enabled) return;
    try {
      await this.#outbox.save(this.#pending, caches);
    } catch (error) {
      this.#log.error('L2 outbox could not be written; pending invalidations live in memory only', {
        error: errorMessage(error),
      });
    }
  }

  /** At close: what is still pending goes to the outbox file of its cache, or is logged as dropped. */
  async #keepOrDrop(): Promise<void> {
    await this.#savePending();
    const dropped: Record<string, PendingRecord> = {};
    let count = 0;
    for (const cache of this.#pending.caches()) {
      if (this.#outbox.pathOf(cache) !== undefined) continue;
      const record = this.#pending.export(cache);
      if (record === undefined) continue;
      dropped[cache] = record;
      count += (record.clear ? 1 : 0) + record.keys.length + record.tags.length;
      count += record.patterns.length + record.prefixes.length;
    }
    if (count === 0) return;
    this.#log.error('L2 closed with invalidations it could not deliver; they are dropped (no outbox)', {
      tier: this.#driver.name,
      count,
      dropped,
    });
  }

  #scheduleReplay(delayMs: number): void {
    if (this.#closed || this.#pending.size === 0) return;
    if (this.#replayTimer !== undefined) {
      if (delayMs > 0) return;
      clearTimeout(this.#replayTimer);
    }
    this.#replayTimer = setTimeout(() => {
      this.#replayTimer = undefined;
      void this.#replayNow();
    }, delayMs);
    this.#replayTimer.unref();
  }

  /** One replay pass now, or the one already running. */
  #replayNow(): Promise<void> {
    this.#replayRun ??= this.#replay().finally(() => {
      this.#replayRun = undefined;
      this.#scheduleReplay(this.#retryMs);
    });
    return this.#replayRun;
  }

  async #replay(): Promise<void> {
    if (this.#closed) return;
    const before = this.#pending.size;
    const publish = (message: Omit<BusMessage, 'source'>): Promise<void> =>
      this.#bus === undefined ? Promise.resolve() : this.#bus.publish(message);
    try {
      const done = await this.#pending.replay({
        clear: async (cache) => {
          const at = stampMs(this.#stamps.next());
          await this.#bulk(cache, { kind: 'all' }, at, this.#driver.clear(`e:${cache}:`));
          await publish({ cache, kind: 'clear', at });
        },
        deleteKeys: async (cache, keys) => {
          await this.#deleteKeys(keys.map((key) => `e:${cache}:${key}`));
          await publish({ cache, kind: 'delete', keys });
        },
        tags: async (cache, tags, at) => {
          // A cache not bound (yet) in this process, from an outbox file, still gets its tags' times.
          await (this.#caches.get(cache)?.tags ?? this.#tagClock(cache)).invalidate(tags, at);
          await publish({ cache, kind: 'tags', tags, at });
        },
        pattern: async (cache, pattern) => {
          const at = stampMs(this.#stamps.next());
          const deleting = this.#driver.deletePattern(`e:${cache}:${pattern}`);
          await this.#bulk(cache, { kind: 'pattern', pattern }, at, deleting);
          await publish({ cache, kind: 'pattern', pattern, at });
        },
        prefix: async (cache, prefix) => {
          const at = stampMs(this.#stamps.next());
          await this.#bulk(cache, { kind: 'prefix', prefix }, at, this.#driver.clear(`e:${cache}:${prefix}`));
          await publish({ cache, kind: 'namespace-clear', pattern: prefix, at });
        },
      });
      // Debug, not info: the recovery itself was the outage's one info line.
      if (done)
        this.#log.debug('L2 replayed the invalidations missed during the outage', {
          tier: this.#driver.name,
        });
    } finally {
      if (this.#pending.size !== before) await this.#savePending();
    }
  }

  #tagClock(cache: string): TagClock {
    return new TagClock(this.#driver, {
      keyOf: (tag) => `t:{${cache}}:${tag}`,
      cacheTtlMs: this.#tagCacheTtl,
      retentionMs: this.#tagRetention,
      clock: this.#clock,
    });
  }

  #startBus(): void {
    if (this.#busStarted || this.#bus === undefined) return;
    this.#busStarted = true;
    this.#bus
      .start({
        message: (message) => this.#onMessage(message),
        resync: () => this.#onResync(),
        invalid: (problem) => this.#onInvalid(problem),
      })
      .catch((error: unknown) => this.#log.error('bus failed to start', { error: errorMessage(error) }));
  }

  /** A dropped bus message: one warn line, then at most one a minute (with the count since the last). */
  #onInvalid(problem: string): void {
    this.#invalidSinceLog++;
    const now = this.#clock();
    if (this.#invalidLoggedAt !== 0 && now - this.#invalidLoggedAt < INVALID_LOG_EVERY_MS) return;
    this.#log.warn('bus message dropped (malformed, out of bounds or not signed with the bus secret)', {
      tier: this.#driver.name,
      problem,
      dropped: this.#invalidSinceLog,
    });
    this.#invalidLoggedAt = now;
    this.#invalidSinceLog = 0;
  }

  #onMessage(message: BusMessage): void {
    const state = this.#caches.get(message.cache);
    if (state === undefined) return;
    let event: RemoteInvalidation;
    switch (message.kind) {
      case 'set':
      case 'delete':
        event = { kind: message.kind, keys: message.keys ?? [] };
        break;
      case 'tags':
        state.tags.note(message.tags ?? [], message.at ?? this.#clock());
        event = { kind: 'tags', tags: message.tags ?? [] };
        break;
      case 'pattern':
        event = { kind: 'pattern', pattern: message.pattern ?? '' };
        this.#heardBulk(state, { kind: 'pattern', pattern: event.pattern }, message.at ?? this.#clock());
        break;
      case 'namespace-clear':
        event = { kind: 'namespace-clear', prefix: message.pattern ?? '' };
        this.#heardBulk(state, { kind: 'prefix', prefix: event.prefix }, message.at ?? this.#clock());
        break;
      case 'clear':
        event = { kind: 'clear' };
        this.#heardBulk(state, { kind: 'all' }, message.at ?? this.#clock());
        break;
    }
    state.epoch++;
    for (const binding of state.bindings) binding.emitRemote(event);
  }

  #onResync(): void {
    this.#log.warn('bus reconnected; dropping L1 entries that may have missed invalidations', {
      tier: this.#driver.name,
    });
    for (const state of this.#caches.values()) {
      state.tags.forget();
      state.epoch++;
      for (const binding of state.bindings) binding.emitRemote({ kind: 'resync' });
    }
    // Bulk invalidations announced while the bus was deaf: their fences are in L2.
    this.#refreshFences().catch(() => {});
    this.#scheduleReplay(0);
  }

  /** Tells the other bindings of the same cache in this process (the bus skips our own instance). */
  #siblings(state: CacheState, origin: TierBinding | undefined, event: RemoteInvalidation): void {
    if (state.bindings.size < 2) return;
    for (const binding of state.bindings) if (binding !== origin) binding.emitRemote(event);
  }

  #emitError(state: CacheState, error: CacheError, key: string): void {
    for (const binding of state.bindings) binding.emitError(error, key);
  }

  #createLock(setting: boolean | LockSettings | undefined): DistributedLock | undefined {
    if (setting === undefined || setting === false) return undefined;
    if (setting !== true && (setting === null || typeof setting !== 'object')) {
      throw new TypeError('lock must be a boolean or { timeout, pollInterval }');
    }
    const settings = setting === true ? {} : setting;
    return new DistributedLock(this.#driver, {
      timeoutMs: parseDuration(settings.timeout ?? '5s', 'lock.timeout'),
      pollMs: Math.max(1, parseDuration(settings.pollInterval ?? '20ms', 'lock.pollInterval')),
      keyOf: (key) => `l:${key}`,
      clock: this.#clock,
    });
  }
}

/** When the write of an entry began, ms: its stamp's millisecond, or createdAt for unstamped data. */
function sinceOf(entry: TierEntry): number {
  return entry.version === undefined ? entry.createdAt : Math.min(entry.createdAt, stampMs(entry.version));
}

/** The stamp of a fence at `at` ms: the end of that millisecond, so values stamped within it are older. */
function fenceStamp(at: number): number {
  return (Math.floor(at) + 1) * STAMP_PER_MS - 1;
}

/**
 * Checks a decoded entry field by field: finite, non-negative times and string tags. Anything else
 * (another writer's data, a NaN time) throws, so the read is a miss and the next write replaces it.
 */
function toEntry(decoded: unknown): TierEntry {
  const e = decoded as Partial<TierEntry> | null;
  if (e === null || typeof e !== 'object' || !('value' in e)) throw malformed('no value');
  for (const field of ['createdAt', 'staleAt', 'graceUntil'] as const) {
    const t = e[field];
    if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) throw malformed(`${field} is ${String(t)}`);
  }
  if (!isStringArray(e.tags)) throw malformed('tags are not strings');
  if (e.indexTags !== undefined && !isStringArray(e.indexTags)) throw malformed('indexTags are not strings');
  return e as TierEntry;
}

function isStringArray(value: unknown): value is readonly string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function malformed(reason: string): TypeError {
  return new TypeError(`stored value is not a Larder entry (${reason})`);
}

/** One cache's handle on a {@link SharedTier}. No method throws because L2 or the bus is down. */
export class TierBinding {
  readonly #tier: SharedTier;
  readonly #state: CacheState;
  readonly #remote = new Set<(event: RemoteInvalidation) => void>();
  readonly #errors = new Set<(error: CacheError, key: string) => void>();
  #closed = false;

  /** @internal Use {@link SharedTier.bind}. */
  constructor(tier: SharedTier, state: CacheState) {
    this.#tier = tier;
    this.#state = state;
  }

  /** The cache name this binding is for. */
  get cache(): string {
    return this.#state.name;
  }

  /** The tier underneath. */
  get tier(): SharedTier {
    return this.#tier;
  }

  /** A write stamp for now (a load takes one before its L2 read; see {@link TierEntry.version}). */
  stamp(): number {
    return this.#tier.stamp();
  }

  /** The entry in L2, or `undefined` (also when L2 is unreachable, or its tags were invalidated). */
  get(key: string): Promise<TierEntry | undefined> {
    return this.#tier.readEntry(this.#state, key);
  }

  /**
   * Writes the entry to L2 (held until its grace ends) and tells other instances to drop the key.
   * Resolves false when a newer write or invalidation than the entry's `version` is known: not stored.
   */
  set(key: string, entry: TierEntry): Promise<boolean> {
    return this.#tier.writeEntry(this.#state, key, entry, this);
  }

  /** Deletes keys in L2 and on every other instance; resolves how many L2 held. */
  delete(...keys: string[]): Promise<number> {
    return this.#tier.removeKeys(this.#state, keys, this);
  }

  /** Invalidates tags in L2 (O(1) per tag) and on every other instance. */
  invalidateTags(tags: readonly string[]): Promise<void> {
    return this.#tier.invalidateTags(this.#state, tags, this);
  }

  /** Deletes the keys matching a glob (`*`, `?`) in L2 (by SCAN) and on every other instance; resolves L2's count. */
  invalidatePattern(pattern: string): Promise<number> {
    return this.#tier.invalidatePattern(this.#state, pattern, this);
  }

  /** Deletes the keys starting with `prefix` (a namespace) in L2 and on every other instance; resolves L2's count. */
  invalidatePrefix(prefix: string): Promise<number> {
    return this.#tier.invalidatePrefix(this.#state, prefix, this);
  }

  /** Deletes every key of this cache in L2 and on every other instance. */
  clear(): Promise<void> {
    return this.#tier.clearCache(this.#state, this);
  }

  /**
   * Keeps this cache's undelivered invalidations in the file `path` across restarts, and replays what
   * an earlier process left there before the next read is answered.
   */
  keepOutbox(path: string, fs?: SnapshotFs): void {
    this.#tier.keepOutbox(this.#state, path, fs);
  }

  /**
   * Which of `items` (restored from a local snapshot) L2 still holds unchanged and uninvalidated
   * (false where L2 could not be asked).
   */
  verifyRestored(items: readonly RestoredStamp[]): Promise<boolean[]> {
    return this.#tier.verifyRestored(this.#state, items);
  }

  /** Whether {@link lockedLoad} coordinates across instances (`lock: true`). */
  get lockEnabled(): boolean {
    return this.#tier.lockEnabled;
  }

  /**
   * Loads under the distributed lock: one instance runs `load` (its result is written to L2 before
   * the lock is released); the others get that entry from L2 (`loaded: false`).
   */
  lockedLoad(
    key: string,
    load: () => Promise<TierEntry | undefined>,
  ): Promise<{ entry: TierEntry | undefined; loaded: boolean }> {
    return this.#tier.lockedLoad(this.#state, key, load, this);
  }

  /** Listens for invalidations from other instances; returns the unsubscribe function. */
  onRemote(listener: (event: RemoteInvalidation) => void): () => void {
    this.#remote.add(listener);
    return () => this.#remote.delete(listener);
  }

  /**
   * Offers the cache's log sink, read at each line: the tier logs outages there when it has no logger
   * of its own (the first bound cache whose sink has the line's level on gets it, once).
   */
  lendLog(sink: () => LogSink): void {
    if (!this.#closed) this.#tier.lendLog(this, sink);
  }

  /** Listens for errors worth surfacing (serialization failures); returns the unsubscribe function. */
  onError(listener: (error: CacheError, key: string) => void): () => void {
    this.#errors.add(listener);
    return () => this.#errors.delete(listener);
  }

  /** Health of L2 and the bus. */
  health(): { l2: TierHealth; bus?: BusHealth } {
    return this.#tier.health();
  }

  /** Unbinds; the tier closes when its last binding does. Idempotent. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#remote.clear();
    this.#errors.clear();
    return this.#tier.release(this.#state, this);
  }

  /** @internal */
  emitRemote(event: RemoteInvalidation): void {
    for (const listener of this.#remote) {
      try {
        listener(event);
      } catch {
        // A listener's failure must not stop the others from hearing the invalidation.
      }
    }
  }

  /** @internal */
  emitError(error: CacheError, key: string): void {
    for (const listener of this.#errors) {
      try {
        listener(error, key);
      } catch {
        // Same as above.
      }
    }
  }
}
