// Doubly linked lists over integer slots, stored in one Int32Array of fixed-size records (the way
// node-lru-cache links slots through typed arrays, but interleaved): a slot's record holds its next
// and prev links and, for policies that need them, extra per-slot fields. Keeping a slot's fields
// on one cache line matters more than anything else on a cache hit over a large cache. Each list is
// circular around a sentinel "head" slot, so linking and unlinking never branch on empty lists.

/**
 * The first slot that holds an entry. Slots below it are the sentinel heads, one per list a policy
 * uses (W-TinyLFU needs three), reserved by every policy so the cache's slot numbers mean the same
 * whichever policy orders them.
 */
export const FIRST_SLOT = 3;
/** Offsets of the link fields inside a record. */
const NEXT = 0;
const PREV = 1;

/** Circular doubly linked lists over slots; the oldest entry follows the head, the newest precedes it. */
export class SlotLinks {
  /** The records: `1 << shift` Int32 fields per slot, `next` and `prev` first. */
  data: Int32Array;
  /** log2 of the record size in fields. */
  readonly shift: number;

  /** Lists over `capacity` slots whose records have `1 << shift` fields (at least the two links). */
  constructor(capacity: number, shift: 1 | 2) {
    this.shift = shift;
    this.data = new Int32Array(capacity << shift);
    this.reset();
  }

  /** Empties every list (points each sentinel at itself). */
  reset(): void {
    for (let h = 0; h < FIRST_SLOT; h++) {
      this.data[(h << this.shift) + NEXT] = h;
      this.data[(h << this.shift) + PREV] = h;
    }
  }

  /** Enlarges the records to `capacity` slots, keeping every link and field. */
  grow(capacity: number): void {
    const data = new Int32Array(capacity << this.shift);
    data.set(this.data);
    this.data = data;
  }

  /** The oldest slot of the list headed by `head` (`head` itself when the list is empty). */
  first(head: number): number {
    return this.data[(head << this.shift) + NEXT]!;
  }

  /** The newest slot of the list headed by `head` (`head` itself when the list is empty). */
  last(head: number): number {
    return this.data[(head << this.shift) + PREV]!;
  }

  /** Appends the slots of the list headed by `head` to `out`, newest first. */
  collectNewestFirst(head: number, out: number[]): void {
    const d = this.data;
    const shift = this.shift;
    for (let slot = d[(head << shift) + PREV]!; slot !== head; slot = d[(slot << shift) + PREV]!)
      out.push(slot);
  }

  /** Appends `slot` as the newest entry of the list headed by `head`. */
  pushBack(head: number, slot: number): void {
    const d = this.data;
    const shift = this.shift;
    const h = head << shift;
    const last = d[h + PREV]!;
    d[(last << shift) + NEXT] = slot;
    const s = slot << shift;
    d[s + PREV] = last;
    d[s + NEXT] = head;
    d[h + PREV] = slot;
  }

  /** Takes `slot` out of whichever list holds it. */
  unlink(slot: number): void {
    const d = this.data;
    const shift = this.shift;
    const s = slot << shift;
    const p = d[s + PREV]!;
    const n = d[s + NEXT]!;
    d[(p << shift) + NEXT] = n;
    d[(n << shift) + PREV] = p;
  }

  /** Makes `slot` (already in the list headed by `head`) its newest entry. */
  moveToBack(head: number, slot: number): void {
    const d = this.data;
    const shift = this.shift;
    const h = head << shift;
    const last = d[h + PREV]!;
    if (last === slot) return;
    const s = slot << shift;
    const p = d[s + PREV]!;
    const n = d[s + NEXT]!;
    d[(p << shift) + NEXT] = n;
    d[(n << shift) + PREV] = p;
    d[(last << shift) + NEXT] = slot;
    d[s + PREV] = last;
    d[s + NEXT] = head;
    d[h + PREV] = slot;
  }
}
