// Larder globs (`*` any run, `?` one character, everything else literal) as SQL patterns: LIKE for
// PostgreSQL (with `\` as the escape character) and GLOB for SQLite (whose LIKE ignores ASCII case).
import { checkGlob } from '../util/glob.js';
import { assertFunction, assertPositiveInteger } from '../util/validate.js';

/** Escapes a literal for a LIKE pattern whose ESCAPE character is `\`: it then matches only itself. */
export function escapeLike(literal: string): string {
  return literal.replace(/[\\%_]/g, '\\$&');
}

/**
 * A LIKE pattern (ESCAPE `\`) for keys that are `prefix` followed by something matching `pattern`;
 * `question` is what a `?` becomes (`%` gives a superset, for a driver that then tests each key).
 */
export function globToLike(prefix: string, pattern: string, question: '_' | '%' = '_'): string {
  checkGlob(pattern);
  let out = escapeLike(prefix);
  for (const ch of pattern) out += ch === '*' ? '%' : ch === '?' ? question : escapeLike(ch);
  return out;
}

/** Escapes a literal for SQLite GLOB: `*`, `?` and `[` become one-character classes. */
export function escapeSqliteGlob(literal: string): string {
  return literal.replace(/[*?[]/g, '[$&]');
}

/** A SQLite GLOB pattern for keys that are `prefix` followed by something matching `pattern`. */
export function globToSqliteGlob(prefix: string, pattern: string): string {
  checkGlob(pattern);
  let out = escapeSqliteGlob(prefix);
  for (const ch of pattern) out += ch === '*' || ch === '?' ? ch : escapeSqliteGlob(ch);
  return out;
}

/** Checks a SQL table name (optionally `schema.table`): plain identifiers only, so it can be quoted safely. */
export function checkTableName(table: unknown, allowSchema: boolean): string {
  const part = '[A-Za-z_][A-Za-z0-9_]{0,62}';
  const re = new RegExp(allowSchema ? `^(${part}\\.)?${part}$` : `^${part}$`);
  if (typeof table !== 'string' || !re.test(table)) {
    throw new TypeError(
      `table must be a plain identifier${allowSchema ? ' (optionally schema.table)' : ''}, got ${JSON.stringify(table)}`,
    );
  }
  return table;
}

/** A checked table name quoted as an SQL identifier (`"schema"."table"`). */
export function quoteTable(table: string): string {
  return table
    .split('.')
    .map((part) => `"${part}"`)
    .join('.');
}

/** Checks the `prefix` option every driver takes. */
export function checkPrefix(prefix: unknown): string {
  if (prefix !== undefined && typeof prefix !== 'string') throw new TypeError('prefix must be a string');
  return prefix ?? '';
}

/** The `clock` option, checked (a value that is no function used to fail only at the first call); `Date.now` when absent. */
export function checkClock(clock: (() => number) | undefined): () => number {
  return clock === undefined ? Date.now : assertFunction(clock, 'clock');
}

/** Checks an optional positive integer option, naming it; `fallback` when it is absent. */
export function positiveInteger(value: unknown, fallback: number, name: string): number {
  return value === undefined ? fallback : assertPositiveInteger(value, name);
}

/**
 * Checks a driver's options object and that it names exactly one of `a` and `b` (a client to use, or
 * what to create one from): `what` names the driver in the errors.
 */
export function checkOneOf<O extends object>(options: O, what: string, a: keyof O, b: keyof O): void {
  if (options === null || typeof options !== 'object') throw new TypeError(`${what} options are required`);
  const given = [options[a], options[b]].filter((v) => v !== undefined).length;
  if (given !== 1) throw new TypeError(`${what} needs exactly one of ${String(a)} or ${String(b)}`);
}

/** Absolute expiry (ms) of a TTL given now, or null for none (TTL 0 or undefined). */
export function expiryOf(now: number, ttlMs: number | undefined): number | null {
  return ttlMs !== undefined && ttlMs > 0 ? Math.floor(now) + Math.ceil(ttlMs) : null;
}
