// The bound on the size of one value in L2 (`maxValueBytes`). What L2 holds is untrusted and no input
// may block the event loop: decoding costs about 100 ms per MB of tiny msgpack elements (a 50 MB array
// of zeros planted under a cache's key blocked the loop 5.3 s), and only decompression had a limit. A
// value read whose stored bytes exceed the bound is not decoded (a corrupt value: a miss, removed); a
// value written whose encoding exceeds it is not sent (it stays in L1; invalidations.ts replaces the old
// L2 value by a tombstone). The same bytes are measured both ways (stamp header included), so whatever
// this tier writes it can read back.
import type { CacheError } from '../errors.js';
import { serializationError } from '../codec/serializer.js';
import type { DriverValue } from './driver.js';
import type { TierLog } from './tier-log.js';

/** Default bound: a 1 MiB HTTP body (up to 2 MiB as msgpack: see the TSDoc of the option) fits twice. */
export const DEFAULT_MAX_VALUE_BYTES = 4 * 1024 * 1024;

/** A skipped write is logged at once, then at most once per this many ms (with a count of the others). */
const WARN_EVERY_MS = 60_000;

/** The value size bound of one tier, with its counts. */
export class ValueLimit {
  readonly maxBytes: number;
  /** Values read from L2 that were over the bound (not decoded). */
  oversizedReads = 0;
  /** Values not written to L2 because their encoding was over the bound. */
  oversizedWrites = 0;
  readonly #log: TierLog;
  readonly #clock: () => number;
  #warnedAt = -Infinity;
  #notLogged = 0;

  constructor(maxBytes: number, log: TierLog, clock: () => number) {
    this.maxBytes = maxBytes;
    this.#log = log;
    this.#clock = clock;
  }

  /** The counts as `health().l2` reports them: each only once it is not 0 (most tiers never see one). */
  counts(): { oversizedReads?: number; oversizedWrites?: number } {
    const counts: { oversizedReads?: number; oversizedWrites?: number } = {};
    if (this.oversizedReads > 0) counts.oversizedReads = this.oversizedReads;
    if (this.oversizedWrites > 0) counts.oversizedWrites = this.oversizedWrites;
    return counts;
  }

  /**
   * The size of `raw` in bytes when it is over the bound, else undefined. A string counts in UTF-8
   * bytes (as the store holds it), never less than its length: one longer than the bound is over it
   * without being measured.
   */
  over(raw: DriverValue): number | undefined {
    let bytes: number;
    if (typeof raw !== 'string') bytes = raw.length;
    else bytes = raw.length > this.maxBytes ? raw.length : Buffer.byteLength(raw, 'utf8');
    return bytes > this.maxBytes ? bytes : undefined;
  }

  /** Counts a value read over the bound; returns the error the key's cache is told of (as a corrupt one). */
  readRefused(key: string, bytes: number): CacheError {
    this.oversizedReads++;
    return serializationError(
      key,
      'deserialize',
      new RangeError(
        `stored value is ${bytes} bytes, more than maxValueBytes (${this.maxBytes}); not decoded`,
      ),
    );
  }

  /** Counts a write not sent, and logs it at warn: the first at once, then at most once a minute. */
  writeSkipped(cache: string, key: string, bytes: number): void {
    this.oversizedWrites++;
    const now = this.#clock();
    if (now - this.#warnedAt < WARN_EVERY_MS) {
      this.#notLogged++;
      return;
    }
    const fields: Record<string, unknown> = { cache, key, bytes, maxValueBytes: this.maxBytes };
    if (this.#notLogged > 0) fields.notLogged = this.#notLogged;
    this.#warnedAt = now;
    this.#notLogged = 0;
    this.#log.warn(
      'L2 does not store a value larger than maxValueBytes; it stays in L1 only (the old L2 value is deleted)',
      fields,
    );
  }
}
