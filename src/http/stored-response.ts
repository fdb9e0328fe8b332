// A stored response: status, replayable headers, body and validators, with what it said about its own
// freshness (read once, see freshness.ts), as a plain serializable object (so a Redis tier can hold it
// too). Also the one function that writes a response from the cache — used for HIT, STALE, the MISS
// that was just stored and a revalidated entry — including the 304 answer to a client's conditional
// request, and the freshening of a stored response by a 304 from the handler (RFC 9111 §4.3.4).
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { storableHeaders } from './cacheability.js';
import { computeEtag, ifNoneMatchMatches } from './etag.js';
import { formatHttpDate, parseHttpDate, type Freshness } from './freshness.js';

/** A response as the cache keeps it. */
export interface StoredResponse {
  /** Marks the shape, so a foreign value (or an older layout) under the same key is never replayed. */
  readonly kind: 'larder:http:2';
  readonly status: number;
  /**
   * Headers to replay, flat `[name, value, …]` (a repeated header as one array value), with `date`,
   * `etag` and `content-length`; never `age` (computed on every answer).
   */
  readonly headers: readonly (string | string[])[];
  /**
   * The body bytes as a latin1 string (one char per byte, lossless). A string body lets node:http put
   * headers and body into one socket write; a Buffer body costs a writev per response, which
   * profiling showed to be the largest cost of a HIT.
   */
  readonly body: string;
  /** The ETag clients see: the handler's own, or a digest of the body. */
  readonly etag: string;
  /** Whether `etag` came from the handler, so it can be sent back to it in If-None-Match. */
  readonly handlerEtag: boolean;
  /** The handler's Last-Modified, when it sent one. */
  readonly lastModified: string | undefined;
  /** When it arrived, ms (the HTTP layer's clock): its age grows from `initialAge` from here. */
  readonly storedAt: number;
  /** Its age when it arrived, ms (RFC 9111 §4.2.3). */
  readonly initialAge: number;
  /** Its freshness lifetime, ms. */
  readonly lifetime: number;
  /** Once stale it must be revalidated before any reuse. */
  readonly mustRevalidate: boolean;
  /** How long past its lifetime it may be served while one revalidation runs in the background, ms. */
  readonly staleWhileRevalidate: number;
  /** How long past its lifetime it may be served when the handler fails, ms. */
  readonly staleIfError: number;
  /**
   * The request headers its `Vary` names (lower-cased) and their values in the request it answered
   * (`null` when absent): it is reused only for a request with the same values (RFC 9111 §4.1).
   */
  readonly vary?: { readonly names: readonly string[]; readonly values: readonly (string | null)[] };
  /**
   * The scheme of the request it answered (`'http'` or `'https'`, as the framework trusts it): it is
   * reused only for a request of the same scheme, as an answer may hold absolute links or a Location
   * built from it. Kept beside the key, like Vary, so that keys (and what invalidates them) are the
   * same for both schemes. An entry stored without one (by an older version) answers no request.
   */
  readonly scheme?: RequestScheme;
}

/** The scheme a request arrived by, as the framework trusts it (see {@link StoredResponse.scheme}). */
export type RequestScheme = 'http' | 'https';

/** How a reply from the cache is labelled in X-Cache. */
export type CacheStatus = 'HIT' | 'MISS' | 'STALE' | 'REVALIDATED';

/** The response of a handler as captured: status, all headers set on it, and the body. */
export interface CapturedResponse {
  status: number;
  headers: OutgoingHttpHeaders;
  body: Buffer;
  /**
   * The headers that were set before the handler ran (by middleware or hooks ahead of the cache) and
   * that it left as they were: this request's own, which that middleware sets again on every request.
   * They count for whether and how long the response may be kept, but only those that describe the
   * body or its caching (REPRESENTATION) are stored: the rest may be one user's (`X-User`, a CSRF
   * token, CORS's echoed origin) and must not be replayed to another.
   */
  preset?: ReadonlySet<string>;
}

/** Headers kept with a stored response even when set before the handler ran. */
const REPRESENTATION = new Set([
  'cache-control',
  'expires',
  'pragma',
  'vary',
  'etag',
  'last-modified',
  'content-type',
  'content-language',
  'content-encoding',
  'content-location',
  'content-disposition',
]);

/** The headers of `captured` that belong to the stored answer (see CapturedResponse.preset). */
export function answerHeaders(captured: CapturedResponse): OutgoingHttpHeaders {
  const preset = captured.preset;
  if (preset === undefined || preset.size === 0) return captured.headers;
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(captured.headers))
    if (!preset.has(name) || REPRESENTATION.has(name)) out[name] = value;
  return out;
}

// Statuses that never carry a body or a Content-Length (RFC 9110 §8.6, §15.3.5).
function bodyless(status: number): boolean {
  return status === 204 || status === 304 || status < 200;
}

/**
 * Builds the stored form of a captured response that arrived at `storedAt` with `freshness`, for a
 * request that arrived by `scheme` with the values `vary` recorded; the ETag is the handler's own when
 * it set one, else a digest of the body.
 */
export function toStoredResponse(
  captured: CapturedResponse,
  storedAt: number,
  freshness: Freshness,
  vary?: StoredResponse['vary'],
  scheme?: RequestScheme,
): StoredResponse {
  const own = captured.headers.etag;
  const handlerEtag = typeof own === 'string' && own !== '';
  const etag = handlerEtag ? own : computeEtag(captured.body);
  const kept = storableHeaders(answerHeaders(captured));
  const headers: (string | string[])[] = [];
  let hasDate = false;
  for (let i = 0; i < kept.length; i += 2) {
    const name = kept[i] as string;
    if (name === 'etag') continue;
    if (name === 'date') hasDate = true;
    headers.push(name, kept[i + 1]!);
  }
  // A response without a Date gets the time it arrived (RFC 9110 §6.6.1).
  if (!hasDate) headers.push('date', formatHttpDate(storedAt));
  headers.push('etag', etag);
  if (!bodyless(captured.status)) headers.push('content-length', String(captured.body.length));
  const lm = captured.headers['last-modified'];
  return {
    kind: 'larder:http:2',
    status: captured.status,
    headers,
    body: captured.body.toString('latin1'),
    etag,
    handlerEtag,
    lastModified: typeof lm === 'string' ? lm : undefined,
    storedAt,
    ...lifetimeOf(freshness),
    ...(vary === undefined ? {} : { vary }),
    ...(scheme === undefined ? {} : { scheme }),
  };
}

/** The fields of a stored response that come from its freshness (the rest of Freshness is not kept). */
function lifetimeOf(freshness: Freshness) {
  return {
    initialAge: freshness.initialAge,
    lifetime: freshness.lifetime,
    mustRevalidate: freshness.mustRevalidate,
    staleWhileRevalidate: freshness.staleWhileRevalidate,
    staleIfError: freshness.staleIfError,
  };
}

// Headers a 304 from the handler must not change in the stored response (RFC 9111 §3.2: the stored
// body's length and framing stay those of the stored body; the cache's own labels are recomputed).
const NOT_UPDATED = new Set(['content-length', 'content-encoding', 'transfer-encoding', 'etag']);

/**
 * The stored response freshened by the handler's 304 (RFC 9111 §4.3.4): the 304's headers replace the
 * stored ones of the same name, the body stays, and its lifetime is read again from the merged headers.
 */
export function freshenStored(
  stored: StoredResponse,
  notModified: OutgoingHttpHeaders,
  storedAt: number,
  readMerged: (headers: OutgoingHttpHeaders) => Freshness,
): StoredResponse {
  const update = storableHeaders(notModified);
  const merged: OutgoingHttpHeaders = {};
  for (let i = 0; i < stored.headers.length; i += 2)
    merged[stored.headers[i] as string] = stored.headers[i + 1]!;
  for (let i = 0; i < update.length; i += 2) {
    const name = update[i] as string;
    if (!NOT_UPDATED.has(name)) merged[name] = update[i + 1]!;
  }
  // The 304 may carry no Date: the stored one would make the refreshed response look old.
  if (notModified.date === undefined) merged.date = formatHttpDate(storedAt);
  // Age comes from the 304 alone (the stored entry never keeps one).
  const age = notModified.age;
  const freshness = readMerged(age === undefined ? merged : { ...merged, age });
  const headers: (string | string[])[] = [];
  for (const [name, value] of Object.entries(merged)) {
    if (value !== undefined) headers.push(name, Array.isArray(value) ? [...value] : String(value));
  }
  const lm = merged['last-modified'];
  return {
    ...stored,
    headers,
    lastModified: typeof lm === 'string' ? lm : stored.lastModified,
    storedAt,
    ...lifetimeOf(freshness),
  };
}

/**
 * A request header's value as Vary compares it (RFC 9111 §4.1): repeated lines combined, whitespace
 * around commas and at the ends dropped; `null` when the request does not carry it.
 */
export function varyValue(req: IncomingMessage, name: string): string | null {
  const value = req.headers[name];
  if (value === undefined) return null;
  const text = Array.isArray(value) ? value.join(', ') : value;
  return text
    .split(',')
    .map((part) => part.trim())
    .join(',');
}

/** Records, for a response with `Vary`, the request values it answered; `undefined` without Vary. */
export function varyOf(req: IncomingMessage, names: readonly string[]): StoredResponse['vary'] | undefined {
  if (names.length === 0) return undefined;
  return { names, values: names.map((name) => varyValue(req, name)) };
}

/** Whether a stored response may answer `req` as far as its Vary goes. */
export function varyMatches(stored: StoredResponse, req: IncomingMessage): boolean {
  const vary = stored.vary;
  if (vary === undefined) return true;
  for (let i = 0; i < vary.names.length; i++) {
    if (varyValue(req, vary.names[i]!) !== vary.values[i]) return false;
  }
  return true;
}

/**
 * Whether a stored response may answer `req`, which arrived by `scheme`: the same scheme, and the
 * same values of what its Vary names.
 */
export function selects(stored: StoredResponse, req: IncomingMessage, scheme: RequestScheme): boolean {
  return stored.scheme === scheme && varyMatches(stored, req);
}

/** Checks that a value read from a cache (possibly a remote tier) is a stored response. */
export function asStoredResponse(value: unknown): StoredResponse | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Partial<StoredResponse>;
  if (v.kind !== 'larder:http:2' || typeof v.status !== 'number' || !Array.isArray(v.headers))
    return undefined;
  if (typeof v.etag !== 'string' || typeof v.storedAt !== 'number' || typeof v.lifetime !== 'number')
    return undefined;
  if (typeof v.initialAge !== 'number' || typeof v.staleWhileRevalidate !== 'number') return undefined;
  if (typeof v.staleIfError !== 'number' || typeof v.mustRevalidate !== 'boolean') return undefined;
  if (v.vary !== undefined && !isVary(v.vary)) return undefined;
  if (v.scheme !== undefined && v.scheme !== 'http' && v.scheme !== 'https') return undefined;
  return typeof v.body === 'string' ? (v as StoredResponse) : undefined;
}

function isVary(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const { names, values } = value as { names?: unknown; values?: unknown };
  return (
    Array.isArray(names) &&
    Array.isArray(values) &&
    names.length === values.length &&
    names.every((n) => typeof n === 'string') &&
    values.every((v) => v === null || typeof v === 'string')
  );
}

/** Its current age at `now`, ms (RFC 9111 §4.2.3). */
export function currentAge(stored: StoredResponse, now: number): number {
  return stored.initialAge + Math.max(0, now - stored.storedAt);
}

/** Whether a stored response is past its freshness lifetime at `now`. */
export function isStale(stored: StoredResponse, now: number): boolean {
  return currentAge(stored, now) >= stored.lifetime;
}

/** How long past its lifetime a stored response is at `now`, ms (0 while fresh). */
export function staleness(stored: StoredResponse, now: number): number {
  return Math.max(0, currentAge(stored, now) - stored.lifetime);
}

/** Whether it can be revalidated with the handler by a conditional request. */
export function hasValidator(stored: StoredResponse): boolean {
  return stored.handlerEtag || stored.lastModified !== undefined;
}

// Headers a 304 carries (RFC 9110 §15.4.5): the ones a client needs to refresh its stored copy, and a
// cookie the handler set for this client alone (never stored, so only an answer that is not kept has one).
const NOT_MODIFIED_HEADERS = new Set([
  'set-cookie',
  'cache-control',
  'content-location',
  'date',
  'etag',
  'expires',
  'vary',
  'last-modified',
]);

/** Whether the request's conditional headers match the stored response (RFC 9110 §13.2.2 order). */
export function conditionalMatches(req: IncomingMessage, stored: StoredResponse): boolean {
  // Only a 2xx is a representation the client can hold (RFC 9110 §13.2.1): a stored 404 or 301 must
  // reach it as it is, not as a 304 that would make it reuse an older 200.
  if (stored.status < 200 || stored.status >= 300) return false;
  const inm = req.headers['if-none-match'];
  if (inm !== undefined) return ifNoneMatchMatches(inm, stored.etag);
  const ims = parseHttpDate(req.headers['if-modified-since']);
  if (ims === undefined) return false;
  const lastModified = parseHttpDate(stored.lastModified) ?? parseHttpDate(headerOf(stored, 'date'));
  return lastModified !== undefined && lastModified <= ims;
}

/** The stored value of a header, when it has a single one. */
export function headerOf(stored: StoredResponse, name: string): string | undefined {
  for (let i = 0; i < stored.headers.length; i += 2) {
    if (stored.headers[i] === name) {
      const value = stored.headers[i + 1]!;
      return Array.isArray(value) ? value.join(', ') : (value as string);
    }
  }
  return undefined;
}

/** How a reply from the cache is written: its label, the clock, and the rule's Cache-Control for clients. */
export interface SendOptions {
  status: CacheStatus;
  now: number;
  /** Replaces the stored Cache-Control in what clients and downstream caches see. */
  clientCacheControl?: string | undefined;
}

/**
 * Writes a stored response to `res` with its current Age; a client's matching If-None-Match (or
 * If-Modified-Since) on a stored 2xx gets a 304 without body, and a HEAD request gets the headers only.
 */
export function sendStored(
  req: IncomingMessage,
  res: ServerResponse,
  stored: StoredResponse,
  options: SendOptions,
): void {
  const age = String(Math.floor(currentAge(stored, options.now) / 1000));
  const override = options.clientCacheControl;
  if (conditionalMatches(req, stored)) {
    const headers: (string | string[])[] = [];
    for (let i = 0; i < stored.headers.length; i += 2) {
      const name = stored.headers[i] as string;
      if (NOT_MODIFIED_HEADERS.has(name) && !(override !== undefined && name === 'cache-control'))
        headers.push(name, stored.headers[i + 1]!);
    }
    if (override !== undefined) headers.push('cache-control', override);
    headers.push('x-cache', options.status, 'age', age);
    res.writeHead(304, headers);
    res.end();
    return;
  }
  let headers: (string | string[])[];
  if (override === undefined) headers = [...stored.headers, 'x-cache', options.status, 'age', age];
  else {
    headers = [];
    for (let i = 0; i < stored.headers.length; i += 2)
      if (stored.headers[i] !== 'cache-control') headers.push(stored.headers[i]!, stored.headers[i + 1]!);
    headers.push('cache-control', override, 'x-cache', options.status, 'age', age);
  }
  res.writeHead(stored.status, headers);
  if (req.method === 'HEAD' || bodyless(stored.status)) res.end();
  else res.end(stored.body, 'latin1');
}
