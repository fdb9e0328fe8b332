// Subpath export `larder-cache/hono`: the response cache and the admin API as Hono middleware, for Hono on
// Node through @hono/node-server.
export { honoCache, honoAdmin } from '../http/hono.js';
export type { HonoCacheOptions } from '../http/hono.js';
export type { HttpCacheOptions, AdminOptions, CacheRule, InvalidationRule } from './http.js';
