// What may be stored and served: the request side (credentials, no-cache/no-store) and the response
// side (status, Set-Cookie, Cache-Control, Vary), plus which headers travel with a stored response.
// Every decision returns a reason string instead of a boolean, so logs and tests say why.
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { CompiledCacheRule } from './rules.js';

/** Why a request is not answered from the cache: it passes through untouched. */
export type RequestBypass = 'credentials' | 'no-store';

/** Headers that describe one connection, not the response (RFC 9110 §7.6.1), and never stored. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

/**
 * Headers the cache recomputes or must not replay: the length (recomputed from the body), cookies
 * (one user's session must never reach another), and our own X-Cache/Age.
 */
const NOT_STORED = new Set(['content-length', 'set-cookie', 'x-cache', 'age', 'date']);

/** The directives of a Cache-Control value, lower-cased, without their arguments. */
export function cacheControlDirectives(value: string | string[] | number | undefined): Set<string> {
  const out = new Set<string>();
  if (value === undefined) return out;
  const text = Array.isArray(value) ? value.join(',') : String(value);
  for (const part of text.split(',')) {
    const name = part.split('=', 1)[0]!.trim().toLowerCase();
    if (name) out.add(name);
  }
  return out;
}

/** Whether the request carries credentials of its own (Authorization or cookies). */
export function hasCredentials(req: IncomingMessage): boolean {
  return req.headers.authorization !== undefined || req.headers.cookie !== undefined;
}

/**
 * Whether the request must bypass the cache. A shared rule never stores or serves a request that
 * carries a user or credentials (unless it is `shared: true`); a per-user rule cannot tell apart
 * requests that carry credentials but no user, so those bypass too.
 */
export function requestBypass(
  req: IncomingMessage,
  rule: CompiledCacheRule,
  user: string | undefined,
): RequestBypass | undefined {
  const cc = req.headers['cache-control'];
  if (cc !== undefined && cacheControlDirectives(cc).has('no-store')) return 'no-store';
  if (rule.shared) return undefined;
  if (rule.perUser) return user === undefined && hasCredentials(req) ? 'credentials' : undefined;
  return user !== undefined || hasCredentials(req) ? 'credentials' : undefined;
}

/** Whether the request asks for revalidation (`Cache-Control: no-cache` or `Pragma: no-cache`). */
export function wantsRevalidation(req: IncomingMessage): boolean {
  const cc = req.headers['cache-control'];
  if (cc !== undefined && cacheControlDirectives(cc).has('no-cache')) return true;
  const pragma = req.headers.pragma;
  return pragma !== undefined && pragma.toLowerCase().includes('no-cache');
}

/** Why a response may not be stored under `rule`, or `undefined` when it may. */
export function responseUnstorable(
  status: number,
  headers: OutgoingHttpHeaders,
  rule: CompiledCacheRule,
): string | undefined {
  if (!rule.statuses.has(status)) return `status ${status}`;
  if (headers['set-cookie'] !== undefined) return 'set-cookie';
  const cc = cacheControlDirectives(headers['cache-control']);
  // no-cache on a response means "revalidate with the origin before every reuse", which a
  // response cache without conditional requests to its handler cannot honour.
  if (cc.has('no-cache')) return 'cache-control no-cache';
  if (!rule.storePrivate) {
    if (cc.has('private')) return 'cache-control private';
    if (cc.has('no-store')) return 'cache-control no-store';
  }
  const vary = headers.vary;
  if (vary !== undefined) {
    const names = String(Array.isArray(vary) ? vary.join(',') : vary)
      .split(',')
      .map((v) => v.trim().toLowerCase())
      .filter(Boolean);
    if (names.includes('*')) return 'vary *';
    // The key must already distinguish what the response varies on, or one variant would be
    // served for all (e.g. a gzip body to a client that cannot read it).
    const missing = names.find((n) => !rule.varyHeaders.includes(n));
    if (missing !== undefined) return `vary ${missing} not in varyHeaders`;
  }
  return undefined;
}

/**
 * The headers stored with a response, as a flat `[name, value, …]` list with each name once and a
 * repeated header as an array value (hop-by-hop headers and cookies removed). writeHead takes this
 * form as it is and keeps every value of a repeated header.
 */
export function storableHeaders(headers: OutgoingHttpHeaders): (string | string[])[] {
  const out: (string | string[])[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || NOT_STORED.has(name) || name.startsWith('proxy-'))
      continue;
    out.push(name, Array.isArray(value) ? [...value] : String(value));
  }
  return out;
}
