// ETags for stored responses and If-None-Match matching. The tag is strong (RFC 9110 §8.8.3): a
// SHA-1 of the exact body bytes, so two bodies share a tag only when they are byte-for-byte equal.
import { createHash } from 'node:crypto';

/** A strong ETag of `body`: `"<27 base64url chars of its SHA-1>"`. */
export function computeEtag(body: Uint8Array): string {
  return `"${createHash('sha1').update(body).digest('base64url')}"`;
}

/**
 * Whether an If-None-Match header matches `etag`. If-None-Match uses the weak comparison
 * (RFC 9110 §13.1.2): `W/"x"` and `"x"` match each other; `*` matches any current representation.
 */
export function ifNoneMatchMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const wanted = opaqueTag(etag);
  for (const raw of header.split(',')) {
    const candidate = raw.trim();
    if (candidate === '*' || opaqueTag(candidate) === wanted) return true;
  }
  return false;
}

/** An entity tag without its weakness mark: what the weak comparison compares (RFC 9110 §8.8.3.2). */
export function opaqueTag(tag: string): string {
  return tag.startsWith('W/') ? tag.slice(2) : tag;
}
