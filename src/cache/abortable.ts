// A caller's `signal` on getOrSet/getOrSetMany: it abandons that caller's wait, never the work itself
// (a load other callers share goes on and is stored). The abort listener lives only as long as the wait.

function ignore(): void {}

/** Why an aborted signal gave up: its reason, or an AbortError when it has none. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/**
 * `work`, or a rejection with the signal's reason as soon as `signal` aborts (at once when it already
 * has). The abort listener is removed when either settles; `work` is never cancelled, and its later
 * rejection is not left unhandled.
 */
export function abandonable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(ignore);
    return Promise.reject(abortReason(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      work.catch(ignore);
      reject(abortReason(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
