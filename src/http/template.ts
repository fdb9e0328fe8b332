// Templates for tags, patterns and keys that rules fill from a request: `org:{org}`,
// `plans_list_{org}_{provider}_*`. Compiled once per rule, so a request only concatenates strings.

/** A compiled template: its placeholder names and a renderer. */
export interface Template {
  /** The template as written. */
  readonly source: string;
  /** Placeholder names, in order of appearance. */
  readonly names: readonly string[];
  /** Fills the placeholders; a value missing from `values` renders as an empty string. */
  render(values: Readonly<Record<string, string | undefined>>): string;
}

const PLACEHOLDER_RE = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Compiles a template. When `allowed` is given, a placeholder outside it throws a TypeError
 * naming `what` — a typo in a rule should fail at start-up, not invalidate nothing at run time.
 */
export function compileTemplate(source: string, what: string, allowed?: readonly string[]): Template {
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
  return {
    source,
    names,
    render(values) {
      let out = literals[0]!;
      for (let i = 0; i < names.length; i++) out += (values[names[i]!] ?? '') + literals[i + 1]!;
      return out;
    },
  };
}
