// What may be stored and served: the request side (credentials, no-cache/no-store) and the response
// side (status, Set-Cookie, Cache-Control, Vary), plus which headers travel with a stored response.
// Every decision returns a reason string instead of a boolean, so logs and tests say why.
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import {
  governingDirectives,
  headerText,
  MAX_FIELD_LENGTH,
  parseCacheControl,
  type Freshness,
} from './freshness.js';
import { readHeaderNames, type CompiledCacheRule } from './rules.js';

/** Why a request is not answered from the cache: it passes through untouched. */
export type RequestBypass = 'credentials' | 'no-store';

/** Request headers that carry credentials unless `credentialHeaders` says otherwise. */
export const DEFAULT_CREDENTIAL_HEADERS: readonly string[] = ['authorization', 'cookie'];

/** Headers that describe one connection, not the response (RFC 9110 §7.6.1), and never stored. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

/**
 * Headers the cache recomputes or must not replay: the length (recomputed from the body), cookies
 * (one user's session must never reach another), and our own X-Cache/Age (the origin's Date is kept, so
 * a downstream cache sees how old the answer really is).
 */
const NOT_STORED = new Set(['content-length', 'set-cookie', 'x-cache', 'age']);

/** The comma-separated tokens of a header value (Cache-Control, Connection, Vary), lower-cased, no args. */
export function headerTokens(value: string | string[] | number | undefined): Set<string> {
  const out = new Set<string>();
  if (value === undefined) return out;
  const text = Array.isArray(value) ? value.join(',') : String(value);
  for (const part of text.split(',')) {
    const name = part.split('=', 1)[0]!.trim().toLowerCase();
    if (name) out.add(name);
  }
  return out;
}

/** The directives of a Cache-Control value, lower-cased, without their arguments. */
export function cacheControlDirectives(value: string | string[] | number | undefined): Set<string> {
  return headerTokens(value);
}

/** Reads the `credentialHeaders` option as lower-cased names; default {@link DEFAULT_CREDENTIAL_HEADERS}. */
export function readCredentialHeaders(value: unknown): readonly string[] {
  if (value === undefined) return DEFAULT_CREDENTIAL_HEADERS;
  if (!Array.isArray(value) || value.some((name) => typeof name !== 'string' || name === '')) {
    throw new TypeError(
      'credentialHeaders must be an array of header names, e.g. ["authorization", "cookie"]',
    );
  }
  // Node lower-cases incoming header names, so `X-API-Key` must be looked up as `x-api-key`; a name
  // that is no token (`' cookie'`) would never match, leaving credentialed requests cacheable.
  return readHeaderNames(value, 'credentialHeaders');
}

/** Whether the request carries any of the `credentialHeaders` (lower-cased names). */
export function hasCredentials(req: IncomingMessage, credentialHeaders: readonly string[]): boolean {
  for (const name of credentialHeaders) if (req.headers[name] !== undefined) return true;
  return false;
}

/**
 * Whether the request must bypass the cache. A shared rule never stores or serves a request that
 * carries a user or any of `credentialHeaders` (unless it is `shared: true`); a per-user rule cannot
 * tell apart requests that carry credentials but no user, so those bypass too.
 */
export function requestBypass(
  req: IncomingMessage,
  rule: CompiledCacheRule,
  user: string | undefined,
  credentialHeaders: readonly string[],
): RequestBypass | undefined {
  const cc = req.headers['cache-control'];
  if (cc !== undefined && cacheControlDirectives(cc).has('no-store')) return 'no-store';
  if (rule.shared) return undefined;
  if (rule.perUser)
    return user === undefined && hasCredentials(req, credentialHeaders) ? 'credentials' : undefined;
  return user !== undefined || hasCredentials(req, credentialHeaders) ? 'credentials' : undefined;
}

/**
 * Whether the request asks for revalidation: `Cache-Control: no-cache`, `max-age=0` (what browsers
 * send on reload: no stored response is fresh enough, RFC 9111 §5.2.1.1) or `Pragma: no-cache`.
 */
export function wantsRevalidation(req: IncomingMessage): boolean {
  const cc = req.headers['cache-control'];
  if (cc !== undefined) {
    const directives = parseCacheControl(cc);
    if (directives.has('no-cache')) return true;
    const maxAge = directives.get('max-age');
    if (typeof maxAge === 'string' && /^0+$/.test(maxAge)) return true;
  }
  const pragma = req.headers.pragma;
  return pragma !== undefined && pragma.toLowerCase().includes('no-cache');
}

/**
 * Statuses a cache understands well enough to store when the response itself says it may be (explicit
 * freshness or `public`), beyond the rule's list: RFC 9110 §15.1's heuristically cacheable ones and the
 * redirects. Partial content (206) and the server errors a fail-safe answers instead are never stored.
 */
export const UNDERSTOOD_STATUSES: ReadonlySet<number> = new Set([
  200, 203, 204, 300, 301, 302, 303, 307, 308, 404, 405, 410, 414, 451, 501,
]);

/** Statuses no rule can make storable: partial content, and a 304 (which only freshens a stored response). */
const NEVER_STORED_STATUSES: ReadonlySet<number> = new Set([206, 304]);

/** Why a response may not be stored under `rule`, or `undefined` when it may. */
export function responseUnstorable(
  status: number,
  headers: OutgoingHttpHeaders,
  rule: CompiledCacheRule,
  freshness: Freshness | undefined,
): string | undefined {
  if (headers['set-cookie'] !== undefined) return 'set-cookie';
  // Whatever a rule lists: a 206 is part of a body (the key holds no Range, so it would answer every
  // request for the whole), and a 304 or 1xx has no body of its own to answer anyone with.
  if (NEVER_STORED_STATUSES.has(status) || status < 200) return `status ${status}`;
  // `private` in Cache-Control or in any targeted field keeps the response out: it says the answer is
  // one user's, and a targeted field may loosen freshness for this cache, never that. `no-store` is
  // read from the field that governs this cache (RFC 9213 §2.2): `Cache-Control: no-store` beside
  // `CDN-Cache-Control: max-age=60` is the origin letting this cache store what browsers must not.
  if (!rule.storePrivate) {
    // Only the first 8 KiB of a field is parsed: a longer one could say private or no-store past it.
    for (const name of ['cache-control', ...rule.targetedFields])
      if ((headerText(headers[name])?.length ?? 0) > MAX_FIELD_LENGTH) return 'cache-control too long';
    const own = parseCacheControl(headers['cache-control']);
    if (own.has('private')) return 'cache-control private';
    // A targeted field is read leniently here: even one too malformed to govern may say private.
    for (const name of rule.targetedFields) {
      if (headers[name] !== undefined && parseCacheControl(headers[name]).has('private'))
        return 'cache-control private';
    }
    if (governingDirectives(headers, rule.targetedFields).has('no-store')) return 'cache-control no-store';
  }
  // A Vary on headers the key does not hold is kept with the request's values (see varyOf): only
  // `Vary: *` cannot be matched by any later request.
  if (headers.vary !== undefined && headerTokens(headers.vary).has('*')) return 'vary *';
  if (freshness === undefined) return 'no freshness';
  if (!rule.statuses.has(status)) {
    // A status the rule does not list is stored only when the handler itself made it cacheable.
    const saidSo = !rule.ignoreOrigin && (freshness.explicit || freshness.public);
    if (!saidSo || !UNDERSTOOD_STATUSES.has(status)) return `status ${status}`;
  }
  return undefined;
}

/**
 * The headers stored with a response, as a flat `[name, value, …]` list with each name once and a
 * repeated header as an array value (hop-by-hop headers, the ones `Connection` names, and cookies
 * removed). writeHead takes this form as it is and keeps every value of a repeated header.
 */
export function storableHeaders(headers: OutgoingHttpHeaders): (string | string[])[] {
  const out: (string | string[])[] = [];
  // The names `Connection` lists are hop-by-hop for that one connection (RFC 9110 §7.6.1):
  // replaying them to other clients would pass on what was meant for a single hop.
  const perConnection = headerTokens(headers.connection);
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || NOT_STORED.has(name) || name.startsWith('proxy-'))
      continue;
    if (perConnection.has(name)) continue;
    out.push(name, Array.isArray(value) ? [...value] : String(value));
  }
  return out;
}

/** The request headers a response's Vary names that the rule's key does not already hold, lower-cased. */
export function responseVary(headers: OutgoingHttpHeaders, rule: CompiledCacheRule): string[] {
  if (headers.vary === undefined) return [];
  return [...headerTokens(headers.vary)].filter((name) => !rule.varyHeaders.includes(name)).sort();
}
