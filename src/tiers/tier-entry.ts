// The entry as the shared tier stores it: the record the codec encodes, the check a decoded record
// must pass before it is believed, and the time a stored write began (what tag and fence times are
// compared with).
import type { Codec } from '../codec/codec.js';
import { MAX_TIME } from '../engine/snapshot.js';
import { BUS_LIMITS } from './bus.js';
import type { DriverValue } from './driver.js';
import { stampMs, unframe } from './stamp.js';
import type { TierEntry } from './types.js';
import { copyLoadState, type LoadState } from '../util/stored-entry.js';

/**
 * The record L2 holds for an entry, as the codec encodes it. Its field names are the wire format,
 * which earlier versions read: the end of grace travels as `graceUntil`. The stamp travels in the
 * frame header, and local bookkeeping (retryAt) stays behind.
 */
export interface WireRecord extends LoadState {
  value: unknown;
  createdAt: number;
  staleAt: number;
  graceUntil: number;
  tags: readonly string[];
  indexTags?: readonly string[];
}

/** The fields of `entry` that go to L2, under their wire names. */
export function storedRecord(entry: TierEntry): WireRecord {
  const record: WireRecord = {
    value: entry.value,
    createdAt: entry.createdAt,
    staleAt: entry.staleAt,
    graceUntil: entry.expiresAt,
    tags: entry.tags,
  };
  if (entry.indexTags !== undefined && entry.indexTags !== entry.tags) record.indexTags = entry.indexTags;
  // A load's validators and adaptive TTL state travel with the entry (absent on most entries).
  if (entry.validators !== undefined || entry.adaptive !== undefined) copyLoadState(entry, record);
  return record;
}

/**
 * Decodes what L2 holds under an entry key: the entry (with its stamp as `version`), or undefined for
 * a tombstone. Throws when the bytes are not a Larder entry.
 */
export function decodeTierEntry(codec: Codec, raw: DriverValue): TierEntry | undefined {
  const stored = unframe(raw);
  if (stored.tombstone) return undefined;
  const entry = parseTierEntry(codec.decode(stored.body));
  if (stored.stamp !== undefined) entry.version = stored.stamp;
  return entry;
}

/**
 * Checks a decoded wire record field by field (finite, non-negative times and string tags) and returns
 * it as an entry. Anything else (another writer's data, a NaN time) throws, so the read is a miss and
 * the next write replaces it.
 */
export function parseTierEntry(decoded: unknown): TierEntry {
  const e = decoded as Partial<WireRecord> | null;
  if (e === null || typeof e !== 'object' || !('value' in e)) throw malformed('no value');
  for (const field of ['createdAt', 'staleAt', 'graceUntil'] as const) {
    const t = e[field];
    if (typeof t !== 'number' || !(t >= 0 && t <= MAX_TIME)) throw malformed(`${field} is ${String(t)}`);
  }
  if (!isStringArray(e.tags)) throw malformed('tags are not strings');
  if (e.indexTags !== undefined && !isStringArray(e.indexTags)) throw malformed('indexTags are not strings');
  const record = e as WireRecord;
  const entry: TierEntry = {
    value: record.value,
    createdAt: record.createdAt,
    staleAt: record.staleAt,
    expiresAt: record.graceUntil,
    tags: record.tags,
  };
  if (record.indexTags !== undefined) entry.indexTags = record.indexTags;
  if (record.validators !== undefined || record.adaptive !== undefined) copyLoadState(record, entry);
  return entry;
}

/** The tags an entry is invalidated by (L1's index tags when they differ from its own). */
export function entryTags(entry: TierEntry): readonly string[] {
  return entry.indexTags ?? entry.tags;
}

/** When the write of an entry began, ms: its stamp's millisecond, or createdAt for unstamped data. */
export function sinceOf(entry: TierEntry): number {
  return entry.version === undefined ? entry.createdAt : Math.min(entry.createdAt, stampMs(entry.version));
}

/**
 * Whether a decoded entry may be served at `now`: it has not expired, and its write could have begun
 * by then (give or take the clock skew a bus tag time is allowed, {@link BUS_LIMITS}.maxFutureMs). One
 * that began later (an unstamped record whose createdAt is far ahead) would outlive every tag
 * invalidation until then: it is not believed.
 */
export function usable(entry: TierEntry, now: number): boolean {
  return (entry.expiresAt === 0 || entry.expiresAt > now) && sinceOf(entry) <= now + BUS_LIMITS.maxFutureMs;
}

function isStringArray(value: unknown): value is readonly string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function malformed(reason: string): TypeError {
  return new TypeError(`stored value is not a Larder entry (${reason})`);
}
