// Invalidations that could not reach L2 or the bus during an outage. Without them, a key deleted or
// overwritten while Redis was down would come back from L2 (and from other instances' L1) once Redis
// returns. They are replayed when the tier recovers. Bounded: past `max` items a cache's backlog
// collapses into one "clear this cache", which is always correct, only colder. A backlog can be
// exported as plain data (the outbox file, see outbox.ts) and imported by the next process.
// PendingInvalidations is the data; Backlog adds the replay schedule and the outbox files around it.
import { errorMessage } from '../observability/log-sink.js';
import type { SnapshotFs } from '../util/atomic-write.js';
import { withTimeout } from './guarded-driver.js';
import { OutboxFiles } from './outbox.js';
import type { TierLog } from './tier-log.js';

/** One cache's backlog. */
interface CacheBacklog {
  clear: boolean;
  keys: Set<string>;
  tags: Map<string, number>;
  patterns: Set<string>;
  prefixes: Set<string>;
}

/** One cache's backlog as plain data (JSON-safe): what the outbox file holds and close() logs when dropping. */
export interface PendingRecord {
  clear: boolean;
  keys: string[];
  /** `[tag, invalidatedAt]` pairs. */
  tags: Array<[string, number]>;
  patterns: string[];
  prefixes: string[];
}

/** What the tier does to replay one backlog item; each call may throw (the item then stays). */
export interface ReplayActions {
  clear(cache: string): Promise<void>;
  deleteKeys(cache: string, keys: string[]): Promise<void>;
  tags(cache: string, tags: string[], at: number): Promise<void>;
  pattern(cache: string, pattern: string): Promise<void>;
  prefix(cache: string, prefix: string): Promise<void>;
}

/** The backlog of missed invalidations of every cache bound to a tier. */
export class PendingInvalidations {
  readonly #max: number;
  readonly #byCache = new Map<string, CacheBacklog>();
  /** Per cache, per item: passes in which it failed while other items were delivered. */
  readonly #strikes = new Map<string, Map<string, number>>();
  #count = 0;

  constructor(max = 10_000) {
    this.#max = max;
  }

  /** Number of pending items across caches. */
  get size(): number {
    return this.#count;
  }

  /** Records keys to delete. */
  keys(cache: string, keys: readonly string[]): void {
    const backlog = this.#backlog(cache);
    if (backlog.clear) return;
    for (const key of keys) this.#add(backlog, backlog.keys, key);
  }

  /** Drops a pending delete of `key`: a later successful write made it obsolete. True when one was pending. */
  settle(cache: string, key: string): boolean {
    const backlog = this.#byCache.get(cache);
    if (backlog === undefined || !backlog.keys.delete(key)) return false;
    this.#count--;
    return true;
  }

  /** Records a tag invalidation at `at`. */
  tags(cache: string, tags: readonly string[], at: number): void {
    const backlog = this.#backlog(cache);
    if (backlog.clear) return;
    for (const tag of tags) {
      if (!backlog.tags.has(tag)) this.#count++;
      backlog.tags.set(tag, Math.max(at, backlog.tags.get(tag) ?? 0));
    }
    this.#collapseIfFull(backlog);
  }

  /** Records a pattern invalidation. */
  pattern(cache: string, pattern: string): void {
    const backlog = this.#backlog(cache);
    if (!backlog.clear) this.#add(backlog, backlog.patterns, pattern);
  }

  /** Records a namespace (prefix) clear. */
  prefix(cache: string, prefix: string): void {
    const backlog = this.#backlog(cache);
    if (!backlog.clear) this.#add(backlog, backlog.prefixes, prefix);
  }

  /** Records a full clear of a cache (replaces everything else pending for it). */
  clear(cache: string): void {
    const backlog = this.#backlog(cache);
    this.#strikes.delete(cache);
    this.#count -= backlog.keys.size + backlog.tags.size + backlog.patterns.size + backlog.prefixes.size;
    backlog.keys.clear();
    backlog.tags.clear();
    backlog.patterns.clear();
    backlog.prefixes.clear();
    if (!backlog.clear) this.#count++;
    backlog.clear = true;
  }

  /** Names of the caches with something pending. */
  caches(): string[] {
    return [...this.#byCache.keys()];
  }

  /**
   * Whether a pending invalidation may concern an L2 entry of `cache` under `key` written at
   * `createdAt` (so L2 must not be trusted for it until the backlog is replayed). Conservative for
   * patterns: any pending pattern covers every key of its cache.
   */
  covers(cache: string, key: string, createdAt: number, tags: readonly string[]): boolean {
    if (this.#count === 0) return false;
    const b = this.#byCache.get(cache);
    if (b === undefined) return false;
    if (b.clear || b.patterns.size > 0 || b.keys.has(key)) return true;
    for (const prefix of b.prefixes) if (key.startsWith(prefix)) return true;
    for (const tag of tags) {
      const at = b.tags.get(tag);
      if (at !== undefined && at >= createdAt) return true;
    }
    return false;
  }

  /** The backlog of `cache` as plain data, or undefined when nothing is pending for it. */
  export(cache: string): PendingRecord | undefined {
    const b = this.#byCache.get(cache);
    if (b === undefined) return undefined;
    const record: PendingRecord = {
      clear: b.clear,
      keys: [...b.keys],
      tags: [...b.tags],
      patterns: [...b.patterns],
      prefixes: [...b.prefixes],
    };
    const empty =
      !record.clear &&
      record.keys.length + record.tags.length + record.patterns.length + record.prefixes.length === 0;
    return empty ? undefined : record;
  }

  /** Adds a backlog exported earlier (by this or a previous process) to what is pending for `cache`. */
  import(cache: string, record: PendingRecord): void {
    if (record.clear) return this.clear(cache);
    this.keys(cache, record.keys);
    for (const [tag, at] of record.tags) this.tags(cache, [tag], at);
    for (const pattern of record.patterns) this.pattern(cache, pattern);
    for (const prefix of record.prefixes) this.prefix(cache, prefix);
  }

  /**
   * Replays everything; items whose action fails stay pending, and the pass goes on past them (one
   * item the store keeps refusing must not hold back the others). A batch of keys that fails is
   * retried key by key. An item that fails in {@link REPLAY_STRIKES} passes in which other items were
   * delivered fails for its own reasons: it is widened to a clear of its cache (always correct, only
   * colder; `onWiden` is told), never dropped. Resolves true when nothing is left.
   */
  async replay(actions: ReplayActions, onWiden?: (cache: string, item: string) => void): Promise<boolean> {
    let delivered = false;
    const failed: Array<[cache: string, item: string]> = [];
    /** Runs one item's action; `done` removes it from the backlog once delivered. */
    const run = async (cache: string, item: string, action: () => Promise<void>, done: () => void) => {
      if (await attempt(action)) {
        done();
        this.#strikes.get(cache)?.delete(item);
        delivered = true;
        return true;
      }
      failed.push([cache, item]);
      return false;
    };
    for (const [cache, backlog] of [...this.#byCache]) {
      if (backlog.clear) {
        await run(
          cache,
          'clear',
          () => actions.clear(cache),
          () => {
            this.#byCache.delete(cache);
            this.#count--;
          },
        );
        continue;
      }
      // Each item leaves its backlog once delivered.
      const remove = (items: { delete(item: string): boolean }, item: string) => () => {
        if (items.delete(item)) this.#count--;
      };
      if (backlog.keys.size > 0) {
        const keys = [...backlog.keys];
        const removeKey = (key: string) => remove(backlog.keys, key);
        if (keys.length === 1)
          await run(cache, `key ${keys[0]!}`, () => actions.deleteKeys(cache, keys), removeKey(keys[0]!));
        else if (await attempt(() => actions.deleteKeys(cache, keys))) {
          for (const key of keys) removeKey(key)();
          delivered = true;
        } else {
          // One by one, to find the key that fails; three failures in a row with nothing delivered
          // yet mean the store itself is failing, and the rest waits for the next pass.
          let streak = 0;
          for (const key of keys) {
            if (await run(cache, `key ${key}`, () => actions.deleteKeys(cache, [key]), removeKey(key)))
              streak = 0;
            else if (++streak >= 3 && !delivered) break;
          }
        }
      }
      for (const [tag, at] of [...backlog.tags]) {
        await run(cache, `tag ${tag}`, () => actions.tags(cache, [tag], at), remove(backlog.tags, tag));
      }
      for (const [kind, items] of [
        ['pattern', backlog.patterns],
        ['prefix', backlog.prefixes],
      ] as const) {
        for (const item of [...items]) {
          await run(cache, `${kind} ${item}`, () => actions[kind](cache, item), remove(items, item));
        }
      }
      this.#dropIfEmpty(cache, backlog);
    }
    // Failures in a pass where the store took other items count against the item itself.
    if (delivered) {
      for (const [cache, item] of failed) {
        let counts = this.#strikes.get(cache);
        if (counts === undefined) this.#strikes.set(cache, (counts = new Map()));
        const strikes = (counts.get(item) ?? 0) + 1;
        if (strikes < REPLAY_STRIKES || item === 'clear') {
          counts.set(item, strikes);
          continue;
        }
        if (this.#byCache.get(cache)?.clear === true) continue;
        this.clear(cache);
        onWiden?.(cache, item);
      }
    }
    return this.#count === 0;
  }

  #dropIfEmpty(cache: string, backlog: CacheBacklog): void {
    const empty =
      !backlog.clear &&
      backlog.keys.size + backlog.tags.size + backlog.patterns.size + backlog.prefixes.size === 0;
    if (!empty || this.#byCache.get(cache) !== backlog) return;
    this.#byCache.delete(cache);
    this.#strikes.delete(cache);
  }

  #backlog(cache: string): CacheBacklog {
    let backlog = this.#byCache.get(cache);
    if (backlog === undefined) {
      backlog = { clear: false, keys: new Set(), tags: new Map(), patterns: new Set(), prefixes: new Set() };
      this.#byCache.set(cache, backlog);
    }
    return backlog;
  }

  #add(backlog: CacheBacklog, set: Set<string>, item: string): void {
    if (set.has(item)) return;
    set.add(item);
    this.#count++;
    this.#collapseIfFull(backlog);
  }

  #collapseIfFull(backlog: CacheBacklog): void {
    if (this.#count <= this.#max) return;
    const cache = [...this.#byCache].find(([, b]) => b === backlog)?.[0];
    if (cache !== undefined) this.clear(cache);
  }
}

/**
 * Passes in which one backlog item fails while others are delivered before it is widened to a clear of
 * its cache: a store that answers other items is up, so that item fails for its own reasons.
 */
export const REPLAY_STRIKES = 3;

async function attempt(action: () => Promise<void>): Promise<boolean> {
  try {
    await action();
    return true;
  } catch {
    return false;
  }
}

/** Options of {@link Backlog}. */
export interface BacklogOptions {
  /** Upper bound on pending items (see PendingInvalidations). */
  max: number;
  /** Delay before another replay attempt after a failed one, ms. */
  retryMs: number;
  log: TierLog;
  /** Name of the tier, for log lines. */
  tier: string;
  /** How each kind is replayed (built from the invalidation table, invalidations.ts). */
  actions: ReplayActions;
}

/** How long close() tries to deliver pending invalidations before persisting or dropping them, ms. */
const CLOSE_FLUSH_MS = 1000;

/** The tier's backlog with its replay schedule and its outbox files. */
export class Backlog {
  /** What is pending, per cache. */
  readonly pending: PendingInvalidations;
  readonly #options: BacklogOptions;
  readonly #outbox = new OutboxFiles();
  /** Set while a restored outbox has not been replayed once: reads wait for that attempt. */
  #ready: Promise<void> | undefined;
  #run: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: BacklogOptions) {
    this.#options = options;
    this.pending = new PendingInvalidations(options.max);
  }

  /** Number of pending items across caches. */
  get size(): number {
    return this.pending.size;
  }

  /** Resolves once a restored outbox had its first replay attempt (undefined when none is due). */
  get ready(): Promise<void> | undefined {
    return this.#ready;
  }

  /** Whether `cache`'s backlog is persisted to a file. */
  hasOutbox(cache: string): boolean {
    return this.#outbox.pathOf(cache) !== undefined;
  }

  /** After a failed change was remembered for `cache`: retry later, and persist it before resolving. */
  async failed(cache: string): Promise<void> {
    this.schedule(this.#options.retryMs);
    await this.save([cache]);
  }

  /**
   * Persists `cache`'s backlog at `path` and replays what an earlier process left there; until that
   * first replay attempt ends (applied, or L2 known unreachable), reads wait. An unreadable file is
   * logged and left in place (it is overwritten by the next backlog change).
   */
  attachOutbox(cache: string, path: string, fs?: SnapshotFs): void {
    const log = this.#options.log;
    let content;
    try {
      content = this.#outbox.attach(cache, path, fs);
    } catch (error) {
      log.error('L2 outbox could not be read; its invalidations are not replayed', {
        path,
        error: errorMessage(error),
      });
      return;
    }
    for (const [name, record] of content) this.pending.import(name, record);
    if (content.size === 0 || this.pending.size === 0) return;
    log.info('L2 replays invalidations an earlier process could not deliver', {
      path,
      pending: this.pending.size,
    });
    const ready = this.replayNow().finally(() => {
      if (this.#ready === ready) this.#ready = undefined;
    });
    this.#ready = ready;
  }

  /** Writes the outbox files of `caches` (all when omitted); a failure is logged, never thrown. */
  async save(caches?: string[]): Promise<void> {
    if (!this.#outbox.enabled) return;
    try {
      await this.#outbox.save(this.pending, caches);
    } catch (error) {
      this.#options.log.error('L2 outbox could not be written; pending invalidations live in memory only', {
        error: errorMessage(error),
      });
    }
  }

  /** A replay pass in `delayMs` (0: now, replacing a later one); nothing when nothing is pending. */
  schedule(delayMs: number): void {
    if (this.#stopped || this.pending.size === 0) return;
    if (this.#timer !== undefined) {
      if (delayMs > 0) return;
      clearTimeout(this.#timer);
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.replayNow();
    }, delayMs);
    this.#timer.unref();
  }

  /** One replay pass now, or the one already running. */
  replayNow(): Promise<void> {
    this.#run ??= this.#replay().finally(() => {
      this.#run = undefined;
      this.schedule(this.#options.retryMs);
    });
    return this.#run;
  }

  /**
   * At close: one bounded last replay attempt; then no more replays, and what is still pending goes
   * to the outbox file of its cache, or is logged at error as dropped.
   */
  async flush(): Promise<void> {
    if (this.pending.size > 0)
      await withTimeout(this.replayNow(), CLOSE_FLUSH_MS, 'final replay').catch(() => {});
    this.stop();
  }

  /** No replay from now on. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }

  /** At close, after {@link stop}: what is still pending goes to its outbox file, or is logged as dropped. */
  async keepOrDrop(): Promise<void> {
    if (this.pending.size === 0) return;
    await this.save();
    const dropped: Record<string, PendingRecord> = {};
    let count = 0;
    for (const cache of this.pending.caches()) {
      if (this.hasOutbox(cache)) continue;
      const record = this.pending.export(cache);
      if (record === undefined) continue;
      dropped[cache] = record;
      count += (record.clear ? 1 : 0) + record.keys.length + record.tags.length;
      count += record.patterns.length + record.prefixes.length;
    }
    if (count === 0) return;
    this.#options.log.error(
      'L2 closed with invalidations it could not deliver; they are dropped (no outbox)',
      {
        tier: this.#options.tier,
        count,
        dropped,
      },
    );
  }

  async #replay(): Promise<void> {
    if (this.#stopped) return;
    const before = this.pending.size;
    try {
      // Debug, not info: the recovery itself was the outage's one info line.
      const widen = (cache: string, item: string): void =>
        this.#options.log.warn(
          'L2 kept refusing one pending invalidation while it took the others; widened to a clear of its cache',
          { tier: this.#options.tier, cache, item },
        );
      if (await this.pending.replay(this.#options.actions, widen))
        this.#options.log.debug('L2 replayed the invalidations missed during the outage', {
          tier: this.#options.tier,
        });
    } finally {
      if (this.pending.size !== before) await this.save();
    }
  }
}
