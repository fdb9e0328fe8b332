// Time in tests: a manual clock that a test moves by hand (the way to test TTLs, grace and backoff),
// and `sleep`, real time, kept only for waiting on other processes (a redis-server starting), never
// for a cache's own timing.

/** A clock the test moves by hand: pass `now` as a `clock` option, then `advance(ms)`. */
export interface ManualClock {
  now: () => number;
  advance: (ms: number) => void;
}

/** A clock the test moves by hand, starting at `start` ms. */
export function manualClock(start = 1_000_000): ManualClock {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

/** Waits `ms` of real time. Only for other processes: a cache under test takes a manual clock instead. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
