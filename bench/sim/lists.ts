// Doubly linked lists over a shared pool of integer slots, for the reference policy models. Each list
// has a sentinel slot (0 .. lists-1); a slot belongs to at most one list at a time. Slots are plain
// indices into Int32Arrays, so a model holding millions of entries allocates no per-entry objects.

/** `lists` circular doubly linked lists sharing `capacity` slots (numbered from `lists`). */
export class SlotLists {
  readonly next: Int32Array;
  readonly prev: Int32Array;
  /** The first slot a caller may use for an entry; lower slots are the lists' sentinels. */
  readonly firstSlot: number;
  readonly #sizes: Int32Array;
  readonly #owner: Int32Array;

  constructor(lists: number, capacity: number) {
    const total = lists + capacity;
    this.next = new Int32Array(total);
    this.prev = new Int32Array(total);
    this.#owner = new Int32Array(total).fill(-1);
    this.#sizes = new Int32Array(lists);
    this.firstSlot = lists;
    for (let l = 0; l < lists; l++) {
      this.next[l] = l;
      this.prev[l] = l;
    }
  }

  /** Entries in list `list`. */
  size(list: number): number {
    return this.#sizes[list]!;
  }

  /** The list holding `slot`, or -1. */
  listOf(slot: number): number {
    return this.#owner[slot]!;
  }

  /** The oldest slot of `list` (its head), or -1 when empty. */
  head(list: number): number {
    const s = this.next[list]!;
    return s === list ? -1 : s;
  }

  /** The newest slot of `list` (its tail), or -1 when empty. */
  tail(list: number): number {
    const s = this.prev[list]!;
    return s === list ? -1 : s;
  }

  /** The slot before `slot` (towards the head) in its list, or -1 at the head. */
  before(slot: number): number {
    const p = this.prev[slot]!;
    return p < this.firstSlot ? -1 : p;
  }

  /** The slot after `slot` (towards the tail) in its list, or -1 at the tail. */
  after(slot: number): number {
    const n = this.next[slot]!;
    return n < this.firstSlot ? -1 : n;
  }

  /** Appends `slot` (in no list) at the tail of `list`. */
  push(list: number, slot: number): void {
    const last = this.prev[list]!;
    this.next[last] = slot;
    this.prev[slot] = last;
    this.next[slot] = list;
    this.prev[list] = slot;
    this.#owner[slot] = list;
    this.#sizes[list]!++;
  }

  /** Takes `slot` out of its list. */
  unlink(slot: number): void {
    const list = this.#owner[slot]!;
    const p = this.prev[slot]!;
    const n = this.next[slot]!;
    this.next[p] = n;
    this.prev[n] = p;
    this.#owner[slot] = -1;
    this.#sizes[list]!--;
  }

  /** Moves `slot` to the tail of `list` (its own or another). */
  moveToTail(list: number, slot: number): void {
    this.unlink(slot);
    this.push(list, slot);
  }
}
