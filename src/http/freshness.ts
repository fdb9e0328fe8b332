// What a response says about its own freshness (RFC 9111 §4.2, RFC 5861, RFC 9213), read once when it
// is stored: the freshness lifetime, the age it arrived with, whether it may be served stale (and for
// how long, with stale-while-revalidate / stale-if-error), and whether it must be revalidated first.
// Parsing is strict where the RFC asks a cache to be careful: a malformed max-age or Expires makes the
// response stale rather than letting a heuristic keep it, and an Age that cannot be read is ignored.
import type { OutgoingHttpHeader } from 'node:http';

/** delta-seconds beyond this are taken as this value (RFC 9111 §1.2.2). */
export const MAX_DELTA_SECONDS = 2_147_483_648;

/** The directives of a Cache-Control (or targeted) field: name → argument (`true` when it has none). */
export type Directives = ReadonlyMap<string, string | true>;

const EMPTY: Directives = new Map();

/** A header value as node:http holds it, joined into one comma-separated string. */
export function headerText(value: OutgoingHttpHeader | undefined): string | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(', ') : String(value);
}

/** The longest Cache-Control (or targeted) field read in full, in characters. */
export const MAX_FIELD_LENGTH = 8192;

/**
 * Parses a Cache-Control value: comma-separated directives, names lower-cased, arguments as tokens or
 * quoted strings (commas inside quotes do not split). The first occurrence of a directive wins. Input
 * is bounded: a value longer than {@link MAX_FIELD_LENGTH} is read as its first 8 KiB.
 */
export function parseCacheControl(value: OutgoingHttpHeader | undefined): Directives {
  const text = headerText(value);
  if (text === undefined || text === '') return EMPTY;
  const input = text.length > MAX_FIELD_LENGTH ? text.slice(0, MAX_FIELD_LENGTH) : text;
  const out = new Map<string, string | true>();
  let i = 0;
  const n = input.length;
  while (i < n) {
    // name
    let start = i;
    while (i < n && input[i] !== '=' && input[i] !== ',') i++;
    const name = input.slice(start, i).trim().toLowerCase();
    let arg: string | true = true;
    if (i < n && input[i] === '=') {
      i++;
      if (input[i] === '"') {
        i++;
        let quoted = '';
        while (i < n && input[i] !== '"') {
          if (input[i] === '\\' && i + 1 < n) i++;
          quoted += input[i];
          i++;
        }
        i++; // closing quote
        arg = quoted;
        while (i < n && input[i] !== ',') i++;
      } else {
        start = i;
        while (i < n && input[i] !== ',') i++;
        arg = input.slice(start, i).trim();
      }
    }
    i++; // the comma
    if (name !== '' && !out.has(name)) out.set(name, arg);
  }
  return out;
}

/** A delta-seconds argument in seconds, or `undefined` when it is malformed (digits only, RFC 9111 §1.2.2). */
export function parseDeltaSeconds(arg: string | true | undefined): number | undefined {
  if (typeof arg !== 'string' || !/^[0-9]+$/.test(arg)) return undefined;
  const value = Number(arg);
  return value > MAX_DELTA_SECONDS ? MAX_DELTA_SECONDS : value;
}

/** The Age field in seconds: the first value of a list, `undefined` when it is not delta-seconds. */
export function parseAge(value: OutgoingHttpHeader | undefined): number | undefined {
  const text = headerText(value);
  if (text === undefined) return undefined;
  const first = text.split(',', 1)[0]!.trim();
  return parseDeltaSeconds(first);
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const IMF = /^[A-Za-z]{3}, (\d{2}) ([A-Za-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const RFC850 = /^[A-Za-z]{6,9}, (\d{2})-([A-Za-z]{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const ASCTIME = /^[A-Za-z]{3} ([A-Za-z]{3}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;

/**
 * An HTTP-date (RFC 9110 §5.6.7) in ms since the epoch: IMF-fixdate, or the obsolete RFC 850 and asctime
 * forms; `undefined` for anything else (e.g. `0`, or a date with a time zone other than GMT).
 */
export function parseHttpDate(value: OutgoingHttpHeader | undefined): number | undefined {
  const text = headerText(value)?.trim();
  if (text === undefined || text.length > 64) return undefined;
  let m = IMF.exec(text);
  if (m !== null) return utc(m[3]!, m[2]!, m[1]!, m[4]!, m[5]!, m[6]!);
  m = RFC850.exec(text);
  if (m !== null) {
    // Two-digit years: within the next 50 years, else the past century (RFC 9110 §5.6.7).
    const yy = Number(m[3]);
    const now = new Date().getUTCFullYear();
    let year = Math.floor(now / 100) * 100 + yy;
    if (year > now + 50) year -= 100;
    return utc(String(year), m[2]!, m[1]!, m[4]!, m[5]!, m[6]!);
  }
  m = ASCTIME.exec(text);
  if (m !== null) return utc(m[6]!, m[1]!, m[2]!.trim(), m[3]!, m[4]!, m[5]!);
  return undefined;
}

function utc(year: string, month: string, day: string, h: string, mi: string, s: string): number | undefined {
  const mon = MONTHS.indexOf(month.toLowerCase());
  if (mon < 0) return undefined;
  const d = Number(day);
  const hh = Number(h);
  const mm = Number(mi);
  const ss = Number(s);
  if (d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60) return undefined;
  const ms = Date.UTC(Number(year), mon, d, hh, mm, Math.min(ss, 59));
  return Number.isFinite(ms) ? ms : undefined;
}

/** Formats ms since the epoch as an IMF-fixdate. */
export function formatHttpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/** How a rule reads freshness from responses (see the rule options of the same names). */
export interface FreshnessPolicy {
  /** Freshness in ms for a response that states none; `undefined` = store none such. */
  heuristic: number | undefined;
  /**
   * Give the heuristic only to a response with a Last-Modified, for a tenth of the time since then
   * (RFC 9111 §4.2.2), at most `heuristic`.
   */
  fromLastModified?: boolean;
  /** Ignore what the response says about freshness and use `heuristic` for every stored response. */
  ignoreOrigin: boolean;
  /** Targeted Cache-Control fields (RFC 9213) in order of precedence, lower-cased. */
  targeted: readonly string[];
}

/** Everything about a stored response's lifetime, computed once from its headers (ms). */
export interface Freshness {
  /** The freshness lifetime. */
  lifetime: number;
  /** Its age when it arrived (RFC 9111 §4.2.3 corrected_initial_age). */
  initialAge: number;
  /** Whether it carried explicit freshness (max-age, s-maxage or Expires), or a heuristic gave it. */
  explicit: boolean;
  /** Once stale, it must be revalidated before reuse (must-revalidate, proxy-revalidate, s-maxage, no-cache). */
  mustRevalidate: boolean;
  /** stale-while-revalidate window past the lifetime (0 = none). */
  staleWhileRevalidate: number;
  /** stale-if-error window past the lifetime (0 = none). */
  staleIfError: number;
  /** Whether the response says `public` (makes otherwise unlisted statuses storable). */
  public: boolean;
}

/** The directives that govern this cache: a valid targeted field's when one is present, else Cache-Control's. */
export function governingDirectives(
  headers: Readonly<Record<string, OutgoingHttpHeader | undefined>>,
  targeted: readonly string[],
): Directives {
  for (const name of targeted) {
    const value = headers[name];
    if (value === undefined) continue;
    // An invalid targeted field is ignored as a whole (RFC 9213 §2.1).
    const directives = parseTargetedField(value);
    if (directives !== undefined) return directives;
  }
  return parseCacheControl(headers['cache-control']);
}

/** Directives whose argument must be a non-negative Integer in a targeted field. */
const INTEGER_DIRECTIVES = new Set(['max-age', 's-maxage', 'stale-while-revalidate', 'stale-if-error']);

const SF_KEY = /^[a-z*][a-z0-9_\-.*]*/;
const SF_TOKEN = /^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*/;
const SF_NUMBER = /^-?\d{1,15}(\.\d{1,3})?/;
const SF_BYTES = /^:[A-Za-z0-9+/=]*:/;

/**
 * A targeted cache-control field (RFC 9213) read as the Structured Field Dictionary it is (RFC 8941):
 * `undefined` when it is not one, or when a freshness directive is not an Integer, so the caller
 * ignores the field. Members map to their Integer as a string, or `true`; parameters are dropped.
 */
export function parseTargetedField(value: OutgoingHttpHeader): Directives | undefined {
  const text = headerText(value);
  if (text === undefined || text.length > 8192) return undefined;
  const out = new Map<string, string | true>();
  let rest = text.replace(/^[ \t]+|[ \t]+$/g, '');
  if (rest === '') return undefined;
  while (true) {
    const key = SF_KEY.exec(rest)?.[0];
    if (key === undefined) return undefined;
    rest = rest.slice(key.length);
    let arg: string | true = true;
    let integer = false;
    if (rest.startsWith('=')) {
      rest = rest.slice(1);
      const item = readBareItemOrList(rest);
      if (item === undefined) return undefined;
      rest = item.rest;
      integer = item.integer;
      arg = item.value;
    }
    const afterParameters = skipParameters(rest);
    if (afterParameters === undefined) return undefined;
    rest = afterParameters;
    if (INTEGER_DIRECTIVES.has(key) && (!integer || (arg as string).startsWith('-'))) return undefined;
    out.set(key, arg);
    rest = rest.replace(/^[ \t]+/, '');
    if (rest === '') return out;
    if (!rest.startsWith(',')) return undefined;
    rest = rest.slice(1).replace(/^[ \t]+/, '');
    if (rest === '') return undefined;
  }
}

interface SfItem {
  value: string | true;
  integer: boolean;
  rest: string;
}

function readBareItemOrList(input: string): SfItem | undefined {
  if (!input.startsWith('(')) return readBareItem(input);
  let rest = input.slice(1);
  while (true) {
    rest = rest.replace(/^ +/, '');
    if (rest.startsWith(')')) return { value: true, integer: false, rest: rest.slice(1) };
    const item = readBareItem(rest);
    if (item === undefined) return undefined;
    const afterParameters = skipParameters(item.rest);
    if (afterParameters === undefined) return undefined;
    rest = afterParameters;
    if (!rest.startsWith(' ') && !rest.startsWith(')')) return undefined;
  }
}

/** Skips an item's parameters (`;key[=bare-item]`, any number): what follows them, or `undefined` when malformed. */
function skipParameters(input: string): string | undefined {
  let rest = input;
  while (rest.startsWith(';')) {
    rest = rest.slice(1).replace(/^ +/, '');
    const key = SF_KEY.exec(rest)?.[0];
    if (key === undefined) return undefined;
    rest = rest.slice(key.length);
    if (rest.startsWith('=')) {
      const value = readBareItem(rest.slice(1));
      if (value === undefined) return undefined;
      rest = value.rest;
    }
  }
  return rest;
}

function readBareItem(input: string): SfItem | undefined {
  const first = input[0];
  if (first === undefined) return undefined;
  if (first === '-' || (first >= '0' && first <= '9')) {
    const m = SF_NUMBER.exec(input);
    if (m === null) return undefined;
    return { value: m[0], integer: m[1] === undefined, rest: input.slice(m[0].length) };
  }
  if (first === '"') {
    let i = 1;
    let out = '';
    while (i < input.length) {
      const ch = input[i]!;
      if (ch === '\\') {
        const next = input[i + 1];
        if (next !== '"' && next !== '\\') return undefined;
        out += next;
        i += 2;
        continue;
      }
      if (ch === '"') return { value: out, integer: false, rest: input.slice(i + 1) };
      const code = ch.charCodeAt(0);
      if (code < 0x20 || code > 0x7e) return undefined;
      out += ch;
      i++;
    }
    return undefined;
  }
  if (first === '?') {
    if (input[1] !== '0' && input[1] !== '1') return undefined;
    return { value: input[1] === '1' ? true : '?0', integer: false, rest: input.slice(2) };
  }
  if (first === ':') {
    const m = SF_BYTES.exec(input);
    return m === null ? undefined : { value: m[0], integer: false, rest: input.slice(m[0].length) };
  }
  const token = SF_TOKEN.exec(input)?.[0];
  return token === undefined ? undefined : { value: token, integer: false, rest: input.slice(token.length) };
}

/**
 * Reads the lifetime of a response from its headers (RFC 9111 §4.2.1, §4.2.3), with `requestTime` and
 * `responseTime` the clock readings around the handler run. `undefined` when it states no freshness and
 * the policy allows no heuristic.
 */
export function readFreshness(
  headers: Readonly<Record<string, OutgoingHttpHeader | undefined>>,
  policy: FreshnessPolicy,
  requestTime: number,
  responseTime: number,
): Freshness | undefined {
  const cc = governingDirectives(headers, policy.targeted);
  const date = parseHttpDate(headers.date) ?? responseTime;
  const ageValue = (parseAge(headers.age) ?? 0) * 1000;
  const apparentAge = Math.max(0, responseTime - date);
  const correctedAge = ageValue + Math.max(0, responseTime - requestTime);
  const initialAge = Math.max(apparentAge, correctedAge);
  const sMaxAge = cc.has('s-maxage');
  const base = {
    initialAge,
    mustRevalidate: cc.has('must-revalidate') || cc.has('proxy-revalidate') || sMaxAge || cc.has('no-cache'),
    staleWhileRevalidate: (parseDeltaSeconds(cc.get('stale-while-revalidate')) ?? 0) * 1000,
    staleIfError: (parseDeltaSeconds(cc.get('stale-if-error')) ?? 0) * 1000,
    public: cc.has('public'),
  };
  if (policy.ignoreOrigin) {
    if (policy.heuristic === undefined) return undefined;
    return { ...base, initialAge: 0, lifetime: policy.heuristic, explicit: false };
  }
  // A response that must be revalidated on every use has no freshness at all.
  if (cc.has('no-cache')) return { ...base, lifetime: 0, explicit: true };
  // s-maxage, then max-age; a malformed one makes the response stale instead of falling through.
  for (const name of ['s-maxage', 'max-age']) {
    if (!cc.has(name)) continue;
    const seconds = parseDeltaSeconds(cc.get(name));
    return { ...base, lifetime: seconds === undefined ? 0 : seconds * 1000, explicit: true };
  }
  if (headers.expires !== undefined) {
    const expires = parseHttpDate(headers.expires);
    // An invalid Expires (e.g. `0`) means already expired (RFC 9111 §5.3).
    const lifetime = expires === undefined ? 0 : Math.max(0, expires - date);
    return { ...base, lifetime, explicit: true };
  }
  if (policy.heuristic === undefined) return undefined;
  if (!policy.fromLastModified) return { ...base, lifetime: policy.heuristic, explicit: false };
  const lastModified = parseHttpDate(headers['last-modified']);
  if (lastModified === undefined || lastModified >= date) return undefined;
  const lifetime = Math.min(policy.heuristic, Math.floor((date - lastModified) / 10));
  return { ...base, lifetime, explicit: false };
}
