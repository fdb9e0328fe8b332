// Which snapshot entries a restore loads, and in what order. Entries are ranked most valuable first
// (higher frequency hint, then the order of the dump, which is the engine's retention order); a restore drops what has expired, takes the
// best prefix that fits the cache's bounds, and inserts it least valuable first, so that in an LRU
// order the most valuable entries end up most recent and nothing loaded is evicted by the load itself.
import type { CacheKey } from '../engine/types.js';
import type { LoadBounds, SnapshotEntry } from './types.js';

/** The highest frequency hint; the engine's sketch counters are 4 bits. */
export const MAX_HINT = 15;

/** What a load did. */
export interface LoadResult {
  /** Entries now in the cache. */
  loaded: number;
  /** Entries dropped because they had expired. */
  expired: number;
  /** Entries left out because the cache's bounds were full (the least valuable ones). */
  dropped: number;
}

/**
 * Orders entries in place, most valuable first: higher frequency hint first; entries with equal hints
 * keep the order they came in (a dump lists them in the engine's retention order, so recency within
 * a segment survives; write times cannot stand in for it, since a read makes an entry recent too).
 */
export function rankEntries<E extends SnapshotEntry>(entries: E[]): E[] {
  // Array.prototype.sort is stable (ES2019), which keeps ties in their given order.
  return entries.sort((a, b) => b.hint - a.hint);
}

/**
 * The entries a restore should insert, in insertion order (least valuable first): live at `now`, and
 * the most valuable ones that fit in `bounds` (an entry larger than the whole byte budget is skipped).
 */
export function selectForLoad(
  entries: readonly SnapshotEntry[],
  now: number,
  bounds: LoadBounds,
): { insert: SnapshotEntry[]; result: LoadResult } {
  const live: SnapshotEntry[] = [];
  let expired = 0;
  for (const e of entries) {
    if (e.expiresAt !== 0 && e.expiresAt <= now) expired++;
    else live.push(e);
  }
  rankEntries(live);
  const chosen: SnapshotEntry[] = [];
  let bytes = 0;
  for (const e of live) {
    if (chosen.length >= bounds.maxEntries) break;
    // Every entry counts at least one byte, as in the engine.
    const size = Math.max(1, e.size);
    if (bytes + size > bounds.maxBytes) continue;
    bytes += size;
    chosen.push(e);
  }
  chosen.reverse();
  return { insert: chosen, result: { loaded: chosen.length, expired, dropped: live.length - chosen.length } };
}

/** Remaining lifetime of an entry at `now` in ms; 0 means "never expires" (as the engine reads a TTL). */
export function remainingTtl(entry: SnapshotEntry, now: number): number {
  // At least 1 ms: the engine reads 0 as "no expiry". selectForLoad already dropped expired entries.
  return entry.expiresAt === 0 ? 0 : Math.max(1, entry.expiresAt - now);
}

/** How many reads replay an entry's hint on restore (enough to reach W-TinyLFU's protected segment). */
export function touchesFor(entry: SnapshotEntry): number {
  return Math.min(entry.hint, 3);
}

/** Checks what `load()` was given: an array of entries; a TypeError names the first bad one. */
export function checkEntries(entries: unknown, what = 'load(entries)'): SnapshotEntry[] {
  if (!Array.isArray(entries)) throw new TypeError(`${what} must be an array of snapshot entries`);
  entries.forEach((e: unknown, i) => {
    const entry = e as Partial<SnapshotEntry> | null;
    const bad = (field: string): never => {
      throw new TypeError(`${what}: entry ${i} has no valid ${field}`);
    };
    if (typeof entry !== 'object' || entry === null) bad('shape (not an object)');
    if (!isKey(entry!.key)) bad('key (string or number)');
    for (const field of ['createdAt', 'staleAt', 'expiresAt', 'size', 'hint'] as const) {
      const v = entry![field];
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) bad(field);
    }
    if (!Array.isArray(entry!.tags) || !entry!.tags.every((t) => typeof t === 'string')) bad('tags');
  });
  return entries as SnapshotEntry[];
}

function isKey(key: unknown): key is CacheKey {
  return typeof key === 'string' || (typeof key === 'number' && !Number.isNaN(key));
}
