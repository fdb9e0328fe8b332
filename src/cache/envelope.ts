// The envelope: what the facade stores per key in every tier. A small plain object (serializable, so the
// Redis tier can store the same thing in L2) carrying the value and the times that drive freshness,
// refresh-ahead and fail-safe grace. The engine's TTL is the logical TTL plus grace (plus, for an entry
// with validators or adaptive TTL state, a keep window in which it is never served).

import type { AdaptiveState, EntryValidators, StoredEntry } from '../util/stored-entry.js';
import { MAX_DURATION } from '../util/duration.js';

/** The facade's name for the stored entry (see util/stored-entry.ts): what L1 holds per key. */
export type Envelope<V = unknown> = StoredEntry<V>;

/** What a getOrSet load adds to the entry it writes: validators, adaptive state, and how long L1 keeps it. */
export interface LoadMeta {
  validators: EntryValidators | undefined;
  adaptive: AdaptiveState | undefined;
  /** How long past staleAt L1 keeps the record for the next load to compare or revalidate, ms. */
  keepFor: number;
}

/** Puts a load's meta on a new envelope: the fields are set only when there is something to keep. */
export function applyLoadMeta(envelope: Envelope, meta: LoadMeta): void {
  if (meta.validators !== undefined) envelope.validators = meta.validators;
  if (meta.adaptive !== undefined) envelope.adaptive = meta.adaptive;
  if (
    envelope.staleAt !== 0 &&
    meta.keepFor > 0 &&
    (meta.validators !== undefined || meta.adaptive !== undefined)
  ) {
    const keepUntil = envelope.staleAt + meta.keepFor;
    if (keepUntil > envelope.expiresAt) envelope.keepUntil = keepUntil;
  }
}

/** Builds an envelope. `ttl` 0 means never stale; grace only applies to values that can go stale. */
export function createEnvelope<V>(
  value: V,
  now: number,
  ttl: number,
  grace: number,
  tags: readonly string[],
): Envelope<V> {
  const staleAt = ttl > 0 ? now + ttl : 0;
  return { value, createdAt: now, staleAt, expiresAt: staleAt === 0 ? 0 : staleAt + grace, tags };
}

/** The TTL the engine (or a remote tier) should hold an envelope for: until its grace ends; 0 = forever. */
export function storageTtl(envelope: Envelope, now: number): number {
  if (envelope.expiresAt === 0) return 0;
  // A record kept for the next load's comparison or revalidation outlives its grace (never served).
  const end =
    envelope.keepUntil === undefined ? envelope.expiresAt : Math.max(envelope.expiresAt, envelope.keepUntil);
  // At least 1 ms: an engine treats 0 as "no expiry", which would be wrong for an envelope about to end.
  // At most MAX_DURATION, the longest TTL an engine takes (a ttl at the limit plus grace, or a snapshot
  // entry ending later, is held that long: some 35,000 years).
  return Math.min(MAX_DURATION, Math.max(1, end - now));
}

/** Whether the envelope is fresh (not logically expired) at `now`. */
export function isFresh(envelope: Envelope, now: number): boolean {
  return envelope.staleAt === 0 || now < envelope.staleAt;
}

/** Whether a stale envelope may still be served as a fail-safe answer at `now`. */
export function inGrace(envelope: Envelope, now: number): boolean {
  return envelope.staleAt !== 0 && now >= envelope.staleAt && now < envelope.expiresAt;
}

/** Applies ± `jitter` (a fraction in [0, 1]) to a TTL so that entries written together expire apart. */
export function jitterTtl(ttl: number, jitter: number, random: () => number = Math.random): number {
  if (jitter <= 0 || ttl <= 0) return ttl;
  return Math.max(1, Math.round(ttl * (1 + jitter * (2 * random() - 1))));
}

/** The entries listing's view of a load's state: the key's adaptive TTL and whether it can revalidate. */
export function entryLoadState(envelope: Envelope): { adaptiveTtlMs?: number; revalidatable?: boolean } {
  if (envelope.adaptive === undefined && envelope.validators === undefined) return {};
  const out: { adaptiveTtlMs?: number; revalidatable?: boolean } = {};
  if (envelope.adaptive !== undefined) out.adaptiveTtlMs = envelope.adaptive.ttl;
  if (envelope.validators !== undefined) out.revalidatable = true;
  return out;
}
