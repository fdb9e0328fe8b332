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
  /**
   * The upstream's validators for this value (`ctx.setValidators`), handed to the next load as
   * `ctx.previous` for a conditional request. Travels with the entry to L2 and snapshots.
   */
  validators?: EntryValidators;
  /** Adaptive TTL state (src/cache/adaptive-ttl.ts): the key's current TTL and its value's fingerprint. */
  adaptive?: AdaptiveState;
  /**
   * L1 keeps the record until this time (past expiresAt, never serving it) so the next load can compare
   * with it or revalidate it; absent when the entry carries neither validators nor adaptive state.
   */
  keepUntil?: number;
}

/** An upstream's validators for a value, as HTTP caches keep them (ETag, Last-Modified). */
export interface EntryValidators {
  /** The entity tag, quotes included (`"abc"`, `W/"abc"`). */
  etag?: string;
  /** The Last-Modified date as the upstream sent it. */
  lastModified?: string;
}

/** Per-key adaptive TTL state, kept in the entry record itself. */
export interface AdaptiveState {
  /** The key's current TTL, ms, before any stretch under load. */
  ttl: number;
  /** Fingerprint of the value (undefined when a user `equals` compares values instead). */
  hash?: number;
  /** Time observed across recent refreshes, ms, decayed per refresh (the change-rate estimate's denominator). */
  seen?: number;
  /** Changes seen across recent refreshes, decayed per refresh (its numerator). */
  changes?: number;
}

/** The fields a load may add to an entry (validators, adaptive state, how long L1 keeps the record). */
export type LoadState = Pick<StoredEntry, 'validators' | 'adaptive' | 'keepUntil'>;

/** Longest validator string kept; a longer one (another writer's data) is dropped. */
const MAX_VALIDATOR_CHARS = 1024;

/** Latest keepUntil kept: the largest valid Date, like every snapshot time (engine/snapshot.ts MAX_TIME). */
const MAX_KEEP_UNTIL = 8.64e15;

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

function validatorString(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_VALIDATOR_CHARS
    ? value
    : undefined;
}

/**
 * Copies the load state of `from` (validators, adaptive state, keepUntil) onto `to`, each field only
 * when well-formed: `from` may be a decoded L2 record or a snapshot entry, so nothing is trusted, and a
 * malformed field is dropped (the next load simply fetches in full) rather than failing the read.
 */
export function copyLoadState(from: LoadState, to: LoadState): void {
  const v = from.validators as unknown;
  if (v !== undefined && v !== null && typeof v === 'object') {
    const etag = validatorString((v as EntryValidators).etag);
    const lastModified = validatorString((v as EntryValidators).lastModified);
    if (etag !== undefined || lastModified !== undefined) {
      const validators: EntryValidators = {};
      if (etag !== undefined) validators.etag = etag;
      if (lastModified !== undefined) validators.lastModified = lastModified;
      to.validators = validators;
    }
  }
  const a = from.adaptive as unknown;
  if (a !== undefined && a !== null && typeof a === 'object') {
    const { ttl, hash, seen, changes } = a as AdaptiveState;
    if (typeof ttl === 'number' && Number.isFinite(ttl) && ttl > 0) {
      const state: AdaptiveState = { ttl };
      if (typeof hash === 'number' && Number.isSafeInteger(hash)) state.hash = hash;
      if (isCount(seen) && isCount(changes)) {
        state.seen = seen;
        state.changes = changes;
      }
      to.adaptive = state;
    }
  }
  const keep = from.keepUntil as unknown;
  if (typeof keep === 'number' && keep > 0 && keep <= MAX_KEEP_UNTIL) to.keepUntil = keep;
}

/**
 * The well-formed load state of `from` (any decoded value: a snapshot file's record) as a new record,
 * or undefined when nothing survives {@link copyLoadState}. A keepUntil alone is dropped too: it only
 * means something beside validators or adaptive state.
 */
export function loadStateOf(from: unknown): LoadState | undefined {
  if (typeof from !== 'object' || from === null) return undefined;
  const state: LoadState = {};
  copyLoadState(from as LoadState, state);
  return state.validators === undefined && state.adaptive === undefined ? undefined : state;
}

/** The fields of an entry that leave the process (L2, snapshots): its local bookkeeping dropped. */
export type PortableEntry<V = unknown> = Pick<
  StoredEntry<V>,
  'value' | 'createdAt' | 'staleAt' | 'expiresAt' | 'tags' | 'validators' | 'adaptive' | 'keepUntil'
>;

/** The portable fields of `entry` as a new record (retryAt, version and indexTags left behind). */
export function portableEntry<V>(entry: PortableEntry<V>): PortableEntry<V> {
  const out: PortableEntry<V> = {
    value: entry.value,
    createdAt: entry.createdAt,
    staleAt: entry.staleAt,
    expiresAt: entry.expiresAt,
    tags: entry.tags,
  };
  if (entry.validators !== undefined || entry.adaptive !== undefined || entry.keepUntil !== undefined)
    copyLoadState(entry, out);
  return out;
}
