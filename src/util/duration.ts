// Durations: milliseconds as numbers, or strings as people write them: '250ms', '3s', '90s', '5m',
// '2 minutes', '1h30m', '2 hours', '1.5d', '1 week', '1y'. Every option that takes a time goes through
// parseDuration, so one function decides what is valid.

/**
 * A duration: milliseconds, or a string of one or more `<number><unit>` parts such as `'250ms'`, `'3s'`,
 * `'2 hours'`, `'1h30m'`, `'1.5d'`, `'1 week'` or `'1y'` (a digit string alone is milliseconds).
 */
export type Duration = number | string;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Every unit name accepted (case-insensitive), and its length in ms. A year is 365.25 days. */
const UNIT_MS = new Map<string, number>();
for (const [ms, names] of [
  [1, ['ms', 'msec', 'msecs', 'millisecond', 'milliseconds']],
  [SECOND, ['s', 'sec', 'secs', 'second', 'seconds']],
  [MINUTE, ['m', 'min', 'mins', 'minute', 'minutes']],
  [HOUR, ['h', 'hr', 'hrs', 'hour', 'hours']],
  [DAY, ['d', 'day', 'days']],
  [7 * DAY, ['w', 'wk', 'wks', 'week', 'weeks']],
  [365.25 * DAY, ['y', 'yr', 'yrs', 'year', 'years']],
] as const) {
  for (const name of names) UNIT_MS.set(name, ms);
}

/**
 * One part of a duration string: a decimal number, then optional spaces and a unit (letters), then
 * spaces or a comma before the next part. Sticky, and free of nested quantifiers: it runs in time linear
 * in the input, which is bounded by MAX_DURATION_CHARS anyway.
 */
const PART_RE = /(\d+(?:\.\d+)?|\.\d+)[ \t]*([a-z]*)[ \t]*,?[ \t]*/iy;

/** Longest duration string read; a longer one is refused before any parsing. */
export const MAX_DURATION_CHARS = 64;

/**
 * The longest duration accepted: 2^50 ms, about 35,000 years. Anything longer means "never" and is
 * said with 0 or by leaving the option out; the bound keeps `now + ttl + grace` an exact integer
 * (below 2^53) that snapshots and the shared tier store and read back faithfully.
 */
export const MAX_DURATION = 2 ** 50;

/**
 * Converts a duration to milliseconds. Numbers are milliseconds. A string is one or more
 * `<number><unit>` parts, with optional spaces or commas between them (`'1h30m'`, `'1 hour, 30 minutes'`),
 * each part's unit one of ms, s, m, h, d, w, y (also spelled sec, min, hr, day, week, year, and their
 * plurals and long forms); a string holding a single number without a unit is milliseconds (`'500'`).
 * A negative, NaN, infinite, over-long (> MAX_DURATION), longer than MAX_DURATION_CHARS characters or
 * unreadable value throws a `TypeError`/`RangeError` naming `what` (the option being read).
 */
export function parseDuration(value: Duration, what = 'duration'): number {
  if (typeof value === 'number') {
    if (Number.isNaN(value)) throw new RangeError(`${what} must be a number of milliseconds, got NaN`);
    if (value < 0) throw new RangeError(`${what} must not be negative, got ${value}`);
    return checkBound(value, what, String(value));
  }
  if (typeof value !== 'string') {
    throw new TypeError(
      `${what} must be a number of milliseconds or a string like '5m' or '2 hours', got ${typeof value}`,
    );
  }
  if (value.length > MAX_DURATION_CHARS) {
    throw new RangeError(
      `${what} is too long to be a duration (at most ${MAX_DURATION_CHARS} characters): ${quote(value)}`,
    );
  }
  const ms = readParts(value.trim());
  if (ms === undefined) {
    if (/^\s*-/.test(value)) throw new RangeError(`${what} must not be negative, got ${quote(value)}`);
    throw new RangeError(`${what} is not a readable duration: ${quote(value)}`);
  }
  return checkBound(ms, what, quote(value));
}

// The sum of the parts of a trimmed duration string, or undefined when it is not one.
function readParts(text: string): number | undefined {
  if (text === '') return undefined;
  let total = 0;
  let parts = 0;
  let unitless = false;
  PART_RE.lastIndex = 0;
  while (PART_RE.lastIndex < text.length) {
    const match = PART_RE.exec(text);
    if (match === null) return undefined;
    const unit = match[2]!.toLowerCase();
    let ms: number | undefined;
    if (unit === '') {
      unitless = true;
      ms = 1;
    } else ms = UNIT_MS.get(unit);
    if (ms === undefined) return undefined;
    total += Number(match[1]) * ms;
    parts++;
  }
  // A bare number is milliseconds only on its own: '1h30' is a typo, not 1 h 30 ms.
  if (unitless && parts > 1) return undefined;
  // A trailing comma ('5m,') is not a duration either.
  if (text.endsWith(',')) return undefined;
  return total;
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
