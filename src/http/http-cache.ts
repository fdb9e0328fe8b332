// The response cache for node:http and connect-style stacks (`createHttpCache`): matches a request
// against the rules, answers from the cache while the stored response is fresh by its own headers
// (RFC 9111), revalidates it with the handler when stale (a conditional request; a 304 naming its
// validator freshens it), serves it stale where stale-while-revalidate, stale-if-error or the rule's
// grace allow, runs the handler once per key on a miss or revalidation (single-flight through
// `cache.getOrSet`, the others replaying its answer, or running their own after `waitTimeout`), and
// arms the invalidation of writes answered 2xx or 3xx. The Express and Fastify adapters drive this
// same core.
import { coarseNow } from '../util/clock.js';
import { assertBoolean, assertKnownOptions, assertPositiveInteger, optionNames } from '../util/validate.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Cache, GetOrSetOptions, LoaderContext } from '../cache/types.js';
import { parseDuration, type Duration } from '../util/duration.js';
import type { Logger } from '../observability/logger.js';
import { LogSink } from '../observability/log-sink.js';
import { deriveKey, keyHoldsHeaders, keyHoldsQuery, splitTarget, type RequestTarget } from './cache-key.js';
import { readCredentialHeaders, requestBypass, wantsRevalidation } from './cacheability.js';
import { cacheDirectory, requireCache, type CacheDirectory, type CacheSource } from './cache-directory.js';
import { ConnectionClosedError } from './capture.js';
import { collapseSlashes, invalidateAfterWrite, type MatchedWrite } from './invalidate.js';
import { normalisePath, routedPath, targetPath } from './normalise-path.js';
import type { PathParams } from './path-pattern.js';
import { rulesFromConfig, type ConfigRuleOptions } from './rules-config.js';
import {
  compileCacheRules,
  compileInvalidationRules,
  hasUpperCase,
  matchCacheRule,
  matchesOtherRuleIgnoringCase,
  matchInvalidationRules,
  readTargetedFields,
  WRITE_METHODS,
  type CacheRule,
  type CompiledCacheRule,
  type InvalidationRule,
} from './rules.js';
import { endShadow, shadowResponse } from './shadow.js';
import {
  asStoredResponse,
  isStale,
  selects,
  sendStored,
  staleness,
  type CacheStatus,
  type RequestScheme,
  type SendOptions,
  type StoredResponse,
} from './stored-response.js';

/** Default limit of a stored body: larger responses pass through uncached. */
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

import {
  HandlerRun,
  mayServeOnError,
  PASS,
  type CompiledRoute,
  type DirectReply,
  type NextFunction,
  type Serving,
} from './handler-run.js';

export type { DirectReply, NextFunction } from './handler-run.js';

/**
 * Who a request is for; `undefined`/`null`/`''` = anonymous, and anything but a string or a finite
 * number fails the request with a TypeError (an object or `true` would name every user alike). It
 * receives the framework's own request and response (Express `Request`/`Response`, Fastify
 * `FastifyRequest`/`FastifyReply`, node:http `IncomingMessage`/`ServerResponse`), so identity your
 * auth hook or middleware set on them is visible.
 */
export type UserFunction<Req = IncomingMessage, Res = ServerResponse> = (
  req: Req,
  res: Res,
) => string | number | undefined | null;

/** Options of {@link createHttpCache}; `Req`/`Res` are the request and response `user` and key functions see. */
export interface HttpCacheOptions<Req = IncomingMessage, Res = ServerResponse> {
  /** The cache for responses, or a manager / `{ name: Cache }` record whose caches rules pick by name. */
  cache: CacheSource;
  /** Response-caching rules, or a CACHE_RULES-style object (see `rulesFromConfig`). */
  rules?: readonly CacheRule<Req>[] | Record<string, ConfigRuleOptions>;
  /** Invalidation rules for writes that did not fail (answered 2xx, or 3xx other than 304). */
  invalidate?: readonly InvalidationRule[];
  /**
   * Who a request is for (per-user rules key by it; shared rules bypass requests that have one). Take
   * it from an identity your auth middleware verified before the cache runs, not from a header the
   * client chose: the cache answers before the handler, so it cannot check who the client is.
   */
  user?: UserFunction<Req, Res>;
  /**
   * Request headers that carry credentials (default `['authorization', 'cookie']`; the list replaces
   * the default, so add to it: `['authorization', 'cookie', 'x-api-key']`). A rule without `perUser`
   * or `shared` never stores or serves a request that has one; a `perUser` rule adds a digest of
   * their values to the key, so naming a user without that user's credentials gets a miss.
   */
  credentialHeaders?: readonly string[];
  /** Statuses that may be stored, where a rule names none (default 200, 203, 204, 301, 308; see a rule's `statusTtl`). */
  statuses?: readonly number[];
  /** Bodies larger than this many bytes pass through uncached (default 1 MiB). */
  maxResponseBytes?: number;
  /**
   * Targeted Cache-Control fields (RFC 9213) this cache obeys in place of Cache-Control, first present
   * wins: default `['cdn-cache-control']`; `['larder-cache-control', 'cdn-cache-control']` lets a
   * handler address Larder alone; `false` obeys Cache-Control only. `private` and `no-store` in either
   * field always keep a response out.
   */
  targetedCacheControl?: readonly string[] | false;
  /**
   * After a successful unsafe request (any method but GET, HEAD, OPTIONS and TRACE, answered 2xx or 3xx),
   * invalidate what is stored for its URI and for the same-host URIs in its `Location` and
   * `Content-Location` (RFC 9111 §4.4), in every cache, on top of the `invalidate` rules. Default true.
   */
  invalidateOnWrite?: boolean;
  /** A pino-style or console-style logger; nothing is logged by default. */
  logger?: Logger;
  /** Time source in ms (use the cache's clock in tests); default `Date.now`. */
  clock?: () => number;
  /**
   * How long a request waits for another request's handler run of the same key (request collapsing)
   * before it runs its own handler, uncached (default `'5s'`, like nginx's proxy_cache_lock_timeout):
   * one hung handler then delays the others by this much, not forever. The waited-for run goes on.
   */
  waitTimeout?: Duration;
  /**
   * How long a stale-while-revalidate background run may take before it is failed and the entry left
   * as it was (default `'30s'`): no client waits on it, so nothing else would end a hung one. Also how
   * long a write whose client went away before its response ended (a streamed body cut off) is given to
   * finish, where its end cannot be seen, before it is invalidated once more.
   */
  backgroundTimeout?: Duration;
}

/** The framework's own request and response, handed to `user()` and key functions (default: the raw ones). */
export interface FrameworkPair<Req, Res> {
  req: Req;
  res: Res;
  /**
   * The scheme the request arrived by as the framework reads it, its trusted-proxy setting honoured
   * (Express `req.protocol`, Fastify `request.protocol`, Koa `ctx.protocol`): a stored answer is
   * reused only for requests of its own scheme. Default: `https` on a TLS socket, else `http` (the
   * client's X-Forwarded-Proto is never read: it would let a client plant an answer for the other
   * scheme). A request whose scheme is neither `http` nor `https` is neither served nor stored.
   */
  scheme?: string;
}

/** The middleware: `(req, res, next)`, resolving once the request has been answered or handed on. */
export interface HttpCacheMiddleware<Req = IncomingMessage, Res = ServerResponse> {
  (req: IncomingMessage, res: ServerResponse, next: NextFunction): Promise<void>;
  /**
   * The same, for adapters: `direct.hijack()` is called right before the cache writes to `res` without
   * running the handler (Fastify hijacks its reply there), and `own` is the framework's request and
   * response that `user()` and key functions receive instead of the raw ones.
   */
  handle(
    req: IncomingMessage,
    res: ServerResponse,
    next: NextFunction,
    direct?: DirectReply,
    own?: FrameworkPair<Req, Res>,
  ): Promise<void>;
}

/** Methods that never change anything on the origin (RFC 9110 §9.2.1); any other invalidates its URI. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

const OPTIONS = optionNames<HttpCacheOptions>({
  cache: true,
  rules: true,
  invalidate: true,
  user: true,
  credentialHeaders: true,
  statuses: true,
  maxResponseBytes: true,
  targetedCacheControl: true,
  invalidateOnWrite: true,
  logger: true,
  clock: true,
  waitTimeout: true,
  backgroundTimeout: true,
});

/** Default of `waitTimeout`, ms. */
export const DEFAULT_WAIT_TIMEOUT = 5_000;

/** Default of `backgroundTimeout`, ms. */
export const DEFAULT_BACKGROUND_TIMEOUT = 30_000;

/** Creates the response-caching middleware; bad options throw a TypeError/RangeError naming them. */
export function createHttpCache<Req = IncomingMessage, Res = ServerResponse>(
  options: HttpCacheOptions<Req, Res>,
): HttpCacheMiddleware<Req, Res> {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('createHttpCache takes an options object');
  assertKnownOptions(options, OPTIONS, 'createHttpCache');
  if (options.user !== undefined && typeof options.user !== 'function') {
    throw new TypeError('user must be a function of the request');
  }
  const directory = cacheDirectory(options.cache, 'cache');
  const maxResponseBytes =
    options.maxResponseBytes === undefined
      ? DEFAULT_MAX_RESPONSE_BYTES
      : assertPositiveInteger(options.maxResponseBytes, 'maxResponseBytes', 'number of bytes');
  const invalidateOnWrite =
    options.invalidateOnWrite === undefined
      ? true
      : assertBoolean(options.invalidateOnWrite, 'invalidateOnWrite');
  const rawRules = options.rules ?? [];
  const ruleList = Array.isArray(rawRules)
    ? rawRules
    : rulesFromConfig(rawRules as Record<string, ConfigRuleOptions>);
  const cacheRules = compileCacheRules(ruleList as readonly CacheRule<unknown>[], {
    ...(options.statuses ? { statuses: options.statuses } : {}),
    targetedFields: readTargetedFields(options.targetedCacheControl),
  });
  const writeRules = compileInvalidationRules(options.invalidate ?? []);
  // Whether a lower-case path can match a rule only ignoring case (a rule spelled with capitals).
  const foldCase = cacheRules.some(hasUpperCase);
  const runtimes = new Map(cacheRules.map((rule) => [rule, runtimeOf(rule, directory, maxResponseBytes)]));
  for (const rule of writeRules)
    for (const name of rule.caches ?? []) requireCache(directory, name, `${rule.what}.cache`);
  if (options.clock !== undefined && typeof options.clock !== 'function') {
    throw new TypeError(`clock must be a function returning the time in ms, got ${typeof options.clock}`);
  }
  const clock = options.clock ?? coarseNow;
  const waitTimeout = positiveDuration(options.waitTimeout, 'waitTimeout', DEFAULT_WAIT_TIMEOUT);
  const backgroundTimeout = positiveDuration(
    options.backgroundTimeout,
    'backgroundTimeout',
    DEFAULT_BACKGROUND_TIMEOUT,
  );
  const userOf = options.user;
  const credentialHeaders = readCredentialHeaders(options.credentialHeaders);
  const log = new LogSink(options.logger);
  /** Keys whose stale-while-revalidate run is under way (one per key; the others answer stale). */
  const revalidating = new Set<string>();

  const handle = async (
    req: IncomingMessage,
    res: ServerResponse,
    next: NextFunction,
    direct?: DirectReply,
    own?: FrameworkPair<Req, Res>,
  ): Promise<void> => {
    const method = req.method ?? 'GET';
    if (method === 'GET' || method === 'HEAD') {
      if (cacheRules.length === 0) return void (await next());
      const target = splitTarget(requestUrl(req));
      const path = normalisePath(target.path);
      const match = matchCacheRule(cacheRules, method, path);
      if (match === undefined) return void (await next());
      // A path spelled otherwise than its normal form is neither served nor stored: the handler may
      // route it unlike the normal form (keying its answer there would let a client plant it for all),
      // and a raw key would be out of reach of the invalidation patterns written for the normal form.
      if (path !== target.path) return void (await next());
      // An empty segment (`/api//items`) is a spelling too: Fastify's ignoreDuplicateSlashes routes it
      // like `/api/items`, and an entry keyed by it would be out of reach of that path's invalidation.
      if (path.includes('//')) return void (await next());
      // So is a `;` or `#` (see routedPath): a router may route `/me;x` or `/me#x` as `/me`, whose
      // answer must not be keyed, or invalidated, as that of another path.
      if (routedPath(path) !== path) return void (await next());
      // A spelling that reaches another rule once case is ignored may be routed to that rule's handler.
      if (
        (foldCase || path !== path.toLowerCase()) &&
        matchesOtherRuleIgnoringCase(cacheRules, method, path, match.rule)
      )
        return void (await next());
      return serve(runtimes.get(match.rule)!, req, res, next, direct, target, match.params, own);
    }
    // A write in absolute-form (`DELETE http://host/a`) is routed by its path: it invalidates by it too.
    const writePath = targetPath(splitTarget(requestUrl(req)).path);
    const hits =
      writeRules.length !== 0 && WRITE_METHODS.includes(method) ? matchWrite(method, writePath) : [];
    const uri =
      invalidateOnWrite && cacheRules.length !== 0 && !SAFE_METHODS.has(method)
        ? {
            req,
            // Entries are stored for paths without `;` or `#` only: this is the one a router acts on.
            path: normalisePath(routedPath(writePath)),
            covered: isCached,
          }
        : undefined;
    for (const hit of hits) if (hit.rule.usesUser) hit.user = userFor(req, res, own);
    const watch =
      hits.length !== 0 || uri !== undefined
        ? invalidateAfterWrite(res, hits, method, directory, log, uri, backgroundTimeout)
        : undefined;
    const ran = next();
    // A handler whose promise the adapter passes on (Koa's downstream, Hono's route) is seen to finish:
    // a write whose client went away is invalidated again then (see invalidateAfterWrite).
    if (watch === undefined || !isThenable(ran)) return void (await ran);
    try {
      await ran;
    } finally {
      watch.handlerSettled();
    }
  };

  /** Whether a GET of `path` is cached by some rule, letter case ignored (a write is invalidated conservatively). */
  function isCached(path: string): boolean {
    return matchCacheRule(cacheRules, 'GET', path, true) !== undefined;
  }

  /** Who a request is for (`user()` on the framework's pair), `undefined` when anonymous. */
  function userFor(req: IncomingMessage, res: ServerResponse, own: FrameworkPair<Req, Res> | undefined) {
    if (userOf === undefined) return undefined;
    const who: unknown = own === undefined ? userOf(req as Req, res as Res) : userOf(own.req, own.res);
    if (who === undefined || who === null || who === '') return undefined;
    // Anything else would print alike for every user (`[object Object]`, `true`, `NaN`): one key for all.
    if (typeof who === 'string' || (typeof who === 'number' && Number.isFinite(who))) return String(who);
    throw new TypeError(
      `user() must return a string, a finite number, null or undefined, got ${typeof who === 'number' ? String(who) : typeof who}`,
    );
  }

  /** The write rules a write matches under its normal path and (when spelled otherwise) its raw one. */
  function matchWrite(method: string, raw: string): MatchedWrite[] {
    const path = normalisePath(raw);
    const hits = matchInvalidationRules(writeRules, method, path);
    // Invalidating too much is safe, too little is not: whichever spelling the handler acted on counts,
    // the raw one, (for a router that ignores duplicate slashes) the one without empty segments and
    // the one before a `;` or `#` that a router reads as the end of the path.
    const routed = collapseSlashes(normalisePath(routedPath(raw)));
    for (const spelling of new Set([raw, collapseSlashes(path), routed]))
      if (spelling !== path)
        for (const hit of matchInvalidationRules(writeRules, method, spelling))
          // One rule may match two spellings with other params (`/items/1;x` and `/items/1`): both go.
          if (!hits.some((h) => h.rule === hit.rule && sameParams(h.params, hit.params))) hits.push(hit);
    return hits;
  }

  async function serve(
    route: CompiledRoute,
    req: IncomingMessage,
    res: ServerResponse,
    next: NextFunction,
    direct: DirectReply | undefined,
    target: RequestTarget,
    params: PathParams,
    own: FrameworkPair<Req, Res> | undefined,
  ): Promise<void> {
    const { rule, cache } = route;
    if (!cache.enabled) return void (await next());
    // Without an adapter the raw pair is the framework's (node:http), so Req/Res default to them.
    const ownReq = own === undefined ? (req as Req) : own.req;
    const user = userFor(req, res, own);
    if (requestBypass(req, rule, user, credentialHeaders) !== undefined) return void (await next());
    // A scheme a trusted proxy named that is neither http nor https: a handler building links from it
    // answers it its own way, and each such value would replace the entry the others share.
    const scheme = schemeOf(req, own?.scheme);
    if (scheme === undefined) return void (await next());
    // A query or varied header the key would read unlike the handler is neither served nor stored (cache-key.ts).
    if (!keyHoldsQuery(rule, target.query, params) || !keyHoldsHeaders(rule, req)) return void (await next());
    const key = deriveKey(rule, req, target, params, user, credentialHeaders, ownReq);
    const serving: Serving = { route, req, res, next, direct, params, path: target.path, key, scheme };
    // A client's no-cache revalidates only where the rule lets it (single-flight, like a miss).
    const clientRevalidates = rule.requestNoCache === 'revalidate' && wantsRevalidation(req);

    if (req.method === 'HEAD') {
      // HEAD is answered from the GET entry while it may be served; otherwise the handler runs and
      // nothing is stored, because a HEAD handler produces no body to store (the GET entry stays).
      if (clientRevalidates) return void (await next());
      const stored = asStoredResponse(await cache.get(key));
      const now = clock();
      if (stored === undefined || !selects(stored, req, scheme)) return void (await next());
      if (isStale(stored, now) && !mayServeWhileRevalidating(stored, now)) return void (await next());
      return replay(serving, stored, isStale(stored, now) ? 'STALE' : 'HIT');
    }
    if (clientRevalidates) return revalidate(serving);

    // The HandlerRun exists only on a miss.
    const { run, value, gaveUp } = await throughFlight(serving, route.options);
    // Another request's run outlasted waitTimeout: this one runs its own handler, uncached.
    if (gaveUp) return void (await next());
    if (run !== undefined) return finishRun(serving, run, asStoredResponse(value));
    const stored = asStoredResponse(value);
    // PASS or a failed load of another request: this request runs its own handler, uncached.
    if (stored === undefined) return void (await next());
    // Another variant of the response (by Vary or scheme): this request's own replaces it (one variant per key).
    if (!selects(stored, req, scheme)) return revalidate(serving);
    const now = clock();
    if (!isStale(stored, now)) return replay(serving, stored, 'HIT');
    if (mayServeWhileRevalidating(stored, now)) return serveStaleAndRevalidate(serving, stored);
    return revalidate(serving);
  }

  /** Revalidates what is held for the key with the handler (one run per key at a time), then answers. */
  async function revalidate(serving: Serving): Promise<void> {
    const { route } = serving;
    const { run, value, gaveUp } = await throughFlight(serving, route.forced);
    if (gaveUp) return void (await serving.next());
    if (run !== undefined) return finishRun(serving, run, asStoredResponse(value));
    const stored = asStoredResponse(value);
    // Nothing shareable, or another request's variant: run this request's own handler, uncached.
    if (stored === undefined || !selects(stored, serving.req, serving.scheme))
      return void (await serving.next());
    const now = clock();
    if (!isStale(stored, now)) return replay(serving, stored, 'HIT');
    // The run this request waited for failed, and the fail-safe answered what was held.
    if (mayServeOnError(route.rule, stored, now)) return replay(serving, stored, 'STALE');
    return void (await serving.next());
  }

  /**
   * stale-while-revalidate (RFC 5861 §3): the client gets the stale answer now, and, unless a
   * revalidation of the key is already under way, the handler then runs for this same request in the
   * background, into a shadowed response, and its answer replaces the entry.
   */
  async function serveStaleAndRevalidate(serving: Serving, stored: StoredResponse): Promise<void> {
    const { route, key, res } = serving;
    if (revalidating.has(key)) return replay(serving, stored, 'STALE');
    revalidating.add(key);
    try {
      sendStored(serving.req, res, stored, sendOptions(route.rule, 'STALE', clock()));
      shadowResponse(res);
      // A failed background run (or one past backgroundTimeout) leaves the entry as it was; the next
      // request past the window revalidates.
      const { run } = await throughFlight(serving, route.forced, backgroundTimeout);
      // Another request's revalidation answered (or was not waited for): this request's handler never
      // ran, so the framework is done.
      if (run === undefined) serving.direct?.hijack();
      else if (run.dropHeld) await route.cache.delete(key).catch(() => undefined);
      endShadow(res);
    } finally {
      revalidating.delete(key);
    }
  }

  /**
   * Loads the key through the cache's single flight (`cache.getOrSet`): this request's handler runs
   * when it leads (`deadline`: as a background run, failed after that many ms). Following another
   * request's run, it waits at most `waitTimeout`, then gives up on it (`gaveUp`; that run goes on).
   * A load that fails answers `value: undefined`.
   */
  function throughFlight(
    serving: Serving,
    options: GetOrSetOptions<unknown>,
    deadline?: number,
  ): Promise<{ run: HandlerRun | undefined; value: unknown; gaveUp: boolean }> {
    let run: HandlerRun | undefined;
    let gaveUp = false;
    let settled = false;
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const giveUp = () => {
        // Leading: the handler's own end, or its client's close, ends the wait.
        if (run !== undefined) return;
        gaveUp = true;
        resolve({ run: undefined, value: undefined, gaveUp });
      };
      const loader = (ctx: LoaderContext<unknown>) => {
        // This request gave up waiting and runs its handler itself: it leads no run for others.
        if (gaveUp) {
          ctx.skip();
          return PASS;
        }
        return (run = new HandlerRun(serving, clock, deadline)).load(ctx);
      };
      const settle = (value: unknown) => {
        settled = true;
        if (timer !== undefined) clearTimeout(timer);
        if (!gaveUp) resolve({ run, value, gaveUp });
      };
      serving.route.cache.getOrSet(serving.key, loader, options).then(settle, () => settle(undefined));
      // A hit has settled by the next microtask (its reaction was queued first): only a wait on a run,
      // or on L2, arms the timer, so hits cost no timer.
      queueMicrotask(() => {
        if (settled || run !== undefined) return;
        timer = setTimeout(giveUp, waitTimeout);
        timer.unref();
      });
    });
  }

  function replay(serving: Serving, stored: StoredResponse, status: CacheStatus): void {
    const { direct, res } = serving;
    // This request's own headers from hooks ahead of the cache, which the framework would have sent
    // with its reply (stored headers of the same name win, as they do over middleware's on `res`).
    const own = direct?.getHeaders?.();
    direct?.hijack();
    if (own !== undefined)
      for (const [name, value] of Object.entries(own)) if (value !== undefined) res.setHeader(name, value);
    sendStored(serving.req, res, stored, sendOptions(serving.route.rule, status, clock()));
  }

  /** The request whose handler ran: send what it produced, or the stale answer the fail-safe gave. */
  async function finishRun(
    serving: Serving,
    run: HandlerRun,
    answer: StoredResponse | undefined,
  ): Promise<void> {
    const { req, res, route } = serving;
    const result = await run.result;
    // The held entry answered an unstorable new response: it is obsolete.
    if (run.dropHeld) await route.cache.delete(serving.key).catch(() => undefined);
    // What the handler wrote after its end went nowhere; from here the cache writes the answer.
    run.release();
    if (result.outcome === 'passed-through') {
      // The body streamed on to the client; a failure of the handler after that is still its error,
      // for the error handler to end (or destroy) the response, which would otherwise stay open.
      const error = await run.handlerError;
      if (error !== undefined) throw error;
      return;
    }
    // Only a held answer this request could have been given (its variant, its scheme) stands in for it.
    const fallback =
      answer !== undefined &&
      answer !== run.answer &&
      selects(answer, req, serving.scheme) &&
      mayServeOnError(route.rule, answer, clock())
        ? answer
        : undefined;
    if (result.outcome === 'failed') {
      if (result.error instanceof ConnectionClosedError) return;
      if (fallback !== undefined) return replay(serving, fallback, 'STALE');
      throw result.error;
    }
    if (run.answer !== undefined) {
      // Answer exactly what a HIT will answer: the stored headers, not the handler's set on `res`
      // (merging the two through setHeader would keep one value of a repeated header), over this
      // request's own that were set before the handler ran and are not stored.
      const preset = result.response.preset;
      for (const name of res.getHeaderNames()) if (preset?.has(name) !== true) res.removeHeader(name);
      sendStored(req, res, run.answer, sendOptions(route.rule, run.label, clock()));
      // A stored answer never holds a cookie, and one set before the handler ran kept it out of the
      // cache: a cookie on `res` now was set by a writeHead hook as the answer went out (express-session
      // and cookie-session write theirs from on-headers, once the handler touched the session), so the
      // body may be that visitor's (a CSRF token). A response that sets a cookie is never kept.
      if (run.kept && res.getHeader('set-cookie') !== undefined)
        await route.cache.delete(serving.key).catch(() => undefined);
      return;
    }
    if (fallback !== undefined && result.response.status >= 500) return replay(serving, fallback, 'STALE');
    // The headers the handler had set when it ended: what it sets after (a Content-Length that no
    // longer matches the body would break the connection's framing) is not part of its answer.
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    for (const [name, value] of Object.entries(result.response.headers))
      if (value !== undefined) res.setHeader(name, value);
    res.setHeader('x-cache', 'MISS');
    res.writeHead(result.response.status);
    res.end(result.response.body);
  }

  const middleware = ((req, res, next) => handle(req, res, next)) as HttpCacheMiddleware<Req, Res>;
  middleware.handle = handle;
  return middleware;
}

/** Whether two matches captured the same params. */
function sameParams(a: PathParams, b: PathParams): boolean {
  const names = Object.keys(a);
  return names.length === Object.keys(b).length && names.every((name) => a[name] === b[name]);
}

/** Whether `value` is a promise (or another thenable). */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** A duration option that must be more than 0 ms, or its default. */
function positiveDuration(value: Duration | undefined, what: string, fallback: number): number {
  if (value === undefined) return fallback;
  const ms = parseDuration(value, what);
  if (ms <= 0) throw new RangeError(`${what} must be more than 0 ms, got ${JSON.stringify(value)}`);
  return ms;
}

function sendOptions(rule: CompiledCacheRule, status: CacheStatus, now: number): SendOptions {
  return { status, now, clientCacheControl: rule.clientCacheControl };
}

/** Whether a stale response may be served while one background run revalidates it (RFC 5861 §3). */
function mayServeWhileRevalidating(stored: StoredResponse, now: number): boolean {
  return !stored.mustRevalidate && staleness(stored, now) < stored.staleWhileRevalidate;
}

/**
 * The scheme a request arrived by: the framework's (`named`, which honours its trusted-proxy setting)
 * when the adapter knows it, else that of the connection; `undefined` when it is neither http nor https.
 */
function schemeOf(req: IncomingMessage, named: string | undefined): RequestScheme | undefined {
  if (named === undefined)
    return (req.socket as { encrypted?: boolean } | null)?.encrypted ? 'https' : 'http';
  const scheme = typeof named === 'string' ? named.toLowerCase() : '';
  return scheme === 'http' || scheme === 'https' ? scheme : undefined;
}

/**
 * The URL rules match: connect and Express keep the full one in `originalUrl` while `url` is made
 * relative to the mount point, and keys must not collide between two mounts of one cache.
 */
function requestUrl(req: IncomingMessage): string | undefined {
  return (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url;
}

function runtimeOf(
  rule: CompiledCacheRule,
  directory: CacheDirectory,
  maxResponseBytes: number,
): CompiledRoute {
  let cache: Cache<unknown>;
  if (rule.cache !== undefined) cache = requireCache(directory, rule.cache, `${rule.what}.cache`);
  else if (directory.single !== undefined) cache = directory.single;
  else throw new TypeError(`${rule.what}.cache must name a cache when \`cache\` is a manager or a record`);
  const options: GetOrSetOptions<unknown> = {
    retry: false,
    refreshAhead: 0,
    timeout: { soft: 0 },
    grace: 0,
  };
  if (rule.ttl !== undefined) options.ttl = rule.ttl;
  return {
    rule,
    cache,
    options,
    forced: { ...options, forceFresh: true },
    maxResponseBytes: rule.maxResponseBytes ?? maxResponseBytes,
  };
}
