// Ghost entries for W-TinyLFU's ARC and S3-FIFO modes (see "Other policies" in tinylfu.ts): the hashes
// of the keys the cache evicted recently, each marked with the list it left (T1 or T2), so that a key
// coming back is recognised as ARC's B1 or B2 hit, or S3-FIFO's ghost hit.
//
// The history is kept in three generations of pushes, each half the capacity: new ghosts belong to
// the newest, and when it has taken half the capacity's pushes a new one starts and the oldest of the
// three is forgotten. So the last `capacity` evictions are remembered (as ARC's B1 and B2 remember,
// at most the cache's size together), and never more than the last 3/2 x `capacity`.
//
// Buckets: the ghosts live in one table of 8-word buckets, about three words per entry of the
// cache's bound (12 bytes). A ghost's word holds 26 bits of its hash, its generation's number (4
// bits, counted modulo 16) and its list; the bucket is chosen by the hash, and the bucket's first
// word counts the pushes into it, so each push takes the next of its 7 ghost words in turn, over the
// oldest ghost there. A take reads the one bucket (32 bytes, one or two cache lines) and compares 7
// words, with no branch the CPU cannot predict until a match. A ghost whose generation has passed
// reads as gone at once, and every 8 generations one sequential pass without a branch zeroes such
// words, so none is ever 16 generations old, where its number would read as live again. At most 3/2
// x `capacity` ghosts are live in 3/8 x `capacity` buckets, four per bucket on average, so a bucket
// that takes more than 7 pushes while its oldest ghost is live forgets that ghost early: of the last
// `capacity` evictions 99.6-100 % are found, of the half-capacity before them 94-96 % (a stream of
// new keys at 1,000 to 131,072 entries). Whatever the keys, a take or a push reads one bucket.
//
// The version before kept three open-addressing tables (one per generation, tombstones for taken
// ghosts, each emptied when its generation was reused) with a 1.5-byte-per-entry bit filter per
// generation in front, so a miss read three filter words and probed a table one time in three, and a
// push wrote a filter bit and probed a table. A take and a push per key, every key new, 10,000
// entries: 34 ns a key there, 29 here (Intel Xeon). In the cache, inserting a million new keys into
// 10,000 entries in S3-FIFO mode (the throughput benchmark's set-evict) took 0.86-0.92x the time
// (paired rounds in one process, both orders). Hit ratios, as means of five renamings, moved by 0.07
// or less on every row of bench:hit-ratio and on the ARC paper's P2, P6 and P12 traces (one replay
// of P3 at 131072, the README's, by -0.28).
//
// In W-TinyLFU itself the same memory holds the recent misses (remember() and recall(), "Recent
// misses" in tinylfu.ts): a direct-mapped table of 16-bit tags and 16-bit times. The policy clears
// it whenever it enters or leaves W-TinyLFU, so one use never reads the other's words (ARC and
// S3-FIFO modes share the ghosts).

/** A ghost that left T1 (ARC's B1). */
export const GHOST_T1 = 1;
/** A ghost that left T2 (ARC's B2). */
export const GHOST_T2 = 2;
/** The low bits of a ghost's word that carry its list. */
const LIST_MASK = 3;
/** Where a ghost's generation number (0 to 15) starts in its word. */
const GENERATION_SHIFT = 2;
/** Generation numbers wrap at this. */
const GENERATION_VALUES = 16;
/** Generations live: the current one and two full ones, each of half the capacity's pushes. */
const GENERATIONS = 3;
/**
 * Every this many generations the words of passed ones are zeroed, so no word is ever
 * GENERATION_VALUES generations old (where its number would read as live again).
 */
const SWEEP_GENERATIONS = 8;
/** The hash bits a ghost's word keeps. */
const HASH_MASK = ~63;
/** Where a bucket's push count sits in its first word (below it, list bits 0: never a ghost). */
const TURN_SHIFT = 4;
/** Words per bucket: the push count, then GHOST_WORDS ghosts. */
const BUCKET = 8;
const GHOST_WORDS = BUCKET - 1;
/** Multiplier that spreads a hash over a table (hash bits the engine reads elsewhere stay unused). */
const SPREAD = 0x9e3779b1;
/** Multiplier that draws a recent miss's tag from other bits of the hash than its word's. */
const TAG_SPREAD = 0x85ebca6b;

/** The hashes of recently evicted keys, by the list each left. */
export class GhostQueue {
  /** Buckets of BUCKET words (see "Buckets" above), or the recent misses' words. */
  readonly #table: Int32Array;
  /** Pushes per generation. */
  readonly #generation: number;
  /** Buckets per unit of unsigned spread hash. */
  readonly #bucketScale: number;
  /** Maps a spread hash to a word of the recent misses. */
  readonly #wordScale: number;
  /** The current generation's number, 0 to GENERATION_VALUES - 1. */
  #current = 0;
  /** Pushes into the current generation. */
  #pushed = 0;
  /** Ghosts per generation number and list (index generation * 3 + list). */
  readonly #counts = new Int32Array(3 * GENERATION_VALUES);

  /** A history of the last `capacity` (>= 1) evictions at least, 3/2 x `capacity` at most. */
  constructor(capacity: number) {
    this.#generation = Math.max(1, Math.ceil(capacity / (GENERATIONS - 1)));
    // Three words per entry of the bound; the recent misses use exactly these, the ghosts whole buckets.
    const words = GENERATIONS * 2 * this.#generation;
    const buckets = Math.ceil(words / BUCKET);
    this.#table = new Int32Array(buckets * BUCKET);
    this.#bucketScale = buckets / 2 ** 32;
    this.#wordScale = words / 2 ** 32;
  }

  /** Ghosts that left T1 (ARC's |B1|). */
  get fromT1(): number {
    return this.#count(GHOST_T1);
  }

  /** Ghosts that left T2 (ARC's |B2|). */
  get fromT2(): number {
    return this.#count(GHOST_T2);
  }

  /** Records the eviction of the key with `hash` from `list` (GHOST_T1 or GHOST_T2). */
  push(hash: number, list: number): void {
    if (this.#pushed === this.#generation) this.#rotate();
    this.#pushed++;
    const current = this.#current;
    this.#counts[current * 3 + list]!++;
    const table = this.#table;
    const bucket = this.#bucket(hash);
    // The bucket's next ghost word in turn, over whatever it held (a live ghost is forgotten early).
    const turn = table[bucket]! >>> TURN_SHIFT;
    table[bucket] = (turn === GHOST_WORDS - 1 ? 0 : turn + 1) << TURN_SHIFT;
    const at = bucket + 1 + turn;
    const old = table[at]!;
    if (old !== 0 && this.#live(old)) this.#counts[countIndex(old)]!--;
    table[at] = (hash & HASH_MASK) | (current << GENERATION_SHIFT) | list;
  }

  /**
   * Forgets the ghost of `hash` if there is one and returns the list it left (GHOST_T1 or GHOST_T2),
   * else 0.
   */
  take(hash: number): number {
    const table = this.#table;
    const bucket = this.#bucket(hash);
    const wanted = hash & HASH_MASK;
    for (let at = bucket + 1; at < bucket + BUCKET; at++) {
      const word = table[at]!;
      // An empty word (0) matches only a hash whose kept bits are all 0; its list bits tell it apart.
      if ((word & HASH_MASK) === wanted && (word & LIST_MASK) !== 0 && this.#live(word)) {
        table[at] = 0;
        this.#counts[countIndex(word)]!--;
        return word & LIST_MASK;
      }
    }
    return 0;
  }

  /**
   * The other use of the same memory, for W-TinyLFU (see "Recent misses" in tinylfu.ts): a
   * direct-mapped table of words, three per entry of the bound, each a 16-bit tag of a key's hash
   * and the 16-bit time of its miss (in the policy's units). Records that the key with `hash` missed
   * at `time`, over whatever its word held. So a miss is forgotten when a later one lands on its word,
   * at worst about a quarter of the last `capacity`. Call clear() before switching between this and
   * push()/take().
   */
  remember(hash: number, time: number): void {
    this.#table[this.#word(hash)] = (tagOf(hash) << 16) | time;
  }

  /**
   * Whether the key with `hash` was remembered as missing less than `limit` units before `time`
   * (16-bit times, compared modulo 2^16); then records its miss at `time`. A tag shared by two keys
   * on one word (1 in 32,768) passes one key for the other.
   */
  recall(hash: number, time: number, limit: number): boolean {
    const table = this.#table;
    const i = this.#word(hash);
    const tag = tagOf(hash);
    const word = table[i]!;
    table[i] = (tag << 16) | time;
    return word >>> 16 === tag && ((time - word) & 0xffff) < limit;
  }

  /** Forgets every ghost. */
  clear(): void {
    this.#table.fill(0);
    this.#current = 0;
    this.#pushed = 0;
    this.#counts.fill(0);
  }

  // Whether a ghost's word belongs to a live generation (the current one or the two before).
  #live(word: number): boolean {
    return ageOf(word, this.#current) < GENERATIONS;
  }

  #count(list: number): number {
    let n = 0;
    for (let age = 0; age < GENERATIONS; age++)
      n += this.#counts[((this.#current - age) & (GENERATION_VALUES - 1)) * 3 + list]!;
    return n;
  }

  // The first word of the bucket for `hash`.
  #bucket(hash: number): number {
    return (((Math.imul(hash, SPREAD) >>> 0) * this.#bucketScale) | 0) * BUCKET;
  }

  #word(hash: number): number {
    return ((Math.imul(hash, SPREAD) >>> 0) * this.#wordScale) | 0;
  }

  // A new generation: the oldest of the three live ones passes (its ghosts read as gone from now on,
  // #live), and the new one's number starts its counts afresh. Every SWEEP_GENERATIONS generations,
  // one sequential pass without a branch zeroes the words of passed generations.
  #rotate(): void {
    const current = (this.#current + 1) & (GENERATION_VALUES - 1);
    this.#current = current;
    this.#counts.fill(0, current * 3, current * 3 + 3);
    this.#pushed = 0;
    if (current % SWEEP_GENERATIONS === 0) sweep(this.#table, current);
  }
}

// Zeroes every ghost word of a generation that has passed, the current one being `current` (a push
// count's list bits are 0, so it is kept).
function sweep(table: Int32Array, current: number): void {
  for (let i = 0; i < table.length; i++) {
    const word = table[i]!;
    // 1 when the word is a ghost (list bits not 0) GENERATIONS or more generations old, else 0; then
    // all its bits go.
    const age = ageOf(word, current);
    const isGhost = ((word & LIST_MASK) + LIST_MASK) >>> 2;
    const doomed = ((GENERATIONS - 1 - age) >>> 31) & isGhost;
    table[i] = word & (doomed - 1);
  }
}

// How many generations before the one numbered `current` a ghost's word was pushed (0 to 15).
function ageOf(word: number, current: number): number {
  return (current - (word >>> GENERATION_SHIFT)) & (GENERATION_VALUES - 1);
}

// The index into GhostQueue's counts of a ghost's word: its generation and list.
function countIndex(word: number): number {
  return ((word >>> GENERATION_SHIFT) & (GENERATION_VALUES - 1)) * 3 + (word & LIST_MASK);
}

function tagOf(hash: number): number {
  return (Math.imul(hash, TAG_SPREAD) >>> 16) | 1;
}
