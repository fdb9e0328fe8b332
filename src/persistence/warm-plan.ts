// Predictive warming, the planning half: which keys of the last snapshot a start warms. The snapshot
// records each entry's frequency (the eviction policy's sketch estimate when it was taken), so the
// keys the previous process read most rank first. Of the hottest N, those still fresh are restored as
// they are; those that went stale (or expired) while the process was down are handed to the loader.
import { hasLapsed, rankEntries } from '../engine/snapshot.js';
import type { SnapshotEntry } from './types.js';

/** The hottest entries of one cache in a snapshot, split by whether they can be served as they are. */
export interface WarmPlan {
  /** Hot entries still fresh at start: the restore loads them as they are. */
  fresh: SnapshotEntry[];
  /** Hot entries stale or expired at start, hottest first: warming fetches them from the upstream. */
  stale: SnapshotEntry[];
}

/**
 * Splits the `top` most valuable of `entries` (ranked as a dump ranks them: frequency, then the
 * engine's retention order) into fresh and stale at `now`. An entry that never goes stale is fresh.
 */
export function planWarm(entries: readonly SnapshotEntry[], now: number, top: number): WarmPlan {
  const plan: WarmPlan = { fresh: [], stale: [] };
  for (const e of rankEntries([...entries]).slice(0, top)) {
    // An entry from a clock ahead of ours was not restored (hasLapsed): fetch it like a stale one.
    if ((e.staleAt !== 0 && e.staleAt <= now) || hasLapsed(e, now)) plan.stale.push(e);
    else plan.fresh.push(e);
  }
  return plan;
}
