// The normal form of a request path (RFC 3986 §6.2.2): percent-escapes of unreserved characters
// decoded (`%65` → `e`), the hex of the remaining escapes upper-cased (`%2f` → `%2F`), and dot segments
// removed (§5.2.4: `/a/./b/../c` → `/a/c`). Rules and write rules match the normal form, so a client
// cannot step around a rule or an invalidation pattern by spelling a path differently.

/** RFC 3986 §2.3 unreserved characters: ALPHA / DIGIT / "-" / "." / "_" / "~". */
function isUnreserved(code: number): boolean {
  return (
    (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x61 && code <= 0x7a) ||
    (code >= 0x30 && code <= 0x39) ||
    code === 0x2d ||
    code === 0x2e ||
    code === 0x5f ||
    code === 0x7e
  );
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

/** Decodes escapes of unreserved characters and upper-cases the others; a malformed `%` is kept. */
function normaliseEscapes(path: string): string {
  let out = '';
  let from = 0;
  for (let i = path.indexOf('%'); i !== -1 && i + 2 < path.length; i = path.indexOf('%', i + 1)) {
    const hi = hexValue(path.charCodeAt(i + 1));
    const lo = hexValue(path.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) continue;
    const code = hi * 16 + lo;
    out += path.slice(from, i);
    out += isUnreserved(code) ? String.fromCharCode(code) : path.slice(i, i + 3).toUpperCase();
    from = i + 3;
    i += 2;
  }
  return from === 0 ? path : out + path.slice(from);
}

/** RFC 3986 §5.2.4 remove_dot_segments on an absolute path (`/a/b/../c/.` → `/a/c/`). */
function removeDotSegments(path: string): string {
  const segments = path.slice(1).split('/');
  const out: string[] = [];
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1;
    if (segment === '.' || segment === '..') {
      if (segment === '..') out.pop();
      // A final dot segment leaves the directory it names: `/a/..` → `/`, `/a/.` → `/a/`.
      if (last) out.push('');
    } else out.push(segment);
  });
  return `/${out.join('/')}`;
}

/**
 * The path of a request target's path part (its query already split off): the absolute-form
 * (`http://host/a/b`, RFC 9112 §3.2.2, which a server must accept and frameworks route by its path)
 * reduced to `/a/b` (`/` when it names no path); any other form is returned as it is.
 */
export function targetPath(target: string): string {
  if (target.startsWith('/')) return target;
  const scheme = ABSOLUTE_FORM.exec(target);
  if (scheme === null) return target;
  const slash = target.indexOf('/', scheme[0].length);
  return slash === -1 ? '/' : target.slice(slash);
}

/**
 * The path before its first `;` or `#` (the whole path when it has neither): what a router may act on.
 * A `#` ends the path for Express's and Koa's parseurl, Fastify's find-my-way and Hono's URL alike
 * (node:http accepts one in a request line), and a `;` for Fastify 4 by default (find-my-way's
 * `useSemicolonDelimiter`), the rest being a query to them; Express and Koa route a `;` as written.
 */
export function routedPath(path: string): string {
  const end = path.search(/[;#]/);
  return end === -1 ? path : path.slice(0, end);
}

// `scheme://` (RFC 3986 §3.1); the authority runs to the next `/`.
const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/** The normal form of an absolute request path (without query); the same string when already normal. */
export function normalisePath(path: string): string {
  if (!path.startsWith('/')) return path;
  const decoded = path.includes('%') ? normaliseEscapes(path) : path;
  // Dot segments can only appear where a '/.' does (after decoding `%2E`).
  return decoded.includes('/.') ? removeDotSegments(decoded) : decoded;
}
