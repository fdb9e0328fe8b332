// The shared tier's read path: one entry (decoded, checked against its tags' invalidation times and
// the outage backlog, read again once when a remote invalidation raced it), and the batched check of
// entries restored from a local snapshot.
import type { Codec } from '../codec/codec.js';
import { serializationError } from '../codec/serializer.js';
import { errorMessage } from '../observability/log-sink.js';
import type { DriverValue } from './driver.js';
import type { GuardedDriver } from './guarded-driver.js';
import { entryKey } from './keys.js';
import { unframe } from './stamp.js';
import type { Backlog } from './pending.js';
import type { BoundCache } from './tier-binding.js';
import { decodeTierEntry, entryTags, sinceOf, usable } from './tier-entry.js';
import type { TierLog } from './tier-log.js';
import type { TierEntry } from './types.js';
import type { ValueLimit } from './value-limit.js';
import { since as msSince } from '../util/time.js';

const NO_TAGS: readonly string[] = [];

/** What {@link EntryReader} `#decode` answers for a tombstone (a delete, kept so older loads cannot land). */
const TOMBSTONE = Symbol('tombstone');

/** Keys per MGET when restored entries are checked against L2. */
const VERIFY_BATCH = 500;

/** What identifies one write of a key: an entry restored locally is trusted only if L2 holds the same. */
export interface RestoredStamp {
  key: string;
  createdAt: number;
  staleAt: number;
  expiresAt: number;
}

/** What the reader needs of its tier. */
export interface EntryReaderParts {
  driver: GuardedDriver;
  codec: Codec;
  /** The bound on a value's stored size: one larger is not decoded. */
  limit: ValueLimit;
  backlog: Backlog;
  log: TierLog;
  clock: () => number;
}

/** Reads entries of bound caches from L2. */
export class EntryReader {
  readonly #parts: EntryReaderParts;

  constructor(parts: EntryReaderParts) {
    this.#parts = parts;
  }

  /** The entry in L2, once a restored outbox had its first replay attempt; undefined when unusable. */
  async read(cache: BoundCache, key: string): Promise<TierEntry | undefined> {
    const ready = this.#parts.backlog.ready;
    if (ready !== undefined) await ready;
    return this.readNow(cache, key);
  }

  /** The entry in L2 (without waiting for an outbox replay: the lock's waiters poll with it). */
  async readNow(cache: BoundCache, key: string): Promise<TierEntry | undefined> {
    // A remote invalidation that lands while a read is in flight may concern the value being read;
    // read again once rather than hand a possibly stale value to L1.
    for (let attempt = 0; attempt < 2; attempt++) {
      const start = cache.readStart(key);
      let entry: TierEntry | undefined;
      try {
        entry = await this.#readOnce(cache, key);
      } catch (error) {
        cache.readRaced(key, start, NO_TAGS);
        throw error;
      }
      if (!cache.readRaced(key, start, entry === undefined ? NO_TAGS : entryTags(entry))) return entry;
    }
    return undefined;
  }

  /**
   * {@link read} for several keys: one batched read of the entries (an MGET on Redis) and at most one of
   * the tags' times, each entry checked as read() checks one. Read again once when a remote
   * invalidation raced it; all undefined when one races again, or when L2 is unreachable.
   */
  async readMany(cache: BoundCache, keys: readonly string[]): Promise<Array<TierEntry | undefined>> {
    const ready = this.#parts.backlog.ready;
    if (ready !== undefined) await ready;
    for (let attempt = 0; attempt < 2; attempt++) {
      const starts = keys.map((key) => cache.readStart(key));
      let entries: Array<TierEntry | undefined>;
      try {
        entries = await this.#readManyOnce(cache, keys);
      } catch (error) {
        for (let i = 0; i < keys.length; i++) cache.readRaced(keys[i]!, starts[i]!, NO_TAGS);
        throw error;
      }
      // Every key's read ends here, raced or not (each must be counted out).
      let raced = false;
      for (let i = 0; i < keys.length; i++) {
        const entry = entries[i];
        if (cache.readRaced(keys[i]!, starts[i]!, entry === undefined ? NO_TAGS : entryTags(entry)))
          raced = true;
      }
      if (!raced) return entries;
    }
    return keys.map(() => undefined);
  }

  async #readManyOnce(cache: BoundCache, keys: readonly string[]): Promise<Array<TierEntry | undefined>> {
    const { driver, backlog, clock } = this.#parts;
    const out = new Array<TierEntry | undefined>(keys.length).fill(undefined);
    if (keys.length === 0) return out;
    const full = keys.map((key) => entryKey(cache.name, key));
    let raws;
    try {
      raws = await driver.getMany(full);
    } catch {
      return out; // The guard has logged the outage; the cache answers from L1 or the loader.
    }
    const now = clock();
    const tagged: Array<{ index: number; tags: readonly string[]; since: number }> = [];
    for (let i = 0; i < keys.length; i++) {
      const raw = raws[i];
      if (raw === undefined) continue;
      const key = keys[i]!;
      const entry = this.#decode(cache, key, raw);
      if (entry === TOMBSTONE) continue;
      if (entry === undefined || !usable(entry, now)) {
        // Only what was read: a write that landed since is another instance's, and stays.
        driver.deleteIfEquals(full[i]!, raw).catch(() => {});
        continue;
      }
      const tags = entryTags(entry);
      const since = sinceOf(entry);
      if (backlog.pending.covers(cache.name, key, since, tags)) continue;
      out[i] = entry;
      if (tags.length > 0) tagged.push({ index: i, tags, since });
    }
    if (tagged.length === 0) return out;
    let latest: number[];
    try {
      latest = await cache.tags.latestEach(tagged.map((t) => t.tags));
    } catch {
      for (const { index } of tagged) out[index] = undefined; // cannot prove them still valid
      return out;
    }
    for (let t = 0; t < tagged.length; t++) {
      if (latest[t]! >= tagged[t]!.since) out[tagged[t]!.index] = undefined;
    }
    return out;
  }

  async #readOnce(cache: BoundCache, key: string): Promise<TierEntry | undefined> {
    const { driver, backlog, clock } = this.#parts;
    const full = entryKey(cache.name, key);
    let raw;
    try {
      raw = await driver.get(full);
    } catch {
      return undefined; // The guard has logged the outage; the cache answers from L1 or the loader.
    }
    if (raw === undefined) return undefined;
    const entry = this.#decode(cache, key, raw);
    // A tombstone: deleted (kept so older loads cannot land).
    if (entry === TOMBSTONE) return undefined;
    const now = clock();
    if (entry === undefined || !usable(entry, now)) {
      // Only what was read: a plain delete would also remove a write that landed after this read (and
      // its stamp, so a load older than that write could then be stored over it).
      driver.deleteIfEquals(full, raw).catch(() => {});
      return undefined;
    }
    const tags = entryTags(entry);
    // Compared with when the write began (a load's start), not when it was stored: see stamp.ts.
    const since = sinceOf(entry);
    // An invalidation still waiting for replay may concern this entry: L2 cannot be trusted for it yet.
    if (backlog.pending.covers(cache.name, key, since, tags)) return undefined;
    if (tags.length > 0) {
      let invalidatedAt: number;
      try {
        invalidatedAt = await cache.tags.latest(tags);
      } catch {
        return undefined; // Cannot prove the entry is still valid.
      }
      if (invalidatedAt >= since) return undefined;
    }
    return entry;
  }

  /**
   * The entry `raw` (what L2 holds under `key`) holds, TOMBSTONE for a tombstone, or undefined when it
   * is unusable: larger than maxValueBytes (measured before anything is decoded or decompressed) or
   * not a Larder entry. Either is reported to the cache; the caller removes it.
   */
  #decode(cache: BoundCache, key: string, raw: DriverValue): TierEntry | typeof TOMBSTONE | undefined {
    const { codec, limit } = this.#parts;
    const bytes = limit.over(raw);
    if (bytes !== undefined) {
      // A tombstone is its header alone, never refused (only a bound below a header's size reaches
      // here): removing it would let a load older than its delete land. Read without decoding anything.
      if (unframe(raw).tombstone) return TOMBSTONE;
      cache.reportError(limit.readRefused(key, bytes), key);
      return undefined;
    }
    try {
      return decodeTierEntry(codec, raw) ?? TOMBSTONE;
    } catch (error) {
      cache.reportError(serializationError(key, 'deserialize', error), key);
      return undefined;
    }
  }

  /**
   * Which of `items` (entries restored from a local snapshot) L2 still vouches for: it holds the same
   * write (createdAt, staleAt, expiresAt) under the key, none of its tags was invalidated since, and
   * no undelivered invalidation concerns it. Batched: one MGET per 500 keys and per 500 tags; what a
   * failed batch covers is not vouched for (logged at warn).
   */
  async verifyRestored(cache: BoundCache, items: readonly RestoredStamp[]): Promise<boolean[]> {
    const { driver, codec, limit, backlog, log } = this.#parts;
    const ready = backlog.ready;
    if (ready !== undefined) await ready;
    const started = performance.now();
    const ok = new Array<boolean>(items.length).fill(false);
    const tagged: Array<{ index: number; tags: readonly string[]; since: number }> = [];
    let unchecked = 0;
    let failure: unknown;
    // Batch by batch: a batch that fails (timeout, outage) drops its own entries, not the others'.
    for (let from = 0; from < items.length; from += VERIFY_BATCH) {
      const batch = items.slice(from, from + VERIFY_BATCH);
      let raws;
      try {
        raws = await driver.getMany(batch.map((item) => entryKey(cache.name, item.key)));
      } catch (error) {
        unchecked += batch.length;
        failure = error;
        continue;
      }
      for (let i = 0; i < batch.length; i++) {
        const item = batch[i]!;
        const raw = raws[i];
        // Not vouched for, and not decoded: left for a read to report and remove.
        if (raw === undefined || limit.over(raw) !== undefined) continue;
        let entry: TierEntry | undefined;
        try {
          entry = decodeTierEntry(codec, raw);
        } catch {
          continue;
        }
        if (entry === undefined) continue; // a tombstone: deleted since
        const same =
          entry.createdAt === item.createdAt &&
          entry.staleAt === item.staleAt &&
          entry.expiresAt === item.expiresAt;
        const tags = entryTags(entry);
        const since = sinceOf(entry);
        if (!same || backlog.pending.covers(cache.name, item.key, since, tags)) continue;
        ok[from + i] = true;
        if (tags.length > 0) tagged.push({ index: from + i, tags, since });
      }
    }
    const distinct = [...new Set(tagged.flatMap((t) => t.tags))];
    const times = new Map<string, number>();
    for (let from = 0; from < distinct.length; from += VERIFY_BATCH) {
      const batch = distinct.slice(from, from + VERIFY_BATCH);
      try {
        for (const [tag, at] of await cache.tags.times(batch)) times.set(tag, at);
      } catch (error) {
        failure = error;
        for (const tag of batch) times.set(tag, Infinity); // unknown: cannot prove the entry valid
      }
    }
    for (const { index, tags, since } of tagged) {
      if (tags.some((tag) => (times.get(tag) ?? 0) >= since)) ok[index] = false;
    }
    const kept = ok.filter(Boolean).length;
    const fields = {
      cache: cache.name,
      kept,
      dropped: items.length - kept,
      durationMs: msSince(started),
    };
    if (failure === undefined) log.info('L2 validated restored entries', fields);
    else
      log.warn('L2 validated restored entries, but could not check them all (dropped)', {
        ...fields,
        unchecked,
        error: errorMessage(failure),
      });
    return ok;
  }
}
