// The shape every reference policy model in bench/sim shares: a cache of keys only (no values), fed
// one request at a time the way a read-through cache sees it (a miss inserts the key).

/** A key a model can hold: trace keys are numbers, the synthetic workloads may use strings. */
export type ModelKey = number | string;

/** A reference eviction policy simulated on keys alone. */
export interface PolicyModel<K extends ModelKey = ModelKey> {
  /** Column label, e.g. `ARC`. */
  readonly name: string;
  /** Requests `key`: true on a hit; on a miss the key is inserted (evicting as the policy decides). */
  access(key: K): boolean;
  /** Keys resident now. */
  readonly size: number;
  /** True when `key` is resident (no side effects: neither a hit nor a miss). */
  has(key: K): boolean;
}

/** Replays `keys` through `model` and returns the hit ratio in percent. */
export function simulate<K extends ModelKey>(keys: ArrayLike<K>, model: PolicyModel<K>): number {
  let hits = 0;
  const n = keys.length;
  for (let i = 0; i < n; i++) if (model.access(keys[i]!)) hits++;
  return n === 0 ? 0 : (100 * hits) / n;
}

/** Throws unless `capacity` is a positive integer (models hold at least one key). */
export function checkCapacity(capacity: number): void {
  if (!Number.isInteger(capacity) || capacity < 1)
    throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
}
