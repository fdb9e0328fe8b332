// createCacheManager: a set of named caches built from shared defaults plus per-cache options (seed 004's
// url/user/analytics/session/general caches, seed 000's resource kinds), with aggregated stats, health,
// clear and close. Unknown names are an error: a typo must not silently create an unbounded new cache.
import { summarizeLatency } from '../observability/latency.js';
import { aggregateStats } from './stats.js';
import { LogSink } from '../observability/log-sink.js';
import type { CacheView } from './cache.js';
import {
  restoreCaches,
  snapshotCaches,
  type Dumpable,
  type RestoreResult,
} from '../persistence/multi-cache.js';
import { persistCaches, type PersistedCaches } from './snapshots.js';
import { resolvePersist, type ResolvedPersist, type SnapshotSchedule } from '../persistence/schedule.js';
import type { SnapshotWriteResult } from '../persistence/snapshot.js';
import { buildCache } from './create-cache.js';
import { assertKnownOptions, optionNames } from '../util/validate.js';
import type { CacheKey } from '../engine/types.js';
import type {
  Cache,
  CacheHealth,
  CacheManager,
  CacheManagerOptions,
  CacheOptions,
  CacheStats,
  ManagerStats,
} from './types.js';
import { putOwn } from '../util/records.js';

/** Whether a value is a cache manager (what `createCacheManager` returns), told apart from a cache or a record. */
export function isCacheManager(value: unknown): value is CacheManager {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as CacheManager;
  return (
    typeof m.names === 'function' &&
    typeof m.get === 'function' &&
    typeof m.stats === 'function' &&
    typeof m.close === 'function'
  );
}

function checkName(name: unknown, what: string): asserts name is string {
  if (typeof name !== 'string' || name === '') throw new TypeError(`${what} must be a non-empty string`);
}

/** The manager behind {@link createCacheManager}. */
class NamedCaches implements CacheManager {
  readonly #caches = new Map<string, CacheView<unknown>>();
  readonly #options: CacheManagerOptions;
  readonly #log: LogSink;
  readonly #persist: ResolvedPersist | undefined;
  /** Set once close() has taken the shutdown snapshot: from then on the caches are being emptied. */
  #closed = false;
  readonly #schedule: SnapshotSchedule | undefined;
  /** The persist wiring: sections of the snapshot read at start that wait for a cache made by create(). */
  readonly #persisted: PersistedCaches | undefined;
  /** Settles when `persist.warm` has warmed every cache (absent without it); never rejects. */
  readonly ready: Promise<void> | undefined;

  constructor(options: CacheManagerOptions) {
    this.#options = options;
    if (
      options.defaults !== undefined &&
      (typeof options.defaults !== 'object' || options.defaults === null)
    ) {
      throw new TypeError('defaults must be an object of cache options');
    }
    if (options.caches !== undefined && (typeof options.caches !== 'object' || options.caches === null)) {
      throw new TypeError('caches must be an object mapping names to cache options');
    }
    // Checked once here so a bad logger is reported as the manager's option, not a cache's.
    this.#log = new LogSink(options.logger);
    this.#persist = resolvePersist(options.persist);
    if (options.defaults?.persist !== undefined) {
      // Every cache would write the same file; one manager-wide snapshot holds them all.
      throw new TypeError('defaults.persist is not allowed: give persist to the manager itself');
    }
    try {
      for (const [name, cacheOptions] of Object.entries(options.caches ?? {}))
        this.create(name, cacheOptions);
    } catch (error) {
      // Leave nothing half-built: caches made before the bad one are closed.
      for (const cache of this.#caches.values()) void cache.close();
      throw error;
    }
    if (this.#persist !== undefined) {
      // Restored before the manager is returned, so before the first request; warming runs after.
      const persisted = persistCaches(
        this.#persist,
        () => this.#caches.values(),
        (name) => this.#caches.get(name),
        options.clock ?? Date.now,
        () => this.#log,
        { carry: true },
      );
      this.#persisted = persisted;
      this.#schedule = persisted.schedule;
      this.ready = persisted.warmed?.then(() => undefined);
    }
  }

  get<V = unknown>(name: string): Cache<V> {
    const cache = this.#caches.get(name);
    if (cache === undefined) {
      const known = [...this.#caches.keys()].join(', ') || '(none)';
      throw new RangeError(
        `unknown cache ${JSON.stringify(name)}; configured caches: ${known} (add one with create())`,
      );
    }
    return cache as unknown as Cache<V>;
  }

  has(name: string): boolean {
    return this.#caches.has(name);
  }

  names(): string[] {
    return [...this.#caches.keys()];
  }

  create<V = unknown>(name: string, options: CacheOptions<V> = {}): Cache<V> {
    checkName(name, 'cache name');
    if (this.#caches.has(name)) throw new RangeError(`a cache named ${JSON.stringify(name)} already exists`);
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`options of cache ${JSON.stringify(name)} must be an object`);
    }
    const m = this.#options;
    const merged: CacheOptions<V> = { ...(m.defaults as CacheOptions<V> | undefined), ...options, name };
    if (merged.logger === undefined && m.logger !== undefined) merged.logger = m.logger;
    if (merged.clock === undefined && m.clock !== undefined) merged.clock = m.clock;
    if (merged.l2 === undefined && m.l2 !== undefined) merged.l2 = m.l2;
    let cache: CacheView<V>;
    try {
      cache = buildCache<V>(merged);
    } catch (error) {
      if (error instanceof Error) error.message = `cache ${JSON.stringify(name)}: ${error.message}`;
      throw error;
    }
    this.#caches.set(name, cache as CacheView<unknown>);
    // Made after start: its section of the snapshot read then (kept by every write since) is restored now.
    this.#persisted?.adopt(cache as CacheView<unknown>);
    return cache;
  }

  stats(): ManagerStats {
    const caches: Record<string, CacheStats> = {};
    for (const [name, cache] of this.#caches) putOwn(caches, name, cache.stats());
    const latency = summarizeLatency([...this.#caches.values()].map((c) => c.latency));
    return { overall: aggregateStats(Object.values(caches), latency), caches };
  }

  health(): CacheHealth {
    for (const [name, cache] of this.#caches) {
      const health = cache.health();
      if (health.status !== 'ok') return { ...health, reason: `${name}: ${health.reason ?? 'degraded'}` };
    }
    return { status: 'ok' };
  }

  async clear(name?: string): Promise<void> {
    if (name !== undefined) return this.get(name).clear();
    await Promise.all([...this.#caches.values()].map((c) => c.clear()));
  }

  async invalidateTags(tags: readonly string[]): Promise<number> {
    if (!Array.isArray(tags)) throw new TypeError('invalidateTags(tags) must be an array of strings');
    const counts = await Promise.all([...this.#caches.values()].map((c) => c.invalidateTags(tags)));
    return counts.reduce((a, b) => a + b, 0);
  }

  async delete(key: CacheKey): Promise<number> {
    const removed = await Promise.all([...this.#caches.values()].map((c) => c.delete(key)));
    return removed.filter(Boolean).length;
  }

  async close(): Promise<void> {
    // The shutdown snapshot dumps every cache now, and they close at once: a write after close() began
    // is refused, never acknowledged and then missing from the snapshot the next start restores.
    const stopped = this.#schedule?.stop();
    this.#closed = true;
    await Promise.all([...this.#caches.values()].map((c) => c.close()));
    await stopped;
  }

  async snapshot(path?: string): Promise<SnapshotWriteResult> {
    return this.backup(this.#snapshotPath(path, 'snapshot'));
  }

  async backup(path: string): Promise<SnapshotWriteResult> {
    if (typeof path !== 'string' || path === '')
      throw new TypeError('backup(path): path must be a non-empty string');
    return snapshotCaches(path, this.#openCaches(), this.#io());
  }

  /**
   * The caches, as a snapshot dumps them when its turn comes (snapshots of one file run in order):
   * once close() has taken the shutdown snapshot the caches are emptied, and writing them would
   * replace that snapshot with an empty file, so the snapshot is refused instead.
   */
  *#openCaches(): Generator<Dumpable> {
    if (this.#closed)
      throw new TypeError(
        'snapshot/backup: the manager is closed (close() took the shutdown snapshot); its caches are empty',
      );
    // With persist, also the sections read at start whose cache has not been created yet: written
    // again, never dropped.
    yield* this.#persisted?.dumpables() ?? this.#caches.values();
  }

  async restore(path?: string): Promise<RestoreResult> {
    return restoreCaches(this.#snapshotPath(path, 'restore'), (name) => this.#caches.get(name), this.#io());
  }

  #snapshotPath(path: string | undefined, method: string): string {
    const chosen = path ?? this.#persist?.path;
    if (typeof chosen !== 'string' || chosen === '') {
      throw new TypeError(`${method}(path): path must be a non-empty string (no persist.path is configured)`);
    }
    return chosen;
  }

  #io() {
    const p = this.#persist;
    return { fs: p?.fs, serializer: p?.serializer, clock: this.#options.clock, log: this.#log };
  }
}

const MANAGER_OPTIONS = optionNames<CacheManagerOptions>({
  defaults: true,
  caches: true,
  l2: true,
  logger: true,
  clock: true,
  persist: true,
});

/** Creates a manager of named caches from shared defaults and per-cache options. */
export function createCacheManager(options: CacheManagerOptions = {}): CacheManager {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('createCacheManager options must be an object');
  assertKnownOptions(options, MANAGER_OPTIONS, 'createCacheManager');
  try {
    return new NamedCaches(options);
  } catch (error) {
    // As createCache: an inline `l2: redisTier(…)` no cache took must not keep the process alive.
    if (typeof options.l2?.abandon === 'function') options.l2.abandon();
    throw error;
  }
}
