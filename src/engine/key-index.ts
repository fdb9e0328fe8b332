// The key -> slot index of MemoryCache, adapting its layout to the workload. V8 looks string keys
// up in a prototype-less dictionary object about twice as fast as in a Map, but inserting into and
// deleting from such a dictionary costs about three times more (every new key is internalized, and
// the dictionary rehashes under churn). So string keys start in a Map and move to a dictionary when
// the cache is read-dominated; they move back when inserts pick up again. Number keys always stay in
// the Map, so that the number 1 and the string '1' remain different keys; in the dictionary,
// `__proto__` and friends are ordinary keys because it has no prototype and so no accessors.

/** Switch to the dictionary when there are at least this many lookups per insert... */
const TO_DICTIONARY_READS_PER_INSERT = 32;
/** ...and back to the Map when there are fewer than this many. */
const TO_MAP_READS_PER_INSERT = 8;
/** Moving the keys is O(size) in one go, so only caches up to this size use the dictionary. */
const MAX_DICTIONARY_SIZE = 1 << 17;

/** Maps cache keys (strings and numbers, kept apart) to slot numbers. */
export class KeyIndex<K extends string | number> {
  #map = new Map<K, number>();
  #dict: Record<string, number> | null = null;
  #lastReads = 0;
  #lastInserts = 0;

  /** The slot of `key`, or undefined. */
  get(key: K): number | undefined {
    return typeof key === 'string' && this.#dict !== null ? this.#dict[key] : this.#map.get(key);
  }

  /** Records that `key` lives in `slot`. */
  set(key: K, slot: number): void {
    if (typeof key === 'string' && this.#dict !== null) this.#dict[key] = slot;
    else this.#map.set(key, slot);
  }

  /** Forgets `key`. */
  delete(key: K): void {
    if (typeof key === 'string' && this.#dict !== null) delete this.#dict[key];
    else this.#map.delete(key);
  }

  /** Forgets every key. */
  clear(): void {
    this.#map.clear();
    if (this.#dict !== null) this.#dict = Object.create(null) as Record<string, number>;
  }

  /** Whether string keys are in the dictionary (for tests). */
  get usesDictionary(): boolean {
    return this.#dict !== null;
  }

  /**
   * Chooses the layout from the lookups and inserts seen since the previous call (running totals),
   * given the number of entries; call it now and then, e.g. every 65,536 operations.
   */
  adapt(reads: number, inserts: number, size: number): void {
    const dr = reads - this.#lastReads;
    const di = inserts - this.#lastInserts;
    this.#lastReads = reads;
    this.#lastInserts = inserts;
    // Counters were reset (or nothing happened): take a new baseline.
    if (dr < 0 || di < 0 || dr + di === 0) return;
    if (this.#dict === null) {
      if (dr >= TO_DICTIONARY_READS_PER_INSERT * di && size <= MAX_DICTIONARY_SIZE) this.#toDictionary();
    } else if (dr < TO_MAP_READS_PER_INSERT * di || size > MAX_DICTIONARY_SIZE) {
      this.#toMap();
    }
  }

  #toDictionary(): void {
    const dict = Object.create(null) as Record<string, number>;
    for (const [key, slot] of this.#map) {
      if (typeof key !== 'string') continue;
      dict[key] = slot;
      this.#map.delete(key);
    }
    this.#dict = dict;
  }

  #toMap(): void {
    const dict = this.#dict!;
    this.#dict = null;
    for (const key in dict) this.#map.set(key as K, dict[key]!);
  }
}
