// Time helpers shared by every layer: an abortable sleep, elapsed milliseconds with the one rounding
// rule logs and stats use (two decimals), and a race of a promise against a timer.

/** Rounds a duration in ms to two decimals, the rule every `durationMs` field follows. */
export function roundMs(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** Milliseconds elapsed since a `performance.now()` reading, two decimals. */
export function since(startedPerfNow: number): number {
  return roundMs(performance.now() - startedPerfNow);
}

/**
 * Waits `ms`; rejects with the signal's reason as soon as it aborts, leaving no timer. The timer is
 * unref'ed unless `keepAlive` is set: a wait someone is counting on (a retry's backoff, with a caller
 * waiting for its answer) keeps the process alive, as any pending I/O would.
 */
export function sleep(ms: number, signal?: AbortSignal, keepAlive = false): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      cancel();
      reject(signal?.reason);
    };
    const cancel = after(
      ms,
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      keepAlive,
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The value {@link raceTimeout} resolves to when the timer wins. */
export const TIMED_OUT: unique symbol = Symbol('timed out');

/** Settles like `promise`, or resolves to TIMED_OUT after `ms`; the unref'ed timer is cleared either way. */
export function raceTimeout<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  return new Promise((resolve, reject) => {
    const cancel = after(ms, () => resolve(TIMED_OUT), false);
    promise.then(
      (value) => {
        cancel();
        resolve(value);
      },
      (error: unknown) => {
        cancel();
        reject(error);
      },
    );
  });
}

/**
 * The longest delay setTimeout honours (2^31 - 1 ms, about 24.8 days): Node fires a longer one after
 * 1 ms. Durations go up to MAX_DURATION (2^50 ms), so a longer wait is chained in steps of at most this.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

// Calls `fire` after `ms` (chaining timers past MAX_TIMER_MS); returns a function that cancels it. Every
// timer is unref'ed unless `keepAlive` is set.
function after(ms: number, fire: () => void, keepAlive: boolean): () => void {
  let left = ms;
  let timer: ReturnType<typeof setTimeout>;
  const arm = (): void => {
    const step = Math.min(left, MAX_TIMER_MS);
    left -= step;
    timer = setTimeout(left > 0 ? arm : fire, step);
    if (!keepAlive) timer.unref();
  };
  arm();
  return () => clearTimeout(timer);
}
