// The tag index of MemoryCache: which tags each slot carries, and which slots carry each tag, so
// invalidateTags finds its entries without a scan. A cold part of the engine: a cache that never
// sets a tag never creates one, and the cache's hot path reads only `bySlot` to see a slot is untagged.

/** Tags by slot and slots by tag; slots are the cache's slot numbers. */
export class TagIndex {
  /**
   * Each slot's tags (deduplicated, frozen), `undefined` for an untagged slot. Public so the cache can
   * tell an untagged slot without a call; only this class writes it.
   */
  readonly bySlot: (readonly string[] | undefined)[] = [];
  readonly #slotsByTag = new Map<string, Set<number>>();

  /** Number of distinct tags carried by at least one slot. */
  get size(): number {
    return this.#slotsByTag.size;
  }

  /** Gives the untagged `slot` these tags (duplicates are dropped). */
  tag(slot: number, tags: readonly string[]): void {
    const owned = Object.freeze([...new Set(tags)]);
    this.bySlot[slot] = owned;
    for (const tag of owned) {
      let slots = this.#slotsByTag.get(tag);
      if (slots === undefined) this.#slotsByTag.set(tag, (slots = new Set()));
      slots.add(slot);
    }
  }

  /** Takes every tag off `slot`. A tag no slot carries any more is forgotten, so the index stays bounded. */
  untag(slot: number): void {
    const tags = this.bySlot[slot];
    if (tags === undefined) return;
    this.bySlot[slot] = undefined;
    for (const tag of tags) {
      const slots = this.#slotsByTag.get(tag);
      if (slots === undefined) continue;
      slots.delete(slot);
      if (slots.size === 0) this.#slotsByTag.delete(tag);
    }
  }

  /** The slots carrying any of `tags` (a fresh set the caller may keep). */
  slotsWithAny(tags: readonly string[]): Set<number> {
    const out = new Set<number>();
    for (const tag of tags) {
      const slots = this.#slotsByTag.get(tag);
      if (slots !== undefined) for (const slot of slots) out.add(slot);
    }
    return out;
  }
}
