// The write fence: what keeps a loaded value (or any stored value) from outliving an invalidation that
// was issued after it began. Key writes are fenced in the store itself — deletes leave a tombstone and
// every write is a compare-by-stamp (see stamp.ts) — but a bulk invalidation (pattern, namespace,
// clear) cannot leave tombstones on keys that do not exist yet. So each cache also keeps:
//
// - bulk fences: "everything matching M with a stamp before T is gone", learnt from its own bulk
//   invalidations, from bus messages (which carry T) and, after a bus resync, from the store's fence
//   key. A store whose stamp falls at or before a known fence it matches is skipped.
// - recent stores: the keys this instance wrote in the last `retentionMs` (at most `maxRecent`). A
//   store that left before the fence was heard of may have landed after the bulk delete ran; when the
//   fence arrives, the keys it reaches get a tombstone stamped T, which removes exactly the values that
//   are older than T and spares newer ones. Other instances are therefore bounded by the bus latency.
//
// Loads older than `retentionMs` (the tombstones' life; default 2 min, above the 60 s hard timeout) are
// not stored at all: no tombstone vouches for them any more.
import { globToRegExp } from '../util/glob.js';
import { stampMs } from './stamp.js';

/** Options of {@link WriteFence}. */
export interface WriteFenceOptions {
  /** How long tombstones and fences are kept, ms. */
  retentionMs: number;
  /** Upper bound on recent stores remembered per tier (default 4096). */
  maxRecent?: number;
  /** Upper bound on bulk fences remembered per cache (default 64; the oldest widen into one "all"). */
  maxFences?: number;
  clock: () => number;
}

/** Which keys a bulk invalidation reached. */
export type BulkScope =
  { kind: 'all' } | { kind: 'prefix'; prefix: string } | { kind: 'pattern'; pattern: string };

interface Fence {
  at: number;
  matches: (key: string) => boolean;
}

interface Recent {
  cache: string;
  key: string;
  /** Stamp of the stored value. */
  stamp: number;
  storedAt: number;
  /** Number of its latest remember: older queue entries for it are stale (-1 once forgotten). */
  seq: number;
}

const everything = (): boolean => true;

/** Bulk fences and recent stores of every cache of one tier. */
export class WriteFence {
  readonly #options: WriteFenceOptions;
  readonly #maxRecent: number;
  readonly #maxFences: number;
  readonly #fences = new Map<string, Fence[]>();
  /** Recent stores by cache, then key. */
  readonly #recent = new Map<string, Map<string, Recent>>();
  /** How many recent stores are held, over every cache. */
  #recentCount = 0;
  /**
   * The order of remembers, oldest first, from `#head` on (a record and the seq it had then): the
   * oldest store is evicted first. A key stored again is queued anew and its older entry goes stale
   * (its seq no longer matches), so a rewrite is O(1) instead of a Map delete and re-insert, whose
   * holes every later scan from the front would skip. Parallel arrays: no object per remember.
   */
  #queue: Recent[] = [];
  #queueSeqs: number[] = [];
  #head = 0;
  #seq = 0;
  /** The record of the last store evicted, reused by the next new key (every write passes here). */
  #spare: Recent | undefined;

  constructor(options: WriteFenceOptions) {
    this.#options = options;
    this.#maxRecent = options.maxRecent ?? 4096;
    this.#maxFences = options.maxFences ?? 64;
  }

  /** How long tombstones and fences are kept, ms. */
  get retentionMs(): number {
    return this.#options.retentionMs;
  }

  /** Whether a value of `key` stamped `stamp` may still be stored (no known invalidation came after it). */
  admits(cache: string, key: string, stamp: number): boolean {
    const ms = stampMs(stamp);
    if (this.#options.clock() - ms >= this.#options.retentionMs) return false;
    for (const fence of this.#fences.get(cache) ?? []) if (fence.at >= ms && fence.matches(key)) return false;
    return true;
  }

  /** Remembers a store about to be sent, so a fence heard later can undo it. */
  remember(cache: string, key: string, stamp: number): void {
    let byKey = this.#recent.get(cache);
    if (byKey === undefined) this.#recent.set(cache, (byKey = new Map()));
    const storedAt = this.#options.clock();
    const seq = ++this.#seq;
    let recent = byKey.get(key);
    if (recent === undefined) {
      recent = this.#spare ?? { cache, key, stamp, storedAt, seq };
      this.#spare = undefined;
      recent.cache = cache;
      recent.key = key;
      byKey.set(key, recent);
      this.#recentCount++;
    }
    // Now the newest (a hot key is rewritten often, its record reused).
    recent.stamp = stamp;
    recent.storedAt = storedAt;
    recent.seq = seq;
    this.#queue.push(recent);
    this.#queueSeqs.push(seq);
    if (this.#recentCount > this.#maxRecent) this.#evictOldest();
    else if (this.#queue.length - this.#head > 2 * this.#maxRecent + 64) this.#compact();
  }

  /** Drops the oldest recent store. */
  #evictOldest(): void {
    const queue = this.#queue;
    const seqs = this.#queueSeqs;
    while (this.#head < queue.length) {
      const recent = queue[this.#head]!;
      const seq = seqs[this.#head++]!;
      if (recent.seq !== seq) continue; // stored again since: a newer entry stands for it
      this.#forget(recent);
      this.#spare = recent;
      break;
    }
    if (this.#head > 1024 && this.#head * 2 > queue.length) this.#compact();
  }

  /** Drops the stale and evicted entries from the queue, keeping the live ones in order. */
  #compact(): void {
    const queue: Recent[] = [];
    const seqs: number[] = [];
    for (let i = this.#head; i < this.#queue.length; i++) {
      const recent = this.#queue[i]!;
      const seq = this.#queueSeqs[i]!;
      if (recent.seq === seq) {
        queue.push(recent);
        seqs.push(seq);
      }
    }
    this.#queue = queue;
    this.#queueSeqs = seqs;
    this.#head = 0;
  }

  /** Removes a recent store (its queue entry, if any, goes stale). */
  #forget(recent: Recent): void {
    const byKey = this.#recent.get(recent.cache);
    if (byKey === undefined || byKey.get(recent.key) !== recent) return;
    byKey.delete(recent.key);
    recent.seq = -1;
    this.#recentCount--;
    if (byKey.size === 0) this.#recent.delete(recent.cache);
  }

  /**
   * Records that `scope` of `cache` was invalidated at `at` (ms); returns the recently stored keys it
   * reaches whose value is older (the caller tombstones them at `at`).
   */
  bulk(cache: string, scope: BulkScope, at: number): string[] {
    const matches = matcher(scope);
    let fences = this.#fences.get(cache);
    if (fences === undefined) this.#fences.set(cache, (fences = []));
    const now = this.#options.clock();
    const live = fences.filter((f) => now - f.at < this.#options.retentionMs);
    live.push({ at, matches });
    // Too many: the oldest ones become one fence over everything, at the latest of their times.
    if (live.length > this.#maxFences) {
      const merged = live.splice(0, live.length - this.#maxFences + 1);
      live.unshift({ at: Math.max(...merged.map((f) => f.at)), matches: everything });
    }
    this.#fences.set(cache, live);
    const reached: string[] = [];
    const byKey = this.#recent.get(cache);
    if (byKey === undefined) return reached;
    for (const recent of [...byKey.values()]) {
      if (now - recent.storedAt >= this.#options.retentionMs) {
        this.#forget(recent);
        continue;
      }
      if (stampMs(recent.stamp) <= at && matches(recent.key)) {
        reached.push(recent.key);
        this.#forget(recent);
      }
    }
    return reached;
  }
}

function matcher(scope: BulkScope): (key: string) => boolean {
  switch (scope.kind) {
    case 'all':
      return everything;
    case 'prefix':
      return (key) => key.startsWith(scope.prefix);
    case 'pattern': {
      const re = globToRegExp(scope.pattern);
      return (key) => re.test(key);
    }
  }
}
