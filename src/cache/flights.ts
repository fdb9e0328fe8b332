// Single-flight: at most one load per full key is in the map, and callers that miss while it runs join
// it. Writes and invalidations detach the loads they reach: a detached load leaves the map (a call
// started after the write loads afresh), still answers the callers already waiting, and is never stored.
// Predictive warming's loads are registered beside them (joined by no caller, detached by the same
// writes), and every load not settled yet is tracked until it does, so close() aborts detached ones too.
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
  /**
   * Set on a load no caller waits on when it starts (a background refresh-ahead): called when a caller
   * joins it, so that its retry backoff keeps the process alive from then on.
   */
  hold?: () => void;
  /**
   * True while the load is starting: its load function runs synchronously (the loader up to its first
   * await) and `promise` is not set yet. A caller that finds its key's flight so is that loader calling
   * back for its own key (directly or through other loads): see {@link Flights.starting}.
   */
  starting: boolean;
}

function ignore(): void {}

/** The loads in progress of one cache (shared by its namespaces), by full key. */
export class Flights {
  readonly #byKey = new Map<CacheKey, Flight>();
  /** Loads no caller joins (predictive warming), by full key: writes detach them as they detach the rest. */
  readonly #background = new Map<CacheKey, Flight>();
  /** Every load not settled yet, detached ones included: close() must abort them all. */
  readonly #live = new Set<Flight>();
  /** How many loads are starting (nested: a loader that synchronously starts another key's load). */
  #starting = 0;

  /** The load of `key` a caller may join: only one no write has reached is in the map. */
  get(key: CacheKey): Flight | undefined {
    return this.#byKey.get(key);
  }

  /**
   * Whether the load of `key` is starting (Flight.starting): a call for `key` made now comes from its
   * own loader, before that loader's first await, and would wait for itself. Costs a counter check
   * unless a load is starting.
   */
  starting(key: CacheKey): boolean {
    return this.#starting !== 0 && this.#byKey.get(key)?.starting === true;
  }

  /**
   * Runs `start` with `flights` marked starting: it calls a loader that answers for all of them (a
   * getOrSetMany batch), which may call back, before its first await, for one of their keys.
   */
  startingWhile<T>(flights: readonly Flight[], start: () => T): T {
    for (const flight of flights) flight.starting = true;
    this.#starting++;
    try {
      return start();
    } finally {
      this.#starting--;
      for (const flight of flights) flight.starting = false;
    }
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
    // A background load of the key read the upstream before this one: its result must not land after it.
    if (this.#background.size !== 0) detachIn(this.#background, key);
    // In the map before `load` runs: a loader may call back synchronously, and must find its own flight.
    return this.#run(this.#byKey, key, load);
  }

  /**
   * Registers a load of `key` that no caller joins (predictive warming) and runs it; writes, invalidations
   * and close() reach it as they reach any other. Undefined, and `load` is not run, when a load of the key
   * is already in progress: that one will store the key.
   */
  startBackground(key: CacheKey, load: (flight: Flight) => Promise<LoadOutcome>): Flight | undefined {
    if (this.#byKey.has(key) || this.#background.has(key)) return undefined;
    return this.#run(this.#background, key, load);
  }

  #run(map: Map<CacheKey, Flight>, key: CacheKey, load: (flight: Flight) => Promise<LoadOutcome>): Flight {
    const flight: Flight = {
      promise: undefined as unknown as Promise<LoadOutcome>,
      controller: new AbortController(),
      detached: false,
      starting: true,
    };
    map.set(key, flight);
    this.#live.add(flight);
    this.#starting++;
    let loading: Promise<LoadOutcome>;
    try {
      loading = load(flight);
    } finally {
      this.#starting--;
      flight.starting = false;
    }
    flight.promise = loading.finally(() => {
      this.#live.delete(flight);
      if (map.get(key) === flight) map.delete(key);
    });
    flight.promise.catch(ignore);
    return flight;
  }

  /**
   * Detaches the load of one key (read-your-writes): it leaves the map, so a call started after the
   * write loads afresh, and its result is not stored. Its waiting callers still get it.
   */
  detach(key: CacheKey): void {
    detachIn(this.#byKey, key);
    if (this.#background.size !== 0) detachIn(this.#background, key);
  }

  /** Detaches every load whose key matches (every load when `matches` is undefined); see detach. */
  detachWhere(matches?: (key: CacheKey) => boolean): void {
    detachWhereIn(this.#byKey, matches);
    detachWhereIn(this.#background, matches);
  }

  /**
   * Aborts every load in progress with `reason`, those a write detached earlier included (a detached load
   * may still be retrying for callers that gave up on it); their results will not be stored.
   */
  abortAll(reason: unknown): void {
    for (const flight of this.#live) {
      flight.detached = true;
      flight.controller.abort(reason);
    }
    this.#live.clear();
    this.#byKey.clear();
    this.#background.clear();
  }
}

function detachIn(map: Map<CacheKey, Flight>, key: CacheKey): void {
  const flight = map.get(key);
  if (flight === undefined) return;
  flight.detached = true;
  map.delete(key);
}

function detachWhereIn(map: Map<CacheKey, Flight>, matches: ((key: CacheKey) => boolean) | undefined): void {
  if (map.size === 0) return;
  for (const [key, flight] of map) {
    if (matches !== undefined && !matches(key)) continue;
    flight.detached = true;
    map.delete(key);
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

/**
 * The error of a `method` call for `key` in cache `cache` made by the loader of that same key while its
 * load starts (Flights.starting): joining that load, the call would wait for itself.
 */
export function ownLoadError(method: string, key: CacheKey, cache: string): TypeError {
  return new TypeError(
    `${method}(${JSON.stringify(key)}) of cache "${cache}" was called by the loader of that same key ` +
      'while it loads: it would wait for its own result (call the upstream directly instead)',
  );
}
