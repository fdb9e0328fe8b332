// How a namespace's keys are stored. Keys are strings or numbers, and `1` and `'1'` are different keys
// at the root (L1 keeps their type), so a namespace's full key must keep the type too: a string key is
// `<prefix><key>`, a number key `<prefix>U+E000<digits>`, and a string key that itself starts with
// U+E000 gets one more in front, so no string key can spell a number key's full key.
import type { CacheKey } from '../engine/types.js';

/**
 * The method of a namespace view that has its parent hold it for good (cache.ts): memoize.ts calls it on
 * a cache it keys prefix claims by, since a new view of the name would have none and could hand a
 * function another one's prefix. Not part of the public API.
 */
export const KEEP_NAMESPACE: unique symbol = Symbol('larder.keepNamespace');

/** Calls {@link KEEP_NAMESPACE} on `cache` when it has one (a namespace view; the root ignores it). */
export function keepNamespace(cache: object): void {
  const keep = (cache as { [KEEP_NAMESPACE]?: unknown })[KEEP_NAMESPACE];
  if (typeof keep === 'function') (keep as () => void).call(cache);
}

/** The character that marks a number key (or escapes a string key starting with it) after a prefix. */
const MARK = '\uE000';

/**
 * The full key of a caller's key in the namespace whose key prefix is `prefix`; with `''`, the key as the
 * root's keys are stored in a shared tier (tier-stack.ts), where `1` and `'1'` must not meet either.
 */
export function namespacedKey(prefix: string, key: CacheKey): string {
  if (typeof key === 'number') return `${prefix}${MARK}${key}`;
  return key.startsWith(MARK) ? `${prefix}${MARK}${key}` : prefix + key;
}

/**
 * The caller's key behind `full`, a full key that starts with a namespace prefix of `prefixLength`
 * characters (the reverse of {@link namespacedKey}). A full key no caller's key maps to (written at the
 * root) is answered as the string after the prefix.
 */
export function keyInNamespace(full: string, prefixLength: number): CacheKey {
  const rest = full.slice(prefixLength);
  if (!rest.startsWith(MARK)) return rest;
  const inner = rest.slice(1);
  if (inner.startsWith(MARK)) return inner;
  const n = Number(inner);
  return inner !== '' && String(n) === inner ? n : rest;
}

// A pattern that can match a number key's digits: digits, sign, point, exponent and wildcards only.
const NUMBER_LIKE = /^[\d.eE+\-*?]+$/;

/**
 * The full-key globs that together match exactly the keys of the namespace at `prefix` that `pattern`
 * matches (as the root matches `String(key)`): `<prefix><pattern>` for string keys, and, when the
 * pattern could match a number key or a string key escaped with the mark, `<prefix>U+E000<pattern>`.
 * A pattern starting with `*` needs only the first: its star covers the mark.
 */
export function namespaceGlobs(prefix: string, pattern: string): string[] {
  const plain = prefix + pattern;
  if (pattern.startsWith('*')) return [plain];
  if (!NUMBER_LIKE.test(pattern) && !pattern.startsWith('?') && !pattern.startsWith(MARK)) return [plain];
  return [plain, `${prefix}${MARK}${pattern}`];
}
