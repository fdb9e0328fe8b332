// Public types of the shared tier: what a cache stores in L2 and hears back from other instances.
// The facade's envelope is the same record (src/util/stored-entry.ts), so it is stored as it is.
import type { StoredEntry } from '../util/stored-entry.js';
import type { TierBinding } from './tier-binding.js';

/** The stored entry (see util/stored-entry.ts) as the shared tier reads and writes it. */
export type TierEntry<V = unknown> = StoredEntry<V>;

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
  /** Values read from L2 larger than `maxValueBytes` (not decoded; removed); absent while none. */
  oversizedReads?: number;
  /** Values not written to L2 because their encoding was larger than `maxValueBytes`; absent while none. */
  oversizedWrites?: number;
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
  /**
   * Closes the tier if no cache was ever bound to it: `createCache` calls it when it throws after being
   * handed the tier, so an inline `l2: redisTier(…)` does not keep its connection (and the process) alive.
   */
  abandon?(): void;
}
