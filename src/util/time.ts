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
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    if (!keepAlive) timer.unref();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The value {@link raceTimeout} resolves to when the timer wins. */
export const TIMED_OUT: unique symbol = Symbol('timed out');

/** Settles like `promise`, or resolves to TIMED_OUT after `ms`; the unref'ed timer is cleared either way. */
export function raceTimeout<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(TIMED_OUT), ms);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
