// Public types of the shared tier: what a cache stores in L2 and hears back from other instances.
// The facade's envelope (src/cache/envelope.ts) has this shape, so it is stored as it is.
import type { TierBinding } from './tier-binding.js';

/** One cached value with its timing metadata, as stored in L2 (times are ms since the epoch). */
export interface TierEntry<V = unknown> {
  value: V;
  /** When the value was written; compared with tag invalidation times. */
  createdAt: number;
  /** Logical expiry (0 = never stale). */
  staleAt: number;
  /** End of the fail-safe window (0 = never); L2 holds the entry until then. */
  graceUntil: number;
  tags: readonly string[];
  /**
   * Tags as L1 indexes the entry, when they differ from `tags` (a namespace adds scoped copies).
   * Tag invalidation in L2 checks these, and promotion to L1 indexes the entry under them.
   */
  indexTags?: readonly string[];
  /**
   * The write's stamp (ms × 1000 plus a sequence; see stamp.ts): when it began, which for getOrSet is
   * when its load started. L2 stores only a write newer than what it holds, and tag invalidations hide
   * entries whose write began before them. Absent on a set(): the tier stamps it when it is written.
   */
  version?: number;
}

/** An invalidation heard from another instance (or `resync`: drop everything, messages were missed). */
export type RemoteInvalidation =
  | { kind: 'set' | 'delete'; keys: readonly string[] }
  | { kind: 'tags'; tags: readonly string[] }
  | { kind: 'pattern'; pattern: string }
  | { kind: 'prefix'; prefix: string }
  | { kind: 'clear' }
  | { kind: 'resync' };

/** Health of the shared tier, in the shape `cache.health()` reports under `l2`. */
export interface TierHealth {
  status: 'ok' | 'degraded' | 'down';
  reason?: string;
  driver: string;
  breaker: 'closed' | 'open' | 'half-open';
  /** Invalidations waiting to be replayed once L2 is back. */
  pending: number;
  [k: string]: unknown;
}

/**
 * What the cache layer knows of a shared tier: it binds one cache by name. `redisTier()` and
 * `memoryTier()` return one; `createCache({ l2 })` recognises it by the `larder.shared-tier` brand
 * (`Symbol.for`, so two copies of Larder in one process still recognise each other's tiers).
 */
export interface L2Tier {
  /** Binds the cache `name` to this tier (one binding per cache name). */
  bind(name: string): TierBinding;
}
