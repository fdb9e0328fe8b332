// Glob patterns for invalidatePattern: `*` matches any run of characters (also none), `?` exactly
// one UTF-16 code unit, everything else itself (there is no escape and no `[...]` class).
//
// Patterns reach us from the admin API, the dashboard and bus messages, so matching must not be a
// denial of service. A RegExp compiled from `*a*a*a*a*b` backtracks exponentially on a long key;
// this matcher never backtracks. The pattern is split at its stars into literal segments (which may
// hold `?`): the first is anchored at the start of the key, the last at its end, and each middle one
// is placed at its leftmost fit after the previous one. Leftmost placement is always right for
// globs — a later fit only leaves less room for what follows — so one forward pass decides the
// match. A middle segment without `?` is found by `indexOf`; one with `?` by a bit-parallel
// (shift-and) scan that reads each key character once, keeping one bit per segment position in
// ⌈length / 32⌉ words, and jumps with `indexOf` to the segment's first literal whenever no partial
// fit is open. Each key character is read by one segment's search only, so a key costs
// O(key length × ⌈segment length / 32⌉) at worst: at most 32 word operations per character.
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
  /** For a wild middle segment: its bit-parallel search. */
  readonly search?: WildSearch;
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
  const middle = parts
    .slice(1, -1)
    .filter((segment) => segment.text !== '')
    .map((segment) => (segment.wild ? { ...segment, search: new WildSearch(segment.text) } : segment));
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
  if (segment.search !== undefined) return segment.search.find(key, from, last);
  const at = key.indexOf(segment.text, from);
  return at !== -1 && at <= last ? at : -1;
}

/**
 * Shift-and search for a segment holding `?`. Its leading and trailing `?`s only shift where it may
 * sit, so the scan runs over the core between them, which starts with a literal character. Bit i of
 * the state says the core's first i + 1 characters end at the character just read.
 */
class WildSearch {
  /** `?`s before the core, and the core's length. */
  readonly #lead: number;
  readonly #length: number;
  /** The core's first character (a literal), where a fit must start. */
  readonly #first: string;
  /** Per literal code unit: the positions holding it or `?`; other code units match `?`s only. */
  readonly #masks = new Map<number, Int32Array>();
  readonly #other: Int32Array;
  readonly #state: Int32Array;

  constructor(text: string) {
    let lead = 0;
    while (text.charCodeAt(lead) === QUESTION) lead++;
    let stop = text.length;
    while (stop > lead && text.charCodeAt(stop - 1) === QUESTION) stop--;
    const core = text.slice(lead, stop);
    this.#lead = lead;
    this.#length = core.length;
    this.#first = core.charAt(0);
    const words = Math.ceil(core.length / 32);
    this.#other = new Int32Array(words);
    this.#state = new Int32Array(words);
    for (let i = 0; i < core.length; i++) {
      if (core.charCodeAt(i) === QUESTION) this.#other[i >>> 5]! |= 1 << (i & 31);
    }
    for (let i = 0; i < core.length; i++) {
      const code = core.charCodeAt(i);
      if (code === QUESTION) continue;
      let mask = this.#masks.get(code);
      if (mask === undefined) this.#masks.set(code, (mask = Int32Array.from(this.#other)));
      mask[i >>> 5]! |= 1 << (i & 31);
    }
  }

  /** The leftmost start in [from, last] where the whole segment fits in `key`, or -1. */
  find(key: string, from: number, last: number): number {
    const length = this.#length;
    if (from > last) return -1;
    if (length === 0) return from; // only `?`s: any position in range fits
    const state = this.#state;
    const words = state.length;
    const top = length - 1;
    const topWord = top >>> 5;
    const topBit = 1 << (top & 31);
    // The core starts at a position in [from + lead, last + lead], so it ends by `stop`.
    const stop = last + this.#lead + top;
    state.fill(0);
    // Words at and above `used` are zero: a partial fit grows by one bit per character read.
    let used = 0;
    for (let i = from + this.#lead; i <= stop; i++) {
      if (used === 0) {
        // No partial fit: the next one starts at the core's first literal.
        i = key.indexOf(this.#first, i);
        if (i === -1 || i > last + this.#lead) return -1;
      }
      const mask = this.#masks.get(key.charCodeAt(i)) ?? this.#other;
      let carry = 1; // a fit may start at i
      const through = used < words ? used + 1 : words;
      used = 0;
      for (let w = 0; w < through; w++) {
        const word = state[w]!;
        const next = ((word << 1) | carry) & mask[w]!;
        carry = word >>> 31;
        state[w] = next;
        if (next !== 0) used = w + 1;
      }
      if ((state[topWord]! & topBit) !== 0) return i - top - this.#lead;
    }
    return -1;
  }
}
