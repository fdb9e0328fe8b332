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
}

const everything = (): boolean => true;

/** Bulk fences and recent stores of every cache of one tier. */
export class WriteFence {
  readonly #options: WriteFenceOptions;
  readonly #maxRecent: number;
  readonly #maxFences: number;
  readonly #fences = new Map<string, Fence[]>();
  /** Oldest first; a key stored again moves to the end. */
  readonly #recent = new Map<string, Recent>();

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
    const id = `${cache}\u0000${key}`;
    const known = this.#recent.get(id);
    const storedAt = this.#options.clock();
    if (known !== undefined) {
      // Moved to the end (newest), reusing its record: a hot key is rewritten often.
      this.#recent.delete(id);
      known.stamp = stamp;
      known.storedAt = storedAt;
      this.#recent.set(id, known);
      return;
    }
    this.#recent.set(id, { cache, key, stamp, storedAt });
    if (this.#recent.size > this.#maxRecent) {
      const oldest = this.#recent.keys().next();
      if (oldest.done !== true) this.#recent.delete(oldest.value);
    }
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
    for (const [id, recent] of this.#recent) {
      if (now - recent.storedAt >= this.#options.retentionMs) {
        this.#recent.delete(id);
        continue;
      }
      if (recent.cache === cache && stampMs(recent.stamp) <= at && matches(recent.key)) {
        reached.push(recent.key);
        this.#recent.delete(id);
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
