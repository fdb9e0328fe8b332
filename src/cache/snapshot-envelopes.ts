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
import type { LoadBounds, SnapshotEntry } from '../persistence/types.js';
import { portableEntry } from '../util/stored-entry.js';

/** How a load writes into the facade's store (the view supplies these, applying its key prefix and tag scoping). */
export interface EnvelopeSink {
  /** Stores an envelope under the caller's key; `size` is the accounted size, or undefined to measure. */
  write(key: CacheKey, envelope: Envelope, size: number | undefined): void;
  /** Reads the key once, as a hit would (replays the snapshot's frequency); optional. */
  touch?(key: CacheKey): void;
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
      key = key.slice(prefix.length);
    }
    const envelope = info.value;
    if (envelope.expiresAt !== 0 && envelope.expiresAt <= now) continue;
    out.push({ ...portableEntry(envelope), key, size: info.size, frequency: info.frequency });
  }
  return rankEntries(out);
}

/** Loads snapshot entries through `sink` at `now`, within `bounds` (see entries.ts for the order). */
export function loadEnvelopes(
  entries: unknown,
  now: number,
  bounds: LoadBounds,
  sink: EnvelopeSink,
): LoadResult {
  const { insert, result } = selectForLoad(checkEntries(entries), now, bounds);
  for (const e of insert) {
    sink.write(e.key, portableEntry(e), e.size > 0 ? e.size : undefined);
  }
  if (sink.touch !== undefined) {
    for (const e of insert) for (let i = touchesFor(e); i > 0; i--) sink.touch(e.key);
  }
  return result;
}
