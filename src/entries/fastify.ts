// Subpath export `larder-cache/fastify`: the response cache (and optionally the admin API) as a Fastify 5 plugin.
export { fastifyCache } from '../http/fastify.js';
export type { FastifyCacheOptions } from '../http/fastify.js';
export type { HttpCacheOptions, AdminOptions, CacheRule, InvalidationRule } from './http.js';
