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
  /**
   * The params when `path` (without query string) matches, else `undefined`; `ignoreCase` compares
   * letters case-insensitively, as frameworks that route that way do (Express, Nest).
   */
  match(path: string, ignoreCase?: boolean): PathParams | undefined;
  /**
   * Whether this pattern matches every path `other` matches (so a rule with `other` listed after it
   * could never match). Exact for string patterns; a RegExp only covers the same RegExp.
   */
  covers(other: PathPattern): boolean;
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
  /** The literal text lower-cased, for matching that ignores case. */
  lower: string;
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
      segments.push({ kind: last ? SegmentKind.Rest : SegmentKind.One, text: '', lower: '' });
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
      segments.push({ kind: SegmentKind.Param, text: name, lower: name });
    } else {
      segments.push({ kind: SegmentKind.Literal, text: part, lower: part.toLowerCase() });
    }
  });
  const compiled: PathPattern = {
    source: pattern,
    params,
    match: (path, ignoreCase = false) => matchSegments(segments, path, ignoreCase),
    covers: (other) => {
      const theirs = SEGMENTS.get(other);
      return theirs !== undefined && segmentsCover(segments, theirs);
    },
  };
  SEGMENTS.set(compiled, segments);
  return compiled;
}

// What each compiled pattern was built from (segments, or the RegExp), for `covers`; kept off the public shape.
const SEGMENTS = new WeakMap<PathPattern, readonly Segment[]>();
const REGEXPS = new WeakMap<PathPattern, RegExp>();

/**
 * Whether pattern `a` matches every path pattern `b` matches. A literal matches only itself; `:param` and
 * a middle `*` match any one segment; a trailing `*` matches any rest. So `a` covers `b` when, segment
 * by segment, `a` is as wide: a literal only over the same literal, one-segment wildcards over any
 * single segment (not over a rest), and a rest over anything left.
 */
function segmentsCover(a: readonly Segment[], b: readonly Segment[]): boolean {
  for (let i = 0; i < a.length; i++) {
    const mine = a[i]!;
    if (mine.kind === SegmentKind.Rest) return true;
    const theirs = b[i];
    if (theirs === undefined || theirs.kind === SegmentKind.Rest) return false;
    if (
      mine.kind === SegmentKind.Literal &&
      (theirs.kind !== SegmentKind.Literal || theirs.text !== mine.text)
    )
      return false;
  }
  return a.length === b.length;
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
function matchSegments(
  segments: readonly Segment[],
  path: string,
  ignoreCase: boolean,
): PathParams | undefined {
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
      if (stop - pos !== segment.text.length) return undefined;
      if (
        !ignoreCase
          ? !path.startsWith(segment.text, pos)
          : path.slice(pos, stop).toLowerCase() !== segment.lower
      )
        return undefined;
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
  // The same expression ignoring case, built on first use.
  let folded: RegExp | undefined;
  const compiled: PathPattern = {
    source: re.source,
    params,
    // Whether one RegExp's language contains another's is not decidable cheaply: only a repeat is caught.
    covers: (other) => {
      const theirs = REGEXPS.get(other);
      return theirs !== undefined && theirs.source === plain.source && theirs.flags === plain.flags;
    },
    match(path, ignoreCase = false) {
      const re =
        !ignoreCase || plain.ignoreCase ? plain : (folded ??= new RegExp(plain.source, `${plain.flags}i`));
      const m = re.exec(path);
      if (!m) return undefined;
      const out: PathParams = {};
      for (const name of params) {
        const value = m.groups?.[name];
        if (value !== undefined) out[name] = decodeSegment(value);
      }
      return out;
    },
  };
  REGEXPS.set(compiled, plain);
  return compiled;
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
