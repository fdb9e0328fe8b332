// Glob patterns for MemoryCache.invalidatePattern: `*` matches any run of characters (also none),
// `?` exactly one, everything else itself. Compiled once to an anchored RegExp.

/** Compiles a glob (`*`, `?`) into an anchored regular expression that tests a whole key. */
export function globToRegExp(pattern: string): RegExp {
  if (typeof pattern !== 'string') throw new TypeError(`pattern must be a string, got ${typeof pattern}`);
  let source = '';
  for (const ch of pattern) {
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else source += ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}
