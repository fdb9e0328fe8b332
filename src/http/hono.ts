// Hono adapters for Hono on Node (@hono/node-server): the response cache and the admin API as Hono
// middleware, over the node:http core on the raw request and response that @hono/node-server hands
// every request in `c.env.incoming` / `c.env.outgoing`.
//
// A Hono handler returns a web `Response`, which @hono/node-server writes to the socket after the
// middleware chain is done — too late for the core, which captures the handler's writes to the node
// response while it runs. So on a miss this middleware runs the downstream handlers, then writes the
// `Response` they produced to the node response itself, through the core's capture, and the core sends
// what it decided (MISS, or STALE in place of a 5xx). Either way the middleware answers Hono with a
// `Response` marked as already sent (@hono/node-server's `RESPONSE_ALREADY_SENT` convention) and seals
// the node response (see `seal`), so @hono/node-server writes nothing more.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Context, Env, MiddlewareHandler } from 'hono';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { LogSink, errorMessage } from '../observability/log-sink.js';
import { parseDuration } from '../util/duration.js';
import { createAdmin, type AdminOptions } from './admin/admin.js';
import { createHttpCache, DEFAULT_BACKGROUND_TIMEOUT, type HttpCacheOptions } from './http-cache.js';

/**
 * Options of {@link honoCache}: those of `createHttpCache`, where `user(c)` and key functions receive
 * Hono's `Context` (as both arguments), so what your auth middleware set with `c.set('user', …)` is
 * visible through `c.get('user')` / `c.var.user`.
 */
export type HonoCacheOptions<E extends Env = Env> = HttpCacheOptions<Context<E>, Context<E>>;

/** The node:http pair @hono/node-server puts in `c.env`, or an error saying where this adapter runs. */
function nodePair(c: Context, name: string): { incoming: IncomingMessage; outgoing: ServerResponse } {
  const env = c.env as { incoming?: IncomingMessage; outgoing?: ServerResponse } | undefined;
  if (env?.incoming === undefined || env.outgoing === undefined || env.incoming.httpVersionMajor >= 2) {
    throw new Error(
      `${name} runs on Node through @hono/node-server (HTTP/1), which puts the node:http request and ` +
        'response in c.env.incoming / c.env.outgoing; this request has none (another runtime, app.request() or HTTP/2)',
    );
  }
  return { incoming: env.incoming, outgoing: env.outgoing };
}

/** A `Response` telling @hono/node-server the node response was already written (one per request). */
function alreadySent(outgoing: ServerResponse): Response {
  const status = outgoing.statusCode >= 200 && outgoing.statusCode <= 599 ? outgoing.statusCode : 200;
  return new Response(null, { status, headers: RESPONSE_ALREADY_SENT.headers });
}

/**
 * The response cache as Hono middleware, for Hono on Node through `@hono/node-server`:
 * `app.use(honoCache({ cache, rules, invalidate, user: (c) => c.get('userId') }))`, after your
 * authentication middleware and before the routes. It needs the node:http request and response that
 * @hono/node-server passes in `c.env`, so it does not run on Workers, Deno or Bun (it throws there),
 * nor under `app.request()` or HTTP/2.
 *
 * A HIT, a 304 or a stale answer is written by the cache and skips the downstream handlers. On a miss
 * they run as usual and the `Response` they produce is written through the cache, which stores and
 * sends it. In both cases the node response is written before this middleware returns, so what a
 * middleware mounted before this one does to `c.res` after `await next()` is not sent (it sees a
 * placeholder with the status and headers that went out); mount such middleware (CORS, secure
 * headers, compression) after this one, where what it does is part of the stored response.
 */
export function honoCache<E extends Env = Env>(options: HonoCacheOptions<E>): MiddlewareHandler<E> {
  const core = createHttpCache(options);
  const log = new LogSink(options.logger);
  // How long a write's body is read on once its client went away (createHttpCache checked the option).
  const settleMs =
    options.backgroundTimeout === undefined
      ? DEFAULT_BACKGROUND_TIMEOUT
      : parseDuration(options.backgroundTimeout, 'backgroundTimeout');
  return async function larderCache(c, next) {
    const { incoming, outgoing } = nodePair(c, 'honoCache');
    let passed = false;
    let written: Promise<void> | undefined;
    try {
      await core.handle(
        incoming,
        outgoing,
        async () => {
          passed = true;
          await next();
          // Hono turned a thrown error into c.res (its onError): a 5xx the cache may answer STALE.
          written = writeResponse(outgoing, c.res, incoming.method ?? 'GET', settleMs);
          await written;
        },
        undefined,
        // The URL @hono/node-server built: https on a TLS socket, never from X-Forwarded-Proto.
        { req: c, res: c, scheme: schemeOfUrl(c.req.url) },
      );
      // A body that outgrew the capture limit is still streaming when the core is done.
      await written;
    } catch (error) {
      // Nothing written yet: Hono's error handling answers, as for any middleware that throws.
      if (!outgoing.headersSent) throw error;
      log.error('Cache ERROR', { operation: 'http', url: incoming.url, error: errorMessage(error) });
      if (!outgoing.writableEnded) outgoing.destroy();
    }
    const sent = alreadySent(outgoing);
    // The handlers finalized c.res; replace it, or @hono/node-server would write it a second time.
    if (passed) c.res = sent;
    seal(outgoing);
    return sent;
  };
}

/** The scheme of a request URL, without its `:`; `undefined` when it does not parse. */
function schemeOfUrl(url: string): string | undefined {
  const colon = url.indexOf(':');
  return colon === -1 ? undefined : url.slice(0, colon);
}

/**
 * Makes later writes to a finished node response no-ops. @hono/node-server honours the already-sent
 * mark only for a `Response` of the platform's class: one built while it serves (its lighter class
 * replaces the global `Response`: ours, the copy Hono's `c.res` setter makes, the one Hono rebuilds
 * to answer HEAD, or one a middleware above sets) takes its fast path, which writes the status and
 * headers again, and that error destroys the connection.
 */
function seal(res: ServerResponse): void {
  const callback = (args: unknown[]): void => {
    const cb = args.find((a) => typeof a === 'function') as (() => void) | undefined;
    if (cb !== undefined) process.nextTick(cb);
  };
  res.writeHead = function sealedWriteHead(this: ServerResponse) {
    return this;
  } as ServerResponse['writeHead'];
  res.flushHeaders = () => undefined;
  res.write = function sealedWrite(...args: unknown[]) {
    callback(args);
    return true;
  } as ServerResponse['write'];
  res.end = function sealedEnd(this: ServerResponse, ...args: unknown[]) {
    callback(args);
    return this;
  } as ServerResponse['end'];
}

/**
 * Writes a web `Response` to a node response (through the core's capture while the cache runs). When
 * the client of a write (any method but GET, HEAD, OPTIONS and TRACE) goes away mid-body, the body is
 * read on, unsent, until it ends (the handler that streams it is then done, and the write's
 * invalidation runs as the response ends), or for `settleMs` at most, then cancelled.
 */
async function writeResponse(
  res: ServerResponse,
  response: Response,
  method: string,
  settleMs: number,
): Promise<void> {
  const head = method === 'HEAD';
  const headers: OutgoingHttpHeaders = {};
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  res.writeHead(response.status, headers);
  const body = response.body;
  if (body === null || head) {
    await body?.cancel();
    res.end();
    return;
  }
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    // While the cache captures (and for a background revalidation, whose client has long been
    // answered) writes are buffered and take everything; only a real socket pushes back or goes away.
    if (!res.write(value)) {
      if (res.destroyed) {
        if (SAFE_METHODS.has(method)) await reader.cancel();
        else await readOn(reader, settleMs);
        // Ended all the same: what ends with the response still runs, such as a write's invalidation
        // (the client went away, the write happened).
        res.end();
        return;
      }
      await drained(res);
    }
  }
  res.end();
}

/** Methods that change nothing: their body is of no use once the client is gone. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/** Reads `reader` to its end, discarding what it reads, or cancels it after `ms`. */
async function readOn(reader: ReadableStreamDefaultReader<Uint8Array>, ms: number): Promise<void> {
  const timer = setTimeout(() => void reader.cancel().catch(() => undefined), ms);
  timer.unref();
  try {
    while (!(await reader.read()).done);
  } catch {
    // The stream failed: the handler is done with it all the same.
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves when `res` can take more (or is gone). */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * The admin API as Hono middleware (Hono on Node, like {@link honoCache}):
 * `app.use(honoAdmin({ caches, apiKey, prefix: '/api/cache' }))`. The router matches the full request
 * path, so give it the `prefix` it lives under (`app.use('/api/cache/*', honoAdmin({ …, prefix:
 * '/api/cache' }))` works too); other requests go on to the next handler. It reads request bodies from
 * the raw request, so mount it before anything that reads `c.req`'s body. `close()` releases its
 * metrics registry.
 */
export function honoAdmin<E extends Env = Env>(
  options: AdminOptions,
): MiddlewareHandler<E> & { close(): void } {
  const admin = createAdmin(options);
  const middleware: MiddlewareHandler<E> = async function larderAdmin(c, next) {
    const { incoming, outgoing } = nodePair(c, 'honoAdmin');
    let passed = false;
    await admin(incoming, outgoing, async () => {
      passed = true;
      await next();
    });
    // Passed on: the next handler's c.res is the answer, for @hono/node-server to write.
    if (passed) return;
    seal(outgoing);
    return alreadySent(outgoing);
  };
  return Object.assign(middleware, { close: () => admin.close() });
}
