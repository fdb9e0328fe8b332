// Subpath export `larder-cache/http`: the response cache for node:http / connect-style stacks, its rules,
// and the admin API router.
export { createHttpCache, DEFAULT_MAX_RESPONSE_BYTES } from '../http/http-cache.js';
export type {
  HttpCacheOptions,
  HttpCacheMiddleware,
  NextFunction,
  UserFunction,
  FrameworkPair,
} from '../http/http-cache.js';
export { normalisePath } from '../http/normalise-path.js';
export { createAdmin, ADMIN_PATHS } from '../http/admin/admin.js';
// Seed 001's polled `GET /cache/stats` body, for a route of one's own (also in the root entry).
export { cacheStatsBody } from '../observability/stats-body.js';
export type { StatsBody, StatsBodyEntry, StatsBodyOptions } from '../observability/stats-body.js';
export type { AdminOptions, AdminHandler } from '../http/admin/admin.js';
export type { MetricsRegistry } from '../http/admin/metrics.js';
export { rulesFromConfig } from '../http/rules-config.js';
export type { ConfigRuleOptions } from '../http/rules-config.js';
export { DEFAULT_CACHEABLE_STATUSES } from '../http/rules.js';
export { DEFAULT_CREDENTIAL_HEADERS } from '../http/cacheability.js';
export type { CacheRule, InvalidationRule, KeyFunction } from '../http/rules.js';
export type { CacheSource } from '../http/cache-directory.js';
export type { StoredResponse, CacheStatus } from '../http/stored-response.js';
