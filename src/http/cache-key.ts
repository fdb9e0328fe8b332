// Cache keys of stored responses: `GET <path>` plus the chosen query params in a canonical order and
// the request's Host (or a rule's key template or function), then the varied request headers and, for
// per-user rules, a digest of the credentials and the user — appended to custom keys too, so no key can
// merge two users' answers.
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { PathParams } from './path-pattern.js';
import type { CompiledCacheRule } from './rules.js';
import { LONE_SURROGATE_RE } from './template.js';
import { isWellFormed } from '../util/validate.js';

/** A request's target split into path and raw query (without `?`). */
export interface RequestTarget {
  path: string;
  query: string;
}

/** Splits `req.url` into path and query without building a URL object. */
export function splitTarget(url: string | undefined): RequestTarget {
  const target = url ?? '/';
  const q = target.indexOf('?');
  return q === -1 ? { path: target, query: '' } : { path: target.slice(0, q), query: target.slice(q + 1) };
}

/**
 * The params of a raw query (without its `?`). The URLSearchParams constructor drops one leading `?`,
 * which the handler's parser keeps as part of the first name: `/search??q=x` has a param `?q`, not `q`.
 */
function queryParams(query: string): URLSearchParams {
  return new URLSearchParams(query.startsWith('?') ? `&${query}` : query);
}

/**
 * The canonical form of a query string restricted to `vary` (`true` = all params, `false` = none):
 * params sorted by name (values of one name keep their order, which can be meaningful), re-encoded.
 */
export function normaliseQuery(query: string, vary: readonly string[] | boolean): string {
  if (query === '' || vary === false) return '';
  const params = queryParams(query);
  if (vary !== true) {
    for (const name of [...params.keys()]) if (!vary.includes(name)) params.delete(name);
  }
  params.sort();
  return params.toString();
}

/**
 * Whether every name and value of a raw query percent-decodes as UTF-8 (`+` read as a space). Keys are
 * built with URLSearchParams, which reads an escape that does not (`%C0`, a lone `%`) its own way: as
 * U+FFFD, or the `%` kept while the rest is decoded. Fastify's, Express 4's and Hono's parsers keep such
 * a component as written instead, so `?q=%C0`, `?q=%C1` and `?q=%EF%BF%BD` would share a key that
 * their handlers answer three ways.
 */
export function queryDecodes(query: string): boolean {
  if (!query.includes('%')) return true;
  for (const pair of query.split('&')) {
    if (!pair.includes('%')) continue;
    try {
      decodeURIComponent(pair.replaceAll('+', ' '));
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * Whether the key of `rule` can hold the request's query as a handler reads it; when not, the request
 * is neither served nor stored. The query must decode ({@link queryDecodes}) wherever the key reads it,
 * a param a `varyQuery` list names must not come with brackets (`q[]=x`, which Express 4's qs reads as
 * `q` while the list keeps `q` alone), a list or template must not read a query longer than the
 * handler's parser reads ({@link PARSER_PARAM_LIMIT}) nor one with a `#` (which ends the query for
 * Express's and Koa's parseurl and Hono's URL, not for Fastify: `?x=1#&q=evil` has no `q` to the
 * former, while the key would read `q=evil`), and a param a key template fills from the
 * query must appear once, without brackets and with a value: the template holds one value, while
 * Express and Fastify hand the handler `?q=a&q=b` (and Express 4's qs `?q[]=a`) as a list, whose
 * answer would become that of `?q=a` (or of no `q`), and it renders `?q` as it renders no `q`, which a
 * handler tells apart.
 */
export function keyHoldsQuery(rule: CompiledCacheRule, query: string, params: PathParams): boolean {
  if (query === '' || typeof rule.key === 'function') return true;
  if (rule.key === undefined) {
    const vary = rule.varyQuery;
    if (vary === false) return true;
    if (!queryDecodes(query)) return false;
    // The whole query is keyed: a param a parser dropped changes the key, not only the answer.
    if (vary === true) return true;
    // A listed param is kept by its exact name, so its bracketed spelling would be left out of the key.
    return !pastParserLimit(query) && !query.includes('#') && !listedWithBrackets(query, vary);
  }
  const names = rule.key.names.filter((name) => !(name in params));
  if (names.length === 0) return true;
  if (!queryDecodes(query) || pastParserLimit(query) || query.includes('#')) return false;
  const seen = new Set<string>();
  for (const [name, value] of queryParams(query)) {
    const bracket = name.indexOf('[');
    const base = bracket === -1 ? name : name.slice(0, bracket);
    if (!names.includes(base)) continue;
    // Empty (`?q`, `?q=`) renders as a missing param does, which a handler can tell apart.
    if (bracket !== -1 || value === '' || seen.has(base)) return false;
    seen.add(base);
  }
  return true;
}

/**
 * Whether the key of `rule` can hold the request's varied headers: not when one is sent empty, which
 * the key writes as it writes a header left out (` name=`), while a handler tells them apart
 * (`req.headers['x-tenant'] ?? 'default'`). Such a request is neither served nor stored.
 */
export function keyHoldsHeaders(rule: CompiledCacheRule, req: IncomingMessage): boolean {
  for (const name of rule.varyHeaders) if (headerValue(req, name) === '') return false;
  return true;
}

/**
 * How many `&`-separated parts (empty ones too) a query may have before a parser drops the rest:
 * node:querystring (Express 5's and Koa's) reads 1,000 (`maxKeys`), and so does qs (Express 4's,
 * `parameterLimit`). A param past them is keyed by a list or template but never reaches the handler.
 */
const PARSER_PARAM_LIMIT = 1000;

/** Whether `query` has more parts than {@link PARSER_PARAM_LIMIT}. */
function pastParserLimit(query: string): boolean {
  let parts = 1;
  for (let i = query.indexOf('&'); i !== -1; i = query.indexOf('&', i + 1))
    if (++parts > PARSER_PARAM_LIMIT) return true;
  return false;
}

/** Whether `query` names one of `names` with brackets (`q[]=`, `q[0]=`, `q[a]=`). */
function listedWithBrackets(query: string, names: readonly string[]): boolean {
  if (!query.includes('[') && !/%5B/i.test(query)) return false;
  for (const [name] of queryParams(query)) {
    const bracket = name.indexOf('[');
    if (bracket !== -1 && names.includes(name.slice(0, bracket))) return true;
  }
  return false;
}

/** The value of a request header as one string (repeated headers joined with `, `). */
export function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * A digest of the credential headers the request carries (32 hex chars of a SHA-256 over names and
 * values), or `undefined` when it carries none of them.
 */
export function credentialDigest(
  req: IncomingMessage,
  credentialHeaders: readonly string[],
): string | undefined {
  let hash: ReturnType<typeof createHash> | undefined;
  for (const name of credentialHeaders) {
    const value = headerValue(req, name);
    if (value === undefined) continue;
    // JSON strings, so no name/value split can produce another request's input.
    (hash ??= createHash('sha256')).update(`${JSON.stringify(name)}:${JSON.stringify(value)};`);
  }
  return hash?.digest('hex').slice(0, 32);
}

/**
 * Derives the key of a cacheable request under `rule`; `user` is `undefined` for anonymous requests,
 * and `own` is the framework's request a key function receives (default: `req`). The default key is
 * `GET <path>[?<query>] host=<host>` (the Host lower-cased; left out when the request has none),
 * followed by ` x-forwarded-host=<host>` when the request has an X-Forwarded-Host other than its Host;
 * a key template or function holds what it names, and no Host unless `varyHeaders` lists it.
 * A `varyHeaders` header that is one of `credentialHeaders` is keyed by its {@link credentialDigest}.
 * A per-user key holds the {@link credentialDigest} of `credentialHeaders` before the user, so a
 * request that names a user without that user's credentials cannot reach their entry; the user
 * stays last, so `* user=<id>` still finds one user's entries. The scheme is not part of the key: a
 * stored response records the scheme it answered and serves only that one (`StoredResponse.scheme`),
 * so one key, and every key, pattern and tag that invalidates it, covers http and https alike.
 */
export function deriveKey(
  rule: CompiledCacheRule,
  req: IncomingMessage,
  target: RequestTarget,
  params: PathParams,
  user: string | undefined,
  credentialHeaders: readonly string[],
  own: unknown = req,
): string {
  let key: string;
  if (rule.key === undefined) {
    const query = normaliseQuery(target.query, rule.varyQuery);
    key = query === '' ? `GET ${target.path}` : `GET ${target.path}?${query}`;
    // The target URI includes its authority (RFC 9111 §2): two virtual hosts never share an answer.
    const host = req.headers.host;
    if (host !== undefined) key += ` host=${keyHost(host)}`;
    // Behind a proxy that rewrites Host, a framework told to trust it (Koa `proxy`, Express `trust
    // proxy`, Fastify `trustProxy`) builds the URI from X-Forwarded-Host: one Host then serves every
    // public host, and a client could plant an answer built from a host it chose.
    const forwarded = headerValue(req, 'x-forwarded-host');
    if (forwarded !== undefined && forwarded.toLowerCase() !== host?.toLowerCase())
      key += ` x-forwarded-host=${keyHost(forwarded)}`;
  } else if (typeof rule.key === 'function') {
    // The rule was written for the adapter's request type, which is what `own` is.
    key = (rule.key as (req: unknown, params: PathParams) => string)(own, params);
    if (typeof key !== 'string' || key === '') {
      throw new TypeError(`${rule.what}.key must return a non-empty string, got ${JSON.stringify(key)}`);
    }
  } else {
    key = rule.key.render(templateValues(target.query, params));
  }
  // Encoded so that a header value or user id can never forge the separators of another key; a
  // credential header (Authorization, Cookie) by its digest, so keys (listed by the admin API and the
  // dashboard, written in logs) never hold a token.
  for (const name of rule.varyHeaders) {
    const digest = credentialHeaders.includes(name) ? credentialDigest(req, [name]) : undefined;
    key +=
      digest === undefined
        ? ` ${name}=${encodeURIComponent(headerValue(req, name) ?? '')}`
        : ` ${name}=~${digest}`;
  }
  if (rule.perUser) {
    const credential = credentialDigest(req, credentialHeaders);
    if (credential !== undefined) key += ` cred=${credential}`;
    key += user === undefined ? ' user=' : ` user=${encodeUserId(user)}`;
  }
  return key;
}

/** A Host header as the default key holds it: lower-cased, percent-encoded unless plainly a host[:port]. */
function keyHost(host: string): string {
  const lower = host.toLowerCase();
  return PLAIN_HOST.test(lower) ? lower : encodeURIComponent(lower);
}

const PLAIN_HOST = /^[a-z0-9.:[\]_-]*$/;

/**
 * A user id as keys (and a write's `{user}`) hold it: encodeURIComponent, with each lone surrogate,
 * on which it throws, written `%uXXXX`, which no other id encodes to (a literal `%` becomes `%25`).
 */
export function encodeUserId(user: string): string {
  if (isWellFormed(user)) return encodeURIComponent(user);
  let out = '';
  let from = 0;
  for (const lone of user.matchAll(LONE_SURROGATE_RE)) {
    out += `${encodeURIComponent(user.slice(from, lone.index))}%u${lone[0].charCodeAt(0).toString(16).toUpperCase()}`;
    from = lone.index + 1;
  }
  return out + encodeURIComponent(user.slice(from));
}

/** Values a key template may use: route params first, then (first) query values. */
function templateValues(query: string, params: PathParams): Record<string, string | undefined> {
  if (query === '') return params;
  const values: Record<string, string | undefined> = Object.create(null);
  for (const [name, value] of queryParams(query)) if (!(name in values)) values[name] = value;
  return Object.assign(values, params);
}
