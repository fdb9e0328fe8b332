// A stored response: status, replayable headers, body and ETag, as a plain serializable object (so a
// Redis tier can hold it too). Also the one function that writes a response from the cache — used for
// HIT, STALE and the MISS that was just stored — including the 304 answer to a matching If-None-Match.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { storableHeaders } from './cacheability.js';
import { computeEtag, ifNoneMatchMatches } from './etag.js';

/** A response as the cache keeps it. */
export interface StoredResponse {
  /** Marks the shape, so a foreign value under the same key is never replayed. */
  readonly kind: 'larder:http';
  readonly status: number;
  /** Headers to replay, flat `[name, value, …]` (a repeated header as one array value), with `etag` and `content-length`. */
  readonly headers: readonly (string | string[])[];
  /**
   * The body bytes as a latin1 string (one char per byte, lossless). A string body lets node:http put
   * headers and body into one socket write; a Buffer body costs a writev per response, which
   * profiling showed to be the largest cost of a HIT.
   */
  readonly body: string;
  readonly etag: string;
  /** When it was stored, ms (the HTTP layer's clock). */
  readonly storedAt: number;
  /** Its TTL in ms when stored (0 = none); past `storedAt + ttl` it is served as STALE. */
  readonly ttl: number;
}

/** How a reply from the cache is labelled in X-Cache. */
export type CacheStatus = 'HIT' | 'MISS' | 'STALE';

/** The response of a handler as captured: status, all headers set on it, and the body. */
export interface CapturedResponse {
  status: number;
  headers: OutgoingHttpHeaders;
  body: Buffer;
}

// Statuses that never carry a body or a Content-Length (RFC 9110 §8.6, §15.3.5).
function bodyless(status: number): boolean {
  return status === 204 || status === 304 || status < 200;
}

/** Builds the stored form of a captured response; the ETag is the handler's own when it set one. */
export function toStoredResponse(captured: CapturedResponse, storedAt: number, ttl: number): StoredResponse {
  const own = captured.headers.etag;
  const etag = typeof own === 'string' && own !== '' ? own : computeEtag(captured.body);
  const kept = storableHeaders(captured.headers);
  const headers: (string | string[])[] = [];
  for (let i = 0; i < kept.length; i += 2) if (kept[i] !== 'etag') headers.push(kept[i]!, kept[i + 1]!);
  headers.push('etag', etag);
  if (!bodyless(captured.status)) headers.push('content-length', String(captured.body.length));
  const body = captured.body.toString('latin1');
  return { kind: 'larder:http', status: captured.status, headers, body, etag, storedAt, ttl };
}

/** Checks that a value read from a cache (possibly a remote tier) is a stored response. */
export function asStoredResponse(value: unknown): StoredResponse | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Partial<StoredResponse>;
  if (v.kind !== 'larder:http' || typeof v.status !== 'number' || !Array.isArray(v.headers)) return undefined;
  if (typeof v.etag !== 'string' || typeof v.storedAt !== 'number' || typeof v.ttl !== 'number')
    return undefined;
  return typeof v.body === 'string' ? (v as StoredResponse) : undefined;
}

/** Whether a stored response is past its TTL at `now` (it is then being served from grace). */
export function isStale(stored: StoredResponse, now: number): boolean {
  return stored.ttl > 0 && now >= stored.storedAt + stored.ttl;
}

// Headers a 304 carries (RFC 9110 §15.4.5): the ones a client needs to refresh its stored copy.
const NOT_MODIFIED_HEADERS = new Set([
  'cache-control',
  'content-location',
  'etag',
  'expires',
  'vary',
  'last-modified',
]);

/**
 * Writes a stored response to `res` labelled `status` with its Age; a matching If-None-Match on a
 * stored 2xx gets a 304 without body, and a HEAD request gets the headers only.
 */
export function sendStored(
  req: IncomingMessage,
  res: ServerResponse,
  stored: StoredResponse,
  status: CacheStatus,
  now: number,
): void {
  const age = String(Math.max(0, Math.floor((now - stored.storedAt) / 1000)));
  // Only a 2xx is a representation the client can hold (RFC 9110 §13.2.1): a stored 404 or 301 must
  // reach it as it is, not as a 304 that would make it reuse an older 200.
  const ok = stored.status >= 200 && stored.status < 300;
  if (ok && ifNoneMatchMatches(req.headers['if-none-match'], stored.etag)) {
    const headers: (string | string[])[] = [];
    for (let i = 0; i < stored.headers.length; i += 2) {
      const name = stored.headers[i] as string;
      if (NOT_MODIFIED_HEADERS.has(name)) headers.push(name, stored.headers[i + 1]!);
    }
    headers.push('x-cache', status, 'age', age);
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(stored.status, [...stored.headers, 'x-cache', status, 'age', age]);
  if (req.method === 'HEAD' || bodyless(stored.status)) res.end();
  else res.end(stored.body, 'latin1');
}
