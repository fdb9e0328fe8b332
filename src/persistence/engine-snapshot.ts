// Snapshots of a bare MemoryCache (the synchronous engine, without the facade): dump its live entries
// with absolute expiry times, and load entries back within its bounds. The facade has its own twin in
// cache/snapshot-envelopes.ts because it stores envelopes (value plus freshness and grace times) in the engine.
import type { MemoryCache } from '../engine/memory-cache.js';
import type { CacheKey } from '../engine/types.js';
import { checkEntries, rankEntries, remainingTtl, selectForLoad, type LoadResult } from './entries.js';
import type { SnapshotEntry } from './types.js';

/** The live entries of `cache`, most valuable first, with expiry as absolute times at `now`. */
export function dumpMemoryCache<K extends CacheKey, V>(
  cache: MemoryCache<K, V>,
  now: number,
): SnapshotEntry<V>[] {
  const out: SnapshotEntry<V>[] = [];
  for (const info of cache.hottest()) {
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

/**
 * Loads snapshot entries into `cache` at `now`: expired ones are dropped, remaining TTLs kept (never
 * extended), and when they do not all fit, the most valuable are kept. Frequencies are not replayed here:
 * that would count as hits in the engine's statistics.
 */
export function loadMemoryCache<K extends CacheKey, V>(
  cache: MemoryCache<K, V>,
  entries: readonly SnapshotEntry<V>[],
  now: number,
): LoadResult {
  const stats = cache.stats();
  const { insert, result } = selectForLoad(checkEntries(entries), now, {
    maxEntries: stats.maxEntries ?? Infinity,
    maxBytes: stats.maxBytes ?? Infinity,
  });
  for (const e of insert) {
    const options = { ttl: remainingTtl(e, now), tags: e.tags, ...(e.size > 0 ? { size: e.size } : {}) };
    cache.set(e.key as K, e.value as V, options);
  }
  return result;
}
