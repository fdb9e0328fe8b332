// Single-flight: at most one load per full key is in the map, and callers that miss while it runs join
// it. Writes and invalidations detach the loads they reach: a detached load leaves the map (a call
// started after the write loads afresh), still answers the callers already waiting, and is never stored.
import type { CacheKey } from '../engine/types.js';

/** What a load resolves to for every caller that shares it. */
export interface LoadOutcome {
  value: unknown;
  /** True when the value is a stale one served by fail-safe. */
  stale: boolean;
}

/** One in-flight load of a key. */
export interface Flight {
  /** Settles with the load; set right after the load starts (the loader may run synchronously first). */
  promise: Promise<LoadOutcome>;
  /** Aborted on hard timeout or cache close; its signal is the loader's. */
  controller: AbortController;
  /**
   * Set when a write reached the key while it loaded: the flight has left the map (later callers start
   * a fresh load), its result still answers the callers already waiting, and is not stored.
   */
  detached: boolean;
}

function ignore(): void {}

/** The loads in progress of one cache (shared by its namespaces), by full key. */
export class Flights {
  readonly #byKey = new Map<CacheKey, Flight>();

  /** The load of `key` a caller may join: only one no write has reached is in the map. */
  get(key: CacheKey): Flight | undefined {
    return this.#byKey.get(key);
  }

  /** Whether a load of `key` is in progress. */
  has(key: CacheKey): boolean {
    return this.#byKey.has(key);
  }

  /**
   * Registers a flight for `key`, then runs `load` for it; the flight leaves the map when it settles
   * (unless a write detached it first). Its promise never leaves an unhandled rejection behind: callers
   * that answered stale (soft timeout), or a refresh nobody awaits, do not wait on it.
   */
  start(key: CacheKey, load: (flight: Flight) => Promise<LoadOutcome>): Flight {
    const flight: Flight = {
      promise: undefined as unknown as Promise<LoadOutcome>,
      controller: new AbortController(),
      detached: false,
    };
    // In the map before `load` runs: a loader may call back synchronously, and must find its own flight.
    this.#byKey.set(key, flight);
    flight.promise = load(flight).finally(() => {
      if (this.#byKey.get(key) === flight) this.#byKey.delete(key);
    });
    flight.promise.catch(ignore);
    return flight;
  }

  /**
   * Detaches the load of one key (read-your-writes): it leaves the map, so a call started after the
   * write loads afresh, and its result is not stored. Its waiting callers still get it.
   */
  detach(key: CacheKey): void {
    const flight = this.#byKey.get(key);
    if (flight === undefined) return;
    flight.detached = true;
    this.#byKey.delete(key);
  }

  /** Detaches every load whose key matches (every load when `matches` is undefined); see detach. */
  detachWhere(matches?: (key: CacheKey) => boolean): void {
    if (this.#byKey.size === 0) return;
    for (const [key, flight] of this.#byKey) {
      if (matches !== undefined && !matches(key)) continue;
      flight.detached = true;
      this.#byKey.delete(key);
    }
  }

  /** Aborts every load in progress with `reason`; their results will not be stored. */
  abortAll(reason: unknown): void {
    for (const flight of this.#byKey.values()) {
      flight.detached = true;
      flight.controller.abort(reason);
    }
    this.#byKey.clear();
  }
}

/**
 * Runs a write between two detach passes over the loads it reaches: before it, so an older load cannot
 * put back what it removes or replaces; after it, so a load started while the write was awaiting L2
 * (it may have read the old entry there) is not joined either.
 */
export async function detachAround<T>(detach: () => void, write: () => Promise<T>): Promise<T> {
  detach();
  try {
    return await write();
  } finally {
    detach();
  }
}
