// Ghost entries for W-TinyLFU's ARC and S3-FIFO modes (see "Other policies" in tinylfu.ts): the hashes
// of the keys the cache evicted most recently, each marked with the list it left (T1 or T2), so that a
// key coming back is recognised as ARC's B1 or B2 hit, or S3-FIFO's ghost hit. Only hashes are kept,
// in two typed arrays:
// - a ring of the last `capacity` evictions, oldest first (a slot is zeroed when its key comes back);
// - an open-addressing table (linear probing, load at most 1/2) of ring positions, to find a hash.
// So the ghosts cost 12 bytes per entry of the cache's bound, allocated only once a mode evicts, and
// every operation is O(1) on average. A ghost is forgotten after `capacity` more evictions
// whether or not others came back in between: the history is "the last `capacity` evictions", which
// holds about as many keys as ARC's B1 and B2 together (at most the cache's size).

/** A ghost that left T1 (ARC's B1). */
export const GHOST_T1 = 1;
/** A ghost that left T2 (ARC's B2). */
export const GHOST_T2 = 2;
/** The low bits of a ring word that carry the list; the rest is the key hash. */
const LIST_MASK = 3;
/** Multiplier that spreads a hash over the table (hash bits the engine reads elsewhere stay unused). */
const SPREAD = 0x9e3779b1;

/** The hashes of the last `capacity` evicted keys, by the list each left. */
export class GhostQueue {
  /** Hash (without its two low bits) | list, per eviction; 0 once the key came back. */
  readonly #ring: Int32Array;
  /** Ring position + 1 per used table slot; 0 is empty. */
  readonly #table: Int32Array;
  readonly #scale: number;
  #head = 0;
  #length = 0;
  /** Ghosts from T1 (index 1) and T2 (index 2) still waiting, for ARC's step sizes. */
  readonly #counts = new Int32Array(3);

  /** A history of the last `capacity` (>= 1) evictions. */
  constructor(capacity: number) {
    this.#ring = new Int32Array(Math.max(1, capacity));
    this.#table = new Int32Array(2 * this.#ring.length);
    this.#scale = this.#table.length / 2 ** 32;
  }

  /** Ghosts that left T1 (ARC's |B1|). */
  get fromT1(): number {
    return this.#counts[GHOST_T1]!;
  }

  /** Ghosts that left T2 (ARC's |B2|). */
  get fromT2(): number {
    return this.#counts[GHOST_T2]!;
  }

  /** Records the eviction of the key with `hash` from `list` (GHOST_T1 or GHOST_T2). */
  push(hash: number, list: number): void {
    const ring = this.#ring;
    if (this.#length === ring.length) this.#dropOldest();
    let pos = this.#head + this.#length;
    if (pos >= ring.length) pos -= ring.length;
    ring[pos] = (hash & ~LIST_MASK) | list;
    this.#length++;
    this.#counts[list]!++;
    const table = this.#table;
    let i = this.#home(hash);
    while (table[i] !== 0) if (++i === table.length) i = 0;
    table[i] = pos + 1;
  }

  /**
   * Forgets the ghost of `hash` if there is one and returns the list it left (GHOST_T1 or GHOST_T2),
   * else 0.
   */
  take(hash: number): number {
    const ring = this.#ring;
    const table = this.#table;
    const wanted = hash & ~LIST_MASK;
    let i = this.#home(hash);
    for (let entry = table[i]!; entry !== 0; entry = table[i]!) {
      const word = ring[entry - 1]!;
      if ((word & ~LIST_MASK) === wanted) {
        const list = word & LIST_MASK;
        ring[entry - 1] = 0;
        this.#counts[list]!--;
        this.#unlinkAt(i);
        return list;
      }
      if (++i === table.length) i = 0;
    }
    return 0;
  }

  /** Forgets every ghost. */
  clear(): void {
    this.#table.fill(0);
    this.#head = 0;
    this.#length = 0;
    this.#counts.fill(0);
  }

  #home(hash: number): number {
    return Math.floor((Math.imul(hash & ~LIST_MASK, SPREAD) >>> 0) * this.#scale);
  }

  // The oldest eviction leaves the history; its table slot is freed unless its key came back.
  #dropOldest(): void {
    const ring = this.#ring;
    const pos = this.#head;
    const word = ring[pos]!;
    this.#head = pos + 1 === ring.length ? 0 : pos + 1;
    this.#length--;
    if (word === 0) return;
    this.#counts[word & LIST_MASK]!--;
    const table = this.#table;
    let i = this.#home(word);
    while (table[i] !== pos + 1) if (++i === table.length) i = 0;
    this.#unlinkAt(i);
  }

  // Empties table slot `hole` and shifts back the entries after it that probed past it, so every
  // entry stays reachable from its home slot (deletion without tombstones).
  #unlinkAt(hole: number): void {
    const table = this.#table;
    const ring = this.#ring;
    const size = table.length;
    let j = hole;
    for (;;) {
      if (++j === size) j = 0;
      const entry = table[j]!;
      if (entry === 0) break;
      const home = this.#home(ring[entry - 1]!);
      // The entry may fill the hole unless its home lies cyclically in (hole, j].
      const reachable = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!reachable) {
        table[hole] = entry;
        hole = j;
      }
    }
    table[hole] = 0;
  }
}
