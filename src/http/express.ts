// Express 5 adapters: the response cache as middleware and the admin API as a mountable handler.
// Both are the node:http core; this file only bridges Express's `next` (which must run once) and
// its error path. Express keeps the full URL in `req.originalUrl`, which the cache rules match.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createAdmin, type AdminOptions } from './admin/admin.js';
import { createHttpCache, type HttpCacheOptions } from './http-cache.js';

/** An Express (or connect) middleware. */
export type ExpressMiddleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void;

/** The response cache as Express middleware: `app.use(expressCache({ cache, rules, invalidate }))`. */
export function expressCache(options: HttpCacheOptions): ExpressMiddleware {
  const core = createHttpCache(options);
  return function larderCache(req, res, next) {
    let passed = false;
    const pass = (error?: unknown): void => {
      passed = true;
      next(error);
    };
    core.handle(req, res, pass).catch((error: unknown) => {
      // Once the request went on to the app, Express owns its errors; calling next twice would run routes twice.
      if (!passed) next(error);
      else if (!res.headersSent) {
        res.statusCode = 500;
        res.end();
      }
    });
  };
}

/**
 * The admin API as Express middleware. Mount it at its path with the default prefix
 * (`app.use('/api/cache', expressAdmin({ caches, apiKey }))`), or at the root with `prefix`.
 * Unknown paths below it go on to `next`.
 */
export function expressAdmin(options: AdminOptions): ExpressMiddleware & { close(): void } {
  const admin = createAdmin(options);
  const middleware = function larderAdmin(
    req: IncomingMessage,
    res: ServerResponse,
    next: (error?: unknown) => void,
  ) {
    admin(req, res, next).catch(next);
  };
  return Object.assign(middleware, { close: () => admin.close() });
}
