// The read buffer: cache hits recorded now, applied to the eviction order later (Caffeine's read
// buffer, in one thread). A hit costs one typed-array write; the policy replays the buffered slots in
// order before it next changes or reads its order (a set, a removal, an eviction), so as long as the
// buffer does not fill between two such calls, the order and the frequency counts are exactly what
// applying each hit at once would give. Hits past a full buffer are dropped, as in Caffeine (the
// reordering and the frequency count both): a long run of hits with no write in between, a
// read-mostly cache, then costs an index lookup and a compare per hit, and what it loses is the relative
// recency of entries that all stayed resident anyway.
//
// Size: 4 x the entry bound, between 64 and 4,096 slots (16 KiB). 256 slots lost 2-3.5 points on gli
// (long runs of hits between loop iterations) and up to 6 under LRU; at 4,096 every trace row of
// bench:hit-ratio is unchanged (P3 at 131072 gains 0.4), and a small cache does not pay for a large one.

/** The fewest and the most slots a read buffer has. */
const MIN_SIZE = 64;
const MAX_SIZE = 4096;

/** A fixed array of slot numbers with a fill count. */
export class ReadBuffer {
  readonly slots: Int32Array;
  readonly #size: number;
  /** Buffered hits in `slots[0 .. count)`. */
  count = 0;

  /** A buffer for a cache of up to `maxEntries` entries. */
  constructor(maxEntries: number) {
    this.#size = Math.max(MIN_SIZE, Math.min(MAX_SIZE, 4 * maxEntries));
    this.slots = new Int32Array(this.#size);
  }

  /** Records a hit on `slot`; false when the buffer is full and the hit was not recorded. */
  record(slot: number): boolean {
    const n = this.count;
    if (n === this.#size) return false;
    this.slots[n] = slot;
    this.count = n + 1;
    return true;
  }
}
