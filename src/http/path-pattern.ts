// Path patterns of the HTTP rules: `/subscriptions/:org/providers/:provider/plans/*`. A `:name`
// segment captures one path segment, a `*` segment matches exactly one segment, and a trailing `*`
// matches the rest of the path (including nothing). A RegExp is accepted too; its named groups are
// the params. Matching is a segment walk, no regex, so it stays cheap on every request.

/** Route params captured by a match, decoded. */
export type PathParams = Record<string, string>;

/** A compiled path pattern. */
export interface PathPattern {
  /** The pattern as written (or the RegExp's source). */
  readonly source: string;
  /** The names of the `:params` it captures. */
  readonly params: readonly string[];
  /** The params when `path` (without query string) matches, else `undefined`. */
  match(path: string): PathParams | undefined;
}

const PARAM_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

const enum SegmentKind {
  Literal,
  Param,
  One,
  Rest,
}

interface Segment {
  kind: SegmentKind;
  /** Literal text, or the param name. */
  text: string;
}

/** Compiles a path pattern (string with `:params` and `*`, or a RegExp); `what` names it in errors. */
export function compilePathPattern(pattern: string | RegExp, what = 'path'): PathPattern {
  if (pattern instanceof RegExp) return compileRegExp(pattern);
  if (typeof pattern !== 'string') {
    throw new TypeError(`${what} must be a string like '/api/items/:id' or a RegExp, got ${typeof pattern}`);
  }
  if (!pattern.startsWith('/'))
    throw new TypeError(`${what} must start with '/', got ${JSON.stringify(pattern)}`);
  const parts = splitPath(pattern);
  const segments: Segment[] = [];
  const params: string[] = [];
  parts.forEach((part, index) => {
    if (part === '*') {
      const last = index === parts.length - 1;
      segments.push({ kind: last ? SegmentKind.Rest : SegmentKind.One, text: '' });
    } else if (part.startsWith(':')) {
      const name = part.slice(1);
      if (!PARAM_NAME_RE.test(name)) {
        throw new TypeError(
          `${what} has an invalid param name ${JSON.stringify(part)} in ${JSON.stringify(pattern)}`,
        );
      }
      if (params.includes(name)) {
        throw new TypeError(
          `${what} names the param ${JSON.stringify(name)} twice in ${JSON.stringify(pattern)}`,
        );
      }
      params.push(name);
      segments.push({ kind: SegmentKind.Param, text: name });
    } else {
      segments.push({ kind: SegmentKind.Literal, text: part });
    }
  });
  return { source: pattern, params, match: (path) => matchSegments(segments, path) };
}

/** Splits a path into its segments, ignoring a trailing slash (`/a/b/` ≡ `/a/b`). */
function splitPath(path: string): string[] {
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(1, -1) : path.slice(1);
  return trimmed === '' ? [] : trimmed.split('/');
}

/**
 * Walks `path` segment by segment with indexes (no split, no array): this runs on every request, and
 * only a captured param allocates. A trailing slash is ignored; an empty segment never matches.
 */
function matchSegments(segments: readonly Segment[], path: string): PathParams | undefined {
  if (path.charCodeAt(0) !== 47 /* '/' */) return undefined;
  const end = path.length > 1 && path.endsWith('/') ? path.length - 1 : path.length;
  let pos = 1;
  let params: PathParams | undefined;
  for (const segment of segments) {
    if (segment.kind === SegmentKind.Rest) return params ?? {};
    if (pos >= end) return undefined;
    let stop = path.indexOf('/', pos);
    if (stop === -1 || stop > end) stop = end;
    if (stop === pos) return undefined;
    if (segment.kind === SegmentKind.Literal) {
      if (stop - pos !== segment.text.length || !path.startsWith(segment.text, pos)) return undefined;
    } else if (segment.kind === SegmentKind.Param) {
      (params ??= {})[segment.text] = decodeSegment(path.slice(pos, stop));
    }
    pos = stop + 1;
  }
  return pos >= end ? (params ?? {}) : undefined;
}

function compileRegExp(re: RegExp): PathPattern {
  // Named groups are the params; a stateful (g/y) RegExp would make matching depend on the last call.
  const plain = re.global || re.sticky ? new RegExp(re.source, re.flags.replace(/[gy]/g, '')) : re;
  const params = [...re.source.matchAll(/\(\?<([A-Za-z_][A-Za-z0-9_]*)>/g)].map((m) => m[1]!);
  return {
    source: re.source,
    params,
    match(path) {
      const m = plain.exec(path);
      if (!m) return undefined;
      const out: PathParams = {};
      for (const name of params) {
        const value = m.groups?.[name];
        if (value !== undefined) out[name] = decodeSegment(value);
      }
      return out;
    },
  };
}

/** Decodes a percent-encoded segment; a malformed encoding is kept as written. */
function decodeSegment(part: string): string {
  if (!part.includes('%')) return part;
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
