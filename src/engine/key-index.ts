// The engine's key index: from a key to the slot that holds its entry, in an open-addressing hash
// table over typed arrays, keyed by the 32-bit key hash the engine computes once per operation
// (hash.ts), which W-TinyLFU's sketch reads too.
//
// Why not a Map: with a bounded cache every insert past the bound is a Map set plus a Map delete, and a
// Map never reuses a deleted entry's space: it compacts (reallocates) its whole table every few
// thousand deletes. On set-with-eviction that reallocation, with the page faults and garbage it
// brings, took more time than the rest of the engine put together. This table has a fixed size
// for a given slot count and frees a position at once (backward-shift deletion, so no tombstones
// accumulate), and a lookup compares a tag of the hash before it touches a key. A Map still wins one
// thing: V8 caches a string's own hash in the string, so Map.get need not read the characters, while
// this index hashes the key on every get (a few nanoseconds for keys of tens of characters).
//
// Layout: `table` holds one 32-bit word per position: the slot in its low bits and, above them, a tag
// of the key's hash (its low bits), so a lookup compares tags before it touches a key; 0 marks an
// empty position (entries start at FIRST_SLOT). A key's home position is its hash's top bits; linear
// probing from there. The table has at least twice as many positions as the cache has slots, so it is
// at most half full, and a slot needs one bit less than a position: the rest of the word is the tag
// (15 bits for a cache of 100,000 entries). One word rather than a (hash, slot) pair halves the table:
// about 10 bytes per entry less. Moving an entry back on erase reads its full hash from the engine's
// per-slot hashes.
//
// Collisions: string hashes are seeded per process (hash.ts), so keys cannot be chosen offline to
// share a probe run; numeric keys are hashed without a seed, as V8's Map hashes small integers.

/** Marks "no slot": an empty table position, and the answer of a failed lookup. */
export const NO_SLOT = 0;

/** Open-addressing index of the engine's slots by key hash (see above). */
export class KeyIndex {
  /** One word per position: tag << slotBits | slot, or 0 when empty. */
  #table: Int32Array;
  /** Positions - 1 (the table has a power-of-two number of positions). */
  #mask: number;
  /** 32 - log2(positions): a hash's home position is `hash >>> shift`. */
  #shift: number;
  /** Bits of a word that hold the slot; the tag sits above them. */
  #slotBits: number;
  #slotMask: number;
  /** Selects a hash's tag (its low 32 - slotBits bits). */
  #tagMask: number;
  /**
   * Where the last find() that failed stopped: the position its key would be inserted at, valid for
   * insertAt() while `version` is unchanged.
   */
  vacancy = 0;
  /** Changes with every insert, erase, grow and clear. */
  version = 0;

  /** An index for a cache with `slots` slots. */
  constructor(slots: number) {
    this.#table = new Int32Array(0);
    this.#mask = 0;
    this.#shift = 32;
    this.#slotBits = 0;
    this.#slotMask = 0;
    this.#tagMask = 0;
    this.#resize(positionBits(slots));
  }

  /** The slot whose key is `key` (hash `hash`; slot s's key is `entries[2 * s]`), or NO_SLOT. */
  find(entries: readonly unknown[], key: unknown, hash: number): number {
    const table = this.#table;
    const mask = this.#mask;
    const slotBits = this.#slotBits;
    const slotMask = this.#slotMask;
    const tag = hash & this.#tagMask;
    for (let i = hash >>> this.#shift; ; i = (i + 1) & mask) {
      const word = table[i]!;
      if (word === 0) {
        this.vacancy = i;
        return NO_SLOT;
      }
      if (word >>> slotBits === tag && entries[2 * (word & slotMask)] === key) return word & slotMask;
    }
  }

  /**
   * Adds `slot` under `hash` at `position`, the `vacancy` of a find() for its key that failed while
   * the index was at its current `version` (so the key is absent and this is its first free position).
   */
  insertAt(position: number, hash: number, slot: number): void {
    this.#table[position] = this.#word(hash, slot);
    this.version++;
  }

  /** Adds `slot` under `hash`; the caller has checked that its key is absent. */
  insert(hash: number, slot: number): void {
    const table = this.#table;
    const mask = this.#mask;
    let i = hash >>> this.#shift;
    while (table[i] !== 0) i = (i + 1) & mask;
    table[i] = this.#word(hash, slot);
    this.version++;
  }

  /**
   * Removes `slot`, moving later entries of its probe run back into the hole so that no lookup ever
   * has to step over a deleted position; `hashes[s]` is slot s's hash.
   */
  erase(slot: number, hashes: Int32Array): void {
    const table = this.#table;
    const mask = this.#mask;
    const shift = this.#shift;
    const slotMask = this.#slotMask;
    let i = hashes[slot]! >>> shift;
    while ((table[i]! & slotMask) !== slot) i = (i + 1) & mask;
    for (let j = (i + 1) & mask; table[j] !== 0; j = (j + 1) & mask) {
      const home = hashes[table[j]! & slotMask]! >>> shift;
      // The entry at j may move to the hole at i unless its home lies cyclically in (i, j].
      if (((j - home) & mask) >= ((j - i) & mask)) {
        table[i] = table[j]!;
        i = j;
      }
    }
    table[i] = 0;
    this.version++;
  }

  /**
   * Resizes for a cache with `slots` slots if it needs more positions, re-adding every occupied slot
   * below `end` (those with a key at `entries[2 * slot]`) under its hash in `hashes`.
   */
  grow(slots: number, end: number, entries: readonly unknown[], hashes: Int32Array): void {
    const bits = positionBits(slots);
    if (bits <= 32 - this.#shift) return;
    this.version++;
    this.#resize(bits);
    for (let slot = 0; slot < end; slot++)
      if (entries[2 * slot] !== undefined) this.insert(hashes[slot]!, slot);
  }

  /** Empties the index. */
  clear(): void {
    this.#table.fill(0);
    this.version++;
  }

  // An empty table of 2^bits positions; slots below 2^(bits - 1) fit beside a tag.
  #resize(bits: number): void {
    this.#table = new Int32Array(1 << bits);
    this.#mask = (1 << bits) - 1;
    this.#shift = 32 - bits;
    this.#slotBits = bits - 1;
    this.#slotMask = (1 << (bits - 1)) - 1;
    this.#tagMask = (1 << (33 - bits)) - 1;
  }

  // The word for `slot` under `hash`.
  #word(hash: number, slot: number): number {
    return ((hash & this.#tagMask) << this.#slotBits) | slot;
  }
}

// log2 of the positions for `slots` slots: at least twice as many, a power of two, from 2^4 to 2^30.
function positionBits(slots: number): number {
  return Math.max(4, Math.min(30, 32 - Math.clz32(2 * slots - 1)));
}
