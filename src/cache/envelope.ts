// The envelope: what the facade stores per key in every tier. A small plain object (serializable, so the
// Redis tier can store the same thing in L2) carrying the value and the times that drive freshness,
// refresh-ahead and fail-safe grace. The engine's TTL is the logical TTL plus grace.

/** One cached value with its timing metadata; plain and serializable. */
export interface Envelope<V = unknown> {
  /** The cached value. */
  value: V;
  /** When the value was written, ms since the epoch (per the cache's clock). */
  createdAt: number;
  /** Logical expiry: after this the value is stale; `0` means it never goes stale. */
  staleAt: number;
  /** End of the fail-safe window: a stale value may be served until then; equals staleAt without grace. */
  graceUntil: number;
  /** Tags given at write time (unscoped, as the caller gave them). */
  tags: readonly string[];
  /**
   * Fail-safe backoff: after a failed load this envelope is served stale without calling the loader
   * until this time. Local bookkeeping; absent (or 0) normally.
   */
  retryAt?: number;
  /**
   * The write stamp of a value loaded by getOrSet, taken when the load started (from the shared tier's
   * clock; see src/tiers/stamp.ts). L2 refuses to store it over a newer write. Absent otherwise.
   */
  version?: number;
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
  return { value, createdAt: now, staleAt, graceUntil: staleAt === 0 ? 0 : staleAt + grace, tags };
}

/** The TTL the engine (or a remote tier) should hold an envelope for: until its grace ends; 0 = forever. */
export function storageTtl(envelope: Envelope, now: number): number {
  if (envelope.graceUntil === 0) return 0;
  // At least 1 ms: an engine treats 0 as "no expiry", which would be wrong for an envelope about to end.
  return Math.max(1, envelope.graceUntil - now);
}

/** Whether the envelope is fresh (not logically expired) at `now`. */
export function isFresh(envelope: Envelope, now: number): boolean {
  return envelope.staleAt === 0 || now < envelope.staleAt;
}

/** Whether a stale envelope may still be served as a fail-safe answer at `now`. */
export function inGrace(envelope: Envelope, now: number): boolean {
  return envelope.staleAt !== 0 && now >= envelope.staleAt && now < envelope.graceUntil;
}

/** Applies ± `jitter` (a fraction in [0, 1]) to a TTL so that entries written together expire apart. */
export function jitterTtl(ttl: number, jitter: number, random: () => number = Math.random): number {
  if (jitter <= 0 || ttl <= 0) return ttl;
  return Math.max(1, Math.round(ttl * (1 + jitter * (2 * random() - 1))));
}
