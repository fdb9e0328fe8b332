// The tag space of namespaces. A namespace's entry is indexed under its tags as given (the root's
// invalidateTags reaches every namespace) and under scoped copies that only that namespace's
// invalidateTags looks up. A scoped copy starts with a character no caller's tag may start with and
// spells the prefix's length, so it can neither be a tag a caller wrote nor another namespace's copy
// (`billing:` with tag `x:paid` and `billing:x:` with tag `paid` stay apart).
import { copyTags } from '../util/validate.js';

/**
 * First character of every scoped copy (U+E000, private use: printable in every store, so a tag's
 * invalidation time can live under it in a shared tier). A caller's tag may not start with it.
 */
export const SCOPED_TAG_MARK = '\uE000';

/** The copy of `tag` that only the namespace whose key prefix is `prefix` looks up. */
export function scopedTag(prefix: string, tag: string): string {
  return `${SCOPED_TAG_MARK}${prefix.length}:${prefix}${tag}`;
}

/** The namespace prefix of a scoped copy, or undefined for a tag that is not one (or is malformed). */
export function scopeOfTag(tag: string): string | undefined {
  if (!tag.startsWith(SCOPED_TAG_MARK)) return undefined;
  const colon = tag.indexOf(':', 1);
  const length = Number(tag.slice(1, colon));
  if (colon < 2 || !Number.isSafeInteger(length) || colon + 1 + length > tag.length) return undefined;
  return tag.slice(colon + 1, colon + 1 + length);
}

/**
 * Checks a caller's tags like copyTags (an array of strings, copied and frozen) and refuses one that
 * starts with {@link SCOPED_TAG_MARK}, which would reach into a namespace's scoped copies.
 */
export function copyCallerTags(tags: unknown, where: string): readonly string[] {
  const copy = copyTags(tags, where);
  for (const tag of copy) {
    if (tag.startsWith(SCOPED_TAG_MARK)) {
      throw new RangeError(`${where}: a tag may not start with U+E000 (reserved for namespaces' tags)`);
    }
  }
  return copy;
}
