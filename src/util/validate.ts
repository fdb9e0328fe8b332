// Argument and option validation shared by every layer. Each check throws a TypeError (wrong type) or
// a RangeError (right type, bad value) whose message names the option or argument it was given.
import type { CacheKey } from './key.js';

/**
 * Why `key` is not a cache key, or undefined when it is one. NaN and ±Infinity are refused: they
 * cannot round-trip through a snapshot or the shared tier, and NaN would be one key under many spellings.
 */
export function keyProblem(key: unknown): string | undefined {
  if (typeof key === 'string') return undefined;
  if (typeof key === 'number') {
    return Number.isFinite(key) ? undefined : `key must be a string or a finite number, got ${String(key)}`;
  }
  return `key must be a string or a number, got ${key === null ? 'null' : typeof key}`;
}

/** Throws a TypeError unless `key` is a string or a finite number; `where` (a method) prefixes the message. */
export function assertKey(key: unknown, where?: string): asserts key is CacheKey {
  const problem = keyProblem(key);
  if (problem !== undefined) throw new TypeError(where === undefined ? problem : `${where}: ${problem}`);
}

/** Throws the TypeError for a NaN or ±Infinity key (for hot paths that test finiteness inline). */
export function refuseNonFiniteKey(key: number): never {
  throw new TypeError(keyProblem(key));
}

/**
 * Throws a TypeError naming the first own key of `options` that `known` lacks, as `where: unknown
 * option "name"`, so a misspelt option fails loudly instead of leaving a default in force.
 */
export function assertKnownOptions(options: object, known: ReadonlySet<string>, where: string): void {
  // for-in allocates no array (a set's options are checked on every call); an inherited key is
  // skipped, as Object.keys would skip it.
  for (const name in options) {
    if (!known.has(name) && Object.hasOwn(options, name))
      throw new TypeError(`${where}: unknown option ${JSON.stringify(name)}`);
  }
}

/**
 * The option names of an options type, from a record of them that the compiler holds to the type both
 * ways (an object literal with a key the type lacks, or without one of its keys, does not compile), for
 * {@link assertKnownOptions}.
 */
export function optionNames<T>(names: Record<keyof T, true>): ReadonlySet<string> {
  return new Set(Object.keys(names));
}

/** Checks that `tags` is an array of strings and returns it as is (no copy). */
export function assertTags(tags: unknown, where = 'tags'): readonly string[] {
  if (!Array.isArray(tags)) throw new TypeError(`${where} must be an array of strings, got ${typeof tags}`);
  for (const tag of tags) {
    if (typeof tag !== 'string')
      throw new TypeError(`${where} must be an array of strings, got a ${typeof tag}`);
  }
  return tags as readonly string[];
}

/** Checks `tags` like {@link assertTags} and returns a frozen copy, safe to keep past the caller's edits. */
export function copyTags(tags: unknown, where = 'tags'): readonly string[] {
  return Object.freeze([...assertTags(tags, where)]);
}

/** Checks a size in bytes that may be fractional or zero (an entry's `size`, a `sizeOf` result). */
export function assertByteCount(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`${where} must be a finite number of bytes >= 0, got ${String(value)}`);
  }
  return value;
}

/**
 * Checks a positive safe integer; `unit` completes the message (`'number of bytes'`). A non-number is a
 * TypeError, a number out of range a RangeError.
 */
export function assertPositiveInteger(value: unknown, where: string, unit?: string): number {
  const expected = unit === undefined ? 'a positive integer' : `a positive integer ${unit}`;
  if (typeof value !== 'number') throw new TypeError(`${where} must be ${expected}, got ${typeof value}`);
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`${where} must be ${expected}, got ${value}`);
  }
  return value;
}

/** Checks a fraction in [0, 1], or in [0, 1) when `allowOne` is false. */
export function assertFraction(value: unknown, where: string, allowOne = true): number {
  if (typeof value !== 'number' || !(value >= 0) || value > 1 || (!allowOne && value === 1)) {
    throw new RangeError(
      `${where} must be a fraction in [0, ${allowOne ? '1]' : '1)'}, got ${String(value)}`,
    );
  }
  return value;
}

/** Checks a function (a callback option). */
export function assertFunction<F>(value: F, where: string): F {
  if (typeof value !== 'function') throw new TypeError(`${where} must be a function, got ${typeof value}`);
  return value;
}

/** Checks a boolean. */
export function assertBoolean(value: unknown, where: string): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`${where} must be a boolean, got ${typeof value}`);
  return value;
}

/** String.prototype.isWellFormed (Node 20+, native and linear), typed here: the project's lib predates ES2024. */
export function isWellFormed(text: string): boolean {
  return (text as unknown as { isWellFormed(): boolean }).isWellFormed();
}
