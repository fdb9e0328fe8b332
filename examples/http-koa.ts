// Response caching and the admin API as Koa 3 middleware (docs/concepts/http.md shows the region below).
// Run: `node --import tsx examples/http-koa.ts`.
import Koa from 'koa';
import { createCacheManager } from 'larder-cache';
import { koaAdmin, koaCache } from 'larder-cache/koa';
import { readTwice } from './try-http.js';

// Stand-ins for your application: its auth and its data.
async function authenticate(ctx: Koa.ParameterizedContext<State>): Promise<string | undefined> {
  return ctx.get('authorization').replace(/^Bearer /, '') || undefined; // verify it, in a real app
}
let calls = 0;
async function listProviders(org: string): Promise<string[]> {
  calls++;
  return [`${org}/linode`, `${org}/digitalocean`];
}
process.env.CACHE_API_KEY ??= 'an-example-admin-key';

// #region app
interface State {
  userId?: string;
}

const caches = createCacheManager({ caches: { api: { maxEntries: 5000, ttl: '5m' } } });
const app = new Koa<State>();
app.use(koaAdmin({ caches, apiKey: process.env.CACHE_API_KEY!, prefix: '/api/cache' }));
app.use(async (ctx, next) => {
  ctx.state.userId = await authenticate(ctx); // your auth, *before* the cache
  await next();
});
app.use(
  koaCache<State>({
    cache: caches.get('api'),
    user: (ctx) => ctx.state.userId, // Koa's own context
    rules: [
      { path: '/subscriptions/:org/providers', ttl: '5m', tags: ['org:{org}'], shared: true },
      { path: '/me/dashboard', ttl: '1m', perUser: true },
    ],
    invalidate: [{ path: '/subscriptions/:org/providers/:provider/*', tags: ['org:{org}'] }],
  }),
);
app.use(async (ctx) => {
  const match = /^\/subscriptions\/([^/]+)\/providers$/.exec(ctx.path);
  if (match) ctx.body = await listProviders(match[1]!);
});
// #endregion app

await readTwice(app.listen(0, '127.0.0.1'), '/subscriptions/acme/providers', () => calls);
await caches.close();
