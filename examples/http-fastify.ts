// Response caching and the admin API as a Fastify 5 plugin (docs/concepts/http.md shows the region below).
// Run: `node --import tsx examples/http-fastify.ts`.
import Fastify, { type FastifyRequest } from 'fastify';
import { createCacheManager } from 'larder-cache';
import { fastifyCache } from 'larder-cache/fastify';
import { readTwice } from './try-http.js';

// Stand-ins for your application: its auth hook and its data.
async function authenticate(req: FastifyRequest): Promise<void> {
  const token = req.headers.authorization;
  if (token !== undefined) req.auth = { userId: token.replace(/^Bearer /, '') }; // verify it, in a real app
}
let calls = 0;
process.env.CACHE_API_KEY ??= 'an-example-admin-key';

// #region app
declare module 'fastify' {
  interface FastifyRequest {
    auth?: { userId: string }; // what your auth hook sets
  }
}

const caches = createCacheManager({
  caches: { url: { maxEntries: 5000, ttl: '1h' }, analytics: { maxEntries: 500 } },
});
const app = Fastify();
app.addHook('onRequest', authenticate); // verifies the caller and sets req.auth, before the cache's hook
await app.register(fastifyCache, {
  cache: caches, // with a manager, each rule names its cache
  user: (req) => req.auth?.userId,
  rules: [
    { path: '/api/urls/stats', ttl: '15m', cache: 'analytics', perUser: true },
    { path: '/api/urls/:id', ttl: '5m', cache: 'url', tags: ['url:{id}'] },
  ],
  invalidate: [{ method: ['PUT', 'DELETE'], path: '/api/urls/:id', tags: ['url:{id}'], cache: 'url' }],
  admin: { apiKey: process.env.CACHE_API_KEY!, prefix: '/api/cache' },
});
// #endregion app

app.get<{ Params: { id: string } }>('/api/urls/:id', async (req) => {
  calls++;
  return { id: req.params.id, target: 'https://example.com' };
});
await app.listen({ port: 0, host: '127.0.0.1' });
await readTwice(app.server, '/api/urls/abc', () => calls);
await app.close();
await caches.close();
