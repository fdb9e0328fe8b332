// The admin API key check. Both sides are hashed to equal-length SHA-256 digests and compared with
// crypto.timingSafeEqual, so neither the key's content nor its length leaks through response timing.
import { createHash, timingSafeEqual } from 'node:crypto';

/** Checks a presented key against the configured one in constant time. */
export type KeyCheck = (presented: string | string[] | undefined) => boolean;

/**
 * Builds the check for `apiKey`; a missing or empty key throws, so an admin API never mounts open, and
 * so does one no HTTP header can carry, so it never mounts locked.
 */
export function createKeyCheck(apiKey: unknown): KeyCheck {
  if (typeof apiKey !== 'string' || apiKey.length === 0) {
    throw new TypeError('apiKey is required: the admin API refuses to mount without a non-empty API key');
  }
  // HTTP trims a header value's surrounding whitespace, forbids control characters and carries bytes,
  // which Node reads as Latin-1: a key outside that could never be presented, and every request would get 401.
  if (/^ | $|[^\x20-\x7e\x80-\xff]/.test(apiKey)) {
    throw new TypeError(
      'apiKey must be sendable in an HTTP header: no leading or trailing whitespace, no control ' +
        'characters, no characters beyond Latin-1 (read from a file or variable, trim it)',
    );
  }
  const expected = digest(apiKey);
  return (presented) => {
    if (typeof presented !== 'string' || presented.length === 0) return false;
    return timingSafeEqual(digest(presented), expected);
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
