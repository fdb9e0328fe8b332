// Invalidations that could not reach L2 or the bus during an outage. Without them, a key deleted or
// overwritten while Redis was down would come back from L2 (and from other instances' L1) once Redis
// returns. They are replayed when the tier recovers. Bounded: past `max` items a cache's backlog
// collapses into one "clear this cache", which is always correct, only colder. A backlog can be
// exported as plain data (the outbox file, see outbox.ts) and imported by the next process.

/** One cache's backlog. */
interface Backlog {
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
  readonly #byCache = new Map<string, Backlog>();
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

  /** Replays everything; items whose action fails stay pending. Resolves true when nothing is left. */
  async replay(actions: ReplayActions): Promise<boolean> {
    for (const [cache, backlog] of [...this.#byCache]) {
      if (backlog.clear) {
        if (!(await attempt(() => actions.clear(cache)))) return false;
        this.#byCache.delete(cache);
        this.#count--;
        continue;
      }
      if (backlog.keys.size > 0) {
        const keys = [...backlog.keys];
        if (!(await attempt(() => actions.deleteKeys(cache, keys)))) return false;
        for (const key of keys) if (backlog.keys.delete(key)) this.#count--;
      }
      for (const [tag, at] of [...backlog.tags]) {
        if (!(await attempt(() => actions.tags(cache, [tag], at)))) return false;
        if (backlog.tags.delete(tag)) this.#count--;
      }
      for (const pattern of [...backlog.patterns]) {
        if (!(await attempt(() => actions.pattern(cache, pattern)))) return false;
        if (backlog.patterns.delete(pattern)) this.#count--;
      }
      for (const prefix of [...backlog.prefixes]) {
        if (!(await attempt(() => actions.prefix(cache, prefix)))) return false;
        if (backlog.prefixes.delete(prefix)) this.#count--;
      }
      const empty =
        !backlog.clear &&
        backlog.keys.size + backlog.tags.size + backlog.patterns.size + backlog.prefixes.size === 0;
      if (empty) this.#byCache.delete(cache);
    }
    return this.#count === 0;
  }

  #backlog(cache: string): Backlog {
    let backlog = this.#byCache.get(cache);
    if (backlog === undefined) {
      backlog = { clear: false, keys: new Set(), tags: new Map(), patterns: new Set(), prefixes: new Set() };
      this.#byCache.set(cache, backlog);
    }
    return backlog;
  }

  #add(backlog: Backlog, set: Set<string>, item: string): void {
    if (set.has(item)) return;
    set.add(item);
    this.#count++;
    this.#collapseIfFull(backlog);
  }

  #collapseIfFull(backlog: Backlog): void {
    if (this.#count <= this.#max) return;
    const cache = [...this.#byCache].find(([, b]) => b === backlog)?.[0];
    if (cache !== undefined) this.clear(cache);
  }
}

async function attempt(action: () => Promise<void>): Promise<boolean> {
  try {
    await action();
    return true;
  } catch {
    return false;
  }
}
