// SIEVE (Y. Zhang, J. Yang, Y. Yue, Y. Vigfusson, K. V. Rashmi, "SIEVE is Simpler than LRU: an
// Efficient Turn-Key Eviction Algorithm for Web Caches", NSDI 2024,
// https://www.usenix.org/conference/nsdi24/presentation/zhang-yazhuo), written from the paper's
// description and Figure 2.
//
// One FIFO queue; each key has a visited bit, set on a hit. New keys enter at the head (the newest
// end). To evict, a hand walks from where it last stopped (initially the tail, the oldest end) towards
// the head, clearing visited bits, and evicts the first key whose bit is clear; it wraps to the tail
// when it passes the head. Survivors stay where they are: no key ever moves on a hit.
import { SlotLists } from './lists.js';
import { checkCapacity, type ModelKey, type PolicyModel } from './model.js';

const QUEUE = 0;

/** SIEVE over `capacity` keys. */
export class SieveModel<K extends ModelKey = number> implements PolicyModel<K> {
  readonly name = 'SIEVE';
  readonly #capacity: number;
  // In the lists, head() is the oldest key (the paper's tail) and tail() the newest (the paper's head).
  readonly #lists: SlotLists;
  readonly #visited: Uint8Array;
  readonly #index = new Map<K, number>();
  readonly #keys: (K | undefined)[] = [];
  #nextSlot: number;
  /** The slot the hand rests on, or -1 for "start at the oldest key". */
  #hand = -1;

  constructor(capacity: number) {
    checkCapacity(capacity);
    this.#capacity = capacity;
    this.#lists = new SlotLists(1, capacity);
    this.#visited = new Uint8Array(this.#lists.firstSlot + capacity);
    this.#nextSlot = this.#lists.firstSlot;
  }

  get size(): number {
    return this.#index.size;
  }

  has(key: K): boolean {
    return this.#index.has(key);
  }

  /** Resident keys from the oldest to the newest, each with its visited bit, and the hand's key (for tests). */
  state(): { queue: [K, boolean][]; hand: K | undefined } {
    const queue: [K, boolean][] = [];
    for (let s = this.#lists.head(QUEUE); s !== -1; s = this.#lists.after(s))
      queue.push([this.#keys[s]!, this.#visited[s] === 1]);
    return { queue, hand: this.#hand === -1 ? undefined : this.#keys[this.#hand] };
  }

  access(key: K): boolean {
    const found = this.#index.get(key);
    if (found !== undefined) {
      this.#visited[found] = 1;
      return true;
    }
    let slot: number;
    if (this.#index.size < this.#capacity) slot = this.#nextSlot++;
    else slot = this.#evict();
    this.#keys[slot] = key;
    this.#visited[slot] = 0;
    this.#index.set(key, slot);
    this.#lists.push(QUEUE, slot);
    return false;
  }

  // Moves the hand to the first unvisited key, clearing bits on the way; unlinks that key and
  // returns its slot for reuse.
  #evict(): number {
    const lists = this.#lists;
    const visited = this.#visited;
    let hand = this.#hand === -1 ? lists.head(QUEUE) : this.#hand;
    while (visited[hand] === 1) {
      visited[hand] = 0;
      hand = lists.after(hand);
      if (hand === -1) hand = lists.head(QUEUE);
    }
    this.#hand = lists.after(hand);
    lists.unlink(hand);
    this.#index.delete(this.#keys[hand]!);
    return hand;
  }
}
