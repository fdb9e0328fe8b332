// Glob patterns for invalidatePattern: `*` matches any run of characters (also none), `?` exactly
// one UTF-16 code unit, everything else itself (there is no escape and no `[...]` class).
//
// Patterns reach us from the admin API, the dashboard and bus messages, so matching must not be a
// denial of service. A RegExp compiled from `*a*a*a*a*b` backtracks exponentially on a long key;
// this matcher never backtracks. The pattern is split at its stars into literal segments (which may
// hold `?`): the first is anchored at the start of the key, the last at its end, and each middle one
// is placed at its leftmost fit after the previous one. Leftmost placement is always right for
// globs — a later fit only leaves less room for what follows — so one forward pass decides the
// match, in O(key length × pattern length) at worst and usually one `indexOf` per segment.
// Pattern length and star count are bounded (MAX_GLOB_LENGTH, MAX_GLOB_STARS) so that bound, and
// Redis's own MATCH on the same pattern, stay small.

/** Longest glob pattern accepted, in UTF-16 code units. */
export const MAX_GLOB_LENGTH = 1024;

/** Most `*` wildcards one glob pattern may hold. */
export const MAX_GLOB_STARS = 32;

/** A compiled glob: `test(key)` says whether the whole key matches. */
export interface GlobMatcher {
  /** The pattern as written. */
  readonly pattern: string;
  /** True when `key` matches the whole pattern. */
  test(key: string): boolean;
}

const QUESTION = 63; // '?'

/** A run of the pattern between stars; `wild` when it holds a `?`. */
interface Segment {
  readonly text: string;
  readonly wild: boolean;
}

/** How many `*` wildcards `pattern` holds (what MAX_GLOB_STARS bounds). */
export function countStars(pattern: string): number {
  let stars = 0;
  for (let i = pattern.indexOf('*'); i !== -1; i = pattern.indexOf('*', i + 1)) stars++;
  return stars;
}

/** Throws unless `pattern` is a string within the glob limits; `what` names it in the error. */
export function checkGlob(pattern: unknown, what = 'pattern'): asserts pattern is string {
  if (typeof pattern !== 'string') throw new TypeError(`${what} must be a string, got ${typeof pattern}`);
  if (pattern.length > MAX_GLOB_LENGTH) {
    throw new RangeError(
      `${what} is ${pattern.length} characters long; a glob pattern may have at most ${MAX_GLOB_LENGTH}`,
    );
  }
  const stars = countStars(pattern);
  if (stars > MAX_GLOB_STARS) {
    throw new RangeError(
      `${what} has ${stars} '*' wildcards; a glob pattern may have at most ${MAX_GLOB_STARS}`,
    );
  }
}

/** Compiles a glob (`*`, `?`) into a matcher that tests a whole key in linear-bounded time. */
export function compileGlob(pattern: string): GlobMatcher {
  checkGlob(pattern);
  const parts = pattern.split('*').map((text): Segment => ({ text, wild: text.includes('?') }));
  const head = parts[0]!;
  if (parts.length === 1) return exactMatcher(pattern, head);
  const tail = parts[parts.length - 1]!;
  const middle = parts.slice(1, -1).filter((segment) => segment.text !== '');
  const minLength = parts.reduce((sum, segment) => sum + segment.text.length, 0);
  return {
    pattern,
    test(key: string): boolean {
      if (key.length < minLength) return false;
      const end = key.length - tail.text.length;
      if (!matchesAt(key, head, 0) || !matchesAt(key, tail, end)) return false;
      let from = head.text.length;
      for (const segment of middle) {
        const at = findFrom(key, segment, from, end);
        if (at === -1) return false;
        from = at + segment.text.length;
      }
      return true;
    },
  };
}

/**
 * The name this module had when globs compiled to a RegExp; returns the same linear matcher as
 * compileGlob (an object with `test`), never a RegExp.
 */
export const globToRegExp = compileGlob;

/** A pattern without stars: the key has exactly its length and matches it everywhere. */
function exactMatcher(pattern: string, only: Segment): GlobMatcher {
  if (!only.wild) return { pattern, test: (key) => key === pattern };
  return { pattern, test: (key) => key.length === pattern.length && matchesAt(key, only, 0) };
}

/** True when `segment` matches `key` starting at index `at` (which the caller keeps in range). */
function matchesAt(key: string, segment: Segment, at: number): boolean {
  const text = segment.text;
  if (!segment.wild) return key.startsWith(text, at);
  for (let i = 0; i < text.length; i++) {
    const want = text.charCodeAt(i);
    if (want !== QUESTION && want !== key.charCodeAt(at + i)) return false;
  }
  return true;
}

/** The leftmost index in [from, end − segment length] where `segment` matches, or -1. */
function findFrom(key: string, segment: Segment, from: number, end: number): number {
  const last = end - segment.text.length;
  if (!segment.wild) {
    const at = key.indexOf(segment.text, from);
    return at !== -1 && at <= last ? at : -1;
  }
  for (let at = from; at <= last; at++) if (matchesAt(key, segment, at)) return at;
  return -1;
}
