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
// duels for admission, when it leaves, and before each aging. The table then holds what a sketch
// incremented on every access would hold, without a random memory access per hit (Caffeine gets the
// same effect by buffering reads and replaying them in batches).
//
// Layout: the table is an Int32Array cut into blocks of eight words (32 bytes); each row owns two
// words (16 counters) of a block, and all four of a key's counters sit in one block. The low bits of
// the key hash choose the block; a second mixing of the hash picks, per row, one of the row's two
// words (1 bit) and one of that word's eight nibbles (3 bits). Caffeine's FrequencySketch [4] has the
// same shape at twice the width: eight 64-bit words, a 64-byte block, one CPU cache line. Ours is
// half a line, and nothing here controls where V8 places a typed array's storage: a block lies inside
// one 64-byte line when the table starts on a 32-byte boundary, and may straddle two otherwise. The
// table grows with the cache (a cache that never fills never pays for a large sketch) without losing
// counts.
//
// References (numbered as in tinylfu.ts):
// [1] G. Einziger, R. Friedman, B. Manes. TinyLFU: A Highly Efficient Cache Admission Policy. ACM
//     Transactions on Storage 13(4), 2017. https://doi.org/10.1145/3149371
// [2] G. Cormode, S. Muthukrishnan. An improved data stream summary: the count-min sketch and its
//     applications. Journal of Algorithms 55(1), 2005. https://doi.org/10.1016/j.jalgor.2003.12.001
// [4] Caffeine 3.2.4, FrequencySketch.java:
//     https://github.com/ben-manes/caffeine/blob/v3.2.4/caffeine/src/main/java/com/github/benmanes/caffeine/cache/FrequencySketch.java

/** On aging, clears the top bit of every nibble, which a word's shift right carries in from its neighbour. */
const AGE_MASK = 0x77777777;
/** The smallest table: room for 8 entries (16 words, two blocks). */
const MIN_ENTRIES = 8;
/** The largest table: room for 2^26 entries (512 MiB); a larger cache shares counters more. */
const MAX_ENTRIES = 1 << 26;

/** Approximate recent access frequency of hashed keys, 0..15. */
export class FrequencySketch {
  #table = new Int32Array(0);
  #blockMask = 0;

  /** Creates a sketch sized for about `capacity` distinct entries. */
  constructor(capacity: number) {
    this.ensureCapacity(capacity);
  }

  /**
   * Resizes for `capacity` entries if that needs a larger table. Counts survive: a key's counters sit
   * at the same offsets inside its block whatever the table size, and doubling the table only adds a
   * high bit to the block index, so every old block is copied to each of its new homes.
   */
  ensureCapacity(capacity: number): void {
    const entries = ceilPow2(Math.max(MIN_ENTRIES, Math.min(capacity, MAX_ENTRIES)));
    // Two words (16 counters) per entry, eight words per block.
    const words = entries * 2;
    if (words <= this.#table.length) return;
    const old = this.#table;
    this.#table = new Int32Array(words);
    if (old.length > 0) for (let at = 0; at < words; at += old.length) this.#table.set(old, at);
    this.#blockMask = (words >>> 3) - 1;
  }

  /** The estimated frequency (0..15) of the key with this hash. */
  frequency(hash: number): number {
    const t = this.#table;
    const block = (hash & this.#blockMask) << 3;
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
    const block = (hash & this.#blockMask) << 3;
    const h = rehash(hash);
    addTo(t, block + (h & 1), ((h >>> 1) & 7) << 2, count);
    addTo(t, block + 2 + ((h >>> 8) & 1), ((h >>> 9) & 7) << 2, count);
    addTo(t, block + 4 + ((h >>> 16) & 1), ((h >>> 17) & 7) << 2, count);
    addTo(t, block + 6 + ((h >>> 24) & 1), ((h >>> 25) & 7) << 2, count);
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

// Adds `count` to the 4-bit counter at bit `shift` of word `i`, saturating at 15.
function addTo(t: Int32Array, i: number, shift: number, count: number): void {
  const v = t[i]!;
  const next = Math.min(15, ((v >>> shift) & 15) + count);
  t[i] = (v & ~(15 << shift)) | (next << shift);
}

// A second, independent mixing of the key hash, so the counter choice is not tied to the block choice.
function rehash(h: number): number {
  h = Math.imul(h, 0x31848bab);
  return h ^ (h >>> 14);
}

function ceilPow2(n: number): number {
  return n <= 1 ? 1 : 2 ** Math.ceil(Math.log2(n));
}
