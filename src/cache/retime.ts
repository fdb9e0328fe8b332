// Re-timing the entries already cached after a TTL change (`configure({ ttl, applyToExisting: true })`).
// Some services check an entry's age against its kind's current TTL at every read (seed 000 keeps a
// write time per entry and a TTL per resource kind), so a new TTL reaches what is already cached.
// Larder stores absolute times instead, which keeps the hit path free of arithmetic; this pass rewrites
// those times once, as if each entry had been written with the new TTL at its original write time.
import type { CacheKey, EntryInfo } from '../engine/types.js';
import { jitterTtl, type Envelope } from './envelope.js';

/** The part of the tier stack a re-timing pass needs (TierStack satisfies it). */
export interface RetimeStore {
  /** L1's live entries, values being envelopes. */
  entries(): Iterable<EntryInfo<CacheKey, Envelope>>;
  /** Rewrites one L1 entry (the engine's TTL follows the envelope's expiresAt). */
  setLocal(key: CacheKey, envelope: Envelope, tags: readonly string[], size?: number): void;
  /** Whether a shared tier sits below L1. */
  readonly hasRemote: boolean;
}

/** The new settings a re-timing pass applies. */
export interface RetimeSettings {
  /** The new TTL in ms; 0 = never stale. */
  ttl: number;
  /** Grace for entries that had none because they never went stale. */
  grace: number;
  /** Jitter fraction applied to each entry's new TTL, as writes do. */
  jitter: number;
  /**
   * The cache's adaptive TTL bounds (ms), if on: an entry a load wrote with adaptive state is re-timed
   * within [min, max], as a load of it would be now, never past max and never to "no expiry".
   */
  adaptiveTtl?: { readonly min: number; readonly max: number } | undefined;
}

/** What a re-timing pass did. */
export interface RetimeResult {
  /** Entries whose times were rewritten in L1. */
  retimed: number;
  /**
   * Keys (as stored) to remove from every tier: those whose new lifetime has already ended, and, with a
   * shared tier, those whose lifetime was shortened (L2's copy still carries the old times and would be
   * served past the new ones once L1 let go of the entry).
   */
  remove: CacheKey[];
}

/**
 * Gives every L1 entry in scope (`inScope` undefined = all) the times it would have had if written with
 * `settings.ttl` at its `createdAt`: an entry keeps its own grace length (and keep window, for a record
 * held for revalidation); one whose new end is already past is removed. Entries whose staleAt does not
 * change are left alone.
 */
export function retimeEntries(
  store: RetimeStore,
  inScope: ((key: CacheKey) => boolean) | undefined,
  settings: RetimeSettings,
  now: number,
  random: () => number = Math.random,
): RetimeResult {
  const result: RetimeResult = { retimed: 0, remove: [] };
  // Collected first: rewriting entries while iterating the engine's slots would be unsafe.
  const changes: Array<[EntryInfo<CacheKey, Envelope>, Envelope]> = [];
  for (const info of store.entries()) {
    if (inScope !== undefined && !inScope(info.key)) continue;
    const old = info.value;
    let ttl = jitterTtl(settings.ttl, settings.jitter, random);
    const bounds = settings.adaptiveTtl;
    if (bounds !== undefined && old.adaptive !== undefined) {
      ttl = ttl === 0 ? bounds.max : Math.min(bounds.max, Math.max(bounds.min, ttl));
    }
    const staleAt = ttl > 0 ? old.createdAt + ttl : 0;
    if (staleAt === old.staleAt) continue;
    const grace = old.staleAt === 0 ? settings.grace : old.expiresAt - old.staleAt;
    const expiresAt = staleAt === 0 ? 0 : staleAt + grace;
    // A record kept past its grace for the next load to revalidate keeps its keep window too.
    const keepUntil =
      old.keepUntil === undefined || staleAt === 0 ? undefined : staleAt + (old.keepUntil - old.staleAt);
    const end = Math.max(expiresAt, keepUntil ?? 0);
    const shortened = staleAt !== 0 && (old.staleAt === 0 || staleAt < old.staleAt);
    if ((expiresAt !== 0 && end <= now) || (shortened && store.hasRemote)) {
      result.remove.push(info.key);
      continue;
    }
    const envelope: Envelope = { ...old, staleAt, expiresAt };
    if (keepUntil === undefined) delete envelope.keepUntil;
    else envelope.keepUntil = keepUntil;
    changes.push([info, envelope]);
  }
  for (const [info, envelope] of changes) {
    store.setLocal(info.key, envelope, info.tags, info.size > 0 ? info.size : undefined);
    result.retimed++;
  }
  return result;
}
