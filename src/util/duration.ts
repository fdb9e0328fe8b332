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
 * Converts a duration to milliseconds. A negative, NaN, infinite or unreadable value throws a
 * `TypeError`/`RangeError` naming `what` (the option being read).
 */
export function parseDuration(value: Duration, what = 'duration'): number {
  if (typeof value === 'number') {
    if (Number.isNaN(value)) throw new RangeError(`${what} must be a number of milliseconds, got NaN`);
    if (value < 0) throw new RangeError(`${what} must not be negative, got ${value}`);
    if (!Number.isFinite(value)) throw new RangeError(`${what} must be finite, got ${value}`);
    return value;
  }
  if (typeof value !== 'string') {
    throw new TypeError(
      `${what} must be a number of milliseconds or a string like '5m', got ${typeof value}`,
    );
  }
  const match = DURATION_RE.exec(value);
  if (!match) throw new RangeError(`${what} is not a readable duration: ${JSON.stringify(value)}`);
  const unit = (match[2] ?? 'ms').toLowerCase();
  return Number(match[1]) * UNIT_MS[unit]!;
}

/** Like {@link parseDuration}, but `undefined` passes through as `undefined`. */
export function parseOptionalDuration(value: Duration | undefined, what: string): number | undefined {
  return value === undefined ? undefined : parseDuration(value, what);
}
