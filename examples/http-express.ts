// Response caching and the admin API in an Express 5 app (docs/concepts/http.md shows the region below).
// Run: `node --import tsx examples/http-express.ts`.
import express, { type NextFunction, type Request, type Response } from 'express';
import { createCacheManager } from 'larder-cache';
import { expressAdmin, expressCache } from 'larder-cache/express';
import { readTwice } from './try-http.js';

// Stand-ins for your application: its auth middleware and its data.
type AuthedRequest = Request & { auth?: { userId: string } };
function authenticate(req: AuthedRequest, _res: Response, next: NextFunction): void {
  const token = req.header('authorization');
  if (token !== undefined) req.auth = { userId: token.replace(/^Bearer /, '') }; // verify it, in a real app
  next();
}
let calls = 0;
async function listProviders(org: string): Promise<string[]> {
  calls++;
  return [`${org}/linode`, `${org}/digitalocean`];
}
process.env.CACHE_API_KEY ??= 'an-example-admin-key';

// #region app
const caches = createCacheManager({ caches: { api: { maxEntries: 5000, ttl: '5m' } } });
const app = express();
app.use(express.json());
app.use('/api/cache', expressAdmin({ caches, apiKey: process.env.CACHE_API_KEY! }));
app.use(authenticate); // your auth middleware, *before* the cache: it verifies the caller and sets req.auth
app.use(
  expressCache<AuthedRequest>({
    cache: caches.get('api'),
    user: (req) => req.auth?.userId, // who the request is for: a verified identity, never a client header
    rules: [
      // The same answer for everyone allowed to see the org (authenticate checked that): shared.
      { path: '/subscriptions/:org/providers', ttl: '5m', tags: ['org:{org}'], shared: true },
      { path: '/me/dashboard', ttl: '1m', perUser: true },
    ],
    invalidate: [{ path: '/subscriptions/:org/providers/:provider/*', tags: ['org:{org}'] }],
  }),
);
app.get(
  '/subscriptions/:org/providers',
  async (req, res) => void res.json(await listProviders(req.params.org)),
);
// #endregion app

await readTwice(app.listen(0, '127.0.0.1'), '/subscriptions/acme/providers', () => calls);
await caches.close();
