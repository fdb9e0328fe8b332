// Subpath export `larder-cache/koa`: the response cache and the admin API as Koa 3 middleware.
export { koaCache, koaAdmin } from '../http/koa.js';
export type { KoaCacheOptions, KoaContext } from '../http/koa.js';
export type { HttpCacheOptions, AdminOptions, CacheRule, InvalidationRule } from './http.js';
