// A reverse proxy with `larder-cache/http` in front: the subject of `npm run test:http-conformance`. A node:http
// server whose handler forwards each request to an origin (method, target, headers, body) and sends back
// the origin's status, reason phrase, headers (repeated ones kept) and body; `createHttpCache` runs before
// the handler, so what the conformance suite measures is Larder's cache, with this proxy as its origin.
//
// Hop-by-hop fields (RFC 9110 §7.6.1: Connection and the fields it names, Keep-Alive, Proxy-Connection,
// TE, Transfer-Encoding, Upgrade) describe one connection and are dropped in both directions, as any
// HTTP intermediary does: node:http frames each connection itself. Everything else is passed on.
//
// By hand: `node --import tsx test/http-conformance/proxy.ts --origin http://127.0.0.1:8000 --port 8001`.
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createHttpCache, type CacheRule, type HttpCacheOptions } from '../../src/entries/http.js';
import { createCache } from '../../src/index.js';

/**
 * Statuses a shared proxy cache stores without explicit freshness (heuristically cacheable, RFC 9110
 * §15.1): 200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501, plus 451 (RFC 7725 §3). The partial
 * 206 of that list is left out: Larder keys on the URL, not the Range, and would replay a part as the
 * whole.
 */
export const PROXY_STATUSES: readonly number[] = [200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 451, 501];

/** The paths the suite's tests use; the cache's one rule covers them. */
export const TEST_PATHS = '/test/*';

/**
 * The suite's own control channel: each test PUTs its setup to `/config/<id>` and reads what the origin
 * saw from `/state/<id>`. It is the harness talking to its origin, not traffic for the cache, so it
 * goes around the cache (a PUT through it would count as a write to invalidate on).
 */
export const HARNESS_CHANNEL = /^\/(config|state)\//;

/** Heuristic freshness of a response that states none (the rule's `ttl`). */
export const PROXY_TTL = '5m';

/**
 * The one cache rule, configured as a shared proxy cache: every test path, {@link PROXY_STATUSES}, and
 * the heuristic of RFC 9111 §4.2.2 only for responses with a Last-Modified (a tenth of its age, at most
 * {@link PROXY_TTL}), so a response with neither freshness nor a validator is not reused — what the
 * suite's `freshness-none` check, on which most of its tests depend, expects. Not `shared: true`: that
 * serves requests carrying Authorization or Cookie from the shared entry too, which fails the privacy
 * test other-authorization; no other request of the suite carries either.
 */
export const DEFAULT_RULE: CacheRule = {
  path: TEST_PATHS,
  ttl: PROXY_TTL,
  statuses: PROXY_STATUSES,
  heuristic: 'last-modified',
};

/** Options of {@link startProxy}. */
export interface ProxyOptions {
  /** The origin's base URL, `http://host:port` (http only). */
  origin: string;
  /** Port to listen on, on 127.0.0.1; default 0 (a free one). */
  port?: number;
  /**
   * Replaces the cache options (default: a fresh in-memory cache and {@link DEFAULT_RULE}); `cache`
   * and `rules` may be left out to keep the defaults.
   */
  httpCacheOptions?: Partial<HttpCacheOptions>;
}

/** A running proxy. */
export interface RunningProxy {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  port: number;
  /** Stops listening, drops open connections, and closes the cache. */
  close(): Promise<void>;
}

/** Hop-by-hop fields that are never forwarded, whether or not Connection names them. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'transfer-encoding',
  'upgrade',
]);

/** The names a Connection field lists, lower-cased. */
function connectionOptions(value: string | string[] | undefined): Set<string> {
  const out = new Set<string>();
  for (const line of value === undefined ? [] : Array.isArray(value) ? value : [value]) {
    for (const token of line.split(',')) {
      const name = token.trim().toLowerCase();
      if (name !== '') out.add(name);
    }
  }
  return out;
}

/** The request headers to forward: as the cache left them on `req.headers`, hop-by-hop ones removed. */
function forwardedRequestHeaders(req: IncomingMessage): OutgoingHttpHeaders {
  const listed = connectionOptions(req.headers.connection);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/**
 * The origin's response headers grouped by lower-cased name in arrival order, each repeated line kept
 * as its own value (from `rawHeaders`: `headers` would merge or drop repeats), hop-by-hop ones removed.
 */
function forwardedResponseHeaders(upstream: IncomingMessage): Map<string, string[]> {
  const raw = upstream.rawHeaders;
  const grouped = new Map<string, string[]>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const list = grouped.get(name);
    if (list) list.push(raw[i + 1]!);
    else grouped.set(name, [raw[i + 1]!]);
  }
  const listed = connectionOptions(grouped.get('connection'));
  for (const name of [...grouped.keys()]) if (HOP_BY_HOP.has(name) || listed.has(name)) grouped.delete(name);
  return grouped;
}

/**
 * Forwards one request to the origin and writes its answer to `res`; settles once `res` has been ended.
 * Rejects when the origin fails (refused, reset, or closed mid-response) before anything was written, so
 * the cache in front sees a failed handler (and may answer stale); the server then answers 502.
 */
function forward(origin: URL, agent: Agent, req: IncomingMessage, res: ServerResponse): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const upstreamReq = httpRequest({
      protocol: origin.protocol,
      hostname: origin.hostname,
      port: origin.port,
      method: req.method,
      path: req.url,
      headers: forwardedRequestHeaders(req),
      agent,
    });
    upstreamReq.on('information', (info) => {
      // Interim responses reach the client as they come (the final one goes through the cache).
      if (res.headersSent) return;
      if (info.statusCode === 102) res.writeProcessing();
      else if (info.statusCode === 103)
        res.writeEarlyHints(info.headers as Record<string, string | string[]>);
    });
    upstreamReq.on('error', reject);
    upstreamReq.on('response', (upstream) => {
      for (const [name, values] of forwardedResponseHeaders(upstream))
        res.setHeader(name, values.length === 1 ? values[0]! : values);
      res.writeHead(upstream.statusCode ?? 502, upstream.statusMessage);
      upstream.on('data', (chunk: Buffer) => res.write(chunk));
      upstream.on('end', () => {
        res.end();
        resolve();
      });
      // Closed before the body ended: what was received so far cannot be completed.
      upstream.on('close', () => {
        if (!upstream.complete) reject(new Error('origin closed the connection mid-response'));
      });
    });
    if (req.readableEnded) upstreamReq.end();
    else req.pipe(upstreamReq);
  });
}

/** Starts the proxy; resolves once it listens. */
export async function startProxy(options: ProxyOptions): Promise<RunningProxy> {
  const origin = new URL(options.origin);
  if (origin.protocol !== 'http:')
    throw new TypeError(`origin must be an http:// URL, got ${options.origin}`);
  const overrides = options.httpCacheOptions ?? {};
  const ownCache =
    overrides.cache === undefined ? createCache({ name: 'conformance', maxEntries: 10_000 }) : undefined;
  const httpCache = createHttpCache({
    ...overrides,
    cache: overrides.cache ?? ownCache!,
    rules: overrides.rules ?? [DEFAULT_RULE],
  });
  const agent = new Agent({ keepAlive: true });

  const server = createServer((req, res) => {
    const fail = (error: unknown): void => {
      if (res.headersSent || res.writableEnded) {
        res.destroy();
        return;
      }
      const message = error instanceof Error ? error.message : String(error);
      // The origin's headers may already be set on `res` (it failed mid-body): none of them belong to a 502.
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${message}\n`);
    };
    const handler = (): Promise<void> => forward(origin, agent, req, res);
    (HARNESS_CHANNEL.test(req.url ?? '') ? handler() : httpCache(req, res, handler)).catch(fail);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
      await ownCache?.close();
    },
  };
}

// Run by hand: start the proxy and keep it up until interrupted.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: { origin: { type: 'string', default: 'http://127.0.0.1:8000' }, port: { type: 'string' } },
  });
  const proxy = await startProxy({ origin: values.origin, port: Number(values.port ?? 0) });
  console.log(`larder-cache/http proxy on ${proxy.url} -> ${values.origin}`);
  const stop = (): void => void proxy.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
