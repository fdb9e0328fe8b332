// Walks over every entry of a cache for the admin API (the compact stats body's live count, the key
// search), taken in slices with a turn of the event loop between them: at 200,000 entries one walk
// costs some 300 ms of CPU, which run in one go held every other request of the process for that
// long. A slice of SCAN_SLICE entries costs about 2 ms. The entries are read through eachEntry, which
// walks the cache's slots as they stand at each step, so an entry written or removed during the walk
// may or may not be seen (as with any figure that moves while it is read).
import type { Cache, CacheEntrySummary } from '../../cache/types.js';

/** Entries read between two turns of the event loop. */
export const SCAN_SLICE = 1000;

/** How long a keyless caller's live count is reused, in ms. */
export const PUBLIC_COUNT_MS = 1000;

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Calls `visit` with each entry of `cache`, yielding to the event loop after every {@link SCAN_SLICE}
 * entries; stops early when `visit` returns false.
 */
export async function walkEntries(
  cache: Cache<unknown>,
  visit: (entry: CacheEntrySummary) => boolean | void,
): Promise<void> {
  let read = 0;
  for (const entry of cache.eachEntry()) {
    if (visit(entry) === false) return;
    if (++read % SCAN_SLICE === 0) await turn();
  }
}

/** One cache's compact stats figures: its live (fresh) entries, and the first `limit` of them. */
export async function liveEntries(
  cache: Cache<unknown>,
  limit: number,
): Promise<{ size: number; entries: CacheEntrySummary[] }> {
  let size = 0;
  const entries: CacheEntrySummary[] = [];
  await walkEntries(cache, (entry) => {
    if (entry.stale) return;
    size++;
    if (entries.length < limit) entries.push(entry);
  });
  return { size, entries };
}

/**
 * Live counts for keyless callers (publicStats), who may poll as often as they like: callers at the
 * same time share one walk, and its count is reused for {@link PUBLIC_COUNT_MS}, so however many of
 * them there are, a cache is walked at most about once a second for them.
 */
export class SharedLiveCounts {
  readonly #counts = new WeakMap<object, { at: number; count: Promise<number> }>();

  /** The live entries of `cache`: counted now, or by a walk in progress or under a second old. */
  count(cache: Cache<unknown>): Promise<number> {
    const held = this.#counts.get(cache);
    const now = performance.now();
    if (held !== undefined && now - held.at < PUBLIC_COUNT_MS) return held.count;
    const count = liveEntries(cache, 0).then(
      ({ size }) => {
        // The reuse starts when the walk ends, so a slow walk is not walked again at once.
        this.#counts.set(cache, { at: performance.now(), count });
        return size;
      },
      (error: unknown) => {
        this.#counts.delete(cache);
        throw error;
      },
    );
    this.#counts.set(cache, { at: Infinity, count });
    return count;
  }
}
