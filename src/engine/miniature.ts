// Miniature simulations that choose W-TinyLFU's window size, or the ARC or S3-FIFO mode (see the essay
// in tinylfu.ts, [6], [7], [8], [9]).
//
// A few small W-TinyLFU caches run beside the real one, each with a fixed window share, and one
// small ARC cache and one small S3-FIFO cache, each as its paper describes it. They see only a
// spatial sample of the keys (those whose hash has its low k bits zero, so a key is either always
// or never sampled; the sizing advisor samples by a remix of the hash, independent of every bit the
// engine reads, so a miniature cache of the advisor, itself a W-TinyLFU, still sees an even sample)
// and are scaled down by the same rate, so each behaves like the full cache would with its window
// share. Every period the tuner compares their recent hit counts and names the best share; the real
// cache moves its window there, or into the ARC or S3-FIFO mode when that policy leads the share it
// runs. The miniatures hold key hashes, not keys. The W-TinyLFU ones all see the same requests and
// age after the same number of them, so one frequency sketch, kept by the tuner, serves all five; a
// second, fed the same requests by conservative update, tells the miniature ARC and S3-FIFO whether a
// key was seen before (see WindowTuner's #seen).
import { FrequencySketch } from './sketch.js';
import { FIRST_SLOT, SlotLinks } from './links.js';

/** Window shares the miniatures try, as fractions of the budget. */
const SHARES = [0.01, 0.1, 0.3, 0.6, 1] as const;
/** A miniature holds at least this many entries (below it the cache is simulated in full). */
const MINI_ENTRIES = 256;
/**
 * The largest cache the miniatures model: a cache's slots are 32-bit, so it never holds more entries
 * than this, and a larger bound (Number.MAX_SAFE_INTEGER as "no bound", or a byte budget, for which
 * the policy makes a tuner before it learns that weights replace it) is modelled as this one. The
 * sampling rate then bottoms out at 2^-24 with miniatures of MINI_ENTRIES entries.
 */
export const MAX_MODELLED_ENTRIES = 2 ** 32;
/** Sampled requests per unit of miniature capacity between two decisions, at the least. */
const PERIOD_FACTOR = 2;
/**
 * Hits the best miniature must have collected before a period may end. A decision compares hit
 * counts against margins of 1 and 5 %, and a count of n hits is itself uncertain by about sqrt(n):
 * where the hits are few (a small cache, or a stream of mostly one-off keys) the scores were noise,
 * and a 100-entry cache under a stream of nine one-off keys in ten requests changed mode 137 times
 * in 1.5 million requests and ended 1.76 points behind S3-FIFO. Waiting for 32 hits it changed mode
 * twice and ended 0.19 ahead. A period of 2 x the capacity in sampled requests already holds that
 * many wherever the best miniature hits more than 1 in 16 of them (see the essay in tinylfu.ts).
 */
const PERIOD_HITS = 32;
/**
 * Sampled requests are buffered and fed to the miniatures this many at a time, at most (see
 * WindowTuner.access); a period holds at least BATCH_PERIODS batches, so a decision comes at most an
 * eighth of a period late.
 */
const MAX_BATCH = 64;
const BATCH_PERIODS = 8;
/** Weight the previous periods keep in a miniature's score (an exponential moving average). */
const SCORE_DECAY = 0.8;
/** The best miniature must beat the current one's score by this share before the window moves. */
const SWITCH_MARGIN = 0.05;
/**
 * A share that leads the one in use by this much, though by less than SWITCH_MARGIN, takes over
 * when the same share leads so at SUSTAINED_DECISIONS decisions in a row: about the number of periods
 * the fast scores remember (1 / (1 - SCORE_DECAY)), so the lead has held over all they weigh.
 */
const SUSTAINED_MARGIN = 0.01;
const SUSTAINED_DECISIONS = 5;
/**
 * A share also takes over when, on the sampled requests where it and the share in use disagree (one
 * hits, the other misses), it wins so much more often that chance would explain it at fewer than 3
 * standard deviations: (wins - losses) / sqrt(wins + losses) > PAIRED_Z, the counts decayed as the fast
 * scores are. The miniatures see the same requests, so most of their hits are shared and cancel here;
 * a lead of 2 to 4 % of the hits, under both margins, is then clear within a few periods. It matters
 * where a trace holds few decisions: a cache of 100,000 entries or more decides once per two of its
 * sizes in requests (see "Paired leads" in the essay of tinylfu.ts).
 */
const PAIRED_Z = 3;
/**
 * The paired rule applies to caches of this many entries or more: sampled at 1 request in 4 or
 * fewer. Smaller caches decide every one or two thousand requests, often enough for the margins, and
 * there the rule only added noise (multi1 at 512 entries lost 0.45 point at z = 3, and cpp at 200,
 * simulated whole, 1.37 at z = 4).
 */
const PAIRED_MIN_ENTRIES = 1024;
/**
 * Weight the previous periods keep in the scores that choose a mode: ARC or S3-FIFO against
 * W-TinyLFU is judged over about twenty periods, not five, because one period's sample often puts a
 * policy ahead that loses over the run (P3 at 131072 entries changed policy at most decisions and
 * ended below plain W-TinyLFU).
 */
const MODE_DECAY = 0.95;
/**
 * ARC or S3-FIFO takes over when it leads the window share in use by this much, on the slow scores, at
 * MODE_CONFIRMATIONS decisions in a row; the mode lasts while it leads that share at all, and the two
 * modes trade places when one leads the other by this much.
 */
const MODE_MARGIN = 0.01;
const MODE_CONFIRMATIONS = 2;
/**
 * The miniature S3-FIFO places a new key as the cache's S3-FIFO mode does: past the small queue when
 * the frequency history has seen it before (WindowTuner's #seen). The tuner counts a request there
 * before the miniatures see it, so "seen before" is one more than the cache's GHOST_SEEN (tinylfu.ts).
 */
const MINI_SEEN = 3;
/** S3-FIFO's small queue, as a share of the capacity (the paper's 10 %). */
const S3FIFO_SMALL_SHARE = 0.1;

/** The policy a W-TinyLFU cache runs, as chosen by its tuner. */
export type PolicyMode = 0 | 1 | 2;
/** Window TinyLFU, with the window share the tuner chose. */
export const MODE_WTINYLFU = 0;
/** ARC [8], with the miniature ARC's split. */
export const MODE_ARC = 1;
/** S3-FIFO [9], with its 10 % small queue. */
export const MODE_S3FIFO = 2;
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
  /**
   * What the miniature ARC and S3-FIFO read to tell whether a new key was seen before: the same
   * requests counted by conservative update, aged with #sketch. The cache's modes read a sketch where
   * a lone access went in that way (tinylfu.ts, "One-hit floods"), so in a stream of one-off keys few
   * new keys look seen there; counted by plain increments, most of a flood's keys did in the
   * miniatures, which then foretold modes far worse than the cache's.
   */
  readonly #seen: FrequencySketch;
  #accesses = 0;
  readonly #sampleSize: number;
  /** Each miniature's hits, as an exponential moving average over periods (SCORE_DECAY). */
  readonly #scores: Float64Array;
  /** The same with MODE_DECAY: what the choice of a mode reads. */
  readonly #slowScores: Float64Array;
  readonly #period: number;
  #requests = 0;
  /** The window share W-TinyLFU runs with (an index into SHARES), kept while a mode runs. */
  #shareIndex = 0;
  readonly #arc: MiniArc;
  readonly #s3fifo: MiniS3Fifo;
  /**
   * The window share chosen by the last decision; in ARC mode, the miniature ARC's share of T1 at
   * that decision (the cache's ARC mode starts from it, then moves p by its own ghosts); in S3-FIFO
   * mode, the small queue's share.
   */
  share: number = SHARES[0];
  /** The policy chosen by the last decision. */
  mode: PolicyMode = MODE_WTINYLFU;
  /** Decisions in a row at which ARC or S3-FIFO qualified to take over. */
  #otherLeads = 0;
  /** The share (index) that led the one in use by SUSTAINED_MARGIN at the last decision, or -1. */
  #leader = -1;
  /** Decisions in a row at which `#leader` has led so. */
  #leaderRun = 0;
  /** Sampled requests not yet fed to the miniatures, in `#pending[0 .. #pendingCount)`. */
  readonly #pending: Int32Array;
  #pendingCount = 0;
  /**
   * Per share, the sampled requests it hit and the share in use missed (wins) and the reverse
   * (losses), decayed with SCORE_DECAY at each decision and cleared when the share in use changes.
   */
  readonly #wins = new Float64Array(SHARES.length);
  readonly #losses = new Float64Array(SHARES.length);
  /** Whether the paired rule applies (a cache of PAIRED_MIN_ENTRIES or more). */
  readonly #paired: boolean;

  /** Miniatures for a cache of up to `capacity` entries. */
  constructor(capacity: number) {
    const modelled = Math.min(Math.max(1, capacity), MAX_MODELLED_ENTRIES);
    // The sampling rate is 2^-k, the smallest that leaves a miniature at least MINI_ENTRIES entries.
    const k = Math.max(0, Math.floor(Math.log2(modelled / MINI_ENTRIES)));
    this.mask = (1 << k) - 1;
    const size = Math.max(1, Math.round(modelled / 2 ** k));
    this.#sketch = new FrequencySketch(size);
    this.#sampleSize = SAMPLE_FACTOR * size;
    this.#minis = SHARES.map((share) => new MiniWTinyLfu(size, share, this.#sketch));
    this.#seen = new FrequencySketch(size);
    this.#arc = new MiniArc(size);
    this.#s3fifo = new MiniS3Fifo(size, this.#seen);
    this.#scores = new Float64Array(SHARES.length + 2);
    this.#slowScores = new Float64Array(SHARES.length + 2);
    this.#period = PERIOD_FACTOR * size;
    this.#paired = modelled >= PAIRED_MIN_ENTRIES;
    this.#pending = new Int32Array(
      Math.max(1, Math.min(MAX_BATCH, Math.floor(this.#period / BATCH_PERIODS))),
    );
  }

  /** The share of the window in `mode`: as chosen, ARC's T1 target, or S3-FIFO's small queue. */
  shareFor(mode: PolicyMode): number {
    if (mode === MODE_ARC) return this.#arc.share;
    if (mode === MODE_S3FIFO) return S3FIFO_SMALL_SHARE;
    return SHARES[this.#shareIndex]!;
  }

  /** Miniature capacity, for diagnostics. */
  get miniSize(): number {
    return this.#minis[0]!.capacity;
  }

  /**
   * Takes one sampled request (the caller checked `(hash & mask) === 0`); returns true when a period
   * ended and {@link share} or {@link mode} may have changed.
   *
   * Requests are buffered and fed to the miniatures in batches of up to MAX_BATCH (at 1 sampled
   * request in 32, a batch every 2,048 requests): the miniatures' lists, indexes and sketches take a
   * few hundred KiB, and fed one request at a time, between the cache's own accesses, each sampled
   * request found many of the lines it touched evicted, so it cost about 0.9 us in the cache where it
   * costs 0.6 us alone (a 10,000-entry cache pinned to S3-FIFO mode, every request a new key). Fed a
   * batch at a time, the miniatures' lines stay in the CPU's cache across the batch. A decision then
   * comes up to a batch late, less than an eighth of a period.
   */
  access(hash: number): boolean {
    const pending = this.#pending;
    pending[this.#pendingCount++] = hash;
    if (this.#pendingCount < pending.length) return false;
    this.#pendingCount = 0;
    let decided = false;
    for (let i = 0; i < pending.length; i++) if (this.#feed(pending[i]!)) decided = true;
    return decided;
  }

  // Feeds one sampled request to the miniatures; true when it ended a period.
  #feed(hash: number): boolean {
    const minis = this.#minis;
    // Sampled hashes share their low bits (all zero); remixed, every bit varies again.
    const mixed = Math.imul(hash ^ (hash >>> 15), 0x2c1b3c6d);
    this.#sketch.add(mixed, 1);
    this.#seen.incrementOnce(mixed);
    if (++this.#accesses >= this.#sampleSize) {
      this.#sketch.age();
      this.#seen.age();
      this.#accesses >>>= 1;
    }
    // Each share's hit or miss on this request, paired against the share in use's (the miniatures
    // only read the shared sketch, so the order they see the request in does not matter).
    const inUse = this.#shareIndex;
    const inUseHit = minis[inUse]!.access(mixed);
    for (let i = 0; i < minis.length; i++) {
      if (i === inUse) continue;
      const hit = minis[i]!.access(mixed);
      if (hit && !inUseHit) this.#wins[i]!++;
      else if (!hit && inUseHit) this.#losses[i]!++;
    }
    this.#arc.access(mixed);
    this.#s3fifo.access(mixed);
    if (++this.#requests < this.#period || this.#bestHits() < PERIOD_HITS) return false;
    this.#requests = 0;
    this.#decide();
    this.share = this.shareFor(this.mode);
    return true;
  }

  // The most hits any miniature has collected in this period.
  #bestHits(): number {
    let best = this.#arc.hits > this.#s3fifo.hits ? this.#arc.hits : this.#s3fifo.hits;
    for (const mini of this.#minis) if (mini.hits > best) best = mini.hits;
    return best;
  }

  // Scores the period's hits, moves the window share when another share leads by SWITCH_MARGIN, and
  // chooses the mode on the slow scores.
  #decide(): void {
    const minis = this.#minis;
    const scores = this.#scores;
    const slow = this.#slowScores;
    const arc = minis.length;
    const s3fifo = arc + 1;
    // A period in which every miniature hit the same (they were still filling, none had evicted) says
    // nothing about the policies; scored, it would only shrink every later lead in both averages.
    const tied = this.#arc.hits === this.#s3fifo.hits && minis.every((mini) => mini.hits === this.#arc.hits);
    for (let i = 0; i < scores.length && !tied; i++) {
      const hits = i < arc ? minis[i]!.hits : i === arc ? this.#arc.hits : this.#s3fifo.hits;
      scores[i] = SCORE_DECAY * scores[i]! + hits;
      slow[i] = MODE_DECAY * slow[i]! + hits;
    }
    for (const mini of minis) mini.hits = 0;
    this.#arc.hits = 0;
    this.#s3fifo.hits = 0;
    if (tied) return;
    let share = chooseShare(scores, arc, this.#shareIndex, this.#leader, this.#leaderRun);
    // Only in caches of PAIRED_MIN_ENTRIES or more (see there).
    if (share.index === this.#shareIndex && this.#paired) {
      const paired = pairedLeader(this.#wins, this.#losses, arc);
      if (paired >= 0) share = { index: paired, leader: -1, run: 0 };
    }
    if (share.index !== this.#shareIndex) {
      this.#wins.fill(0);
      this.#losses.fill(0);
    } else {
      for (let i = 0; i < arc; i++) {
        this.#wins[i]! *= SCORE_DECAY;
        this.#losses[i]! *= SCORE_DECAY;
      }
    }
    this.#shareIndex = share.index;
    this.#leader = share.leader;
    this.#leaderRun = share.run;
    const next = chooseMode(
      slow[this.#shareIndex]!,
      slow[arc]!,
      slow[s3fifo]!,
      this.mode,
      this.#otherLeads,
      SHARES[this.#shareIndex] === 1,
    );
    this.mode = next.mode;
    this.#otherLeads = next.leads;
  }
}

/**
 * The window share (an index into the shares) the tuner runs after a decision, from the fast scores
 * of the first `count` miniatures (one per share), the share in use, and the share that led it by
 * SUSTAINED_MARGIN at the decisions before (`leader`, -1 for none; `run`: how many in a row), both
 * returned updated. The best share takes over at once when it leads the one in use by
 * SWITCH_MARGIN, and after SUSTAINED_DECISIONS decisions in a row when it leads by SUSTAINED_MARGIN.
 *
 * Why both: on OLTP at 8,000 entries the 60 % share led the 10 % share in use by 1-3 % at every
 * decision of the trace's second half and never by 5 %, and the cache trailed S3-FIFO by 1.56 points
 * (measured in the essay of tinylfu.ts). A lower SWITCH_MARGIN follows single noisy periods too.
 */
export function chooseShare(
  scores: ArrayLike<number>,
  count: number,
  inUse: number,
  leader: number,
  run: number,
): { index: number; leader: number; run: number } {
  let best = inUse;
  for (let i = 0; i < count; i++) if (scores[i]! > scores[best]!) best = i;
  const current = scores[inUse]!;
  if (scores[best]! > current * (1 + SWITCH_MARGIN)) return { index: best, leader: -1, run: 0 };
  if (best === inUse || !(scores[best]! > current * (1 + SUSTAINED_MARGIN)))
    return { index: inUse, leader: -1, run: 0 };
  const next = best === leader ? run + 1 : 1;
  return next >= SUSTAINED_DECISIONS
    ? { index: best, leader: -1, run: 0 }
    : { index: inUse, leader: best, run: next };
}

/**
 * The share (an index below `count`) whose paired lead over the share in use is clear, or -1: the
 * one with the largest (wins - losses) / sqrt(wins + losses) above PAIRED_Z, where `wins[i]` counts
 * the sampled requests share i hit and the share in use missed, and `losses[i]` the reverse (see
 * PAIRED_Z). The share in use has no disagreements with itself, so it is never returned.
 */
export function pairedLeader(wins: ArrayLike<number>, losses: ArrayLike<number>, count: number): number {
  let leader = -1;
  let best = PAIRED_Z;
  for (let i = 0; i < count; i++) {
    const w = wins[i]!;
    const l = losses[i]!;
    if (w <= l) continue;
    const z = (w - l) / Math.sqrt(w + l);
    if (z > best) {
      best = z;
      leader = i;
    }
  }
  return leader;
}

/**
 * The mode the tuner runs after a decision, from the slow scores of the window share in use, the
 * miniature ARC and the miniature S3-FIFO, the mode it runs now, and the decisions in a row at which
 * ARC or S3-FIFO has qualified so far (`leads`, returned updated).
 *
 * A mode is judged against the share W-TinyLFU would run instead: the one in use, which the share
 * rule keeps until another share leads it by SWITCH_MARGIN on the fast scores. Judged against the
 * best share, a share the cache does not run could keep out a mode that beats the cache as it runs
 * (measured in the essay of tinylfu.ts, "Other policies").
 *
 * `filterless`: the share in use is the whole cache. W-TinyLFU is then plain LRU, with no frequency
 * filter to guard, and ARC and S3-FIFO are LRU's adaptive refinements; so a mode that scores at least
 * as well as that share (a tie is enough) takes over at once, and lasts while it does.
 */
export function chooseMode(
  inUse: number,
  arc: number,
  s3fifo: number,
  mode: PolicyMode,
  leads: number,
  filterless = false,
): { mode: PolicyMode; leads: number } {
  const otherMode = s3fifo > arc ? MODE_S3FIFO : MODE_ARC;
  const other = Math.max(arc, s3fifo);
  // Whether ARC or S3-FIFO scores well enough to keep a mode: a lead at all, or a tie when filterless.
  const holds = filterless ? other >= inUse : other > inUse;
  if (mode !== MODE_WTINYLFU) {
    // A mode lasts while it holds; the two trade places on a clear lead.
    const current = mode === MODE_ARC ? arc : s3fifo;
    if (!holds) return { mode: MODE_WTINYLFU, leads: 0 };
    if (otherMode !== mode && other > current * (1 + MODE_MARGIN)) return { mode: otherMode, leads: 0 };
    return { mode, leads: 0 };
  }
  // Filterless, a mode that holds takes over at once.
  if (filterless && holds) return { mode: otherMode, leads: 0 };
  const next = other > inUse * (1 + MODE_MARGIN) ? leads + 1 : 0;
  return next >= MODE_CONFIRMATIONS ? { mode: otherMode, leads: next } : { mode, leads: next };
}

/**
 * Open-addressing index from a miniature's key hashes to its slots (0 = empty), linear probing. At
 * most about a third full, so probe runs stay short: a few thousand positions per miniature.
 */
class HashSlots {
  /** Each slot's hash, owned by the miniature. */
  readonly #hashes: Int32Array;
  readonly #table: Int32Array;
  readonly #shift: number;

  /** An index for up to `entries` entries whose hashes are `hashes[slot]`. */
  constructor(hashes: Int32Array, entries: number) {
    this.#hashes = hashes;
    const bits = Math.max(2, Math.ceil(Math.log2(3 * entries)));
    this.#table = new Int32Array(1 << bits);
    this.#shift = 32 - bits;
  }

  // The position `hash` probes first.
  #home(hash: number): number {
    return Math.imul(hash, 0x9e3779b1) >>> this.#shift;
  }

  /** The slot holding `hash`, or 0. */
  find(hash: number): number {
    const table = this.#table;
    const mask = table.length - 1;
    for (let i = this.#home(hash); ; i = (i + 1) & mask) {
      const slot = table[i]!;
      if (slot === 0 || this.#hashes[slot] === hash) return slot;
    }
  }

  /** Adds `slot`, whose hash is absent from the index. */
  insert(hash: number, slot: number): void {
    const table = this.#table;
    const mask = table.length - 1;
    let i = this.#home(hash);
    while (table[i] !== 0) i = (i + 1) & mask;
    table[i] = slot;
  }

  /** Removes `hash` and shifts later entries of its probe run back, so no tombstones are needed. */
  erase(hash: number): void {
    const table = this.#table;
    const mask = table.length - 1;
    let i = this.#home(hash);
    while (this.#hashes[table[i]!] !== hash) i = (i + 1) & mask;
    for (let j = (i + 1) & mask; table[j] !== 0; j = (j + 1) & mask) {
      const home = this.#home(this.#hashes[table[j]!]!);
      // The entry at j may fill the hole at i unless its home lies cyclically in (i, j].
      if (((j - home) & mask) >= ((j - i) & mask)) {
        table[i] = table[j]!;
        i = j;
      }
    }
    table[i] = 0;
  }
}

/**
 * A W-TinyLFU over key hashes with a fixed window share and unit weights (no hill climbing). Its
 * sketch is shared with the other miniatures; the tuner counts each request in it before access().
 */
class MiniWTinyLfu {
  readonly capacity: number;
  hits = 0;
  readonly #index: HashSlots;
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
    this.#index = new HashSlots(this.#hashes, capacity + 1);
  }

  /** Feeds one request; true when it hit. */
  access(hash: number): boolean {
    const links = this.#links;
    const slot = this.#index.find(hash);
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
      return true;
    }
    const fresh = this.#free.pop() ?? this.#nextSlot++;
    this.#hashes[fresh] = hash;
    this.#segment[fresh] = WINDOW;
    this.#index.insert(hash, fresh);
    links.pushBack(WINDOW, fresh);
    this.#size++;
    if (++this.#window <= this.#windowMax) return false;
    // The window's oldest entry becomes a candidate; it enters main if there is room or it wins.
    const candidate = links.first(WINDOW);
    links.unlink(candidate);
    this.#window--;
    links.pushBack(PROBATION, candidate);
    this.#segment[candidate] = PROBATION;
    if (this.#size <= this.capacity) return false;
    let victim = links.first(PROBATION);
    if (victim === candidate) victim = links.first(PROTECTED);
    const evict =
      victim === PROTECTED ||
      this.#sketch.frequency(this.#hashes[candidate]!) <= this.#sketch.frequency(this.#hashes[victim]!)
        ? candidate
        : victim;
    if (this.#segment[evict] === PROTECTED) this.#protected--;
    links.unlink(evict);
    this.#index.erase(this.#hashes[evict]!);
    this.#free.push(evict);
    this.#size--;
    return false;
  }
}

/**
 * Key hashes in a few linked lists, each in one list, with every list's length and an index by hash:
 * the bookkeeping MiniArc and MiniS3Fifo share.
 */
class HashLists {
  readonly links: SlotLinks;
  /** Each list's length. */
  readonly lengths: Int32Array;
  /** How many slots there are (list heads included), for per-slot arrays beside these. */
  readonly slots: number;
  /** Each slot's list. */
  readonly #list: Uint8Array;
  readonly #hashes: Int32Array;
  readonly #index: HashSlots;
  #nextSlot: number;
  readonly #free: number[] = [];

  /** `lists` lists, headed by slots 0 to lists - 1, holding up to `keys` keys in all. */
  constructor(lists: number, keys: number) {
    const first = Math.max(FIRST_SLOT, lists);
    this.slots = first + keys + 1;
    this.links = new SlotLinks(this.slots, 1);
    // SlotLinks sets up FIRST_SLOT list heads; any further ones are set up here.
    for (let head = FIRST_SLOT; head < lists; head++) {
      this.links.data[head << 1] = head;
      this.links.data[(head << 1) + 1] = head;
    }
    this.lengths = new Int32Array(lists);
    this.#list = new Uint8Array(this.slots);
    this.#hashes = new Int32Array(this.slots);
    this.#index = new HashSlots(this.#hashes, this.slots);
    this.#nextSlot = first;
  }

  /** The slot holding `hash`, or 0. */
  find(hash: number): number {
    return this.#index.find(hash);
  }

  /** The list that holds `slot`. */
  listOf(slot: number): number {
    return this.#list[slot]!;
  }

  /** Adds `hash` (absent) as the newest key of `list`; returns its slot. */
  add(hash: number, list: number): number {
    const slot = this.#free.pop() ?? this.#nextSlot++;
    this.#hashes[slot] = hash;
    this.#index.insert(hash, slot);
    this.#list[slot] = list;
    this.links.pushBack(list, slot);
    this.lengths[list] = this.lengths[list]! + 1;
    return slot;
  }

  /** Makes `slot` the newest key of `list`. */
  move(slot: number, list: number): void {
    const from = this.#list[slot]!;
    this.lengths[from] = this.lengths[from]! - 1;
    this.links.unlink(slot);
    this.links.pushBack(list, slot);
    this.#list[slot] = list;
    this.lengths[list] = this.lengths[list]! + 1;
  }

  /** Drops `slot`'s key from its list and from the index. */
  forget(slot: number): void {
    const from = this.#list[slot]!;
    this.lengths[from] = this.lengths[from]! - 1;
    this.links.unlink(slot);
    this.#index.erase(this.#hashes[slot]!);
    this.#free.push(slot);
  }
}

/** MiniArc's lists: the resident T1 and T2, and their ghosts B1 and B2 (hashes only). */
const T1 = 0;
const T2 = 1;
const B1 = 2;
const B2 = 3;

/**
 * ARC [8] over key hashes, as in the paper's algorithm: T1 holds keys seen once recently, T2 keys
 * seen at least twice, B1 and B2 the keys last evicted from each (up to 2 x capacity keys in all),
 * and p, T1's target size, grows on a hit in B1 and shrinks on a hit in B2. The cache's ARC mode
 * places keys the same way, by its ghosts alone.
 */
export class MiniArc {
  readonly capacity: number;
  hits = 0;
  /** T1's target size. */
  #p = 0;
  readonly #lists: HashLists;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.#lists = new HashLists(4, 2 * capacity);
  }

  /** T1's target size as a share of the capacity. */
  get share(): number {
    return this.#p / this.capacity;
  }

  access(hash: number): void {
    const lists = this.#lists;
    const lengths = lists.lengths;
    const c = this.capacity;
    const slot = lists.find(hash);
    if (slot !== 0) {
      const list = lists.listOf(slot);
      if (list === T1 || list === T2) {
        this.hits++;
        lists.move(slot, T2);
        return;
      }
      const b1 = lengths[B1]!;
      const b2 = lengths[B2]!;
      if (list === B1) {
        this.#p = Math.min(this.#p + (b1 >= b2 ? 1 : b2 / b1), c);
        this.#replace(false);
      } else {
        this.#p = Math.max(this.#p - (b2 >= b1 ? 1 : b1 / b2), 0);
        this.#replace(true);
      }
      lists.move(slot, T2);
      return;
    }
    // A key in no list: make room as the paper's case IV does, then add it to T1.
    const t1 = lengths[T1]!;
    const l1 = t1 + lengths[B1]!;
    if (l1 === c) {
      if (t1 < c) {
        lists.forget(lists.links.first(B1));
        this.#replace(false);
      } else {
        lists.forget(lists.links.first(T1));
      }
    } else {
      const total = l1 + lengths[T2]! + lengths[B2]!;
      if (total >= c) {
        if (total === 2 * c) lists.forget(lists.links.first(B2));
        this.#replace(false);
      }
    }
    lists.add(hash, T1);
  }

  // The paper's REPLACE: T1's oldest key goes to B1, or T2's oldest to B2.
  #replace(inB2: boolean): void {
    const lists = this.#lists;
    const t1 = lists.lengths[T1]!;
    const fromT1 = t1 >= 1 && ((inB2 && t1 === this.#p) || t1 > this.#p);
    if (fromT1 || lists.lengths[T2] === 0) lists.move(lists.links.first(T1), B1);
    else lists.move(lists.links.first(T2), B2);
  }
}

/** MiniS3Fifo's queues: small, main and ghost (hashes only). */
const SMALL = 0;
const MAIN = 1;
const GHOST = 2;

/**
 * S3-FIFO [9] over key hashes, as in the paper's algorithm (and bench/sim/s3fifo.ts): new keys enter
 * a small FIFO queue holding 10 % of the capacity; one hit there while it is in the small queue moves
 * a key to the main queue when it reaches the small queue's end, and a key never hit there is evicted
 * into the ghost queue, from which a returning key goes straight to the main queue. The main queue
 * reinserts a key hit since its last pass (2-bit counts) and evicts the others. Given the tuner's
 * seen-before history (a frequency sketch) it models the cache's S3-FIFO mode instead: a new key the
 * sketch has seen before goes straight to the main queue too, as a ghost hit does.
 */
export class MiniS3Fifo {
  readonly capacity: number;
  hits = 0;
  readonly #smallMax: number;
  readonly #ghostMax: number;
  /** Every resident key and every ghost. */
  readonly #queues: HashLists;
  /** Each resident slot's hit count, 0..3. */
  readonly #freq: Uint8Array;
  /** Each ghost slot's insertion number into the ghost queue. */
  readonly #ghostStamps: Int32Array;
  #ghostInsertions = 0;
  /** Places new keys, when given (see above). */
  readonly #seen: FrequencySketch | null;

  constructor(capacity: number, seen: FrequencySketch | null = null) {
    this.#seen = seen;
    this.capacity = capacity;
    this.#smallMax = Math.max(1, Math.floor(capacity * S3FIFO_SMALL_SHARE));
    this.#ghostMax = Math.max(1, capacity - this.#smallMax);
    this.#queues = new HashLists(3, capacity + this.#ghostMax);
    this.#freq = new Uint8Array(this.#queues.slots);
    this.#ghostStamps = new Int32Array(this.#queues.slots);
  }

  access(hash: number): void {
    const queues = this.#queues;
    const slot = queues.find(hash);
    if (slot !== 0 && queues.listOf(slot) !== GHOST) {
      this.hits++;
      if (this.#freq[slot]! < 3) this.#freq[slot] = this.#freq[slot]! + 1;
      return;
    }
    const lengths = queues.lengths;
    while (lengths[SMALL]! + lengths[MAIN]! >= this.capacity) this.#evict();
    // Evicting may have pushed this key's ghost out of the ghost queue.
    const ghost = slot === 0 ? 0 : queues.find(hash);
    if (ghost !== 0) {
      this.#freq[ghost] = 0;
      queues.move(ghost, MAIN);
      return;
    }
    const seen = this.#seen !== null && this.#seen.frequency(hash) >= MINI_SEEN;
    this.#freq[queues.add(hash, seen ? MAIN : SMALL)] = 0;
  }

  // Evicts one key: from the small queue while it holds its share, else from the main queue.
  #evict(): void {
    const queues = this.#queues;
    const links = queues.links;
    const freq = this.#freq;
    if (queues.lengths[SMALL]! >= this.#smallMax) {
      for (let slot = links.first(SMALL); slot !== SMALL; slot = links.first(SMALL)) {
        if (freq[slot] === 0) {
          // Into the ghost queue, which keeps the last ghostMax keys put into it (a ghost hit takes
          // its key out early without keeping the others longer, as in the paper's implementation).
          queues.move(slot, GHOST);
          const stamp = ++this.#ghostInsertions;
          this.#ghostStamps[slot] = stamp;
          for (
            let old = links.first(GHOST);
            stamp - this.#ghostStamps[old]! >= this.#ghostMax;
            old = links.first(GHOST)
          )
            queues.forget(old);
          return;
        }
        freq[slot] = 0;
        queues.move(slot, MAIN);
      }
    }
    for (let slot = links.first(MAIN); slot !== MAIN; slot = links.first(MAIN)) {
      if (freq[slot] === 0) {
        queues.forget(slot);
        return;
      }
      freq[slot] = freq[slot]! - 1;
      links.moveToBack(MAIN, slot);
    }
  }
}
