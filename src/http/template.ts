// Templates for tags, patterns and keys that rules fill from a request: `org:{org}`,
// `plans_list_{org}_{provider}_*`. Compiled once per rule, so a request only concatenates strings; key
// and pattern templates percent-encode their values, so a value can never forge a separator or a wildcard.

/** A compiled template: its placeholder names and a renderer. */
export interface Template {
  /** The template as written. */
  readonly source: string;
  /** Placeholder names, in order of appearance. */
  readonly names: readonly string[];
  /** Fills the placeholders; a value missing from `values` renders as an empty string. */
  render(values: Readonly<Record<string, string | undefined>>): string;
}

/**
 * How values are written into a template: `'raw'` as they are (tags, which are matched exactly), or
 * `'key'` through {@link encodeKeyValue} (cache keys, and the keys and patterns that invalidate them).
 */
export type TemplateEncoding = 'raw' | 'key';

const PLACEHOLDER_RE = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

// Letters, digits, '-' and '.' are the only characters a key value keeps: every separator a key
// template might use (`_`, `:`, `/`, space) and every glob wildcard (`*`, `?`) is encoded.
const KEY_SAFE_RE = /^[A-Za-z0-9.-]*$/;
// What encodeURIComponent leaves as it is but a key value must not hold.
const URI_UNRESERVED_EXTRA_RE = /[!'()*_~]/g;
/** A lone (unpaired) surrogate: encodeURIComponent throws on one. */
export const LONE_SURROGATE_RE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Percent-encodes a value for a cache key: everything but ASCII letters, digits, `-` and `.` becomes
 * `%XX` (UTF-8), `%` included. So `plans_list_{org}_{provider}` cannot render one key for two
 * different splits of the values, and a value rendered into an invalidation pattern never holds `*` or `?`.
 */
export function encodeKeyValue(value: string): string {
  if (KEY_SAFE_RE.test(value)) return value;
  // encodeURIComponent throws on a lone surrogate; HTTP input decodes to well-formed strings, so
  // this only keeps a hand-built value from failing the request.
  const wellFormed = value.replace(LONE_SURROGATE_RE, '\uFFFD');
  return encodeURIComponent(wellFormed).replace(
    URI_UNRESERVED_EXTRA_RE,
    (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

const asIs = (value: string): string => value;

/**
 * Compiles a template. When `allowed` is given, a placeholder outside it throws a TypeError
 * naming `what` — a typo in a rule should fail at start-up, not invalidate nothing at run time.
 * `encoding` says how values are written (default `'raw'`).
 */
export function compileTemplate(
  source: string,
  what: string,
  allowed?: readonly string[],
  encoding: TemplateEncoding = 'raw',
): Template {
  if (typeof source !== 'string' || source === '') {
    throw new TypeError(`${what} must be a non-empty string, got ${JSON.stringify(source)}`);
  }
  const literals: string[] = [];
  const names: string[] = [];
  let last = 0;
  for (const m of source.matchAll(PLACEHOLDER_RE)) {
    const name = m[1]!;
    if (allowed && !allowed.includes(name)) {
      const known = allowed.length ? allowed.map((n) => `{${n}}`).join(', ') : 'none';
      throw new TypeError(`${what} uses {${name}}, which its path does not capture (params: ${known})`);
    }
    literals.push(source.slice(last, m.index));
    names.push(name);
    last = m.index + m[0].length;
  }
  literals.push(source.slice(last));
  if (names.length === 0) return { source, names, render: () => source };
  const fill = encoding === 'key' ? encodeKeyValue : asIs;
  return {
    source,
    names,
    render(values) {
      let out = literals[0]!;
      for (let i = 0; i < names.length; i++) out += fill(values[names[i]!] ?? '') + literals[i + 1]!;
      return out;
    },
  };
}
