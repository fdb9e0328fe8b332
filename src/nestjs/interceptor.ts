// The HTTP response cache as a Nest interceptor over the node:http core that the Express and Fastify
// adapters also drive. An interceptor, not a middleware: Nest runs middleware, then guards, then
// interceptors, so only an interceptor sees the identity an auth guard put on the request — and a
// per-user rule keyed without it would hand one user's answer to another.
//
// On a miss the core runs the rest of Nest's chain (`next.handle()`) under capture: Nest writes the
// handler's result through Express's `res.json`/`res.send` once this interceptor's Observable has
// emitted, and the capture takes that write as the response to store. On a hit the core writes the
// stored response itself; Express's `status`/`send`/`json`/`redirect`/`render` on that response are
// then muted so the value this interceptor emits (`undefined`) makes Nest send nothing more.
import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import { Inject, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Observable, type Subscription } from 'rxjs';
import type { HttpCacheMiddleware } from '../http/http-cache.js';
import { LARDER_HTTP_CACHE } from './tokens.js';

/**
 * Caches whole responses by the rules of `LarderModule.forRoot({ http })`, and invalidates them after
 * successful writes. Registered for every route by default (`http.global`); with `global: false`,
 * put it where it applies: `@UseInterceptors(LarderHttpInterceptor)`, on the routes that write to what
 * is cached too (a write invalidates only where the interceptor runs). Bound more than once to a route
 * (globally and with `@UseInterceptors`), it caches at its first binding and lets the others pass.
 *
 * It runs as an interceptor because Nest runs middleware first, then guards, then interceptors:
 * `user(req, res)` receives Express's `Request` and `Response` after your guards ran, so the identity
 * an auth guard set (`req.user`) is there, and a `perUser` rule keys by it. (A middleware would run
 * before any guard and see every caller as anonymous.) Where authentication is a middleware instead,
 * its identity is there too. Interceptors bound before this one run before it on every request, hit
 * or not; those bound after it, and the route handler, run only on a miss.
 *
 * Needs Nest's Express platform (`@nestjs/platform-express`, the default). On a hit the chain ends
 * with `undefined` and the response is already sent: an interceptor bound before this one must not
 * set headers after `next.handle()` emits.
 */
export class LarderHttpInterceptor implements NestInterceptor {
  constructor(private readonly core: HttpCacheMiddleware<Request, Response>) {
    if (core === null || typeof core !== 'function' || typeof core.handle !== 'function') {
      throw new TypeError('LarderHttpInterceptor needs the HTTP cache of LarderModule.forRoot({ http })');
    }
  }

  /** Runs the request through the response cache; see the class comment for what runs when. */
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    if (typeof (res as Partial<ServerResponse>).writeHead !== 'function') {
      throw new TypeError('LarderHttpInterceptor needs Nest on Express (@nestjs/platform-express)');
    }
    // Bound twice to one route (globally and with @UseInterceptors): the outer binding runs the
    // cache; the inner one would find the outer's run of the same key in flight and wait on it, which
    // is waiting on the inner one, until waitTimeout.
    let seen = handling.get(this.core);
    if (seen === undefined) handling.set(this.core, (seen = new WeakSet()));
    if (seen.has(req)) return next.handle();
    seen.add(req);
    return new Observable<unknown>((subscriber) => {
      let passed = false;
      let inner: Subscription | undefined;
      const pass = (): void => {
        passed = true;
        if (!subscriber.closed) inner = next.handle().subscribe(subscriber);
      };
      const direct = { hijack: () => muteReply(res) };
      // req.protocol honours Express's `trust proxy`: answers are kept apart by the scheme it reads.
      const own = { req, res, scheme: req.protocol };
      this.core.handle(req as IncomingMessage, res as ServerResponse, pass, direct, own).then(
        () => {
          if (passed) return;
          // The cache answered (a hit, or a stale answer another request revalidated): Nest sends nothing.
          muteReply(res);
          subscriber.next(undefined);
          subscriber.complete();
        },
        (error: unknown) => {
          if (!passed) subscriber.error(error);
          else if (!res.headersSent) {
            // The handler ran and its answer was lost; Nest already finished with this request.
            res.statusCode = 500;
            res.end();
          }
        },
      );
      return () => inner?.unsubscribe();
    });
  }
}

// Nest's DI without decorator syntax (the package is built without experimentalDecorators or
// decorator metadata): the same metadata `@Injectable()` and `@Inject(LARDER_HTTP_CACHE)` would set.
Injectable()(LarderHttpInterceptor);
Inject(LARDER_HTTP_CACHE)(LarderHttpInterceptor, undefined, 0);

/** Per cache core, the requests it already handles. */
const handling = new WeakMap<object, WeakSet<object>>();

const muted = new WeakSet<object>();

/**
 * Makes Express's own reply methods on this response no-ops (the cache writes it with node:http's
 * `writeHead`/`end`, which stay as they are), so Nest's reply after the chain sends nothing more:
 * its `send`/`json` for a value, `redirect` for a `@Redirect()` route, `render` for a `@Render()` one.
 */
function muteReply(res: Response): void {
  if (muted.has(res)) return;
  muted.add(res);
  const self = (): Response => res;
  Object.assign(res, {
    status: self,
    send: self,
    json: self,
    sendStatus: self,
    redirect: self,
    render: self,
  });
}
