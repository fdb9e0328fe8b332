// LRU: on a hit the key becomes the most recent; on a miss in a full cache the least recently used
// key is evicted. The baseline every other column is measured against.
import { SlotLists } from './lists.js';
import { checkCapacity, type ModelKey, type PolicyModel } from './model.js';

const LIST = 0;

/** Least-recently-used replacement over `capacity` keys. */
export class LruModel<K extends ModelKey = number> implements PolicyModel<K> {
  readonly name = 'LRU';
  readonly #capacity: number;
  readonly #lists: SlotLists;
  readonly #index = new Map<K, number>();
  readonly #keys: (K | undefined)[] = [];
  #nextSlot: number;

  constructor(capacity: number) {
    checkCapacity(capacity);
    this.#capacity = capacity;
    this.#lists = new SlotLists(1, capacity);
    this.#nextSlot = this.#lists.firstSlot;
  }

  get size(): number {
    return this.#index.size;
  }

  has(key: K): boolean {
    return this.#index.has(key);
  }

  access(key: K): boolean {
    const lists = this.#lists;
    const found = this.#index.get(key);
    if (found !== undefined) {
      lists.moveToTail(LIST, found);
      return true;
    }
    let slot: number;
    if (this.#index.size < this.#capacity) slot = this.#nextSlot++;
    else {
      slot = lists.head(LIST);
      lists.unlink(slot);
      this.#index.delete(this.#keys[slot]!);
    }
    this.#keys[slot] = key;
    this.#index.set(key, slot);
    lists.push(LIST, slot);
    return false;
  }

  /** Resident keys, least recently used first (for tests). */
  order(): K[] {
    const out: K[] = [];
    for (let s = this.#lists.head(LIST); s !== -1; s = this.#lists.after(s)) out.push(this.#keys[s]!);
    return out;
  }
}
