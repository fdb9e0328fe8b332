// How the demo answers when an upstream could not be reached through the cache: the CacheError's
// type and the upstream's own status decide the HTTP status, and the body says which upstream failed.
import { CacheError } from '../../src/index.js';
import { HttpError } from '../router.js';
import { UpstreamError } from '../upstreams/simulate.js';

/** Turns a failure of a cached upstream call into an HttpError (429, 404, 504 or 502). */
export function upstreamFailure(error: unknown, upstream: string): unknown {
  if (!(error instanceof CacheError) && !(error instanceof UpstreamError)) return error;
  const cause = error instanceof CacheError ? error.cause : error;
  const status = cause instanceof UpstreamError ? cause.status : undefined;
  const detail = cause instanceof Error ? cause.message : String(cause);
  if (status === 429 || status === 404) return new HttpError(status, detail);
  if (error instanceof CacheError && error.type === 'TIMEOUT')
    return new HttpError(504, `${upstream} timed out`);
  const type = error instanceof CacheError ? ` (${error.type})` : '';
  return new HttpError(502, `${upstream} failed${type}: ${detail}`);
}
