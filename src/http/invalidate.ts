// Invalidation of keys, tags and patterns across caches, with counts. One function serves both the
// write rules (after a POST/PUT/PATCH/DELETE answered 2xx or 3xx) and the admin API's `POST invalidate`.
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { headerValue } from './cache-key.js';
import { swallowWrite } from './capture.js';
import { normalisePath, routedPath } from './normalise-path.js';
import type { Cache } from '../cache/types.js';
import { errorMessage, type LogSink } from '../observability/log-sink.js';
import { requireCache, type CacheDirectory } from './cache-directory.js';
import type { PathParams } from './path-pattern.js';
import { USER_PLACEHOLDER, type CompiledInvalidationRule } from './rules.js';
import type { Template } from './template.js';
import { since } from '../util/time.js';

/** What to invalidate. */
export interface InvalidationTargets {
  /** Exact keys; a number is the number key (`123` and `'123'` are different keys). */
  keys?: readonly (string | number)[];
  tags?: readonly string[];
  patterns?: readonly string[];
}

/**
 * How many entries went, by kind, summed over the caches. Each entry counts once, for the first kind
 * that removed it (patterns, then keys, then tags): `total` is the number of distinct entries removed.
 */
export interface InvalidationCounts {
  keys: number;
  tags: number;
  patterns: number;
  total: number;
}

/**
 * Invalidates `targets` in every cache of `caches`; resolves with the counts. Repeated keys, tags,
 * patterns and caches are taken once. In each cache the patterns go first, one after another, then
 * the keys in one `deleteMany` (one L2 round trip and one bus message for all of them), then the tags,
 * so that an entry two of them reach is removed, and counted, by the first: run side by side, each
 * counted it. In that order because a shared tier's pattern delete counts every key it removes, the
 * tombstones a key delete leaves included, while a key delete counts only live values it replaced,
 * and a tag invalidation counts what it removes from memory only (in the shared tier the tag's time
 * hides the rest, where a later pattern would find and count them again).
 */
export async function invalidateIn(
  caches: readonly Cache<unknown>[],
  targets: InvalidationTargets,
): Promise<InvalidationCounts> {
  const counts: InvalidationCounts = { keys: 0, tags: 0, patterns: 0, total: 0 };
  // A Set keeps 123 and '123' apart, as the cache does.
  const keys = [...new Set(targets.keys ?? [])];
  const tags = [...new Set(targets.tags ?? [])];
  const patterns = [...new Set(targets.patterns ?? [])];
  await Promise.all(
    [...new Set(caches)].map(async (cache) => {
      // Each count is awaited before it is added: `counts.x += await …` would read counts.x before
      // the other caches' counts landed, and lose them.
      let matched = 0;
      for (const pattern of patterns) matched += await cache.invalidatePattern(pattern);
      const deleted = keys.length > 0 ? await cache.deleteMany(keys) : 0;
      const tagged = tags.length > 0 ? await cache.invalidateTags(tags) : 0;
      counts.patterns += matched;
      counts.keys += deleted;
      counts.tags += tagged;
    }),
  );
  counts.total = counts.keys + counts.tags + counts.patterns;
  return counts;
}

/**
 * The keys, tags and patterns a write rule names, filled from the write's route params and, for
 * `{user}`, the writer's `user()`; a target naming `{user}` is left out when the writer is anonymous.
 */
export function renderTargets(
  rule: CompiledInvalidationRule,
  params: PathParams,
  user?: string,
): Required<InvalidationTargets> {
  if (!rule.usesUser) {
    return {
      keys: rule.keys.map((t) => t.render(params)),
      tags: rule.tags.map((t) => t.render(params)),
      patterns: rule.patterns.map((t) => t.render(params)),
    };
  }
  const values = { ...params, [USER_PLACEHOLDER]: user };
  const render = (templates: readonly Template[]) =>
    templates
      .filter((t) => user !== undefined || !t.names.includes(USER_PLACEHOLDER))
      .map((t) => t.render(values));
  return { keys: render(rule.keys), tags: render(rule.tags), patterns: render(rule.patterns) };
}

/** A write rule that matched a request, with the request's route params and (for `{user}`) its writer. */
export interface MatchedWrite {
  rule: CompiledInvalidationRule;
  params: PathParams;
  /** The writer's `user()`, when the rule names `{user}`; undefined when anonymous. */
  user?: string;
}

/**
 * The tag every stored response carries for its (normal-form) path, so a write to the URI can reach it.
 * Per-user entries carry it too: a successful write invalidates every response stored for its URI
 * (RFC 9111 §4.4), other users' copies included, since they all describe the resource it changed.
 */
export function uriTag(path: string): string {
  return `larder:uri:${canonicalUri(path)}`;
}

/**
 * A normal-form path as URI tags hold it: lower-cased, runs of slashes collapsed, trailing slashes
 * trimmed. Frameworks route `/API/items/1/` like `/api/items/1` by default (Express, Nest), and
 * `/api//items/1` too where they ignore duplicate slashes (Fastify's option), so a write to one must
 * reach what is stored for the other; a write that also reaches a path differing only in case is a
 * harmless extra miss.
 */
export function canonicalUri(path: string): string {
  const collapsed = collapseSlashes(path);
  let end = collapsed.length;
  while (end > 1 && collapsed.charCodeAt(end - 1) === 47 /* '/' */) end--;
  return (end === collapsed.length ? collapsed : collapsed.slice(0, end)).toLowerCase();
}

/** `path` with each run of slashes made one (`/api//items` → `/api/items`). */
export function collapseSlashes(path: string): string {
  return path.includes('//') ? path.replace(/\/{2,}/g, '/') : path;
}

/** A write whose own URI (and Location / Content-Location) is invalidated when it succeeds (RFC 9111 §4.4). */
export interface UriWrite {
  req: IncomingMessage;
  /** The write's path in normal form. */
  path: string;
  /** Whether a cache rule stores responses for a path: only those paths are invalidated. */
  covered: (path: string) => boolean;
}

/** What an adapter tells a write's invalidation (see {@link invalidateAfterWrite}). */
export interface WriteWatch {
  /**
   * The handler's returned promise settled (where the adapter sees one: Koa's downstream, Hono's
   * route): for a write whose client went away before its response ended, the handler's work is done.
   */
  handlerSettled(): void;
}

/** At most this many streams piped into one write's response are watched for their end. */
const MAX_WATCHED_SOURCES = 4;

/**
 * Defers the end of a write's response until its invalidations ran, so the client's next read already
 * misses (read-your-writes), when the write did not fail (2xx or 3xx, a post-redirect-get included):
 * the matched rules' (not on a 304, which reports that nothing changed), and the URIs of `uri` (the
 * target, and Location / Content-Location on the same host).
 *
 * A response whose client went away before it ended (a body streamed with `pipe`, `reply.send(stream)`,
 * `ctx.body = stream`, cut off mid-way) may never end, while the write goes on: it is invalidated when
 * the response closes (when its status was sent), and again once the handler is seen to be done — a
 * stream piped into the response ends, the handler ends the response after all, or `handlerSettled`
 * is called — or else `settleMs` after the close (a timer that keeps nothing alive), as a read between
 * the close and the handler's commit may have stored what the write then changed. Each time by the
 * status as it then stands: a write answered with a failure invalidates nothing.
 */
export function invalidateAfterWrite(
  res: ServerResponse,
  writes: readonly MatchedWrite[],
  method: string,
  directory: CacheDirectory,
  log: LogSink,
  uri: UriWrite | undefined,
  settleMs: number,
): WriteWatch {
  const end = res.end;
  // Headers given to writeHead are not readable through getHeader afterwards: note the two we need.
  const written: Record<string, string> = {};
  if (uri !== undefined) {
    const writeHead = res.writeHead;
    res.writeHead = function noteLocations(this: ServerResponse, ...args: unknown[]) {
      res.writeHead = writeHead;
      for (const arg of args.slice(1)) noteHeaders(arg, written);
      return writeHead.apply(res, args as Parameters<typeof writeHead>);
    } as ServerResponse['writeHead'];
  }
  /** The invalidation the write earns by its status as it stands; `undefined` when it earns none. */
  const invalidation = (): (() => Promise<unknown>) | undefined => {
    const status = res.statusCode;
    // A failed write changed nothing, so it invalidates nothing; one answered with a redirect (a form's
    // post-redirect-get, 302 or 303) did its write. A 304 says the write changed nothing (a handler's
    // "not modified": it is defined for GET and HEAD only), so the rules skip it, while the URIs go
    // on any non-error status (RFC 9111 §4.4), where one extra miss costs little.
    const done = status >= 200 && status < 400;
    const rules = done && status !== 304 ? writes : [];
    const paths = uri !== undefined && done ? writtenPaths(res, uri, written) : [];
    if (rules.length === 0 && paths.length === 0) return undefined;
    return () =>
      Promise.all([
        runWriteRules(rules, method, directory, log),
        runUriInvalidation(paths, method, directory, log),
      ]);
  };
  const invalidateNow = (): void => void invalidation()?.();

  // The client went away before the response ended: the write goes on without it (see above).
  let ended = false;
  let abandoned = false;
  let settled = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const sources: EventEmitter[] = [];
  const unwatch: (() => void)[] = [];
  const settle = (): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    res.off('pipe', onPipe);
    for (const off of unwatch.splice(0)) off();
    sources.length = 0;
  };
  /** Invalidates again when `source` is done: for good when it ended, once more when it failed or was destroyed. */
  const watch = (source: EventEmitter): void => {
    const events = ['end', 'finish', 'error', 'close'] as const;
    const done = (event: (typeof events)[number]): void => {
      off();
      if (settled) return;
      if (event === 'end' || event === 'finish') settle();
      // Destroyed or failed: perhaps by the framework, as the client left, while the handler goes on.
      invalidateNow();
    };
    const listeners = events.map((event) => [event, () => done(event)] as const);
    const off = (): void => {
      for (const [event, listener] of listeners) source.off(event, listener);
    };
    for (const [event, listener] of listeners) source.once(event, listener);
    unwatch.push(off);
  };
  const onPipe = (source: unknown): void => {
    if (!(source instanceof EventEmitter) || sources.length >= MAX_WATCHED_SOURCES) return;
    sources.push(source);
    if (!abandoned) return;
    // Answered after the client went away: what the handler did before answering is done.
    invalidateNow();
    watch(source);
  };
  res.on('pipe', onPipe);
  res.once('close', () => {
    if (ended || settled) return settle();
    abandoned = true;
    // Only a status that went out is the handler's answer; one not yet sent may still change.
    if (res.headersSent) invalidateNow();
    for (const source of sources) watch(source);
    timer = setTimeout(() => {
      settle();
      invalidateNow();
    }, settleMs);
    timer.unref();
  });

  res.end = function endAfterInvalidation(this: ServerResponse, ...args: unknown[]) {
    res.end = end;
    ended = true;
    settle();
    const run = invalidation();
    if (run === undefined) return end.apply(res, args as Parameters<typeof end>);
    // The response has ended as far as the handler knows: what it writes or ends again meanwhile
    // (a second `res.end()`) must neither end it early, before the invalidation, nor lose its body.
    const write = res.write;
    res.end = function endPending(this: ServerResponse, ...later: unknown[]) {
      const cb = later.find((a) => typeof a === 'function') as (() => void) | undefined;
      if (cb !== undefined) res.once('finish', () => cb());
      return res;
    } as ServerResponse['end'];
    res.write = swallowWrite as ServerResponse['write'];
    const finish = () => {
      res.end = end;
      res.write = write;
      end.apply(res, args as Parameters<typeof end>);
    };
    void run().finally(finish);
    return res;
  } as ServerResponse['end'];

  return {
    handlerSettled() {
      if (!abandoned || settled) return;
      settle();
      invalidateNow();
    },
  };
}

/** The target path and the same-host Location / Content-Location paths of a successful write. */
function writtenPaths(res: ServerResponse, uri: UriWrite, written: Record<string, string>): string[] {
  const paths = new Set([uri.path]);
  const host = uri.req.headers.host;
  if (host === undefined) return [...paths].filter(uri.covered);
  const base = `http://${host}${uri.path}`;
  // The request's own host, and the public ones a proxy that rewrites Host forwarded (an app behind
  // it names those in an absolute Location).
  const own = new Set<string>();
  const forwarded = headerValue(uri.req, 'x-forwarded-host') ?? '';
  // Read as an http and as an https authority: a Host with its scheme's default port written out
  // (`example.com:443`, which a proxy forwarding `$host:$server_port` sends) is the host that an https
  // Location on it reads as, without the port.
  for (const name of [host, ...forwarded.split(',')]) {
    for (const scheme of ['http', 'https']) {
      try {
        own.add(new URL(`${scheme}://${name.trim()}`).host);
      } catch {
        // Not a host: no Location names it.
      }
    }
  }
  for (const name of LOCATION_HEADERS) {
    const value = written[name] ?? res.getHeader(name);
    if (typeof value !== 'string' || value === '' || value.length > 8192) continue;
    let url: URL;
    try {
      url = new URL(value, base);
    } catch {
      continue;
    }
    // Only the same origin: a write must not reach into what another host's URIs name.
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !own.has(url.host)) continue;
    // As the write's own path: entries are stored for the path a router acts on (see routedPath).
    paths.add(normalisePath(routedPath(url.pathname)));
  }
  // A path no rule caches holds nothing to invalidate (and its invalidation would needlessly detach
  // every load in flight, whose tags are not known until they finish).
  return [...paths].filter(uri.covered);
}

const LOCATION_HEADERS = ['location', 'content-location'];

/** Copies Location / Content-Location out of a writeHead headers argument (object, flat or paired array). */
function noteHeaders(arg: unknown, into: Record<string, string>): void {
  if (typeof arg !== 'object' || arg === null) return;
  const note = (name: unknown, value: unknown) => {
    const key = String(name).toLowerCase();
    if (LOCATION_HEADERS.includes(key) && typeof value === 'string') into[key] = value;
  };
  if (!Array.isArray(arg)) {
    for (const [name, value] of Object.entries(arg)) note(name, value);
  } else if (Array.isArray(arg[0])) {
    for (const pair of arg as unknown[][]) note(pair[0], pair[1]);
  } else {
    for (let i = 0; i + 1 < arg.length; i += 2) note(arg[i], arg[i + 1]);
  }
}

async function runUriInvalidation(
  paths: readonly string[],
  method: string,
  directory: CacheDirectory,
  log: LogSink,
): Promise<void> {
  if (paths.length === 0) return;
  const tags = paths.map((path) => uriTag(path));
  try {
    const counts = await invalidateIn(
      directory.names().map((n) => requireCache(directory, n, 'cache')),
      {
        tags,
      },
    );
    log.debug('Cache INVALIDATE URI', { method, uris: paths, count: counts.total });
  } catch (error) {
    log.error('Cache ERROR', { operation: 'invalidate', uris: paths, error: errorMessage(error) });
  }
}

async function runWriteRules(
  writes: readonly MatchedWrite[],
  method: string,
  directory: CacheDirectory,
  log: LogSink,
): Promise<void> {
  for (const { rule, params, user } of writes) {
    const started = performance.now();
    const targets = renderTargets(rule, params, user);
    const names = rule.caches ?? directory.names();
    try {
      const counts = await invalidateIn(
        names.map((n) => requireCache(directory, n, `${rule.what}.cache`)),
        targets,
      );
      log.debug('Cache INVALIDATE', {
        rule: rule.what,
        method,
        caches: names,
        ...targets,
        count: counts.total,
        durationMs: since(started),
      });
    } catch (error) {
      log.error('Cache ERROR', {
        rule: rule.what,
        operation: 'invalidate',
        ...targets,
        error: errorMessage(error),
      });
    }
  }
}
