// The envelope: what the facade stores per key in every tier. A small plain object (serializable, so the
// Redis tier can store the same thing in L2) carrying the value and the times that drive freshness,
// refresh-ahead and fail-safe grace. The engine's TTL is the logical TTL plus grace.

import type { StoredEntry } from '../util/stored-entry.js';

/** The facade's name for the stored entry (see util/stored-entry.ts): what L1 holds per key. */
export type Envelope<V = unknown> = StoredEntry<V>;

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
  // At least 1 ms: an engine treats 0 as "no expiry", which would be wrong for an envelope about to end.
  return Math.max(1, envelope.expiresAt - now);
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
