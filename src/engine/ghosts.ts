// Ghost entries for W-TinyLFU's ARC and S3-FIFO modes (see "Other policies" in tinylfu.ts): the hashes
// of the keys the cache evicted recently, each marked with the list it left (T1 or T2), so that a key
// coming back is recognised as ARC's B1 or B2 hit, or S3-FIFO's ghost hit.
//
// The history is kept in three generations, each an open-addressing set of hashes (linear probing,
// at most half full, no deletion: a ghost that comes back is overwritten with a tombstone). New
// ghosts go into the newest generation; when it has taken half the capacity's pushes, the oldest is
// emptied and takes the next ones. So every one of the last `capacity` evictions is remembered (as
// ARC's B1 and B2 remember, at most the cache's size together), and at most 3/2 x `capacity`; the
// history costs 12 bytes per entry of the cache's bound (13.5 with the filters below), and emptying
// a generation is one fill of its table per generation. The version before kept exactly the last
// `capacity` evictions in a ring, with an index that deleted by backward shift: a push cost 65 ns
// there (10,000 entries) against 15 ns here, and a cache pinned to ARC or S3-FIFO mode runs a Zipf
// read-through 1 to 6 % faster (paired runs in one process). On P3 at 131072 the tuned cache went
// from 46.97 to 47.13 % (mean of five key renamings); in one replay, pinned to ARC mode, it went
// from 49.81 to 50.16 there and from 67.68 to 67.59 at 262144, and pinned to S3-FIFO mode from
// 49.97 to 49.70. Two generations of 3/4 x capacity (the same memory, but a ghost may be forgotten
// after 3/4 x capacity evictions) lost 1.2 points pinned to ARC mode at 262144, where the hot keys
// come back after a scan about the cache's size.
//
// Filters: a key that is not a ghost (most of the keys a mode sees when they arrive) probed all three
// tables to the end of a probe run, about 7.4 words in all at half load, with a branch at each that
// the CPU cannot predict: 55 ns a miss at 10,000 entries, where reading three words at random costs
// 4. So each generation also keeps a bit array of 8 bits per push, and sets one bit per ghost (from
// another mixing of the hash than its table position); a generation whose bit is clear holds no
// such ghost and is skipped. A miss then reads three words of 3 x 1,250 (at 10,000 entries) and
// probes a table about one time in three: 25 ns. A bit is cleared only when its generation is
// emptied, so a taken ghost's bit may send a later miss to probe for nothing; what take() returns is
// unchanged. The filters add 1.5 bytes per entry of the bound. In a 10,000-entry cache pinned to ARC
// or S3-FIFO mode, inserting a million new keys (every one a miss here) takes 12 % less time.
//
// In W-TinyLFU itself the same memory holds the recent misses (remember() and recall(), "Recent
// misses" in tinylfu.ts): a direct-mapped table of 16-bit tags and 16-bit times. The policy clears
// it whenever it enters or leaves W-TinyLFU, so one use never reads the other's words (ARC and
// S3-FIFO modes share the ghosts).

/** A ghost that left T1 (ARC's B1). */
export const GHOST_T1 = 1;
/** A ghost that left T2 (ARC's B2). */
export const GHOST_T2 = 2;
/** The low bits of a table word that carry the list; the rest is the key hash. */
const LIST_MASK = 3;
/** A table word that once held a ghost that came back (never a hash: its list bits are 0). */
const TAKEN = -4;
/** Generations kept: the current one and two full ones, each of half the capacity's pushes. */
const GENERATIONS = 3;
/** Multiplier that spreads a hash over a table (hash bits the engine reads elsewhere stay unused). */
const SPREAD = 0x9e3779b1;
/** Multiplier that draws a recent miss's tag from other bits of the hash than its word's. */
const TAG_SPREAD = 0x85ebca6b;
/** Multiplier that draws a ghost's filter bit independently of its table position. */
const FILTER_SPREAD = 0xc2b2ae35;
/** Filter bits per push of a generation: a miss then finds a generation's bit set 1 time in 8.5. */
const FILTER_BITS_PER_PUSH = 8;

/** The hashes of recently evicted keys, by the list each left. */
export class GhostQueue {
  /**
   * The generations' tables, one after another, each `#size` words: hash (without its two low bits)
   * | list, 0 empty, or TAKEN.
   */
  readonly #tables: Int32Array;
  readonly #size: number;
  /** Pushes per generation. */
  readonly #generation: number;
  readonly #scale: number;
  /** Maps a spread hash to a word of the recent misses. */
  readonly #wordScale: number;
  /** The generation that takes new ghosts (0 to GENERATIONS - 1); the ones before it are older. */
  #newest = 0;
  /** Pushes into the newest generation. */
  #pushed = 0;
  /** Live ghosts per generation and list: index generation * 3 + list. */
  readonly #counts = new Int32Array(3 * GENERATIONS);
  /**
   * One bit array per generation, `#filterWords` words each, one after another: the bits of the
   * generation's ghosts (see "Filters" above). A clear bit means the generation holds no such ghost.
   */
  readonly #filters: Int32Array;
  readonly #filterWords: number;
  readonly #filterScale: number;

  /** A history of the last `capacity` (>= 1) evictions at least, 3/2 x `capacity` at most. */
  constructor(capacity: number) {
    this.#generation = Math.max(1, Math.ceil(capacity / (GENERATIONS - 1)));
    this.#size = 2 * this.#generation;
    this.#tables = new Int32Array(GENERATIONS * this.#size);
    this.#scale = this.#size / 2 ** 32;
    this.#wordScale = (GENERATIONS * this.#size) / 2 ** 32;
    this.#filterWords = Math.ceil((FILTER_BITS_PER_PUSH * this.#generation) / 32);
    this.#filters = new Int32Array(GENERATIONS * this.#filterWords);
    this.#filterScale = (32 * this.#filterWords) / 2 ** 32;
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
    this.#counts[this.#newest * 3 + list]!++;
    const bit = this.#filterBit(hash);
    this.#filters[this.#newest * this.#filterWords + (bit >>> 5)]! |= 1 << (bit & 31);
    const tables = this.#tables;
    const start = this.#newest * this.#size;
    const end = start + this.#size;
    let i = start + this.#home(hash);
    while (tables[i] !== 0) if (++i === end) i = start;
    tables[i] = (hash & ~LIST_MASK) | list;
  }

  /**
   * Forgets the ghost of `hash` if there is one and returns the list it left (GHOST_T1 or GHOST_T2),
   * else 0. The newest generation is searched first.
   */
  take(hash: number): number {
    const bit = this.#filterBit(hash);
    const word = bit >>> 5;
    const mask = 1 << (bit & 31);
    const filters = this.#filters;
    const home = this.#home(hash);
    const wanted = hash & ~LIST_MASK;
    for (let age = 0, g = this.#newest; age < GENERATIONS; age++, g = g === 0 ? GENERATIONS - 1 : g - 1) {
      if ((filters[g * this.#filterWords + word]! & mask) === 0) continue;
      const list = takeFrom(this.#tables, g * this.#size, this.#size, home, wanted);
      if (list !== 0) {
        this.#counts[g * 3 + list]!--;
        return list;
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
    this.#tables[this.#word(hash)] = (tagOf(hash) << 16) | time;
  }

  /**
   * Whether the key with `hash` was remembered as missing less than `limit` units before `time`
   * (16-bit times, compared modulo 2^16); then records its miss at `time`. A tag shared by two keys
   * on one word (1 in 32,768) passes one key for the other.
   */
  recall(hash: number, time: number, limit: number): boolean {
    const tables = this.#tables;
    const i = this.#word(hash);
    const tag = tagOf(hash);
    const word = tables[i]!;
    tables[i] = (tag << 16) | time;
    return word >>> 16 === tag && ((time - word) & 0xffff) < limit;
  }

  // The filter bit of a ghost of `hash` (its list bits aside, as the tables compare it).
  #filterBit(hash: number): number {
    return ((Math.imul(hash & ~LIST_MASK, FILTER_SPREAD) >>> 0) * this.#filterScale) | 0;
  }

  #word(hash: number): number {
    return ((Math.imul(hash, SPREAD) >>> 0) * this.#wordScale) | 0;
  }

  /** Forgets every ghost. */
  clear(): void {
    this.#tables.fill(0);
    this.#filters.fill(0);
    this.#newest = 0;
    this.#pushed = 0;
    this.#counts.fill(0);
  }

  #count(list: number): number {
    let n = 0;
    for (let g = 0; g < GENERATIONS; g++) n += this.#counts[g * 3 + list]!;
    return n;
  }

  #home(hash: number): number {
    return ((Math.imul(hash & ~LIST_MASK, SPREAD) >>> 0) * this.#scale) | 0;
  }

  // The oldest generation is forgotten and takes the new ghosts.
  #rotate(): void {
    const g = this.#newest + 1 === GENERATIONS ? 0 : this.#newest + 1;
    this.#tables.fill(0, g * this.#size, (g + 1) * this.#size);
    this.#filters.fill(0, g * this.#filterWords, (g + 1) * this.#filterWords);
    this.#counts.fill(0, g * 3, g * 3 + 3);
    this.#newest = g;
    this.#pushed = 0;
  }
}

// Finds `wanted` (a hash without its list bits) in the table of `size` words at `start`, probing from
// `home`; replaces it with TAKEN and returns its list, or returns 0.
function takeFrom(tables: Int32Array, start: number, size: number, home: number, wanted: number): number {
  const end = start + size;
  for (let i = start + home; ;) {
    const word = tables[i]!;
    if (word === 0) return 0;
    if ((word & ~LIST_MASK) === wanted && word !== TAKEN) {
      tables[i] = TAKEN;
      return word & LIST_MASK;
    }
    if (++i === end) i = start;
  }
}

// The 16-bit tag of a recent miss (never 0, so an empty word matches no key).
function tagOf(hash: number): number {
  return (Math.imul(hash, TAG_SPREAD) >>> 16) | 1;
}
