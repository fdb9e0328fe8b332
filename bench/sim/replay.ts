// Trace replay for hit-ratio measurement: every key is read; a miss is followed by a set, the way a
// read-through cache behaves. Works with any cache that has get/set (Larder's or a peer's).

/** The minimal cache shape the replay needs. */
export interface ReplayCache {
  get(key: number): unknown;
  set(key: number, value: number): unknown;
}

/** Replays `keys` through `cache` (get; set on miss) and returns the hit ratio in percent. */
export function replay(keys: ArrayLike<number>, cache: ReplayCache): number {
  let hits = 0;
  const n = keys.length;
  for (let i = 0; i < n; i++) {
    const key = keys[i]!;
    if (cache.get(key) !== undefined) hits++;
    else cache.set(key, key);
  }
  return n === 0 ? 0 : (100 * hits) / n;
}
