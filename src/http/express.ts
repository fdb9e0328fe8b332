// Express adapters (Express 4 and 5): the response cache as middleware and the admin API as a mountable
// handler. Both are the node:http core; this file only bridges Express's `next` (which must run once) and
// its error path. Express keeps the full URL in `req.originalUrl`, which the cache rules match.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, Response } from 'express';
import { createAdmin, type AdminOptions } from './admin/admin.js';
import { createHttpCache, type HttpCacheOptions } from './http-cache.js';

/** An Express (or connect) middleware. */
export type ExpressMiddleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void;

/**
 * The response cache as Express middleware: `app.use(expressCache({ cache, rules, invalidate }))`.
 * `user(req, res)` and key functions receive Express's `Request` and `Response`; name your own request
 * type (`expressCache<AuthedRequest>(…)`, or annotate `user`'s parameter) for what your auth
 * middleware sets on it (`req.auth`, `res.locals.user`).
 */
export function expressCache<Req extends Request = Request, Res extends Response = Response>(
  options: HttpCacheOptions<Req, Res>,
): ExpressMiddleware {
  const core = createHttpCache(options);
  return function larderCache(req, res, next) {
    let passed = false;
    const pass = (error?: unknown): void => {
      passed = true;
      next(error);
    };
    // Express's request and response are the node:http ones, extended by its middleware chain.
    // req.protocol honours `trust proxy` (X-Forwarded-Proto only from a trusted proxy).
    const own = { req: req as Req, res: res as Res, scheme: (req as Req).protocol };
    core.handle(req, res, pass, undefined, own).catch((error: unknown) => {
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
