// The one record Larder stores per key, whatever holds it: the facade's L1 engine, the shared tier's
// L2 and a snapshot all carry the value with the same absolute times under the same field names.
// Only its edges differ: L2's wire record and the snapshot file map these fields to their own layout.

/** One cached value with its timing metadata (times are ms since the epoch, per the cache's clock). */
export interface StoredEntry<V = unknown> {
  /** The cached value. */
  value: V;
  /** When the value was written; compared with tag invalidation times. */
  createdAt: number;
  /** Logical expiry: after this the value is stale; `0` means it never goes stale. */
  staleAt: number;
  /** End of the fail-safe grace window, when the entry must be gone; equals staleAt without grace; 0 = never. */
  expiresAt: number;
  /** Tags given at write time (unscoped, as the caller gave them). */
  tags: readonly string[];
  /**
   * Tags as L1 indexes the entry, when they differ from `tags` (a namespace adds scoped copies). Tag
   * invalidation in L2 checks these, and promotion to L1 indexes the entry under them.
   */
  indexTags?: readonly string[];
  /**
   * The write's stamp (ms × 1000 plus a sequence; see src/tiers/stamp.ts): when it began, which for
   * getOrSet is when its load started. L2 stores only a write newer than what it holds, and tag
   * invalidations hide entries whose write began before them. Absent on a set(): the tier stamps it.
   */
  version?: number;
  /**
   * Fail-safe backoff: after a failed load the entry is served stale without calling the loader until
   * this time. Local bookkeeping: never stored in L2 nor in a snapshot; absent (or 0) normally.
   */
  retryAt?: number;
}

/** The fields of an entry that leave the process (L2, snapshots): its local bookkeeping dropped. */
export type PortableEntry<V = unknown> = Pick<
  StoredEntry<V>,
  'value' | 'createdAt' | 'staleAt' | 'expiresAt' | 'tags'
>;

/** The portable fields of `entry` as a new record (retryAt, version and indexTags left behind). */
export function portableEntry<V>(entry: PortableEntry<V>): PortableEntry<V> {
  return {
    value: entry.value,
    createdAt: entry.createdAt,
    staleAt: entry.staleAt,
    expiresAt: entry.expiresAt,
    tags: entry.tags,
  };
}
