// Snapshots of the async facade's store: the engine holds envelopes (value, createdAt, staleAt,
// expiresAt, tags), the same record a snapshot entry carries, so an entry's freshness and grace window survive a restore exactly: both are
// absolute times, and the engine's TTL is recomputed from them at load (never extended).
import type { Envelope } from './envelope.js';
import type { CacheKey, RankedEntryInfo } from '../engine/types.js';
import {
  checkEntries,
  rankEntries,
  selectForLoad,
  touchesFor,
  type LoadResult,
} from '../persistence/entries.js';
import { snapshotScope } from '../persistence/format.js';
import type { LoadBounds, SnapshotEntry } from '../persistence/types.js';
import { portableEntry } from '../util/stored-entry.js';
import { scopeOfTag } from './tag-scope.js';
import { keyInNamespace } from './namespace-keys.js';

/** How a load writes into the facade's store (the view supplies these, applying its key prefix and tag scoping). */
export interface EnvelopeSink {
  /**
   * Stores an envelope under the caller's key; `size` is the accounted size, or undefined to measure;
   * `scope` the entry's namespace below the view (SnapshotEntry.scope), whose tag copies it gets back.
   */
  write(key: CacheKey, envelope: Envelope, size: number | undefined, scope: string | undefined): void;
  /** Reads the key once, as a hit would (replays the snapshot's frequency); optional. */
  touch?(key: CacheKey): void;
  /** The size the store would account the envelope at (0 when it does not measure); optional. */
  measure?(key: CacheKey, envelope: Envelope): number;
  /** The entry the store holds under the caller's key now, without counting a read; optional. */
  peek?(key: CacheKey): Envelope | undefined;
}

/**
 * Snapshot entries of the store's live envelopes under `prefix` (keys given without it), most valuable
 * first (`entries` come in the engine's retention order, see `MemoryCache.hottest()`). Entries past their grace window at `now` are left out.
 */
export function dumpEnvelopes(
  entries: Iterable<RankedEntryInfo<CacheKey, Envelope>>,
  prefix: string,
  now: number,
): SnapshotEntry[] {
  const out: SnapshotEntry[] = [];
  for (const info of entries) {
    let key = info.key;
    if (prefix !== '') {
      if (typeof key !== 'string' || !key.startsWith(prefix)) continue;
      key = keyInNamespace(key, prefix.length);
    }
    const envelope = info.value;
    if (envelope.expiresAt !== 0 && envelope.expiresAt <= now) continue;
    const entry: SnapshotEntry = {
      ...portableEntry(envelope),
      key,
      size: info.size,
      frequency: info.frequency,
    };
    const scope = scopeBelow(envelope, prefix);
    if (scope !== undefined) entry.scope = scope;
    out.push(entry);
  }
  return rankEntries(out);
}

/**
 * Loads snapshot entries through `sink` at `now`, within `bounds` (see entries.ts for the order). With
 * `sink.peek`, a key whose live entry was written after the snapshot's (a later `createdAt`) keeps it.
 */
export function loadEnvelopes(
  entries: unknown,
  now: number,
  bounds: LoadBounds,
  sink: EnvelopeSink,
): LoadResult {
  const measure = sink.measure?.bind(sink);
  const peek = sink.peek?.bind(sink);
  const { insert, result } = selectForLoad(
    checkEntries(entries),
    now,
    bounds,
    measure === undefined ? undefined : (e) => measure(e.key, portableEntry(e)),
    // A live entry written after the snapshot's (a later createdAt) is newer: the restore keeps it.
    peek === undefined ? undefined : (e) => (peek(e.key)?.createdAt ?? -Infinity) > e.createdAt,
  );
  for (const e of insert) {
    sink.write(e.key, portableEntry(e), e.size > 0 ? e.size : undefined, snapshotScope(e));
  }
  if (sink.touch !== undefined) {
    for (const e of insert) for (let i = touchesFor(e); i > 0; i--) sink.touch(e.key);
  }
  return result;
}

/**
 * The namespace below `prefix` that wrote `envelope`, relative to `prefix` (`'users:'`), read off its
 * scoped tag copies (tag-scope.ts); undefined when the view at `prefix` (or one above it) wrote it, or
 * when it has no tags to scope.
 */
function scopeBelow(envelope: Envelope, prefix: string): string | undefined {
  const tags = envelope.indexTags;
  if (tags === undefined) return undefined;
  for (const tag of tags) {
    const scope = scopeOfTag(tag);
    if (scope === undefined) continue;
    return scope.length > prefix.length && scope.startsWith(prefix) ? scope.slice(prefix.length) : undefined;
  }
  return undefined;
}
