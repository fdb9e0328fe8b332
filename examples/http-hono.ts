// Response caching and the admin API as Hono middleware, on Node through @hono/node-server
// (docs/concepts/http.md shows the region below). Run: `node --import tsx examples/http-hono.ts`.
import type { Server } from 'node:http';
import { serve, type HttpBindings } from '@hono/node-server';
import { Hono } from 'hono';
import { createCacheManager } from 'larder-cache';
import { honoAdmin, honoCache } from 'larder-cache/hono';
import { readTwice } from './try-http.js';

// Stand-ins for your application: its auth and its data.
async function authenticate(token: string | undefined): Promise<string | undefined> {
  return token?.replace(/^Bearer /, ''); // verify it, in a real app
}
let calls = 0;
async function listProviders(org: string): Promise<string[]> {
  calls++;
  return [`${org}/linode`, `${org}/digitalocean`];
}
process.env.CACHE_API_KEY ??= 'an-example-admin-key';

// #region app
type AppEnv = { Bindings: HttpBindings; Variables: { userId?: string } };

const caches = createCacheManager({ caches: { api: { maxEntries: 5000, ttl: '5m' } } });
const app = new Hono<AppEnv>();
app.use(honoAdmin<AppEnv>({ caches, apiKey: process.env.CACHE_API_KEY!, prefix: '/api/cache' }));
app.use(async (c, next) => {
  c.set('userId', await authenticate(c.req.header('authorization'))); // your auth, *before* the cache
  await next();
});
app.use(
  honoCache<AppEnv>({
    cache: caches.get('api'),
    user: (c) => c.get('userId'), // Hono's own Context
    rules: [
      { path: '/subscriptions/:org/providers', ttl: '5m', tags: ['org:{org}'], shared: true },
      { path: '/me/dashboard', ttl: '1m', perUser: true },
    ],
    invalidate: [{ path: '/subscriptions/:org/providers/:provider/*', tags: ['org:{org}'] }],
  }),
);
app.get('/subscriptions/:org/providers', async (c) => c.json(await listProviders(c.req.param('org'))));
// #endregion app

const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
await readTwice(server, '/subscriptions/acme/providers', () => calls);
await caches.close();
