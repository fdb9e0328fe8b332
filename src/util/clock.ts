// The default time source of the engine and the facade: Date.now(), read at most about once per
// millisecond. A cache hit with TTLs must check the time, and Date.now() costs a third of a whole
// getOrSet hit on Node 20; lru-cache makes the same trade with its `ttlResolution`.

/** Reads served from the cached value before Date.now() is read again, whatever the timer does. */
const MAX_CACHED_READS = 1024;

let cachedNow = 0;
let reads = 0;
let timerPending = false;

function forget(): void {
  cachedNow = 0;
  timerPending = false;
}

/**
 * Milliseconds since the epoch, like `Date.now()`: cached until an unref'ed 1 ms timer clears it, and
 * read afresh after 1,024 cached reads anyway, so a long synchronous stretch (where the timer cannot
 * fire) still sees time move. Never ahead of the real clock; at most about 1 ms behind it between
 * event-loop turns. Pass `clock: Date.now` for exact reads.
 */
export function coarseNow(): number {
  if (cachedNow !== 0 && ++reads < MAX_CACHED_READS) return cachedNow;
  reads = 0;
  cachedNow = Date.now();
  if (!timerPending) {
    timerPending = true;
    setTimeout(forget, 1).unref();
  }
  return cachedNow;
}
