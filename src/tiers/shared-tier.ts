// SharedTier: the L2 a cache talks to. It composes a driver (behind the guard: timeout + breaker),
// the codec, the invalidation bus, per-tag invalidation clocks, the optional distributed lock and the
// backlog of invalidations missed during an outage. Each cache binds to it by name; the binding is
// the only object the facade calls, and none of its methods throws because Redis is down.
import type { Logger } from '../observability/logger.js';
import { errorMessage } from '../observability/log-sink.js';
import type { LogSink } from '../observability/log-sink.js';
import { CacheError } from '../errors.js';
import { parseDuration } from '../util/duration.js';
import type { Duration } from '../util/duration.js';
import type { BreakerOptions } from './breaker.js';
import type { BusHealth, BusMessage, InvalidationBus } from './bus.js';
import { createCodec } from './codec.js';
import type { Codec, CompressionOptions } from './codec.js';
import type { TierDriver } from './driver.js';
import { GuardedDriver } from './guarded-driver.js';
import { DistributedLock } from './lock.js';
import { PendingInvalidations } from './pending.js';
import { PublishBatcher } from './publish-batcher.js';
import { assertSerializer, msgpackSerializer, serializationError } from './serializer.js';
import type { Serializer } from './serializer.js';
import { TagClock } from './tag-clock.js';
import { TierLog } from './tier-log.js';
import type { RemoteInvalidation, TierEntry, TierHealth } from './types.js';

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
  /** Upper bound on invalidations kept for replay during an outage (default 10,000). */
  maxPending?: number;
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

/** An L2 tier shared by caches (and, through the store and the bus, by instances). */
export class SharedTier {
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
  #busStarted = false;
  #replayTimer: NodeJS.Timeout | undefined;
  #replaying = false;
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
    const name = options.name ?? options.driver.name;
    this.#driver = new GuardedDriver(options.driver, {
      name,
      timeoutMs: parseDuration(options.timeout ?? '50ms', 'timeout'),
      bulkTimeoutMs: parseDuration(options.bulkTimeout ?? '10s', 'bulkTimeout'),
      breaker: options.breaker,
      log: this.#log,
      clock: this.#clock,
      onRecover: () => this.#scheduleReplay(0),
    });
    this.#retryMs = Math.max(50, this.#driver.breaker.resetAfterMs);
    this.#lock = this.#createLock(options.lock);
    this.#bus = options.bus;
    this.#publisher = options.bus === undefined ? undefined : new PublishBatcher(options.bus);
    this.#publishInOrder = options.publishInOrder ?? false;
    this.instanceId = options.bus?.instanceId ?? 'local';
  }

  /** The guarded driver (for tests and health). */
  get driver(): GuardedDriver {
    return this.#driver;
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
      state = {
        name: cache,
        bindings: new Set(),
        epoch: 0,
        tags: new TagClock(this.#driver, {
          keyOf: (tag) => `t:{${cache}}:${tag}`,
          cacheTtlMs: this.#tagCacheTtl,
          retentionMs: this.#tagRetention,
          clock: this.#clock,
        }),
      };
      this.#caches.set(cache, state);
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

  /** Releases the bus, the driver and the replay timer. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#replayTimer !== undefined) clearTimeout(this.#replayTimer);
    for (const state of this.#caches.values()) state.bindings.clear();
    await this.#bus?.close();
    await this.#driver.disconnect();
  }

  // ---- used by TierBinding -------------------------------------------------------------------

  /** @internal */
  readEntry(state: CacheState, key: string): Promise<TierEntry | undefined> {
    return this.#readEntry(state, key);
  }

  /** @internal Writes an entry; a value that cannot be serialized is reported and its key deleted instead. */
  async writeEntry(state: CacheState, key: string, entry: TierEntry, origin?: TierBinding): Promise<void> {
    const now = this.#clock();
    if (entry.graceUntil !== 0 && entry.graceUntil <= now) return this.removeKeys(state, [key], origin);
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
      return this.removeKeys(state, [key], origin);
    }
    const ttl = entry.graceUntil === 0 ? 0 : entry.graceUntil - now;
    const message: Omit<BusMessage, 'source'> = { cache: state.name, kind: 'set', keys: [key] };
    this.#siblings(state, origin, { kind: 'set', keys: [key] });
    const tags = entry.indexTags ?? entry.tags;
    const written = await this.#mutate(
      () => {
        const stored = this.#driver.set(`e:${state.name}:${key}`, data, ttl);
        const held = state.tags.hold(tags, entry.createdAt, entry.graceUntil);
        return held === undefined ? stored : Promise.all([stored, held]);
      },
      message,
      () => this.#pending.keys(state.name, [key]),
    );
    // A pending delete of this key (from an earlier failed write) would now remove the newer value.
    if (written) this.#pending.settle(state.name, key);
  }

  /** @internal */
  async removeKeys(state: CacheState, keys: readonly string[], origin?: TierBinding): Promise<void> {
    this.#siblings(state, origin, { kind: 'delete', keys });
    const full = keys.map((key) => `e:${state.name}:${key}`);
    const message: Omit<BusMessage, 'source'> = { cache: state.name, kind: 'delete', keys: [...keys] };
    await this.#mutate(
      () => (full.length === 1 ? this.#driver.delete(full[0]!) : this.#driver.deleteMany(full)),
      message,
      () => this.#pending.keys(state.name, keys),
    );
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

  /** @internal */
  async invalidatePattern(state: CacheState, pattern: string, origin?: TierBinding): Promise<void> {
    this.#siblings(state, origin, { kind: 'pattern', pattern });
    const message: Omit<BusMessage, 'source'> = { cache: state.name, kind: 'pattern', pattern };
    await this.#mutate(
      () => this.#driver.deletePattern(`e:${state.name}:${pattern}`),
      message,
      () => this.#pending.pattern(state.name, pattern),
    );
  }

  /** @internal */
  async invalidatePrefix(state: CacheState, prefix: string, origin?: TierBinding): Promise<void> {
    this.#siblings(state, origin, { kind: 'namespace-clear', prefix });
    const message: Omit<BusMessage, 'source'> = {
      cache: state.name,
      kind: 'namespace-clear',
      pattern: prefix,
    };
    await this.#mutate(
      () => this.#driver.clear(`e:${state.name}:${prefix}`),
      message,
      () => this.#pending.prefix(state.name, prefix),
    );
  }

  /** @internal */
  async clearCache(state: CacheState, origin?: TierBinding): Promise<void> {
    this.#siblings(state, origin, { kind: 'clear' });
    const message: Omit<BusMessage, 'source'> = { cache: state.name, kind: 'clear' };
    await this.#mutate(
      () => this.#driver.clear(`e:${state.name}:`),
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
  release(state: CacheState, binding: TierBinding): Promise<void> {
    this.#log.withdraw(binding);
    state.bindings.delete(binding);
    for (const other of this.#caches.values()) if (other.bindings.size > 0) return Promise.resolve();
    return this.close();
  }

  // ---- internals -----------------------------------------------------------------------------

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
      entry = toEntry(this.#codec.decode(raw));
    } catch (error) {
      this.#emitError(state, serializationError(key, 'deserialize', error), key);
    }
    const now = this.#clock();
    if (entry === undefined || (entry.graceUntil !== 0 && entry.graceUntil <= now)) {
      this.#driver.delete(full).catch(() => {});
      return undefined;
    }
    const tags = entry.indexTags ?? entry.tags;
    if (tags.length > 0) {
      let invalidatedAt: number;
      try {
        invalidatedAt = await state.tags.latest(tags);
      } catch {
        return undefined; // Cannot prove the entry is still valid.
      }
      if (invalidatedAt >= entry.createdAt) return undefined;
    }
    return entry;
  }

  /** Runs an L2 change and publishes it; whatever fails is kept for replay instead of thrown. */
  async #mutate(
    change: () => Promise<unknown>,
    message: Omit<BusMessage, 'source'>,
    remember: () => void,
  ): Promise<boolean> {
    const bus = this.#publisher;
    try {
      if (bus === undefined) await change();
      else if (this.#publishInOrder) {
        // Same connection, same order: the PUBLISH reaches Redis after the write, in the same round trip.
        const [changed, published] = await Promise.allSettled([change(), bus.publish(message)]);
        if (changed.status === 'rejected') throw changed.reason;
        if (published.status === 'rejected') throw published.reason;
      } else {
        await change();
        await bus.publish(message);
      }
      return true;
    } catch {
      remember();
      this.#scheduleReplay(this.#retryMs);
      return false;
    }
  }

  #scheduleReplay(delayMs: number): void {
    if (this.#closed || this.#pending.size === 0) return;
    if (this.#replayTimer !== undefined) {
      if (delayMs > 0) return;
      clearTimeout(this.#replayTimer);
    }
    this.#replayTimer = setTimeout(() => {
      this.#replayTimer = undefined;
      void this.#replay();
    }, delayMs);
    this.#replayTimer.unref();
  }

  async #replay(): Promise<void> {
    if (this.#replaying || this.#closed) return;
    this.#replaying = true;
    const publish = (message: Omit<BusMessage, 'source'>): Promise<void> =>
      this.#bus === undefined ? Promise.resolve() : this.#bus.publish(message);
    try {
      const done = await this.#pending.replay({
        clear: async (cache) => {
          await this.#driver.clear(`e:${cache}:`);
          await publish({ cache, kind: 'clear' });
        },
        deleteKeys: async (cache, keys) => {
          await this.#driver.deleteMany(keys.map((key) => `e:${cache}:${key}`));
          await publish({ cache, kind: 'delete', keys });
        },
        tags: async (cache, tags, at) => {
          const state = this.#caches.get(cache);
          if (state !== undefined) await state.tags.invalidate(tags, at);
          await publish({ cache, kind: 'tags', tags, at });
        },
        pattern: async (cache, pattern) => {
          await this.#driver.deletePattern(`e:${cache}:${pattern}`);
          await publish({ cache, kind: 'pattern', pattern });
        },
        prefix: async (cache, prefix) => {
          await this.#driver.clear(`e:${cache}:${prefix}`);
          await publish({ cache, kind: 'namespace-clear', pattern: prefix });
        },
      });
      // Debug, not info: the recovery itself was the outage's one info line.
      if (done)
        this.#log.debug('L2 replayed the invalidations missed during the outage', {
          tier: this.#driver.name,
        });
    } finally {
      this.#replaying = false;
      this.#scheduleReplay(this.#retryMs);
    }
  }

  #startBus(): void {
    if (this.#busStarted || this.#bus === undefined) return;
    this.#busStarted = true;
    this.#bus
      .start({
        message: (message) => this.#onMessage(message),
        resync: () => this.#onResync(),
      })
      .catch((error: unknown) => this.#log.error('bus failed to start', { error: errorMessage(error) }));
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
        break;
      case 'namespace-clear':
        event = { kind: 'namespace-clear', prefix: message.pattern ?? '' };
        break;
      case 'clear':
        event = { kind: 'clear' };
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

/** Checks the shape of a decoded entry; throws on anything else. */
function toEntry(decoded: unknown): TierEntry {
  const e = decoded as Partial<TierEntry> | null;
  if (
    e === null ||
    typeof e !== 'object' ||
    typeof e.createdAt !== 'number' ||
    typeof e.staleAt !== 'number' ||
    typeof e.graceUntil !== 'number' ||
    !Array.isArray(e.tags) ||
    (e.indexTags !== undefined && !Array.isArray(e.indexTags))
  ) {
    throw new TypeError('stored value is not a Larder entry');
  }
  return e as TierEntry;
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

  /** The entry in L2, or `undefined` (also when L2 is unreachable, or its tags were invalidated). */
  get(key: string): Promise<TierEntry | undefined> {
    return this.#tier.readEntry(this.#state, key);
  }

  /** Writes the entry to L2 (held until its grace ends) and tells other instances to drop the key. */
  set(key: string, entry: TierEntry): Promise<void> {
    return this.#tier.writeEntry(this.#state, key, entry, this);
  }

  /** Deletes keys in L2 and on every other instance. */
  delete(...keys: string[]): Promise<void> {
    return this.#tier.removeKeys(this.#state, keys, this);
  }

  /** Invalidates tags in L2 (O(1) per tag) and on every other instance. */
  invalidateTags(tags: readonly string[]): Promise<void> {
    return this.#tier.invalidateTags(this.#state, tags, this);
  }

  /** Deletes the keys matching a glob (`*`, `?`) in L2 (by SCAN) and on every other instance. */
  invalidatePattern(pattern: string): Promise<void> {
    return this.#tier.invalidatePattern(this.#state, pattern, this);
  }

  /** Deletes the keys starting with `prefix` (a namespace) in L2 and on every other instance. */
  invalidatePrefix(prefix: string): Promise<void> {
    return this.#tier.invalidatePrefix(this.#state, prefix, this);
  }

  /** Deletes every key of this cache in L2 and on every other instance. */
  clear(): Promise<void> {
    return this.#tier.clearCache(this.#state, this);
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
