// Snapshot entries of the engine: the record a dump lists and a load takes, and the rules that decide
// which entries a restore loads, and in what order. Entries are ranked most valuable first (higher
// frequency, then the order of the dump, which is the engine's retention order); a restore drops what
// has expired, takes the best prefix that fits the cache's bounds, and inserts it least valuable first,
// so that in an LRU order the most valuable entries end up most recent and nothing loaded is evicted by
// the load itself. These rules live in the engine so that `MemoryCache.dump()`/`load()` can use them;
// the facade (cache/snapshot-envelopes.ts) and the snapshot file (persistence/) use the same ones.
import type { PortableEntry } from '../util/stored-entry.js';
import { MAX_DURATION } from '../util/duration.js';
import type { CacheKey, RankedEntryInfo } from './types.js';

/**
 * One live entry of a snapshot: the stored entry's portable fields (see util/stored-entry.ts; times
 * are absolute, ms since the epoch per the cache's clock) with its key, size and frequency.
 */
export interface SnapshotEntry<V = unknown> extends PortableEntry<V> {
  /** The key as stored (a namespace's prefix included). */
  key: CacheKey;
  /** Size in bytes as the cache accounted it (0 when the cache does not measure sizes). */
  size: number;
  /** How valuable the entry is to the eviction policy (0..15, higher = hotter); restore keeps it hot. */
  frequency: number;
}

/** Bounds a restore must respect (the cache's own). */
export interface LoadBounds {
  /** Entry bound; Infinity when none. */
  maxEntries: number;
  /** Byte bound; Infinity when none. */
  maxBytes: number;
}

/** The highest frequency; the engine's sketch counters are 4 bits. */
export const MAX_FREQUENCY = 15;

/** The latest time a snapshot entry may carry: the largest valid Date (ms since the epoch). */
export const MAX_TIME = 8.64e15;

/** What a load did. */
export interface LoadResult {
  /** Entries now in the cache. */
  loaded: number;
  /**
   * Entries dropped because they had expired, or may have: written later than the cache's clock now
   * reads (a clock set back), so their age is unknown (see {@link hasLapsed}).
   */
  expired: number;
  /**
   * Entries left out because the cache's bounds were full (the least valuable ones), or because the
   * cache already held a value of their key written after theirs (a restore into a running cache).
   */
  dropped: number;
  /**
   * Entries left out because a field was missing or out of range (see {@link entryProblem}), because
   * their key was listed again (only its most valuable entry loads), or because they were recorded
   * without a size and the cache's sizeOf threw on their value.
   */
  invalid: number;
}

/**
 * Orders entries in place, most valuable first: higher frequency first; entries with equal frequencies
 * keep the order they came in (a dump lists them in the engine's retention order, so recency within
 * a segment survives; write times cannot stand in for it, since a read makes an entry recent too).
 */
export function rankEntries<E extends SnapshotEntry>(entries: E[]): E[] {
  // Array.prototype.sort is stable (ES2019), which keeps ties in their given order.
  return entries.sort((a, b) => b.frequency - a.frequency);
}

/**
 * The entries a restore should insert, in insertion order (least valuable first): valid, live at
 * `now`, and the most valuable ones that fit in `bounds` (an entry larger than the whole byte budget
 * is skipped). An invalid entry is counted in `result.invalid` and left out, never thrown on: one bad
 * entry must not stop a service from starting; so is a key listed again after its most valuable entry
 * (it would replace that entry and still take a place of the bounds). An entry recorded with size 0
 * (its cache did not measure sizes) is fitted at `measure(entry)`, the size the restoring cache will
 * account it at, when given: counted as one byte, entries the byte bound cannot hold would be loaded
 * and then evicted by the load itself, the most valuable among them. With `measure`, every entry is
 * fitted at no less than its measured size, whatever the file declares, so a forged size cannot make
 * the restore hold more than the byte budget by this cache's own measure; the entry keeps the size it
 * was written with (an explicit `size` below sizeOf's estimate, a weight, is the writer's choice). An entry
 * `measure` throws on (a sizeOf changed since the dump, meeting an old value) is counted in
 * `result.invalid` and left out. An entry `superseded` answers true for (a running cache holds a value
 * of its key written after it) is left out and counted in `result.dropped`.
 */
export function selectForLoad(
  entries: readonly SnapshotEntry[],
  now: number,
  bounds: LoadBounds,
  measure?: (entry: SnapshotEntry) => number,
  superseded?: (entry: SnapshotEntry) => boolean,
): { insert: SnapshotEntry[]; result: LoadResult } {
  const live: SnapshotEntry[] = [];
  let expired = 0;
  let invalid = 0;
  for (const e of entries) {
    if (entryProblem(e) !== undefined) invalid++;
    else if (hasLapsed(e, now)) expired++;
    else live.push(e);
  }
  rankEntries(live);
  const chosen: SnapshotEntry[] = [];
  const seen = new Set<CacheKey>();
  let bytes = 0;
  let duplicates = 0;
  let unmeasurable = 0;
  for (const e of live) {
    // One entry per key (the Set, like the engine, takes 0 and -0 as one): the most valuable, seen first.
    if (seen.has(e.key)) {
      duplicates++;
      continue;
    }
    seen.add(e.key);
    if (chosen.length >= bounds.maxEntries) continue;
    // A running cache holding a later write of the key keeps it: counted as dropped, taking no room.
    if (superseded?.(e) === true) continue;
    let size = e.size;
    if (measure !== undefined) {
      // The size in the file is not trusted below what this cache measures for the fit: a forged one
      // declaring 1 byte for a large value would otherwise let the restore hold far more than maxBytes.
      // A larger one is kept (the writer counted the entry so: an explicit size, another sizeOf).
      try {
        size = Math.max(size, measure(e));
      } catch {
        // A sizeOf that throws on the value (written before it changed) costs the entry, never the start.
        unmeasurable++;
        continue;
      }
    }
    // Every entry counts at least one byte, and a whole number of them, as in the engine: summed as
    // given, two entries of 1.5 bytes fitted a budget of 3 that takes them as 2 each.
    size = Math.max(1, Math.ceil(size));
    if (bytes + size > bounds.maxBytes) continue;
    bytes += size;
    // Inserted at the size it was written with (one of 0 is measured again by the engine): the fit
    // bounds what the restore holds, and an explicit size, a weight below the estimate, stays the
    // writer's, as before the restart.
    chosen.push(e);
  }
  chosen.reverse();
  return {
    insert: chosen,
    result: {
      loaded: chosen.length,
      expired,
      dropped: live.length - duplicates - unmeasurable - chosen.length,
      invalid: invalid + duplicates + unmeasurable,
    },
  };
}

/**
 * Whether `entry` may have expired by `now`: its expiry has passed, or it was written after `now`.
 * The second happens when the clock was set back across a restart (or the file comes from a host whose
 * clock is ahead): the entry's age is then unknown, and keeping its absolute expiry would let it live
 * longer than its TTL by as much as the clock went back, so it is treated as expired.
 */
export function hasLapsed(entry: SnapshotEntry, now: number): boolean {
  return (entry.expiresAt !== 0 && entry.expiresAt <= now) || entry.createdAt > now;
}

/** Remaining lifetime of an entry at `now` in ms; 0 means "never expires" (as the engine reads a TTL). */
export function remainingTtl(entry: SnapshotEntry, now: number): number {
  // At least 1 ms: the engine reads 0 as "no expiry". selectForLoad already dropped expired entries.
  // At most MAX_DURATION, the longest TTL the engine takes: a time up to MAX_TIME is a valid entry.
  return entry.expiresAt === 0 ? 0 : Math.min(MAX_DURATION, Math.max(1, entry.expiresAt - now));
}

/** How many reads replay an entry's frequency on restore (enough to reach W-TinyLFU's protected segment). */
export function touchesFor(entry: SnapshotEntry): number {
  return Math.min(entry.frequency, 3);
}

/**
 * Checks that `load()` was given an array (a TypeError otherwise). Its entries are validated one by
 * one by {@link selectForLoad}, which leaves out and counts the bad ones.
 */
export function checkEntries(entries: unknown, what = 'load(entries)'): SnapshotEntry[] {
  if (!Array.isArray(entries)) throw new TypeError(`${what} must be an array of snapshot entries`);
  return entries as SnapshotEntry[];
}

/**
 * Why `entry` cannot be restored, in words (`'key is NaN'`), or undefined when it can: the key is a
 * string or a finite number; times are finite, >= 0 and at most MAX_TIME; size is a finite byte count;
 * frequency is within 0..MAX_FREQUENCY; tags are strings. The one check that snapshot decoding and load() share.
 */
export function entryProblem(entry: unknown): string | undefined {
  if (typeof entry !== 'object' || entry === null) return 'not an object';
  const e = entry as Partial<Record<keyof SnapshotEntry, unknown>>;
  const key = e.key;
  if (typeof key === 'number') {
    if (!Number.isFinite(key)) return `key is ${String(key)}`;
  } else if (typeof key !== 'string') return `key is ${key === null ? 'null' : typeof key}`;
  for (const field of ['createdAt', 'staleAt', 'expiresAt'] as const) {
    const problem = rangeProblem(e[field], MAX_TIME);
    if (problem !== undefined) return `${field} ${problem}`;
  }
  const size = rangeProblem(e.size, Number.MAX_SAFE_INTEGER);
  if (size !== undefined) return `size ${size}`;
  const frequency = rangeProblem(e.frequency, MAX_FREQUENCY);
  if (frequency !== undefined) return `frequency ${frequency}`;
  if (!Array.isArray(e.tags)) return 'tags is not an array';
  if (!e.tags.every((tag) => typeof tag === 'string')) return 'tags holds a non-string';
  return undefined;
}

// Why `value` is not a number in [0, max], or undefined when it is.
function rangeProblem(value: unknown, max: number): string | undefined {
  if (typeof value !== 'number') return `is ${value === null ? 'null' : typeof value}, not a number`;
  if (!(value >= 0 && value <= max)) return `is ${String(value)}, outside 0..${max}`;
  return undefined;
}

/**
 * Snapshot entries of a bare engine's live entries (`ranked` as `MemoryCache.hottest()` lists them),
 * with absolute times at `now`; the engine has no grace window, so `staleAt` equals `expiresAt`.
 */
export function dumpEntries<V>(
  ranked: readonly RankedEntryInfo<CacheKey, V>[],
  now: number,
): SnapshotEntry<V>[] {
  const out: SnapshotEntry<V>[] = [];
  for (const info of ranked) {
    const expiresAt = info.ttlRemainingMs === undefined ? 0 : now + info.ttlRemainingMs;
    out.push({
      key: info.key,
      value: info.value,
      createdAt: now - info.ageMs,
      staleAt: expiresAt,
      expiresAt,
      tags: info.tags,
      size: info.size,
      frequency: info.frequency,
    });
  }
  return rankEntries(out);
}
