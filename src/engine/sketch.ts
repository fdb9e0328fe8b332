// A 4-bit count-min sketch: the frequency history ("TinyLFU") of W-TinyLFU.
//
// What: an approximate count of how often each key was seen recently, in a small, fixed amount of
// memory (16 four-bit counters per cache entry, 8 bytes). It is a count-min sketch [2] of depth four:
// a key has one counter in each of four rows and its estimate is the least of the four, so
// collisions can only inflate an estimate, never deflate it.
//
// Why: TinyLFU [1] admits a new entry into the main space only if it is more popular than the entry
// it would replace, so the cache must remember the popularity of keys it does not hold. Popularity
// must reflect the recent past, so the sketch *ages*: after a sample of 10 x capacity accesses the
// owner (tinylfu.ts) halves every counter (the paper names this step "reset"). Counters saturate at
// 15, which the paper shows is enough to rank candidates against victims. Caffeine [4], when it ages,
// also lowers its access count by the halves lost to rounding down odd counters; Larder omits that
// correction and simply halves the count, and counts every access, even one that finds all four
// counters saturated. Both only move the next aging a little earlier or later.
//
// Role in Larder: a cache hit does not touch this table. The entry counts the access in its own slot
// record (see tinylfu.ts), and those pending counts are added here when they matter: before the entry
// duels for admission, when it leaves, and before each aging. (An insertion in the ARC and S3-FIFO
// modes is counted here at once, as it reads the key's block anyway.) The table then holds what a sketch
// incremented on every access would hold, without a random memory access per hit (Caffeine gets the
// same effect by buffering reads and replaying them in batches).
//
// Layout: the table is an Int32Array cut into blocks of eight words (32 bytes); each row owns two
// words (16 counters) of a block, and all four of a key's counters sit in one block. The key hash,
// read as a fraction of 2^32 and scaled by the number of blocks (Lemire's multiply-shift range
// reduction, so the table need not be a power of two and costs 8 bytes per entry exactly), chooses
// the block; a second mixing of the hash picks, per row, one of the row's two
// words (1 bit) and one of that word's eight nibbles (3 bits). Caffeine's FrequencySketch [4] has the
// same shape at twice the width: eight 64-bit words, a 64-byte block, one CPU cache line. Ours is
// half a line, and nothing here controls where V8 places a typed array's storage: a block lies inside
// one 64-byte line when the table starts on a 32-byte boundary, and may straddle two otherwise. The
// table grows with the cache (a cache that never fills never pays for a large sketch) and keeps its
// counts: a key's block moves in proportion to the table's size, so each new block starts as a copy
// of the old block that covered the same range of hashes (exact when the size doubles; a key on the
// edge of a block may otherwise start from its neighbour's counts, which only blurs its estimate).
// It never holds fewer counters than 64 entries' worth (512 bytes). Sized for a cache of 8 entries,
// each row had 32 counters and the sketch aged every 80 accesses, so an estimate was mostly other
// keys' counts: on Zipf streams over 100,000 keys, caches of 8 and 16 entries trailed S3-FIFO by 1.0
// to 1.3 points (0.5 to 0.8 with the floor), and on cpp a cache of 8 entries went from 1.60 behind
// the best of LRU, ARC, S3-FIFO and SIEVE to 1.49 ahead. On ten traces at 8, 16 and 32 entries no row
// fell behind the best by more than 0.63 with the floor (multi2 at 32 lost 2.05 of its 5.14 lead).
// A floor of 256 entries moved cpp at 100 entries by +0.36 and ps at 250 by -0.12 and gained nothing
// more on the small caches. A larger cache meets the floor only while its first entries arrive; no
// row of bench:hit-ratio moved.
//
// References (numbered as in tinylfu.ts):
// [1] G. Einziger, R. Friedman, B. Manes. TinyLFU: A Highly Efficient Cache Admission Policy. ACM
//     Transactions on Storage 13(4), 2017. https://doi.org/10.1145/3149371
// [2] G. Cormode, S. Muthukrishnan. An improved data stream summary: the count-min sketch and its
//     applications. Journal of Algorithms 55(1), 2005. https://doi.org/10.1016/j.jalgor.2003.12.001
// [4] Caffeine 3.2.4, FrequencySketch.java:
//     https://github.com/ben-manes/caffeine/blob/v3.2.4/caffeine/src/main/java/com/github/benmanes/caffeine/cache/FrequencySketch.java
// [12] C. Estan, G. Varghese. New Directions in Traffic Measurement and Accounting. ACM SIGCOMM 2002
//     ("conservative update"; Cohen and Matias's "minimal increase", SIGMOD 2003, is the same rule).

/** On aging, clears the top bit of every nibble, which a word's shift right carries in from its neighbour. */
const AGE_MASK = 0x77777777;
/** The smallest table: room for 64 entries (128 words, 512 bytes; see ensureCapacity). */
// Entries are counted in fours: four entries' 16 counters each fill one 8-word block.
const MIN_ENTRIES = 64;
/** The largest table: room for 2^26 entries (512 MiB); a larger cache shares counters more. */
const MAX_ENTRIES = 1 << 26;

/** Approximate recent access frequency of hashed keys, 0..15. */
export class FrequencySketch {
  #table = new Int32Array(0);
  /** Blocks per unit of unsigned hash: block = floor((hash >>> 0) * #scale). */
  #scale = 0;

  /** Creates a sketch sized for about `capacity` distinct entries. */
  constructor(capacity: number) {
    this.ensureCapacity(capacity);
  }

  /**
   * Resizes for `capacity` entries if that needs a larger table. Counts survive: a key's counters sit
   * at the same offsets inside its block whatever the table size, and each new block is a copy of the
   * old block covering the same hashes.
   */
  ensureCapacity(capacity: number): void {
    const entries = Math.max(MIN_ENTRIES, Math.min(Math.ceil(capacity), MAX_ENTRIES));
    // Two words (16 counters) per entry, eight words per block.
    const blocks = Math.ceil(entries / 4);
    const old = this.#table;
    const oldBlocks = old.length >>> 3;
    if (blocks <= oldBlocks) return;
    const table = new Int32Array(blocks << 3);
    if (oldBlocks > 0) {
      for (let b = 0; b < blocks; b++) {
        const from = Math.floor((b * oldBlocks) / blocks) << 3;
        table.set(old.subarray(from, from + 8), b << 3);
      }
    }
    this.#table = table;
    this.#scale = blocks / 2 ** 32;
  }

  /** The estimated frequency (0..15) of the key with this hash. */
  frequency(hash: number): number {
    const t = this.#table;
    const block = Math.floor((hash >>> 0) * this.#scale) << 3;
    const h = rehash(hash);
    let f = (t[block + (h & 1)]! >>> (((h >>> 1) & 7) << 2)) & 15;
    let g = (t[block + 2 + ((h >>> 8) & 1)]! >>> (((h >>> 9) & 7) << 2)) & 15;
    if (g < f) f = g;
    g = (t[block + 4 + ((h >>> 16) & 1)]! >>> (((h >>> 17) & 7) << 2)) & 15;
    if (g < f) f = g;
    g = (t[block + 6 + ((h >>> 24) & 1)]! >>> (((h >>> 25) & 7) << 2)) & 15;
    return g < f ? g : f;
  }

  /** Records `count` more occurrences of the key with this hash (each counter saturates at 15). */
  add(hash: number, count: number): void {
    const t = this.#table;
    const block = Math.floor((hash >>> 0) * this.#scale) << 3;
    const h = rehash(hash);
    addTo(t, block + (h & 1), ((h >>> 1) & 7) << 2, count);
    addTo(t, block + 2 + ((h >>> 8) & 1), ((h >>> 9) & 7) << 2, count);
    addTo(t, block + 4 + ((h >>> 16) & 1), ((h >>> 17) & 7) << 2, count);
    addTo(t, block + 6 + ((h >>> 24) & 1), ((h >>> 25) & 7) << 2, count);
  }

  /**
   * Records `count` more occurrences of the key with this hash and returns its new estimate: the same
   * as add() then frequency(), with the block and the counter offsets computed once.
   */
  increment(hash: number, count: number): number {
    const t = this.#table;
    const block = Math.floor((hash >>> 0) * this.#scale) << 3;
    const h = rehash(hash);
    let f = addTo(t, block + (h & 1), ((h >>> 1) & 7) << 2, count);
    let g = addTo(t, block + 2 + ((h >>> 8) & 1), ((h >>> 9) & 7) << 2, count);
    if (g < f) f = g;
    g = addTo(t, block + 4 + ((h >>> 16) & 1), ((h >>> 17) & 7) << 2, count);
    if (g < f) f = g;
    g = addTo(t, block + 6 + ((h >>> 24) & 1), ((h >>> 25) & 7) << 2, count);
    return g < f ? g : f;
  }

  /**
   * Records one occurrence of the key with this hash by *conservative update* [12]: only the key's
   * counters that hold its current estimate (the least of its four) go up by one, so a key seen once
   * raises no counter that another key already pushed higher. Returns the new estimate, as
   * increment(hash, 1) would without collisions. tinylfu.ts uses it for a lone access: at the
   * admission duel, when an entry leaves, and for an insertion in the ARC and S3-FIFO modes (see
   * "One-hit floods" and "Counting at the door" in its essay).
   */
  incrementOnce(hash: number): number {
    const t = this.#table;
    const block = Math.floor((hash >>> 0) * this.#scale) << 3;
    const h = rehash(hash);
    const i0 = block + (h & 1);
    const s0 = ((h >>> 1) & 7) << 2;
    const i1 = block + 2 + ((h >>> 8) & 1);
    const s1 = ((h >>> 9) & 7) << 2;
    const i2 = block + 4 + ((h >>> 16) & 1);
    const s2 = ((h >>> 17) & 7) << 2;
    const i3 = block + 6 + ((h >>> 24) & 1);
    const s3 = ((h >>> 25) & 7) << 2;
    const c0 = (t[i0]! >>> s0) & 15;
    const c1 = (t[i1]! >>> s1) & 15;
    const c2 = (t[i2]! >>> s2) & 15;
    const c3 = (t[i3]! >>> s3) & 15;
    let f = c0 < c1 ? c0 : c1;
    if (c2 < f) f = c2;
    if (c3 < f) f = c3;
    if (f === 15) return 15;
    // Every counter equal to the minimum is raised; the others are above it already.
    if (c0 === f) t[i0] = t[i0]! + (1 << s0);
    if (c1 === f) t[i1] = t[i1]! + (1 << s1);
    if (c2 === f) t[i2] = t[i2]! + (1 << s2);
    if (c3 === f) t[i3] = t[i3]! + (1 << s3);
    return f + 1;
  }

  /** Ages the history: halves every counter, rounding down. */
  age(): void {
    const t = this.#table;
    for (let i = 0; i < t.length; i++) t[i] = (t[i]! >>> 1) & AGE_MASK;
  }

  /** Sets every counter to zero. */
  clear(): void {
    this.#table.fill(0);
  }
}

// Adds `count` to the 4-bit counter at bit `shift` of word `i`, saturating at 15; returns the new count.
function addTo(t: Int32Array, i: number, shift: number, count: number): number {
  const v = t[i]!;
  const next = Math.min(15, ((v >>> shift) & 15) + count);
  t[i] = (v & ~(15 << shift)) | (next << shift);
  return next;
}

// A second, independent mixing of the key hash, so the counter choice is not tied to the block choice.
function rehash(h: number): number {
  h = Math.imul(h, 0x31848bab);
  return h ^ (h >>> 14);
}
