// The demo service assembled: the fake upstreams, each seed's caches built on Larder, their routes,
// seed 004's response cache, and Larder's admin API and dashboard at /cache (seed 004's management
// endpoints at /api/cache). Caches are restored from snapshots at start and snapshotted while running
// and at close (LARDER_SNAPSHOT_DIR); a few run the sizing advisor (LARDER_ADVISOR). `startDemo` listens
// and returns handles for main.ts, tests and the load generator; `close()` stops the server and
// releases every cache, taking the shutdown snapshots.
import type { L2Tier } from '../src/index.js';
import { createHash, timingSafeEqual } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { bracketedLogger, type Cache, type CacheOptions, type Logger } from '../src/index.js';
import { createAdmin, createHttpCache } from '../src/entries/http.js';
import { ConfigError, type CacheName, type DemoConfig } from './config.js';
import { HttpError, Router, sendJson } from './router.js';
import { integrationRoutes } from './routes/integrations.js';
import { providerRoutes } from './routes/providers.js';
import { statsRoutes } from './routes/stats.js';
import { subscriptionRoutes } from './routes/subscriptions.js';
import { urlRoutes, userOf } from './routes/urls.js';
import { createIntegrationCache } from './seeds/integration-cache.js';
import { createPlansCache } from './seeds/plans-cache.js';
import { createProviderResourceCache } from './seeds/provider-resource-cache.js';
import { createStatsCache } from './seeds/stats-cache.js';
import { CACHE_RULES, createUrlCaches, INVALIDATION_RULES, instanceKey } from './seeds/url-cache.js';
import { createUpstreams, type Upstreams } from './upstreams/index.js';

/**
 * The caches the sizing advisor models when `config.advisor` is on: the URL shortener's redirects and
 * link details (Zipf-distributed traffic) and two seed caches keyed per user or org.
 * They run at the advisor's accuracy-first adaptive rate: every request here costs an HTTP round trip,
 * which dwarfs the simulation; a service doing millions of hits a second would give hot caches a low
 * fixed `advisor: { rate }` instead (README "The sizing advisor").
 */
export const ADVISED_CACHES: readonly CacheName[] = ['url', 'general', 'integrations', 'subscriptions'];

/** Snapshot file names below `config.snapshotDir`: one per cache, one for seed 004's manager. */
export const SNAPSHOT_FILES = {
  cache: (name: CacheName) => `${name}.snap`,
  urlManager: 'url-shortener.snap',
  /** The Redis tier's outbox: undelivered invalidations of caches without a snapshot file of their own. */
  tierOutbox: 'redis.outbox',
} as const;

/** Test seams: time, randomness and logging. */
export interface DemoOptions {
  /** Time source of every cache (tests move it to expire entries). */
  clock?: () => number;
  /** Randomness of the upstreams (seed it for reproducible failures). */
  random?: () => number;
  /**
   * Logger for cache operations; default: the console when `config.logCacheOps`, else the console's
   * warnings and errors only ({@link WARNINGS_ONLY}).
   */
  logger?: Logger;
}

/** A running demo. */
export interface Demo {
  readonly server: Server;
  /** `http://host:port`, for clients. */
  readonly url: string;
  readonly config: DemoConfig;
  readonly upstreams: Upstreams;
  /** Every Larder cache of the demo, by name (what the dashboard shows). */
  readonly caches: Readonly<Record<string, Cache<any>>>;
  /** Each seed's own programming interface. */
  readonly seeds: {
    providers: ReturnType<typeof createProviderResourceCache>;
    stats: ReturnType<typeof createStatsCache>;
    integrations: ReturnType<typeof createIntegrationCache>;
    plans: ReturnType<typeof createPlansCache>;
    urls: ReturnType<typeof createUrlCaches>;
  };
  /** Stops accepting requests, ends open connections and closes every cache and tier. */
  close(): Promise<void>;
}

/** Builds the demo from `config` and starts listening. */
export async function startDemo(config: DemoConfig, options: DemoOptions = {}): Promise<Demo> {
  // First, so a folder that cannot be created fails start-up before a Redis connection is opened.
  const persist = snapshotsIn(config);
  const upstreams = createUpstreams({
    latencyScale: config.latencyScale,
    random: options.random,
    integrationFailureRate: config.integrationFailureRate,
  });
  // The tier's own outbox keeps the undelivered invalidations of caches without a snapshot of their
  // own (the URL manager's per-type caches) across restarts, beside the snapshots.
  const outbox =
    config.snapshotDir === undefined ? undefined : join(config.snapshotDir, SNAPSHOT_FILES.tierOutbox);
  const l2 = config.redisUrl === undefined ? undefined : await redisTierFor(config.redisUrl, outbox);
  const plainLogger = options.logger ?? (config.logCacheOps ? console : WARNINGS_ONLY);
  // LARDER_LOG_FORMAT=bracketed writes seed 000's `[Cache HIT] plans uuid-1` lines.
  const logger =
    plainLogger !== undefined && config.logFormat === 'bracketed'
      ? bracketedLogger(plainLogger)
      : plainLogger;
  const shared = { l2, logger, clock: options.clock };
  const ttl = config.ttl;
  const advisor = (name: CacheName): CacheOptions['advisor'] =>
    config.advisor && ADVISED_CACHES.includes(name) ? true : undefined;
  const perCache = <K extends CacheName, T>(names: readonly K[], of: (name: K) => T | undefined) =>
    Object.fromEntries(names.map((n) => [n, of(n)])) as Partial<Record<K, T>>;
  const providerKinds = ['plans', 'images', 'marketplace', 'regions'] as const;
  const urlTypes = ['url', 'user', 'analytics', 'session', 'general'] as const;

  let seeds: Demo['seeds'];
  try {
    seeds = {
      providers: createProviderResourceCache({
        ...shared,
        ttl: pick(ttl, providerKinds),
        persist: perCache(providerKinds, (kind) => persist(SNAPSHOT_FILES.cache(kind))),
        advisor: perCache(providerKinds, advisor),
      }),
      stats: createStatsCache({
        ...shared,
        ttl: ttl.stats,
        keyTtl: config.statsKeyTtl,
        persist: persist(SNAPSHOT_FILES.cache('stats')),
      }),
      integrations: createIntegrationCache({
        ...shared,
        ttl: ttl.integrations,
        persist: persist(SNAPSHOT_FILES.cache('integrations')),
        advisor: advisor('integrations'),
      }),
      plans: createPlansCache({
        ...shared,
        ttl: ttl.subscriptions,
        persist: persist(SNAPSHOT_FILES.cache('subscriptions')),
        advisor: advisor('subscriptions'),
      }),
      urls: createUrlCaches({
        ...shared,
        ttl: pick(ttl, urlTypes),
        persist: persist(SNAPSHOT_FILES.urlManager),
        advisor: perCache(urlTypes, advisor),
      }),
    };
  } catch (error) {
    // A cache that refuses its options must not leave the Redis connection open behind it.
    await closeTier(l2);
    throw error;
  }
  const { cacheManager } = seeds.urls;
  const caches: Record<string, Cache<any>> = {
    ...seeds.providers.caches,
    stats: seeds.stats.cache,
    integrations: seeds.integrations.cache,
    subscriptions: seeds.plans.cache,
    ...Object.fromEntries(cacheManager.names().map((name) => [name, cacheManager.get(name)])),
  };

  const requireKey = apiKeyCheck(config.apiKey);
  const admin = createAdmin({ caches, apiKey: config.apiKey, prefix: '/cache' });
  const urlAdmin = createAdmin({
    caches: cacheManager,
    apiKey: config.apiKey,
    prefix: '/api/cache',
    instanceKey,
  });
  const responseCache = createHttpCache({
    cache: cacheManager,
    rules: CACHE_RULES,
    invalidate: INVALIDATION_RULES,
    // Each user's /api/urls/ lists that user's links alone, so the seed's rules (the writer's answers
    // and the link's tag) say what a write changes; the default would drop every user's list (RFC 9111 §4.4).
    invalidateOnWrite: false,
    user: userOf,
    logger,
    clock: options.clock,
  });

  const router = new Router();
  providerRoutes(router, upstreams.providers, seeds.providers, requireKey);
  statsRoutes(router, upstreams.docker, seeds.stats);
  integrationRoutes(router, upstreams.integrations, seeds.integrations, requireKey);
  subscriptionRoutes(router, upstreams.subscriptions, seeds.plans);
  urlRoutes(router, upstreams.urls, seeds.urls.getCache);
  router.on('GET', '/', () => ({
    service: 'larder demo',
    dashboard: '/cache/dashboard',
    docs: 'see the README section "The demo service and dashboard"',
  }));

  const notFound = (req: IncomingMessage, res: ServerResponse) =>
    sendJson(res, 404, { error: `no route for ${req.method} ${req.url}` });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Seed 001 polls `GET /cache/stats` without a key and expects its own small shape; a request
    // that carries a key is Larder's admin API (the dashboard's), which answers every cache.
    if (req.method === 'GET' && isSeedStats(req) && req.headers['x-api-key'] === undefined) {
      return sendJson(res, 200, seeds.stats.stats());
    }
    await admin(req, res, () =>
      urlAdmin(req, res, () =>
        responseCache(req, res, () => router.handle(req, res, () => notFound(req, res))),
      ),
    );
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      if (!res.headersSent)
        sendJson(res, status, { error: error instanceof Error ? error.message : String(error) });
      else res.destroy();
    });
  });
  /** Releases every cache, the admin routers' metrics and the Redis tier. */
  const release = async () => {
    admin.close();
    urlAdmin.close();
    const owned = Object.entries(caches).filter(([name]) => !cacheManager.has(name));
    await Promise.all([...owned.map(([, cache]) => cache.close()), cacheManager.close()]);
    await closeTier(l2);
  };
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await release();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;

  let closing: Promise<void> | undefined;
  return {
    server,
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    config,
    upstreams,
    caches,
    seeds,
    close: () =>
      (closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await release();
      })()),
  };
}

/**
 * The `persist` option for a snapshot file below `config.snapshotDir` (creating the folder), or a
 * function answering undefined when persistence is off. close() takes the shutdown snapshot.
 */
function snapshotsIn(config: DemoConfig): (file: string) => CacheOptions['persist'] {
  const dir = config.snapshotDir;
  if (dir === undefined) return () => undefined;
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new ConfigError(
      `LARDER_SNAPSHOT_DIR ${dir} cannot be created: ${(error as Error).message} (use 'off' to disable)`,
    );
  }
  return (file) => ({ path: join(dir, file), interval: config.snapshotIntervalMs });
}

/**
 * The console for warnings and errors alone, the demo's logger while cache operations are not logged:
 * the switches (`LOG_LEVEL=DEBUG`, `CACHE_LOGGING`, `LARDER_LOG`) add the per-operation lines, but a
 * slow query (seed 003 logs it at WARNING whatever the level), retries exhausted and a load that
 * failed for good (seed 002's WARN and ERROR lines), a failed snapshot or an unavailable shared tier
 * are reported without them.
 */
export const WARNINGS_ONLY: Logger = {
  warn: (...args: unknown[]) => console.warn(...args),
  error: (...args: unknown[]) => console.error(...args),
};

function isSeedStats(req: IncomingMessage): boolean {
  const path = (req.url ?? '').split('?')[0];
  return path === '/cache/stats' || path === '/cache/stats/';
}

/** A constant-time check of `X-API-Key` for the demo's own admin endpoints (401 when wrong). */
function apiKeyCheck(apiKey: string): (headers: Record<string, string | string[] | undefined>) => void {
  const expected = createHash('sha256').update(apiKey).digest();
  return (headers) => {
    const given = headers['x-api-key'];
    const digest = createHash('sha256')
      .update(typeof given === 'string' ? given : '')
      .digest();
    if (typeof given !== 'string' || !timingSafeEqual(digest, expected)) {
      throw new HttpError(401, 'a valid X-API-Key header is required');
    }
  };
}

function pick<K extends CacheName>(ttl: DemoConfig['ttl'], names: readonly K[]): Partial<Record<K, number>> {
  return Object.fromEntries(names.flatMap((n) => (ttl[n] === undefined ? [] : [[n, ttl[n]]]))) as Partial<
    Record<K, number>
  >;
}

/** The Redis tier for every cache (with its outbox file, if any), loaded only when REDIS_URL is set. */
async function redisTierFor(url: string, outbox: string | undefined): Promise<L2Tier> {
  const { redisTier } = await import('../src/entries/redis.js');
  return redisTier(outbox === undefined ? { url } : { url, outbox });
}

async function closeTier(tier: unknown): Promise<void> {
  const close = (tier as { close?: () => Promise<void> } | undefined)?.close;
  if (typeof close === 'function') await close.call(tier);
}
