// Miniature simulations that choose W-TinyLFU's window size (see the essay in tinylfu.ts, [6], [7]).
//
// A few small W-TinyLFU caches run beside the real one, each with a fixed window share. They see only
// a spatial sample of the keys (those whose hash has its low k bits zero, so a key is either always
// or never sampled; the sizing advisor samples by the hash's high bits, so a miniature cache of the
// advisor, itself a W-TinyLFU, still sees an even sample of what reaches it) and are scaled down by
// the same rate, so each behaves like the full cache would with its window share. Every period the
// tuner compares their recent hit counts and names the best share; the real cache moves its window
// there. The miniatures hold key hashes, not keys. They all see the same requests and age after the
// same number of them, so one frequency sketch, kept by the tuner, serves all five.
import { FrequencySketch } from './sketch.js';
import { SlotLinks } from './links.js';

/** Window shares the miniatures try, as fractions of the budget. */
const SHARES = [0.01, 0.1, 0.3, 0.6, 1] as const;
/** A miniature holds at least this many entries (below it the cache is simulated in full). */
const MINI_ENTRIES = 256;
/** Sampled requests per unit of miniature capacity between two decisions. */
const PERIOD_FACTOR = 2;
/** Weight the previous periods keep in a miniature's score (an exponential moving average). */
const SCORE_DECAY = 0.8;
/** The best miniature must beat the current one's score by this share before the window moves. */
const SWITCH_MARGIN = 0.05;
/** Accesses per unit of capacity between two agings of a miniature's sketch (as in tinylfu.ts). */
const SAMPLE_FACTOR = 10;
const WINDOW = 0;
const PROBATION = 1;
const PROTECTED = 2;

/** Chooses a window share for a W-TinyLFU cache of `capacity` entries from sampled miniatures. */
export class WindowTuner {
  /** Hashes whose bits under this mask are all zero are sampled (the mask is 2^k - 1). */
  readonly mask: number;
  readonly #minis: MiniWTinyLfu[];
  /** The miniatures' shared frequency history, aged every SAMPLE_FACTOR x their capacity requests. */
  readonly #sketch: FrequencySketch;
  #accesses = 0;
  readonly #sampleSize: number;
  readonly #scores: Float64Array;
  readonly #period: number;
  #requests = 0;
  #current = 0;
  /** The share chosen by the last decision. */
  share: number = SHARES[0];

  /** Miniatures for a cache of up to `capacity` entries. */
  constructor(capacity: number) {
    // The sampling rate is 2^-k, the smallest that leaves a miniature at least MINI_ENTRIES entries.
    const k = Math.max(0, Math.min(24, Math.floor(Math.log2(Math.max(1, capacity) / MINI_ENTRIES))));
    this.mask = (1 << k) - 1;
    const size = Math.max(1, Math.round(capacity / 2 ** k));
    this.#sketch = new FrequencySketch(size);
    this.#sampleSize = SAMPLE_FACTOR * size;
    this.#minis = SHARES.map((share) => new MiniWTinyLfu(size, share, this.#sketch));
    this.#scores = new Float64Array(SHARES.length);
    this.#period = PERIOD_FACTOR * size;
  }

  /** Miniature capacity, for diagnostics. */
  get miniSize(): number {
    return this.#minis[0]!.capacity;
  }

  /**
   * Feeds one sampled request (the caller checked `(hash & mask) === 0`); returns true when this
   * request ended a period and {@link share} may have changed.
   */
  access(hash: number): boolean {
    const minis = this.#minis;
    // Sampled hashes share their low bits (all zero); remixed, every bit varies again.
    const mixed = Math.imul(hash ^ (hash >>> 15), 0x2c1b3c6d);
    this.#sketch.add(mixed, 1);
    if (++this.#accesses >= this.#sampleSize) {
      this.#sketch.age();
      this.#accesses >>>= 1;
    }
    for (let i = 0; i < minis.length; i++) minis[i]!.access(mixed);
    if (++this.#requests < this.#period) return false;
    this.#requests = 0;
    let best = 0;
    const scores = this.#scores;
    for (let i = 0; i < minis.length; i++) {
      const mini = minis[i]!;
      scores[i] = SCORE_DECAY * scores[i]! + mini.hits;
      mini.hits = 0;
      if (scores[i]! > scores[best]!) best = i;
    }
    if (scores[best]! > scores[this.#current]! * (1 + SWITCH_MARGIN)) this.#current = best;
    this.share = SHARES[this.#current]!;
    return true;
  }
}

/**
 * A W-TinyLFU over key hashes with a fixed window share and unit weights (no hill climbing). Its
 * sketch is shared with the other miniatures; the tuner counts each request in it before access().
 */
class MiniWTinyLfu {
  readonly capacity: number;
  hits = 0;
  /** Open-addressing index from hash to slot (0 = empty; slots start at 3), linear probing. */
  readonly #index: Int32Array;
  readonly #indexShift: number;
  readonly #links: SlotLinks;
  readonly #hashes: Int32Array;
  readonly #segment: Uint8Array;
  readonly #sketch: FrequencySketch;
  readonly #windowMax: number;
  readonly #protectedMax: number;
  #window = 0;
  #protected = 0;
  #size = 0;
  #nextSlot = 3;
  readonly #free: number[] = [];

  constructor(capacity: number, share: number, sketch: FrequencySketch) {
    this.capacity = capacity;
    this.#links = new SlotLinks(capacity + 4, 1);
    this.#hashes = new Int32Array(capacity + 4);
    this.#segment = new Uint8Array(capacity + 4);
    this.#sketch = sketch;
    this.#windowMax = Math.max(1, Math.round(share * capacity));
    this.#protectedMax = Math.floor(0.8 * (capacity - this.#windowMax));
    // At most about a third full (it holds up to capacity + 1 entries), so probe runs stay short: at
    // most 2,048 positions (8 KiB) per miniature.
    const bits = Math.max(2, Math.ceil(Math.log2(3 * (capacity + 1))));
    this.#index = new Int32Array(1 << bits);
    this.#indexShift = 32 - bits;
  }

  // The index position `hash` probes first.
  #home(hash: number): number {
    return Math.imul(hash, 0x9e3779b1) >>> this.#indexShift;
  }

  #find(hash: number): number {
    const index = this.#index;
    const mask = index.length - 1;
    for (let i = this.#home(hash); ; i = (i + 1) & mask) {
      const slot = index[i]!;
      if (slot === 0 || this.#hashes[slot] === hash) return slot;
    }
  }

  #insert(hash: number, slot: number): void {
    const index = this.#index;
    const mask = index.length - 1;
    let i = this.#home(hash);
    while (index[i] !== 0) i = (i + 1) & mask;
    index[i] = slot;
  }

  // Removes `hash` and shifts later entries of its probe run back, so no tombstones are needed.
  #erase(hash: number): void {
    const index = this.#index;
    const mask = index.length - 1;
    let i = this.#home(hash);
    while (this.#hashes[index[i]!] !== hash) i = (i + 1) & mask;
    for (let j = (i + 1) & mask; index[j] !== 0; j = (j + 1) & mask) {
      const home = this.#home(this.#hashes[index[j]!]!);
      // The entry at j may fill the hole at i unless its home lies cyclically in (i, j].
      if (((j - home) & mask) >= ((j - i) & mask)) {
        index[i] = index[j]!;
        i = j;
      }
    }
    index[i] = 0;
  }

  access(hash: number): void {
    const links = this.#links;
    const slot = this.#find(hash);
    if (slot !== 0) {
      this.hits++;
      const segment = this.#segment[slot]!;
      if (segment === PROBATION) {
        links.unlink(slot);
        links.pushBack(PROTECTED, slot);
        this.#segment[slot] = PROTECTED;
        if (++this.#protected > this.#protectedMax) {
          const demoted = links.first(PROTECTED);
          links.unlink(demoted);
          links.pushBack(PROBATION, demoted);
          this.#segment[demoted] = PROBATION;
          this.#protected--;
        }
      } else {
        links.moveToBack(segment, slot);
      }
      return;
    }
    const fresh = this.#free.pop() ?? this.#nextSlot++;
    this.#hashes[fresh] = hash;
    this.#segment[fresh] = WINDOW;
    this.#insert(hash, fresh);
    links.pushBack(WINDOW, fresh);
    this.#size++;
    if (++this.#window <= this.#windowMax) return;
    // The window's oldest entry becomes a candidate; it enters main if there is room or it wins.
    const candidate = links.first(WINDOW);
    links.unlink(candidate);
    this.#window--;
    links.pushBack(PROBATION, candidate);
    this.#segment[candidate] = PROBATION;
    if (this.#size <= this.capacity) return;
    let victim = links.first(PROBATION);
    if (victim === candidate) victim = links.first(PROTECTED);
    const evict =
      victim === PROTECTED ||
      this.#sketch.frequency(this.#hashes[candidate]!) <= this.#sketch.frequency(this.#hashes[victim]!)
        ? candidate
        : victim;
    if (this.#segment[evict] === PROTECTED) this.#protected--;
    links.unlink(evict);
    this.#erase(this.#hashes[evict]!);
    this.#free.push(evict);
    this.#size--;
  }
}
