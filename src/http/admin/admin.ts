// The admin API (`createAdmin`): a router for node:http/connect mounted under any prefix, serving
// stats, health, performance, Prometheus metrics, clear, invalidate, runtime config and the sizing
// advisor, plus the dashboard's page. Every data and action route needs the X-API-Key (constant-time check); a bad key
// gets 401 before anything is read or changed. The Express and Fastify adapters mount this same router.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Cache, CacheConfigUpdate } from '../../cache/types.js';
import type { Logger } from '../../observability/logger.js';
import { LogSink, errorMessage } from '../../observability/log-sink.js';
import { splitTarget } from '../cache-key.js';
import { cacheDirectory, requireCache, type CacheSource } from '../cache-directory.js';
import { dashboardAsset } from '../dashboard/index.js';
import { invalidateIn } from '../invalidate.js';
import { targetPath } from '../normalise-path.js';
import { assertKnownOptions, assertPositiveInteger, optionNames } from '../../util/validate.js';
import { statsBodyOf } from '../../observability/stats-body.js';
import { createKeyCheck } from './auth.js';
import {
  AdminRequestError,
  DEFAULT_MAX_REQUEST_BYTES,
  parseConfig,
  parseInvalidate,
  readJsonBody,
} from './body.js';
import { adminMetrics } from './metrics.js';
import type { MetricsRegistry } from './metrics.js';
import { putOwn } from '../../util/records.js';
import { healthReport, performanceReport, snakeCase, statsReport } from './reports.js';
import { liveEntries, SharedLiveCounts } from './scan.js';

/** Options of {@link createAdmin}. */
export interface AdminOptions {
  /** The caches: a CacheManager, one Cache, or a `{ name: Cache }` record. */
  caches: CacheSource;
  /** The key every data/action route requires in `X-API-Key`. Required. */
  apiKey: string;
  /** Where the routes live, e.g. `'/api/cache'` (default `''`). */
  prefix?: string;
  /** Serve `GET stats` without the key — counters only, never key names. Default false. */
  publicStats?: boolean;
  /** Largest accepted request body in bytes (default 16 KiB). */
  maxRequestBytes?: number;
  /** Serve this prom-client registry at `metrics` instead of a private one with the caches' metrics. */
  registry?: MetricsRegistry;
  /** A pino-style or console-style logger for admin actions; nothing is logged by default. */
  logger?: Logger;
  /**
   * The key of each cache in the `performance` report's `cache_instances` (default: its name), e.g.
   * `(name) => \`${name}_cache\`` for a service that reports its `url` cache as `url_cache`.
   */
  instanceKey?: (cache: string) => string;
}

/** The admin router: `(req, res, next?)`; paths outside the prefix (or unknown below it) go to `next`, else 404. */
export interface AdminHandler {
  (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => unknown): Promise<void>;
  /** Releases the private metrics registry. */
  close(): void;
}

/** Every path the admin API serves below its prefix (adapters that route by path register these). */
export const ADMIN_PATHS: readonly string[] = [
  '/stats',
  '/health',
  '/performance',
  '/metrics',
  '/clear',
  '/clear/:cache',
  '/invalidate',
  '/config',
  '/config/:cache',
  '/advisor',
  '/dashboard',
  '/dashboard/*',
];

const OPTIONS = optionNames<AdminOptions>({
  caches: true,
  apiKey: true,
  prefix: true,
  publicStats: true,
  maxRequestBytes: true,
  registry: true,
  logger: true,
  instanceKey: true,
});
const DEFAULT_ENTRY_LIMIT = 100;
const MAX_ENTRY_LIMIT = 10_000;
/**
 * Most key tests one `POST invalidate` may ask for: each pattern is a scan of its caches' keys, so a
 * request of many patterns costs patterns × entries, all of it blocking the event loop. One pattern
 * (one scan, as invalidatePattern costs) is always allowed; a million cheap tests take about 0.1 s.
 */
const MAX_PATTERN_TESTS = 1_000_000;

interface Route {
  method: 'GET' | 'POST';
  /** Handles an authorised request; `param` is the decoded `:cache` segment when the route has one. */
  run(
    req: IncomingMessage,
    res: ServerResponse,
    query: URLSearchParams,
    param: string | undefined,
  ): Promise<void> | void;
}

/** Creates the admin router; throws at start-up when no API key is configured or an option is bad. */
export function createAdmin(options: AdminOptions): AdminHandler {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('createAdmin takes an options object');
  assertKnownOptions(options, OPTIONS, 'createAdmin');
  const checkKey = createKeyCheck(options.apiKey);
  const directory = cacheDirectory(options.caches, 'caches');
  const prefix = readPrefix(options.prefix ?? '');
  if (options.publicStats !== undefined && typeof options.publicStats !== 'boolean') {
    throw new TypeError('publicStats must be a boolean');
  }
  const publicStats = options.publicStats === true;
  const maxRequestBytes =
    options.maxRequestBytes === undefined
      ? DEFAULT_MAX_REQUEST_BYTES
      : assertPositiveInteger(options.maxRequestBytes, 'maxRequestBytes', 'number of bytes');
  const metrics = adminMetrics(directory, options.registry);
  const log = new LogSink(options.logger);
  if (options.instanceKey !== undefined && typeof options.instanceKey !== 'function')
    throw new TypeError('instanceKey must be a function (cache name) => string');
  const instanceKey = options.instanceKey;
  const publicCounts = new SharedLiveCounts();

  const cacheNamed = (name: string) => {
    try {
      return requireCache(directory, name, 'the request');
    } catch (error) {
      throw new AdminRequestError(404, errorMessage(error));
    }
  };

  const routes: Record<string, Route> = {
    stats: {
      method: 'GET',
      async run(req, res, query) {
        const name = query.get('cache') ?? undefined;
        const authorised = checkKey(req.headers['x-api-key']);
        if (name !== undefined) {
          // An unauthenticated (publicStats) caller is not told which caches exist.
          if (!authorised && directory.get(name) === undefined)
            throw new AdminRequestError(404, 'unknown cache');
          cacheNamed(name);
        }
        // `?format=compact`: one cache's polled-stats body (seed 001's `GET /cache/stats` shape).
        if (query.get('format') === 'compact') {
          const only = name ?? (directory.names().length === 1 ? directory.names()[0] : undefined);
          if (only === undefined) throw new AdminRequestError(400, 'format=compact needs ?cache=<name>');
          const cache = cacheNamed(only);
          const limit = readLimit(query.get('limit'));
          // The public (keyless) view never shows key names; its count is shared (scan.ts).
          if (!authorised) {
            const size = await publicCounts.count(cache);
            return sendJson(res, 200, statsBodyOf(cache.stats(), size, []));
          }
          const { size, entries } = await liveEntries(cache, limit);
          return sendJson(res, 200, statsBodyOf(cache.stats(), size, entries));
        }
        sendJson(
          res,
          200,
          await statsReport(directory, name === undefined ? directory.names() : [name], {
            q: query.get('q') ?? undefined,
            limit: readLimit(query.get('limit')),
            countersOnly: !authorised,
          }),
        );
      },
    },
    health: {
      method: 'GET',
      run(_req, res, query) {
        const report = healthReport(directory);
        // Degraded still serves (L1 and the loaders answer), so 200 unless a monitor asks for strictness.
        sendJson(res, report.status !== 'ok' && query.has('strict') ? 503 : 200, report);
      },
    },
    performance: {
      method: 'GET',
      run: (_req, res) => sendJson(res, 200, performanceReport(directory, instanceKey)),
    },
    // The sizing advisor's curve and recommendation per cache (null where the advisor option is off).
    advisor: {
      method: 'GET',
      run(_req, res, query) {
        const only = query.get('cache') ?? undefined;
        const caches: Record<string, unknown> = {};
        for (const name of only === undefined ? directory.names() : [only]) {
          putOwn(caches, name, snakeCase(cacheNamed(name).advise?.() ?? null));
        }
        sendJson(res, 200, { caches });
      },
    },
    metrics: {
      method: 'GET',
      async run(_req, res) {
        const text = await metrics.registry.metrics();
        res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' });
        res.end(text);
      },
    },
    clear: {
      method: 'POST',
      async run(_req, res, query, param) {
        // Only `POST clear` (or `clear/`) clears every cache; an empty name (`clear//`, `?cache=`) is refused.
        const name = cacheTarget('clear', query, param);
        const names = name === undefined ? directory.names() : [name];
        const caches = names.map(cacheNamed);
        await Promise.all(caches.map((c) => c.clear()));
        log.info('Cache CLEAR', { caches: names, via: 'admin' });
        sendJson(res, 200, { cleared: names });
      },
    },
    invalidate: {
      method: 'POST',
      async run(req, res) {
        const command = parseInvalidate(await readJsonBody(req, maxRequestBytes));
        const names = command.cache === undefined ? directory.names() : [command.cache];
        const caches = names.map(cacheNamed);
        checkPatternWork(command.patterns.length, caches);
        const counts = await invalidateIn(caches, command);
        log.info('Cache INVALIDATE', {
          caches: names,
          keys: command.keys,
          tags: command.tags,
          patterns: command.patterns,
          count: counts.total,
          via: 'admin',
        });
        sendJson(res, 200, {
          invalidated: counts.total,
          counts: { keys: counts.keys, tags: counts.tags, patterns: counts.patterns },
          caches: names,
        });
      },
    },
    config: {
      method: 'POST',
      async run(req, res, query, param) {
        const name = cacheTarget('config', query, param);
        if (name === undefined) throw new AdminRequestError(404, 'name the cache: POST config/:cache');
        const cache = cacheNamed(name);
        const command = parseConfig(await readJsonBody(req, maxRequestBytes));
        try {
          cache.configure(command as CacheConfigUpdate);
        } catch (error) {
          throw new AdminRequestError(400, errorMessage(error));
        }
        log.info('Cache CONFIG', { cache: name, ...command, via: 'admin' });
        const stats = cache.stats();
        sendJson(res, 200, { cache: name, enabled: stats.enabled, ttl: stats.ttl });
      },
    },
  };

  const handler = (async (req, res, next) => {
    const target = splitTarget(req.url);
    // The absolute-form (`GET http://host/admin/stats`, RFC 9112 §3.2.2) is routed by its path.
    const { query } = target;
    const path = targetPath(target.path);
    const rest =
      prefix === ''
        ? path
        : path.startsWith(`${prefix}/`) || path === prefix
          ? path.slice(prefix.length)
          : undefined;
    // One trailing slash is allowed (`clear/`, `clear/url/`, as seed 004's Django-style paths are
    // written); any other empty segment is kept, so `clear//` names the empty cache, which is refused
    // rather than read as "every cache".
    const segments = rest === undefined || rest === '' ? [] : rest.slice(1).split('/');
    if (segments.length > 1 && segments[segments.length - 1] === '') segments.pop();
    const [head, param, extra] = segments;
    const method = req.method ?? 'GET';
    // The page only at `dashboard` (one trailing slash popped above): its script finds the API by
    // dropping `/dashboard` from its own path, which `dashboard/index.html` or `dashboard//` would defeat.
    if (head === 'dashboard')
      return void serveDashboard(
        req,
        res,
        segments.length === 1 ? '' : `/${segments.slice(1).join('/')}`,
        next,
      );
    const route =
      head === undefined || extra !== undefined
        ? undefined
        : Object.hasOwn(routes, head)
          ? routes[head]
          : undefined;
    const takesParam = head === 'clear' || head === 'config';
    if (route === undefined || (param !== undefined && !takesParam)) {
      if (next) return void (await next());
      return sendJson(res, 404, { error: `no admin route ${method} ${path}` });
    }
    const publicRead =
      publicStats &&
      head === 'stats' &&
      (method === 'GET' || method === 'HEAD') &&
      req.headers['x-api-key'] === undefined;
    if (!publicRead && !checkKey(req.headers['x-api-key'])) {
      // Node would read and discard a refused body to keep the connection: close it instead, so a
      // caller without the key cannot make the server take in bytes (up to its request timeout).
      if (hasBody(req)) res.setHeader('connection', 'close');
      return sendJson(res, 401, { error: 'missing or wrong X-API-Key' });
    }
    if (method !== route.method && !(route.method === 'GET' && method === 'HEAD')) {
      res.setHeader('allow', route.method);
      return sendJson(res, 405, { error: `${head} takes ${route.method}` });
    }
    try {
      await route.run(req, res, new URLSearchParams(query), param === undefined ? undefined : decode(param));
    } catch (error) {
      if (error instanceof AdminRequestError) {
        if (error.status === 413) res.setHeader('connection', 'close');
        return sendJson(res, error.status, { error: error.message });
      }
      log.error('Cache ERROR', { operation: `admin ${head}`, error: errorMessage(error) });
      if (!res.headersSent) sendJson(res, 500, { error: `admin ${head} failed: ${errorMessage(error)}` });
    }
  }) as AdminHandler;
  handler.close = () => metrics.close();
  return handler;
}

/** The dashboard's HTML/JS/CSS: public (the page asks for the key and sends it on its data calls). */
function serveDashboard(
  req: IncomingMessage,
  res: ServerResponse,
  assetPath: string,
  next: ((error?: unknown) => unknown) | undefined,
): unknown {
  const asset =
    assetPath === '' && (req.method === 'GET' || req.method === 'HEAD') ? dashboardAsset('') : undefined;
  if (asset === undefined)
    return next ? next() : sendJson(res, 404, { error: `no dashboard asset ${assetPath}` });
  const body = typeof asset.body === 'string' ? Buffer.from(asset.body) : asset.body;
  res.writeHead(200, {
    'content-type': asset.contentType,
    'content-length': body.length,
    'cache-control': 'no-cache',
    // The page holds the API key and action buttons: it must not be framed (clickjacking) or sniffed.
    'content-security-policy': asset.csp,
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
  return undefined;
}

/** True when the request declares a body (a non-zero Content-Length or any Transfer-Encoding). */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Sends a JSON answer that no cache may keep. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

function readPrefix(prefix: unknown): string {
  if (typeof prefix !== 'string' || (prefix !== '' && (!prefix.startsWith('/') || prefix.endsWith('/')))) {
    throw new TypeError(
      `prefix must be '' or a path like '/api/cache' (no trailing slash), got ${JSON.stringify(prefix)}`,
    );
  }
  return prefix;
}

/** Refuses (413) a request whose patterns would test more keys than MAX_PATTERN_TESTS, before any runs. */
function checkPatternWork(patterns: number, caches: readonly Cache<unknown>[]): void {
  if (patterns <= 1) return;
  const entries = caches.reduce((sum, cache) => sum + cache.stats().size, 0);
  if (patterns * entries <= MAX_PATTERN_TESTS) return;
  throw new AdminRequestError(
    413,
    `"patterns": ${patterns} patterns over ${entries} entries would test ${patterns * entries} keys; ` +
      `one request may test at most ${MAX_PATTERN_TESTS} (send fewer patterns per request)`,
  );
}

/**
 * The cache a `clear` or `config` request names, by its `:cache` segment or by `?cache=` (which the
 * dashboard sends: a browser rewrites `clear/.` to `clear/`); undefined when it names none.
 */
function cacheTarget(route: string, query: URLSearchParams, segment: string | undefined): string | undefined {
  const named = query.get('cache') ?? undefined;
  if (segment !== undefined && named !== undefined)
    throw new AdminRequestError(400, `name the cache once: POST ${route}/:cache or POST ${route}?cache=`);
  const name = segment ?? named;
  if (name === '') throw new AdminRequestError(400, `the cache name is empty: POST ${route}/:cache`);
  return name;
}

function readLimit(value: string | null): number {
  if (value === null) return DEFAULT_ENTRY_LIMIT;
  // Decimal digits only: Number() would read '' and ' ' as 0 and '0x10' as 16.
  if (!/^\d+$/.test(value))
    throw new AdminRequestError(400, `limit must be a non-negative integer, got "${value}"`);
  return Math.min(Number(value), MAX_ENTRY_LIMIT);
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new AdminRequestError(400, `malformed path segment "${segment}"`);
  }
}
