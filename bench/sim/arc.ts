// ARC, the Adaptive Replacement Cache (N. Megiddo, D. S. Modha, "ARC: A Self-Tuning, Low Overhead
// Replacement Cache", FAST 2003, https://www.usenix.org/conference/fast-03/arc-self-tuning-low-overhead-replacement-cache),
// written from the paper's Figure 4 (the algorithm ARC(c)).
//
// Four LRU lists: T1 (resident keys seen once recently), T2 (resident keys seen at least twice), and
// their ghosts B1 and B2 (keys recently evicted from T1 and T2, without data). |T1| + |T2| <= c and
// |T1| + |T2| + |B1| + |B2| <= 2c. The target size p of T1 adapts: a hit in B1 means T1 was too small
// (p grows by max(1, |B2| / |B1|)); a hit in B2 means T2 was too small (p shrinks by max(1, |B1| / |B2|)).
// p is a real number, as in the paper.
import { SlotLists } from './lists.js';
import { checkCapacity, type ModelKey, type PolicyModel } from './model.js';

const T1 = 0;
const T2 = 1;
const B1 = 2;
const B2 = 3;

/** ARC over `capacity` resident keys (and as many ghost keys). */
export class ArcModel<K extends ModelKey = number> implements PolicyModel<K> {
  readonly name = 'ARC';
  readonly #c: number;
  readonly #lists: SlotLists;
  readonly #index = new Map<K, number>();
  readonly #keys: (K | undefined)[] = [];
  readonly #free: number[] = [];
  #nextSlot: number;
  #p = 0;

  constructor(capacity: number) {
    checkCapacity(capacity);
    this.#c = capacity;
    this.#lists = new SlotLists(4, 2 * capacity);
    this.#nextSlot = this.#lists.firstSlot;
  }

  /** The adaptive target size of T1. */
  get p(): number {
    return this.#p;
  }

  get size(): number {
    return this.#lists.size(T1) + this.#lists.size(T2);
  }

  has(key: K): boolean {
    const slot = this.#index.get(key);
    if (slot === undefined) return false;
    const list = this.#lists.listOf(slot);
    return list === T1 || list === T2;
  }

  /** The keys of T1, T2, B1 and B2, each least recently used first (for tests). */
  lists(): { t1: K[]; t2: K[]; b1: K[]; b2: K[] } {
    const read = (list: number): K[] => {
      const out: K[] = [];
      for (let s = this.#lists.head(list); s !== -1; s = this.#lists.after(s)) out.push(this.#keys[s]!);
      return out;
    };
    return { t1: read(T1), t2: read(T2), b1: read(B1), b2: read(B2) };
  }

  access(key: K): boolean {
    const lists = this.#lists;
    const slot = this.#index.get(key);
    if (slot !== undefined) {
      const list = lists.listOf(slot);
      // Case I: a hit in T1 or T2.
      if (list === T1 || list === T2) {
        lists.moveToTail(T2, slot);
        return true;
      }
      const b1 = lists.size(B1);
      const b2 = lists.size(B2);
      if (list === B1) {
        // Case II: a ghost hit in B1 favours recency.
        this.#p = Math.min(this.#p + (b1 >= b2 ? 1 : b2 / b1), this.#c);
        this.#replace(false);
      } else {
        // Case III: a ghost hit in B2 favours frequency.
        this.#p = Math.max(this.#p - (b2 >= b1 ? 1 : b1 / b2), 0);
        this.#replace(true);
      }
      lists.moveToTail(T2, slot);
      return false;
    }
    // Case IV: a key in none of the lists.
    const t1 = lists.size(T1);
    const l1 = t1 + lists.size(B1);
    if (l1 === this.#c) {
      if (t1 < this.#c) {
        this.#drop(B1);
        this.#replace(false);
      } else {
        this.#drop(T1);
      }
    } else {
      const total = l1 + lists.size(T2) + lists.size(B2);
      if (total >= this.#c) {
        if (total === 2 * this.#c) this.#drop(B2);
        this.#replace(false);
      }
    }
    const fresh = this.#free.pop() ?? this.#nextSlot++;
    this.#keys[fresh] = key;
    this.#index.set(key, fresh);
    lists.push(T1, fresh);
    return false;
  }

  // REPLACE(x, p): evicts the LRU key of T1 into B1, or that of T2 into B2.
  #replace(inB2: boolean): void {
    const lists = this.#lists;
    const t1 = lists.size(T1);
    const fromT1 = t1 >= 1 && ((inB2 && t1 === this.#p) || t1 > this.#p);
    if (fromT1 || lists.size(T2) === 0) lists.moveToTail(B1, lists.head(T1));
    else lists.moveToTail(B2, lists.head(T2));
  }

  // Forgets the LRU key of `list` entirely.
  #drop(list: number): void {
    const slot = this.#lists.head(list);
    this.#lists.unlink(slot);
    this.#index.delete(this.#keys[slot]!);
    this.#keys[slot] = undefined;
    this.#free.push(slot);
  }
}
