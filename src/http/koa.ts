// Koa adapters (Koa 2 and 3): the response cache as middleware and the admin API as middleware, both
// over the node:http core on ctx.req / ctx.res.
//
// Koa writes a response only after the whole middleware chain has resolved (its respond() reads
// ctx.body), while the core's capture waits for the handler's res.end. So on a miss this middleware
// does not wait for the core: once the downstream middleware has resolved it returns, Koa's respond()
// writes ctx.body through the capture, and the core then sends what it decided (MISS, or STALE in place
// of a 5xx). When the core answers by itself (HIT, 304, STALE) it sets `ctx.respond = false` so that Koa
// writes nothing more.
import type { IncomingMessage, ServerResponse } from 'node:http';
// A namespace import: in the published declarations it compiles without esModuleInterop as well.
import type * as Koa from 'koa';
import { createAdmin, type AdminOptions } from './admin/admin.js';
import { createHttpCache, type HttpCacheOptions } from './http-cache.js';

/** A Koa context with the given state and custom context properties. */
export type KoaContext<StateT = Koa.DefaultState, ContextT = Koa.DefaultContext> = Koa.ParameterizedContext<
  StateT,
  ContextT
>;

/**
 * Options of {@link koaCache}: those of `createHttpCache`, where `user(ctx, response)` and key functions
 * receive Koa's own context (`ctx`, so `ctx.state.user` set by your auth middleware is visible) and its
 * Koa `Response` (`ctx.response`).
 */
export type KoaCacheOptions<StateT = Koa.DefaultState, ContextT = Koa.DefaultContext> = HttpCacheOptions<
  KoaContext<StateT, ContextT>,
  Koa.Response
>;

/**
 * The response cache as Koa middleware: `app.use(koaCache({ cache, rules, invalidate, user }))`. Mount
 * it after your authentication middleware (so `user(ctx)` sees `ctx.state.user`) and before the routes.
 * Rules match the URL the request arrived with (`ctx.originalUrl`), not one a mount rewrote.
 *
 * A HIT, a 304 or a stale answer is written by the cache and skips the downstream middleware (Koa's own
 * response handling is turned off for that request with `ctx.respond = false`). On a miss the downstream
 * middleware runs as usual and Koa writes `ctx.body`; the cache stores and sends that. Middleware above
 * this one sees the request finish as usual, but on a HIT `ctx.status` and `ctx.body` are not set (the
 * answer went straight to the socket). A handler that throws is answered STALE where grace or
 * stale-if-error allow; otherwise the error goes up to Koa's error handling as usual.
 */
export function koaCache<StateT = Koa.DefaultState, ContextT = Koa.DefaultContext>(
  options: KoaCacheOptions<StateT, ContextT>,
): Koa.Middleware<StateT, ContextT> {
  const core = createHttpCache(options);
  return async function larderCache(ctx, next) {
    const req = ctx.req as IncomingMessage & { originalUrl?: string };
    // The core matches `originalUrl` when present (connect/Express set it); Koa keeps it on ctx only.
    if (req.originalUrl === undefined) req.originalUrl = ctx.originalUrl;
    let passed = false;
    let downstream: Promise<unknown> | undefined;
    let entered!: () => void;
    const enteredDownstream = new Promise<void>((resolve) => (entered = resolve));
    const handled = core.handle(
      req,
      ctx.res,
      () => {
        passed = true;
        downstream = next();
        entered();
        return downstream;
      },
      // The core writes the reply itself (HIT, 304, STALE): Koa must not respond on top of it.
      { hijack: () => (ctx.respond = false) },
      // ctx.protocol honours `app.proxy` (X-Forwarded-Proto only when the app trusts its proxy).
      { req: ctx, res: ctx.response, scheme: ctx.protocol },
    );
    // Observed below on every path; this only keeps a rejection from counting as unhandled meanwhile.
    handled.catch(() => undefined);
    // Until the core either answers or hands the request on, nothing has been decided.
    await Promise.race([handled, enteredDownstream]);
    if (!passed) {
      // Settled without running the downstream middleware: the cache answered.
      ctx.respond = false;
      return;
    }
    try {
      await downstream;
    } catch (error) {
      // The handler threw: the core answers STALE where it may (or the client already had its answer,
      // for a background revalidation), and rejects with the error where not, for Koa to handle. Either
      // way it settles without waiting for Koa, whose respond() has not run.
      await handled;
      ctx.respond = false;
      // Answered anyway, but the error is still reported the Koa way (app.on('error')).
      ctx.app.emit('error', error, ctx);
      return;
    }
    // Koa's respond() now writes ctx.body, through the capture on a miss; the core finishes after that.
    handled.catch((error: unknown) => {
      const res: ServerResponse = ctx.res;
      if (!res.headersSent) {
        res.statusCode = 500;
        res.end();
      }
      ctx.app.emit('error', error, ctx);
    });
  };
}

/**
 * The admin API as Koa middleware: `app.use(koaAdmin({ caches, apiKey, prefix: '/api/cache' }))`. Its
 * routes answer below `prefix` (Koa has no mount paths of its own); any other request goes on to the
 * next middleware. It reads request bodies itself, with its own size limit, or takes the one a body
 * parser mounted before it left on `ctx.request.body`. `close()` releases its metrics registry.
 */
export function koaAdmin(options: AdminOptions): Koa.Middleware & { close(): void } {
  const admin = createAdmin(options);
  const middleware: Koa.Middleware = async function larderAdmin(ctx, next) {
    // A Koa body parser leaves the parsed body on ctx.request; the admin router reads it from req.body.
    const req = ctx.req as IncomingMessage & { body?: unknown };
    const parsed = (ctx.request as { body?: unknown }).body;
    if (parsed !== undefined && req.body === undefined) req.body = parsed;
    let passed = false;
    let downstream: Promise<unknown> | undefined;
    await admin(req, ctx.res, () => {
      passed = true;
      downstream = next();
      return downstream;
    });
    if (passed) {
      await downstream;
      return;
    }
    ctx.respond = false;
  };
  return Object.assign(middleware, { close: () => admin.close() });
}
