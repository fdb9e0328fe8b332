// The Fastify plugin (Fastify 4 and 5): the response cache as an onRequest hook over the node:http core
// (a HIT hijacks the reply and is written straight to the socket, skipping body parsing, validation and
// serialization), and the admin API as routes under `admin.prefix` whose onRequest hook hands the raw
// request to the admin router before Fastify parses any body.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ADMIN_PATHS, createAdmin, type AdminOptions } from './admin/admin.js';
import type { CacheSource } from './cache-directory.js';
import { createHttpCache, type HttpCacheOptions } from './http-cache.js';

/**
 * Options of {@link fastifyCache}: the response cache's, plus an optional admin API. `user(request,
 * reply)` and key functions receive Fastify's own `FastifyRequest` and `FastifyReply`, so what an
 * onRequest hook or `decorateRequest` set (`request.auth`) is visible to them.
 */
export interface FastifyCacheOptions extends HttpCacheOptions<FastifyRequest, FastifyReply> {
  /** Mounts the admin API; `caches` defaults to the response cache's `cache`. */
  admin?: Omit<AdminOptions, 'caches'> & { caches?: CacheSource };
}

/**
 * The plugin: `await app.register(fastifyCache, { cache, rules, invalidate, admin: { apiKey, prefix } })`.
 * Type what your hooks add to the request the Fastify way (`declare module 'fastify' { interface
 * FastifyRequest { auth?: … } }`), or annotate `user`'s parameter (`(req: FastifyRequest & { auth?: … })`).
 */
export function fastifyCache(
  fastify: FastifyInstance,
  options: FastifyCacheOptions,
  done: (error?: Error) => void,
): void {
  const { admin: adminOptions, ...cacheOptions } = options;
  const core = createHttpCache(cacheOptions);
  fastify.addHook('onRequest', function larderCache(request: FastifyRequest, reply: FastifyReply, hookDone) {
    let passed = false;
    // The reply itself is the `direct` seam: a HIT calls reply.hijack() and writes the raw response.
    // user() and key functions get Fastify's request, where earlier hooks put the caller's identity.
    core
      .handle(
        request.raw,
        reply.raw,
        () => {
          passed = true;
          hookDone();
        },
        reply,
        // request.protocol honours `trustProxy` (X-Forwarded-Proto only from a trusted proxy).
        { req: request, res: reply, scheme: request.protocol },
      )
      .catch((error: unknown) => {
        if (!passed) hookDone(error as Error);
        else request.log.error({ err: error }, 'larder: response cache failed after the handler ran');
      });
  });
  if (adminOptions !== undefined) {
    const admin = createAdmin({ ...adminOptions, caches: adminOptions.caches ?? options.cache });
    const prefix = adminOptions.prefix ?? '';
    // Each route with one trailing slash too, as the router takes it (Fastify matches paths exactly
    // unless ignoreTrailingSlash is set; `/dashboard/*` already matches `/dashboard/`).
    const urls = ADMIN_PATHS.flatMap((path) => (path.endsWith('*') ? [path] : [path, `${path}/`]));
    for (const path of urls) {
      fastify.route({
        method: ['GET', 'HEAD', 'POST'],
        url: `${prefix}${path}`,
        // Hijacked in onRequest, before Fastify reads the body: the admin router reads it with its own limit.
        onRequest(request, reply, hookDone) {
          reply.hijack();
          admin(request.raw, reply.raw).catch((error: unknown) => hookDone(error as Error));
        },
        handler() {
          // Never reached: the onRequest hook answered.
        },
      });
    }
    fastify.addHook('onClose', (_instance, closeDone) => {
      admin.close();
      closeDone();
    });
  }
  done();
}

// Like fastify-plugin: the hook applies to the routes of the instance that registered the plugin.
Object.assign(fastifyCache, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'larder-cache',
});
