// Subpath export `larder-cache/express`: the response cache and the admin API as Express 5 middleware.
export { expressCache, expressAdmin } from '../http/express.js';
export type { ExpressMiddleware } from '../http/express.js';
export type { HttpCacheOptions, AdminOptions, CacheRule, InvalidationRule } from './http.js';
