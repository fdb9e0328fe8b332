// The response cache for node:http and connect-style stacks (`createHttpCache`): matches a request
// against the rules, answers HIT/STALE from the cache, runs the handler once per key on a miss
// (single-flight through `cache.getOrSet`, the others replaying its captured answer), and arms the
// invalidation of successful writes. The Express and Fastify adapters drive this same core.
import { coarseNow } from '../util/clock.js';
import { assertPositiveInteger } from '../util/validate.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Cache, GetOrSetOptions, LoaderContext } from '../cache/types.js';
import type { Logger } from '../observability/logger.js';
import { LogSink, errorMessage } from '../observability/log-sink.js';
import { deriveKey, splitTarget, type RequestTarget } from './cache-key.js';
import {
  readCredentialHeaders,
  requestBypass,
  responseUnstorable,
  wantsRevalidation,
} from './cacheability.js';
import { cacheDirectory, requireCache, type CacheDirectory, type CacheSource } from './cache-directory.js';
import { captureResponse, ConnectionClosedError, type CaptureResult } from './capture.js';
import { invalidateAfterWrite, type MatchedWrite } from './invalidate.js';
import { normalisePath } from './normalise-path.js';
import type { PathParams } from './path-pattern.js';
import { rulesFromConfig, type ConfigRuleOptions } from './rules-config.js';
import {
  compileCacheRules,
  compileInvalidationRules,
  matchCacheRule,
  matchInvalidationRules,
  WRITE_METHODS,
  type CacheRule,
  type CompiledCacheRule,
  type InvalidationRule,
} from './rules.js';
import {
  asStoredResponse,
  isStale,
  sendStored,
  toStoredResponse,
  type StoredResponse,
} from './stored-response.js';

/** Default limit of a stored body: larger responses pass through uncached. */
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

/** Told before the cache writes a reply itself (Fastify's reply, whose `hijack()` stops its own sending). */
export interface DirectReply {
  hijack(): unknown;
}

/** Continues to the handler (connect's `next`, or a plain callback for node:http). */
export type NextFunction = (error?: unknown) => unknown;

/**
 * Who a request is for; `undefined`/`null`/`''` = anonymous. It receives the framework's own request
 * and response (Express `Request`/`Response`, Fastify `FastifyRequest`/`FastifyReply`, node:http
 * `IncomingMessage`/`ServerResponse`), so identity your auth hook or middleware set on them is visible.
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
  /** Invalidation rules for successful writes. */
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
  /** A pino-style or console-style logger; nothing is logged by default. */
  logger?: Logger;
  /** Time source in ms (use the cache's clock in tests); default `Date.now`. */
  clock?: () => number;
}

/** The framework's own request and response, handed to `user()` and key functions (default: the raw ones). */
export interface FrameworkPair<Req, Res> {
  req: Req;
  res: Res;
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

/** What a loader returns when the response must not be shared: followers then run their own handler. */
const PASS = Symbol('larder:http:pass');

/** A handler answered with a server error: thrown from the loader so that grace can serve stale. */
class HandlerFailedError extends Error {
  constructor(status: number) {
    super(`handler answered ${status}`);
    this.name = 'HandlerFailedError';
  }
}

const OPTIONS = new Set([
  'cache',
  'rules',
  'invalidate',
  'user',
  'credentialHeaders',
  'statuses',
  'maxResponseBytes',
  'logger',
  'clock',
]);

interface CompiledRoute {
  rule: CompiledCacheRule;
  cache: Cache<unknown>;
  /** getOrSet options (tags are set by the loader): no retries (a handler is not idempotent), no refresh-ahead
   *  or soft timeout (both would need a request to run the handler for). */
  options: GetOrSetOptions<unknown>;
  maxResponseBytes: number;
}

/** Creates the response-caching middleware; bad options throw a TypeError/RangeError naming them. */
export function createHttpCache<Req = IncomingMessage, Res = ServerResponse>(
  options: HttpCacheOptions<Req, Res>,
): HttpCacheMiddleware<Req, Res> {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('createHttpCache takes an options object');
  for (const name of Object.keys(options)) {
    if (!OPTIONS.has(name)) throw new TypeError(`createHttpCache: unknown option ${JSON.stringify(name)}`);
  }
  if (options.user !== undefined && typeof options.user !== 'function') {
    throw new TypeError('user must be a function of the request');
  }
  const directory = cacheDirectory(options.cache, 'cache');
  const maxResponseBytes =
    options.maxResponseBytes === undefined
      ? DEFAULT_MAX_RESPONSE_BYTES
      : assertPositiveInteger(options.maxResponseBytes, 'maxResponseBytes', 'number of bytes');
  const rawRules = options.rules ?? [];
  const ruleList = Array.isArray(rawRules)
    ? rawRules
    : rulesFromConfig(rawRules as Record<string, ConfigRuleOptions>);
  const cacheRules = compileCacheRules(
    ruleList as readonly CacheRule<unknown>[],
    options.statuses ? { statuses: options.statuses } : {},
  );
  const writeRules = compileInvalidationRules(options.invalidate ?? []);
  const runtimes = new Map(cacheRules.map((rule) => [rule, runtimeOf(rule, directory, maxResponseBytes)]));
  for (const rule of writeRules)
    for (const name of rule.caches ?? []) requireCache(directory, name, `${rule.what}.cache`);
  const clock = options.clock ?? coarseNow;
  const userOf = options.user;
  const credentialHeaders = readCredentialHeaders(options.credentialHeaders);
  const log = new LogSink(options.logger);

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
      return serve(runtimes.get(match.rule)!, req, res, next, direct, target, match.params, own);
    }
    if (writeRules.length !== 0 && WRITE_METHODS.includes(method)) {
      const hits = matchWrite(method, splitTarget(requestUrl(req)).path);
      if (hits.length !== 0) invalidateAfterWrite(res, hits, method, directory, log);
    }
    await next();
  };

  /** The write rules a write matches under its normal path and (when spelled otherwise) its raw one. */
  function matchWrite(method: string, raw: string): MatchedWrite[] {
    const path = normalisePath(raw);
    const hits = matchInvalidationRules(writeRules, method, path);
    if (path === raw) return hits;
    // Invalidating too much is safe, too little is not: whichever spelling the handler acted on counts.
    for (const hit of matchInvalidationRules(writeRules, method, raw))
      if (!hits.some((h) => h.rule === hit.rule)) hits.push(hit);
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
    const who = userOf?.(ownReq, own === undefined ? (res as Res) : own.res);
    const user = who === undefined || who === null || who === '' ? undefined : String(who);
    if (requestBypass(req, rule, user, credentialHeaders) !== undefined) return void (await next());
    const key = deriveKey(rule, req, target, params, user, credentialHeaders, ownReq);

    // Checked before HEAD is answered from the cache, so no-cache means a fresh answer for HEAD as well.
    const revalidate = wantsRevalidation(req);
    if (req.method === 'HEAD') {
      // HEAD is answered from the GET entry; a miss or a revalidation runs the handler and stores
      // nothing, because a HEAD handler produces no body to store (the GET entry stays as it was).
      if (revalidate) return void (await next());
      const stored = asStoredResponse(await cache.get(key));
      if (stored === undefined) return void (await next());
      return replay(req, res, stored, direct);
    }

    if (revalidate) {
      // The client asked for a fresh answer: run the handler, and what it answers replaces the entry.
      const run = new HandlerRun(route, res, next, params, clock);
      const result = await run.start();
      const stored = run.store(result);
      if (stored !== undefined) {
        await cache
          .set(key, stored, { ttl: run.ttlOf(stored.status), grace: rule.grace, tags: run.tags() })
          .catch((error: unknown) => {
            log.error('Cache ERROR', {
              cache: cache.name,
              key,
              operation: 'revalidate',
              error: errorMessage(error),
            });
          });
      }
      return finishLeader(req, res, result, stored, undefined);
    }

    // The hit path allocates nothing but this loader; the HandlerRun exists only on a miss.
    let run: HandlerRun | undefined;
    let value: unknown;
    try {
      value = await cache.getOrSet(
        key,
        (ctx) => (run = new HandlerRun(route, res, next, params, clock)).load(ctx),
        route.options,
      );
    } catch {
      value = undefined;
    }
    if (run !== undefined)
      return finishLeader(
        req,
        res,
        await run.result,
        run.storedByThisRequest,
        asStoredResponse(value),
        direct,
      );
    const stored = asStoredResponse(value);
    // PASS or a failed load of another request: this request runs its own handler, uncached.
    if (stored === undefined) return void (await next());
    return replay(req, res, stored, direct);
  }

  function replay(
    req: IncomingMessage,
    res: ServerResponse,
    stored: StoredResponse,
    direct?: DirectReply,
  ): void {
    direct?.hijack();
    const now = clock();
    sendStored(req, res, stored, isStale(stored, now) ? 'STALE' : 'HIT', now);
  }

  /** The request whose handler ran: send what it produced, or the stale answer grace gave instead. */
  function finishLeader(
    req: IncomingMessage,
    res: ServerResponse,
    result: CaptureResult,
    mine: StoredResponse | undefined,
    answer: StoredResponse | undefined,
    direct?: DirectReply,
  ): void {
    const fallback = answer !== undefined && answer !== mine ? answer : undefined;
    if (result.outcome === 'passed-through') return;
    if (result.outcome === 'failed') {
      if (result.error instanceof ConnectionClosedError) return;
      if (fallback !== undefined) return replay(req, res, fallback, direct);
      throw result.error;
    }
    if (mine !== undefined) {
      // Answer exactly what a HIT will answer: the stored headers, not the handler's set on `res`
      // (merging the two through setHeader would keep one value of a repeated header).
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      return sendStored(req, res, mine, 'MISS', clock());
    }
    if (fallback !== undefined && result.response.status >= 500) return replay(req, res, fallback, direct);
    res.setHeader('x-cache', 'MISS');
    res.writeHead(result.response.status);
    res.end(result.response.body);
  }

  const middleware = ((req, res, next) => handle(req, res, next)) as HttpCacheMiddleware<Req, Res>;
  middleware.handle = handle;
  return middleware;
}

/** One run of the handler under capture, on a miss or a revalidation: what it answered and what was stored. */
class HandlerRun {
  /** The capture's outcome; set by start(). */
  result!: Promise<CaptureResult>;
  /** The stored form of the answer, when it could be stored. */
  storedByThisRequest: StoredResponse | undefined;

  constructor(
    private readonly route: CompiledRoute,
    private readonly res: ServerResponse,
    private readonly next: NextFunction,
    private readonly params: PathParams,
    private readonly clock: () => number,
  ) {}

  start(): Promise<CaptureResult> {
    return (this.result = runCaptured(this.res, this.next, this.route.maxResponseBytes));
  }

  /** The stored form of a captured answer the rule lets us keep, else `undefined`. */
  store(result: CaptureResult): StoredResponse | undefined {
    if (result.outcome !== 'captured') return undefined;
    const { rule, cache } = this.route;
    if (responseUnstorable(result.response.status, result.response.headers, rule) !== undefined)
      return undefined;
    const ttl = this.ttlOf(result.response.status) ?? cache.stats().ttl;
    return (this.storedByThisRequest = toStoredResponse(result.response, this.clock(), ttl));
  }

  /** The TTL of an answer with `status`: its own when `statusTtl` opted it in, else the rule's. */
  ttlOf(status: number): number | undefined {
    return this.route.rule.statusTtl.get(status) ?? this.route.rule.ttl;
  }

  /** The rule's tags filled from the params (rendered only when something is stored). */
  tags(): string[] | undefined {
    const { tags } = this.route.rule;
    return tags.length === 0 ? undefined : tags.map((t) => t.render(this.params));
  }

  /** The getOrSet loader: a storable answer is cached; a 5xx or a throw fails the load so grace can answer. */
  async load(ctx: LoaderContext<unknown>): Promise<unknown> {
    const result = await this.start();
    const stored = this.store(result);
    if (stored !== undefined) {
      const tags = this.tags();
      if (tags !== undefined) ctx.setTags(tags);
      const own = this.route.rule.statusTtl.get(stored.status);
      if (own !== undefined) ctx.setTtl(own);
      return stored;
    }
    if (result.outcome === 'failed') throw result.error;
    if (result.outcome === 'captured' && result.response.status >= 500)
      throw new HandlerFailedError(result.response.status);
    // Not to be shared (or already streamed): the waiting requests run their own handlers.
    ctx.skip();
    return PASS;
  }
}

/**
 * The URL rules match: connect and Express keep the full one in `originalUrl` while `url` is made
 * relative to the mount point, and keys must not collide between two mounts of one cache.
 */
function requestUrl(req: IncomingMessage): string | undefined {
  return (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url;
}

/** Starts a capture of `res` and runs the handler under it; a throw or rejection marks it failed. */
function runCaptured(
  res: ServerResponse,
  next: NextFunction,
  maxResponseBytes: number,
): Promise<CaptureResult> {
  const capture = captureResponse(res, maxResponseBytes);
  try {
    const ran = next() as { then?: unknown } | undefined;
    if (ran !== undefined && ran !== null && typeof ran.then === 'function') {
      (ran as Promise<unknown>).then(undefined, (error: unknown) => capture.fail(error));
    }
  } catch (error) {
    capture.fail(error);
  }
  return capture.result;
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
  const options: GetOrSetOptions<unknown> = { retry: false, refreshAhead: 0, timeout: { soft: 0 } };
  if (rule.ttl !== undefined) options.ttl = rule.ttl;
  if (rule.grace !== undefined) options.grace = rule.grace;
  return { rule, cache, options, maxResponseBytes: rule.maxResponseBytes ?? maxResponseBytes };
}
