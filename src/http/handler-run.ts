// One run of the handler under capture, for the HTTP cache (http-cache.ts): on a miss or a revalidation
// it holds back the client's conditional headers, sends the held response's validators instead, reads
// the answer's freshness, freshens the held response on a 304 (RFC 9111 §4.3.4), and decides what is
// stored and for how long. It is the loader every `cache.getOrSet` of the HTTP layer runs.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Cache, GetOrSetOptions, LoaderContext } from '../cache/types.js';
import { responseUnstorable, responseVary } from './cacheability.js';
import { captureResponse, type Capture, type CaptureResult, type ReplyHeaders } from './capture.js';
import { ifNoneMatchMatches, opaqueTag } from './etag.js';
import { uriTag } from './invalidate.js';
import { parseHttpDate, readFreshness, type Freshness } from './freshness.js';
import type { PathParams } from './path-pattern.js';
import type { CompiledCacheRule } from './rules.js';
import {
  asStoredResponse,
  answerHeaders,
  freshenStored,
  hasValidator,
  isStale,
  selects,
  staleness,
  toStoredResponse,
  varyOf,
  type CacheStatus,
  type RequestScheme,
  type StoredResponse,
} from './stored-response.js';

/** Told before the cache writes a reply itself (Fastify's reply, whose `hijack()` stops its own sending). */
export interface DirectReply {
  hijack(): unknown;
  /**
   * The headers the framework holds for this reply and writes to `res` only when it sends it (what
   * Fastify's earlier hooks set): this request's own, sent with a HIT as they are with a MISS.
   */
  getHeaders?(): ReplyHeaders;
}

/** Continues to the handler (connect's `next`, or a plain callback for node:http). */
export type NextFunction = (error?: unknown) => unknown;

/** What a loader returns when the response must not be shared: followers then run their own handler. */
export const PASS = Symbol('larder:http:pass');

/** A handler answered with a server error: thrown from the loader so that grace can serve stale. */
class HandlerFailedError extends Error {
  constructor(status: number) {
    super(`handler answered ${status}`);
    this.name = 'HandlerFailedError';
  }
}

/** Request headers that make a handler answer 304: a run for the cache needs the full answer. */
const CONDITIONAL_HEADERS = [
  'if-none-match',
  'if-modified-since',
  'if-match',
  'if-unmodified-since',
  'if-range',
];

/** A handler's freshness in ms when the heuristic TTL is 0 ("no expiry"): about 68 years. */
export const FOREVER = 2_147_483_647_000;

export interface CompiledRoute {
  rule: CompiledCacheRule;
  cache: Cache<unknown>;
  /** getOrSet options (TTL and tags are set by the loader): no retries (a handler is not idempotent), no
   *  refresh-ahead, soft timeout or grace (the HTTP layer reads staleness from the stored response). */
  options: GetOrSetOptions<unknown>;
  /** The same, forcing a run: a revalidation of what is held. */
  forced: GetOrSetOptions<unknown>;
  maxResponseBytes: number;
}

/** One request being served under a rule. */
export interface Serving {
  route: CompiledRoute;
  req: IncomingMessage;
  res: ServerResponse;
  next: NextFunction;
  direct: DirectReply | undefined;
  params: PathParams;
  /** The request's path (in normal form): what is stored carries its URI tag (see `uriTag`). */
  path: string;
  key: string;
  /** The scheme the request arrived by (see `StoredResponse.scheme`). */
  scheme: RequestScheme;
}

/** One run of the handler under capture, on a miss or a revalidation: what it answered and what was stored. */
export class HandlerRun {
  /** The capture's outcome; set by start(). */
  result!: Promise<CaptureResult>;
  /** What this run answers its own client with, when the cache writes the answer (stored or not). */
  answer: StoredResponse | undefined;
  /** How that answer is labelled. */
  label: CacheStatus = 'MISS';
  /** Whether the load kept `answer` in the cache (so a late reason not to keep it must remove it). */
  kept = false;
  /** The held entry is obsolete: the handler answered something that may not be kept. */
  dropHeld = false;
  /** Hands a captured response back to the cache to send (see Capture.release). */
  release: () => void = () => undefined;
  /**
   * Settles when the handler's returned promise does: with its error when it rejected, else
   * `undefined`. A handler that fails after its body passed through must still reach the error handler.
   */
  handlerError: Promise<unknown> = Promise.resolve(undefined);
  #requestTime = 0;
  /** The client's own If-None-Match, held back while the handler runs. */
  #clientIfNoneMatch: string | undefined;

  constructor(
    private readonly serving: Serving,
    private readonly clock: () => number,
    /** For a detached (background) run: how long, ms, it may take before it is failed. */
    private readonly deadline?: number,
  ) {}

  /** Runs the handler; `held` (a stale entry with a validator) makes it a conditional request. */
  start(held: StoredResponse | undefined): Promise<CaptureResult> {
    const { req, res, next, route } = this.serving;
    // The cache needs the full answer (it answers the client's own conditions itself), or a 304
    // to its own validators: the client's conditional headers are held back while the handler runs.
    const saved: [string, string | string[] | undefined][] = [];
    for (const name of CONDITIONAL_HEADERS) {
      if (req.headers[name] !== undefined) {
        saved.push([name, req.headers[name]]);
        delete req.headers[name];
      }
    }
    // Range without its If-Range would get a part of the current representation, which the client
    // splices into an older one (RFC 9110 §13.1.5): the handler answers in full instead.
    if (req.headers.range !== undefined && saved.some(([name]) => name === 'if-range')) {
      saved.push(['range', req.headers.range]);
      delete req.headers.range;
    }
    const own = saved.find(([name]) => name === 'if-none-match')?.[1];
    this.#clientIfNoneMatch = Array.isArray(own) ? own.join(', ') : own;
    if (held !== undefined) {
      if (held.handlerEtag) req.headers['if-none-match'] = held.etag;
      if (held.lastModified !== undefined) req.headers['if-modified-since'] = held.lastModified;
    }
    const restore = (): void => {
      delete req.headers['if-none-match'];
      delete req.headers['if-modified-since'];
      for (const [name, value] of saved) req.headers[name] = value;
    };
    try {
      this.#requestTime = this.clock();
      const capture = runCaptured(
        res,
        next,
        route.maxResponseBytes,
        this.deadline,
        this.serving.direct?.getHeaders?.(),
      );
      this.result = capture.result;
      this.release = capture.release;
      this.handlerError = capture.handlerError;
    } catch (error) {
      // The handler never ran: the request goes on (to an error handler) with the headers it came with.
      restore();
      this.result = Promise.resolve({ outcome: 'failed', error });
      throw error;
    }
    void this.result.then(restore);
    return this.result;
  }

  /** The getOrSet loader: a storable answer is cached; a 5xx or a throw fails the load so a stale one can answer. */
  async load(ctx: LoaderContext<unknown>): Promise<unknown> {
    const { rule } = this.serving.route;
    const held = asStoredResponse(ctx.stale);
    // Only the variant this request would be answered with is revalidated by its validators.
    const conditional =
      held !== undefined &&
      !rule.ignoreOrigin &&
      hasValidator(held) &&
      selects(held, this.serving.req, this.serving.scheme)
        ? held
        : undefined;
    const result = await this.start(conditional);
    if (result.outcome === 'failed') throw result.error;
    if (result.outcome !== 'captured') return this.#pass(ctx, held);
    const response = result.response;
    const responseTime = this.clock();
    let stored: StoredResponse;
    if (response.status === 304 && conditional !== undefined) {
      if (!validates(response.headers, conditional)) {
        // A 304 naming another validator is about another representation: it updates no held
        // response (RFC 9111 §4.3.4), and is no answer to this request, which the handler answers
        // once. The held response goes, so the next request gets the handler's full answer.
        const etag = response.headers.etag;
        // The client's own copy is the one the 304 names: "not modified" is its answer, as it is.
        if (typeof etag === 'string' && ifNoneMatchMatches(this.#clientIfNoneMatch, etag))
          return this.#pass(ctx, held);
        // Else the held response, where it may be served stale (as when the handler fails), or a 502:
        // a cache must not serve a stale response nothing permits (RFC 9111 §4.2.4).
        if (mayServeOnError(rule, conditional, responseTime)) {
          this.answer = conditional;
          this.label = 'STALE';
        } else this.answer = badGateway(responseTime, this.serving.scheme);
        return this.#pass(ctx, held);
      }
      // The held response is still valid: freshen it with the 304's headers (RFC 9111 §4.3.4).
      stored = freshenStored(
        conditional,
        answerHeaders(response),
        responseTime,
        (headers) => this.#freshness(200, headers, responseTime) ?? { ...NO_FRESHNESS, initialAge: 0 },
      );
      // The 304's Vary replaces the stored one: record this request's values of what it names (the
      // held response was selected for this request), or a newly varied header would not be compared.
      stored = withVary(stored, varyOf(this.serving.req, responseVary(storedHeaders(stored), rule)));
      this.answer = stored;
      this.label = 'REVALIDATED';
      const cookie = response.headers['set-cookie'];
      if (cookie !== undefined) {
        // Like a 200 that sets a cookie: this client gets it with the held body, and nothing is kept
        // (freshenStored drops Set-Cookie, so the merged headers below would no longer show it).
        this.answer = { ...stored, headers: [...stored.headers, 'set-cookie', headerList(cookie)] };
        return this.#pass(ctx, held);
      }
      const merged = storedHeaders(stored);
      if (
        responseUnstorable(stored.status, merged, rule, this.#freshness(stored.status, merged, responseTime))
      )
        return this.#pass(ctx, held);
    } else {
      if (response.status >= 500) throw new HandlerFailedError(response.status);
      const freshness = this.#freshness(response.status, response.headers, responseTime);
      if (responseUnstorable(response.status, response.headers, rule, freshness) !== undefined)
        return this.#pass(ctx, held);
      stored = toStoredResponse(
        response,
        responseTime,
        freshness!,
        varyOf(this.serving.req, responseVary(response.headers, rule)),
        this.serving.scheme,
      );
      this.answer = stored;
    }
    const ttl = this.#keepFor(stored);
    if (ttl === undefined) {
      // Stale on arrival with nothing to revalidate it by: answer it, keep nothing.
      this.answer = stored;
      return this.#pass(ctx, held);
    }
    ctx.setTtl(ttl);
    ctx.setTags(this.#tags());
    this.kept = true;
    return stored;
  }

  /** Nothing to share: the waiting requests run their own handlers. */
  #pass(ctx: LoaderContext<unknown>, held: StoredResponse | undefined): unknown {
    if (held !== undefined) this.dropHeld = true;
    ctx.skip();
    return PASS;
  }

  #freshness(status: number, headers: OutgoingHttpHeaders, responseTime: number): Freshness | undefined {
    const { rule, cache } = this.serving.route;
    let heuristic: number | undefined;
    if (rule.heuristic !== 'never' || rule.ignoreOrigin) {
      heuristic = rule.statusTtl.get(status) ?? rule.ttl ?? cache.ttl;
      if (heuristic === 0) heuristic = FOREVER;
    }
    return readFreshness(
      headers,
      {
        heuristic,
        fromLastModified: rule.heuristic === 'last-modified',
        ignoreOrigin: rule.ignoreOrigin,
        targeted: rule.targetedFields,
      },
      this.#requestTime,
      responseTime,
    );
  }

  /**
   * How long the cache keeps it, ms (0 = no expiry): while fresh, then as long as it may still be served
   * or revalidated; `undefined` when it is of no further use (stale, and nothing allows serving it).
   */
  #keepFor(stored: StoredResponse): number | undefined {
    const { rule, cache } = this.serving.route;
    const freshLeft = Math.max(0, stored.lifetime - stored.initialAge);
    let extra = Math.max(stored.staleWhileRevalidate, stored.staleIfError);
    if (!stored.mustRevalidate && rule.grace !== undefined) extra = Math.max(extra, rule.grace);
    if (hasValidator(stored)) extra = Math.max(extra, rule.keep ?? rule.ttl ?? cache.ttl);
    const total = freshLeft + extra;
    if (total <= 0) return undefined;
    return total >= FOREVER ? 0 : Math.ceil(total);
  }

  /** The rule's tags filled from the params, and the URI tag a write to the path invalidates by. */
  #tags(): string[] {
    const { route, params, path } = this.serving;
    const tags = route.rule.tags.map((t) => t.render(params));
    tags.push(uriTag(path));
    return tags;
  }
}

const NO_FRESHNESS: Freshness = {
  lifetime: 0,
  initialAge: 0,
  explicit: false,
  mustRevalidate: true,
  staleWhileRevalidate: 0,
  staleIfError: 0,
  public: false,
};

/**
 * Whether a 304 may freshen `held` (RFC 9111 §4.3.4): its ETag is the one `held` has from the handler
 * (a strong one compared strongly, a weak one weakly: `W/"x"` names `"x"` and `W/"x"`); without an
 * ETag, its Last-Modified, when both have one, is the held one; with neither, it names no other.
 */
function validates(headers: OutgoingHttpHeaders, held: StoredResponse): boolean {
  const etag = headers.etag;
  if (typeof etag === 'string' && etag !== '') {
    if (!held.handlerEtag) return false;
    if (!etag.startsWith('W/')) return held.etag === etag;
    return opaqueTag(held.etag) === opaqueTag(etag);
  }
  const lastModified = headers['last-modified'];
  if (typeof lastModified !== 'string' || held.lastModified === undefined) return true;
  return parseHttpDate(lastModified) === parseHttpDate(held.lastModified);
}

/** Whether a stale response may answer instead of a failed handler: stale-if-error, or the rule's grace. */
export function mayServeOnError(rule: CompiledCacheRule, stored: StoredResponse, now: number): boolean {
  if (!isStale(stored, now)) return true;
  if (stored.mustRevalidate) return false;
  return staleness(stored, now) < Math.max(stored.staleIfError, rule.grace ?? 0);
}

/** The answer to a request the handler answered with a 304 for another representation (not stored). */
function badGateway(now: number, scheme: RequestScheme): StoredResponse {
  const body = Buffer.from('Bad Gateway: the handler answered 304 for another representation\n');
  const headers = { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' };
  return toStoredResponse({ status: 502, headers, body }, now, NO_FRESHNESS, undefined, scheme);
}

/** `stored` with `vary` in place of its own (none when `undefined`). */
function withVary(stored: StoredResponse, vary: StoredResponse['vary']): StoredResponse {
  const { vary: _held, ...rest } = stored;
  return vary === undefined ? rest : { ...rest, vary };
}

/** A header value as a stored response lists it. */
function headerList(value: string | string[] | number): string | string[] {
  return Array.isArray(value) ? [...value] : String(value);
}

/** A stored response's headers as node:http's header object (for re-reading its freshness). */
function storedHeaders(stored: StoredResponse): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (let i = 0; i < stored.headers.length; i += 2)
    out[stored.headers[i] as string] = stored.headers[i + 1]!;
  return out;
}

/** A background run that outlived its deadline: it is failed, so the key's flight ends. */
export class BackgroundTimeoutError extends Error {
  constructor(ms: number) {
    super(`background revalidation did not end within ${ms} ms`);
    this.name = 'BackgroundTimeoutError';
  }
}

/**
 * Starts a capture of `res` and runs the handler under it; a throw or rejection marks it failed. With
 * a `deadline` (ms) the capture is detached (the client was answered already) and fails once the
 * deadline passes: no connection close can end a detached run, and a hung one would hold its key's
 * flight, which every later request joins, forever.
 */
export function runCaptured(
  res: ServerResponse,
  next: NextFunction,
  maxResponseBytes: number,
  deadline?: number,
  preset?: ReplyHeaders,
): Capture & { handlerError: Promise<unknown> } {
  const capture = captureResponse(res, maxResponseBytes, deadline !== undefined, preset);
  if (deadline !== undefined) {
    const timer = setTimeout(() => capture.fail(new BackgroundTimeoutError(deadline)), deadline);
    timer.unref();
    void capture.result.then(() => clearTimeout(timer));
  }
  let handlerError: Promise<unknown> = Promise.resolve(undefined);
  try {
    const ran = next() as { then?: unknown } | undefined;
    if (ran !== undefined && ran !== null && typeof ran.then === 'function') {
      handlerError = (ran as Promise<unknown>).then(
        () => undefined,
        (error: unknown) => {
          capture.fail(error);
          return error ?? new Error('handler rejected');
        },
      );
    }
  } catch (error) {
    capture.fail(error);
  }
  return { ...capture, handlerError };
}
