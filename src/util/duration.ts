// Durations: milliseconds as numbers, or short strings such as '250ms', '3s', '5m', '1h', '1d'.
// Every option that takes a time goes through parseDuration, so one function decides what is valid.

/** A duration: milliseconds, or a string such as `'250ms'`, `'3s'`, `'5m'`, `'1h'`, `'1d'`. */
export type Duration = number | string;

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  sec: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const DURATION_RE = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|sec|m|min|h|hr|d|w)?\s*$/i;

/**
 * The longest duration accepted: 2^50 ms, about 35,000 years. Anything longer means "never" and is
 * said with 0 or by leaving the option out; the bound keeps `now + ttl + grace` an exact integer
 * (below 2^53) that snapshots and the shared tier store and read back faithfully.
 */
export const MAX_DURATION = 2 ** 50;

/**
 * Converts a duration to milliseconds. A negative, NaN, infinite (also spelled as a string too long to
 * be finite, like `'9999…9'`), over-long (> MAX_DURATION) or unreadable value throws a
 * `TypeError`/`RangeError` naming `what` (the option being read).
 */
export function parseDuration(value: Duration, what = 'duration'): number {
  if (typeof value === 'number') {
    if (Number.isNaN(value)) throw new RangeError(`${what} must be a number of milliseconds, got NaN`);
    if (value < 0) throw new RangeError(`${what} must not be negative, got ${value}`);
    return checkBound(value, what, String(value));
  }
  if (typeof value !== 'string') {
    throw new TypeError(
      `${what} must be a number of milliseconds or a string like '5m', got ${typeof value}`,
    );
  }
  const match = DURATION_RE.exec(value);
  if (!match) throw new RangeError(`${what} is not a readable duration: ${quote(value)}`);
  const unit = (match[2] ?? 'ms').toLowerCase();
  // Digits alone can overflow to Infinity ('9' × 400), or the unit can push a huge count over.
  return checkBound(Number(match[1]) * UNIT_MS[unit]!, what, quote(value));
}

// Refuses an infinite or over-long duration; `shown` is the value as the caller wrote it.
function checkBound(ms: number, what: string, shown: string): number {
  if (!Number.isFinite(ms)) throw new RangeError(`${what} must be finite, got ${shown}`);
  if (ms > MAX_DURATION) {
    throw new RangeError(
      `${what} must be at most ${MAX_DURATION} ms (about 35,000 years; use 0 or leave it out for "never" where the option allows it), got ${shown}`,
    );
  }
  return ms;
}

// A string value for an error message, cut short so a hostile input cannot flood the log.
function quote(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}
