// Tag invalidation in L2 in O(1) per tag, whatever the number of tagged entries: invalidating a tag
// stores "tag T was invalidated at time X" in the store, and an entry read from L2 is valid only if
// it was created after every one of its tags' invalidation times. Times are cached in memory for a
// short while (bounded) and refreshed at once by bus messages, so most reads need no extra round trip.
//
// Timestamps expire `retention` after their tag's last invalidation, so per-user tags do not pile up.
// That is safe because an entry is hidden only by invalidations after its creation: an entry that
// lives at most `retention` from its creation is gone before a later timestamp can lapse. An entry
// living longer holds its tags' timestamps (setAtLeast, which only ever lengthens a key's life) until
// its own end, whether the invalidation comes before or after that hold reaches the store.
//
// A stored time never moves backwards: it is written with setMax, which keeps the larger of the held
// and the new time. Two instances invalidating one tag close together may have their writes land in
// either order; had the older time replaced the newer one, an instance that missed the newer bus
// message (a new one, one resynced after an outage) would read it and serve the entries that the
// newer invalidation hid. Atomic where the driver has setMax; the tier's fallback is best effort.
import type { DriverValue, TierDriver } from './driver.js';

/** What the clock needs of the store: batched reads, set-and-extend, and set-the-larger-and-extend. */
export type TagStore = Pick<TierDriver, 'getMany'> & {
  setAtLeast(key: string, value: DriverValue, ttlMs: number, keepValue?: boolean): Promise<void>;
  setMax(key: string, value: DriverValue, ttlMs: number): Promise<void>;
};

/** Extra life a held timestamp gets past its entry, so it never lapses a moment before the entry. */
const HOLD_SLACK_MS = 1000;

/** Options of {@link TagClock}. */
export interface TagClockOptions {
  /** Store key of a tag's timestamp. */
  keyOf: (tag: string) => string;
  /** How long a fetched timestamp is trusted without asking the store again, ms. */
  cacheTtlMs: number;
  /** How long the store keeps a timestamp after its tag's last invalidation, ms (0 = forever). */
  retentionMs: number;
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
  readonly #driver: TagStore;
  readonly #options: TagClockOptions;
  readonly #maxTags: number;
  readonly #known = new Map<string, Known>();

  constructor(driver: TagStore, options: TagClockOptions) {
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
    const fetched = await this.#fetch(missing, now);
    for (const at of fetched.values()) latest = Math.max(latest, at);
    return latest;
  }

  /**
   * {@link latest} for several tag lists at once (entries read together): the tags not known in memory
   * are fetched in one batched read. Rejects when the store fails.
   */
  async latestEach(lists: readonly (readonly string[])[]): Promise<number[]> {
    const now = this.#options.clock();
    const fresh = (tag: string): boolean => {
      const known = this.#known.get(tag);
      return known !== undefined && now - known.fetchedAt < this.#options.cacheTtlMs;
    };
    const missing = [...new Set(lists.flat().filter((tag) => !fresh(tag)))];
    const fetched = missing.length === 0 ? undefined : await this.#fetch(missing, now);
    return lists.map((tags) => {
      let latest = 0;
      for (const tag of tags) latest = Math.max(latest, fetched?.get(tag) ?? this.#known.get(tag)?.at ?? 0);
      return latest;
    });
  }

  /**
   * Each tag's invalidation time read from the store now (0 = never), in one batched read (used to
   * check many entries at once, e.g. restored ones). Rejects when the store fails.
   */
  times(tags: readonly string[]): Promise<Map<string, number>> {
    return this.#fetch(tags, this.#options.clock());
  }

  async #fetch(tags: readonly string[], now: number): Promise<Map<string, number>> {
    const stored = await this.#driver.getMany(tags.map(this.#options.keyOf));
    const out = new Map<string, number>();
    for (let i = 0; i < tags.length; i++) {
      const raw = stored[i];
      const at = raw === undefined ? 0 : readTime(raw.toString());
      if (at === undefined) {
        // Not a time the tier wrote: it cannot vouch for any entry of the tag (read again next time).
        out.set(tags[i]!, Infinity);
        continue;
      }
      this.#remember(tags[i]!, at, now);
      // A time heard on the bus may be newer than the store's answer; the later one counts.
      out.set(tags[i]!, Math.max(this.#known.get(tags[i]!)?.at ?? 0, at));
    }
    return out;
  }

  /**
   * Records in the store that `tags` were invalidated at `at`, and remembers it locally. Each tag gets
   * the latest time known here (`at`, or a later one heard from another instance), and the store keeps
   * the larger of that and the time it holds (setMax): neither an instance whose clock is behind,
   * invalidating after another, nor an older invalidation whose write lands after a newer one's may
   * move the time back and bring back the entries the later invalidation hid. A time is stored in
   * whole ms, rounded up (so it hides no less), since setMax compares only decimal integers.
   */
  async invalidate(tags: readonly string[], at: number): Promise<void> {
    this.note(tags, at);
    const { keyOf, retentionMs } = this.#options;
    await Promise.all(
      tags.map((tag) =>
        this.#driver.setMax(keyOf(tag), String(Math.ceil(this.#known.get(tag)?.at ?? at)), retentionMs),
      ),
    );
  }

  /**
   * Makes the store keep the timestamps of `tags` as long as an entry written now that carries them,
   * when that entry lives longer than the retention; `undefined` when it does not (nothing to do).
   */
  hold(tags: readonly string[], createdAt: number, expiresAt: number): Promise<unknown> | undefined {
    const { keyOf, retentionMs, clock } = this.#options;
    if (tags.length === 0 || retentionMs === 0) return undefined;
    if (expiresAt !== 0 && expiresAt - createdAt <= retentionMs) return undefined;
    const left = expiresAt - clock();
    if (expiresAt !== 0 && left <= 0) return undefined;
    const ttl = expiresAt === 0 ? 0 : left + HOLD_SLACK_MS;
    // '0' (never invalidated) is stored only when the tag has no timestamp yet; a real one is kept.
    return Promise.all(tags.map((tag) => this.#driver.setAtLeast(keyOf(tag), '0', ttl, true)));
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

/** A stored tag time (what `String(at)` wrote: a finite number >= 0), or undefined for anything else. */
function readTime(text: string): number | undefined {
  const at = text.trim() === '' ? NaN : Number(text);
  return Number.isFinite(at) && at >= 0 ? at : undefined;
}
