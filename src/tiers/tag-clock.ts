// Tag invalidation in L2 in O(1) per tag, whatever the number of tagged entries: invalidating a tag
// stores "tag T was invalidated at time X" in the store, and an entry read from L2 is valid only if
// it was created after every one of its tags' invalidation times. Times are cached in memory for a
// short while (bounded) and refreshed at once by bus messages, so most reads need no extra round trip.
import type { TierDriver } from './driver.js';

/** Options of {@link TagClock}. */
export interface TagClockOptions {
  /** Store key of a tag's timestamp. */
  keyOf: (tag: string) => string;
  /** How long a fetched timestamp is trusted without asking the store again, ms. */
  cacheTtlMs: number;
  /** Upper bound on timestamps held in memory (default 10,000). */
  maxTags?: number;
  clock: () => number;
}

interface Known {
  at: number;
  fetchedAt: number;
}

/** Per-tag invalidation times for one cache, in the store and cached in memory. */
export class TagClock {
  readonly #driver: TierDriver;
  readonly #options: TagClockOptions;
  readonly #maxTags: number;
  readonly #known = new Map<string, Known>();

  constructor(driver: TierDriver, options: TagClockOptions) {
    this.#driver = driver;
    this.#options = options;
    this.#maxTags = options.maxTags ?? 10_000;
  }

  /** The latest invalidation time among `tags` (0 when none was invalidated). Rejects when the store fails. */
  async latest(tags: readonly string[]): Promise<number> {
    const now = this.#options.clock();
    let latest = 0;
    let missing: string[] | undefined;
    for (const tag of tags) {
      const known = this.#known.get(tag);
      if (known !== undefined && now - known.fetchedAt < this.#options.cacheTtlMs)
        latest = Math.max(latest, known.at);
      else (missing ??= []).push(tag);
    }
    if (missing === undefined) return latest;
    const stored = await this.#driver.getMany(missing.map(this.#options.keyOf));
    for (let i = 0; i < missing.length; i++) {
      const raw = stored[i];
      const at = raw === undefined ? 0 : Number(raw.toString());
      this.#remember(missing[i]!, Number.isFinite(at) ? at : 0, now);
      latest = Math.max(latest, this.#known.get(missing[i]!)!.at);
    }
    return latest;
  }

  /** Records in the store that `tags` were invalidated at `at`, and remembers it locally. */
  async invalidate(tags: readonly string[], at: number): Promise<void> {
    this.note(tags, at);
    await Promise.all(tags.map((tag) => this.#driver.set(this.#options.keyOf(tag), String(at))));
  }

  /** Remembers invalidation times heard on the bus (never moves a time backwards). */
  note(tags: readonly string[], at: number): void {
    const now = this.#options.clock();
    for (const tag of tags) this.#remember(tag, at, now);
  }

  /** Forgets cached times (after a bus resync, when notes may have been missed). */
  forget(): void {
    this.#known.clear();
  }

  #remember(tag: string, at: number, now: number): void {
    const previous = this.#known.get(tag);
    this.#known.delete(tag);
    this.#known.set(tag, { at: Math.max(at, previous?.at ?? 0), fetchedAt: now });
    if (this.#known.size > this.#maxTags) {
      const oldest = this.#known.keys().next();
      if (oldest.done !== true) this.#known.delete(oldest.value);
    }
  }
}
