// Test helpers of the facade: an error shaped like Node's network errors. Clocks, loggers and deferreds
// live in test/helpers/; `deferred` is re-exported here for the tests that still import it from this file.
export { deferred } from '../helpers/deferred.js';

/** An error carrying a network code, as Node reports them. */
export function codeError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 10.0.0.1:443`), { code });
}
