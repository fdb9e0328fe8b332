// The eviction-policy seam of MemoryCache, and the plain LRU policy. A policy orders the cache's
// slots and names the next one to evict; the cache owns keys, values, sizes and budgets, and calls
// `victim()` for as long as it is over one of them. W-TinyLFU lives in tinylfu.ts.
import type { EvictionPolicy } from './types.js';
import { SlotLinks } from './links.js';
import { ReadBuffer } from './read-buffer.js';

/** What MemoryCache asks of an eviction policy; all slots are the cache's slot numbers. */
export interface Policy {
  /** The policy's public name. */
  readonly name: EvictionPolicy;
  /** Makes room for slots below `capacity`. */
  grow(capacity: number): void;
  /** Gives the policy the per-slot weights (bytes) of a byte-bounded cache; `null` means 1 per entry. */
  setWeights(weights: Float64Array | null): void;
  /**
   * A new entry in `slot`, with its key's hash (hash.ts: hashKey), its weight (already in the weights
   * array) and its reload cost (finite, >= 0; 0 when none was given).
   */
  add(slot: number, hash: number, weight: number, cost: number): void;
  /**
   * A read hit on `slot`, buffered: applied before the policy next changes or reports its order, or
   * dropped if the read buffer is full (read-buffer.ts). The cache's get() path.
   */
  read(slot: number): void;
  /** A hit on `slot` applied at once, never dropped (snapshot restores replay frequencies with it). */
  touch(slot: number): void;
  /**
   * The entry in `slot` was overwritten; its weight changed from `oldWeight` to `newWeight`, and its
   * reload cost is now `cost`.
   */
  update(slot: number, oldWeight: number, newWeight: number, cost: number): void;
  /** The entry in `slot` leaves (called before the cache forgets its weight). */
  remove(slot: number): void;
  /** The slot to evict next; only called while the cache holds at least one entry. */
  victim(): number;
  /** Every slot the policy holds, most valuable first (the reverse of the order it would evict in). */
  retentionOrder(): number[];
  /** The policy's estimate of how often the entry in `slot` was used, 0..15 (0 where it keeps none). */
  frequencyOf(slot: number): number;
  /**
   * The budget changed to `maximum` (entries, or bytes when weights are set) for a cache of up to
   * `expectedEntries` entries; the cache then evicts through victim() while it is over the budget.
   * The read buffer is sized anew for `maximum`, so a cache grown at run time drops no more hits
   * than one created at its new bound.
   */
  resize(maximum: number, expectedEntries: number): void;
  /** Forgets every entry (the cache was cleared). */
  clear(): void;
  /** Internal state for tests and diagnostics. */
  snapshot(): Record<string, number>;
}

/** Least-recently-used order: one list, hits move to the back, the front is evicted. */
export class LruPolicy implements Policy {
  readonly name = 'lru' as const;
  #links: SlotLinks;
  /** Hits not yet applied to the order (read-buffer.ts), sized for the current bound. */
  #reads: ReadBuffer;

  /** Creates an LRU order for slots below `capacity`, for a cache of up to `maxEntries` entries. */
  constructor(capacity: number, maxEntries: number) {
    this.#links = new SlotLinks(capacity, 1);
    this.#reads = new ReadBuffer(maxEntries);
  }

  grow(capacity: number): void {
    this.#links.grow(capacity);
  }

  setWeights(): void {
    // Recency does not depend on weight.
  }

  add(slot: number): void {
    if (this.#reads.count !== 0) this.#drainReads();
    this.#links.pushBack(0, slot);
  }

  read(slot: number): void {
    this.#reads.record(slot);
  }

  touch(slot: number): void {
    if (this.#reads.count !== 0) this.#drainReads();
    this.#links.moveToBack(0, slot);
  }

  update(slot: number): void {
    if (this.#reads.count !== 0) this.#drainReads();
    this.#links.moveToBack(0, slot);
  }

  remove(slot: number): void {
    if (this.#reads.count !== 0) this.#drainReads();
    this.#links.unlink(slot);
  }

  victim(): number {
    if (this.#reads.count !== 0) this.#drainReads();
    return this.#links.first(0);
  }

  retentionOrder(): number[] {
    if (this.#reads.count !== 0) this.#drainReads();
    const out: number[] = [];
    this.#links.collectNewestFirst(0, out);
    return out;
  }

  frequencyOf(): number {
    return 0;
  }

  resize(maximum: number): void {
    // Recency order does not depend on the budget; the read buffer's size does.
    if (this.#reads.count !== 0) this.#drainReads();
    this.#reads = new ReadBuffer(maximum);
  }

  clear(): void {
    this.#reads.count = 0;
    this.#links.reset();
  }

  snapshot(): Record<string, number> {
    return {};
  }

  // Applies the hits buffered by read(), in order.
  #drainReads(): void {
    const reads = this.#reads;
    const slots = reads.slots;
    const n = reads.count;
    reads.count = 0;
    for (let i = 0; i < n; i++) this.#links.moveToBack(0, slots[i]!);
  }
}
