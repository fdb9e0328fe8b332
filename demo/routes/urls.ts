// Seed 004's URL shortener endpoints. The list and analytics answers are cached by the response
// middleware (the seed's CACHE_RULES, one answer per user); a user's write drops that user's answers
// before it is answered. Redirects read the `url` cache, profiles go through a memoized loader on the
// `user` cache, and creation honours an Idempotency-Key kept in the `session` cache for 5 minutes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { memoize, type Cache } from '../../src/index.js';
import type { CacheType } from '../seeds/url-cache.js';
import type { ShortUrl, UrlUpstream } from '../upstreams/urls.js';
import { HttpError, optionalString, type Router } from '../router.js';

const USER_ID_RE = /^[A-Za-z0-9_.-]{1,64}$/;
const MAX_IDEMPOTENCY_KEY = 255;

/**
 * The session-cache key of a creation: the user and the client's Idempotency-Key as a JSON array, so no
 * split of one pair can spell another (`a` + `b_c` and `a_b` + `c` joined with `_` were one key).
 */
export function idempotencyKey(user: string, key: string): string {
  return `idem:${JSON.stringify([user, key])}`;
}

/** The user of a request: the `X-User-Id` header (seed 004's `vary_by_user`). */
export function userOf(req: IncomingMessage): string | undefined {
  const id = req.headers['x-user-id'];
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/** Registers seed 004's routes over the URL database and the named caches. */
export function urlRoutes(router: Router, db: UrlUpstream, getCache: <V>(type: CacheType) => Cache<V>): void {
  const getUserProfile = memoize((userId: string) => db.profile(userId), {
    cache: getCache('user'),
    ttl: '30m',
    key: (userId: string) => `user_profile_${userId}`,
  });
  // Redirect targets; an unknown code loads `undefined`, which is not cached.
  const redirects = getCache<string | undefined>('url');
  const idempotency = getCache<ShortUrl>('session');

  const signedIn = (req: IncomingMessage): string => {
    const user = userOf(req);
    if (user === undefined) throw new HttpError(401, 'X-User-Id is required');
    // Plain ids only: they appear verbatim in cache keys and in the patterns that forget them.
    if (!USER_ID_RE.test(user))
      throw new HttpError(400, "X-User-Id must be 1-64 letters, digits, '.', '_' or '-'");
    return user;
  };

  router.on('GET', '/api/urls/', async ({ req, res }) => {
    const user = signedIn(req);
    keepPrivate(res);
    const [owner, urls] = await Promise.all([getUserProfile(user), db.list(user)]);
    return { owner, count: urls.length, urls };
  });

  router.on('POST', '/api/urls/', async ({ req, res, body }) => {
    const user = signedIn(req);
    const target = readTarget(await body());
    const idemKey = req.headers['idempotency-key'];
    const create = async () => {
      // The writer's cached list and analytics go by INVALIDATION_RULES once the 201 is sent.
      return db.create(user, target);
    };
    res.statusCode = 201;
    if (typeof idemKey !== 'string' || idemKey === '') return create();
    if (idemKey.length > MAX_IDEMPOTENCY_KEY)
      throw new HttpError(400, `Idempotency-Key must be at most ${MAX_IDEMPOTENCY_KEY} characters`);
    // A retried POST with the same key gets the link created the first time, not a second one.
    return idempotency.getOrSet(idempotencyKey(user, idemKey), create, { ttl: '5m' });
  });

  router.on('GET', '/api/urls/stats/', ({ req, res }) => {
    const user = signedIn(req);
    keepPrivate(res);
    return db.stats(user);
  });

  router.on('GET', '/api/urls/:id', async ({ params }) => {
    const url = await db.get(params.id!);
    if (!url) throw new HttpError(404, `url ${params.id} not found`);
    return url;
  });

  router.on('PUT', '/api/urls/:id', async ({ req, params, body }) => {
    const updated = await db.update(params.id!, signedIn(req), readTarget(await body()));
    if (!updated) throw new HttpError(404, `url ${params.id} not found`);
    await redirects.delete(`code_${updated.code}`);
    return updated;
  });

  router.on('DELETE', '/api/urls/:id', async ({ req, params }) => {
    const deleted = await db.delete(params.id!, signedIn(req));
    if (!deleted) throw new HttpError(404, `url ${params.id} not found`);
    await redirects.delete(`code_${deleted.code}`);
    return { id: deleted.id, deleted: true };
  });

  router.on('GET', '/r/:code', async ({ res, params }) => {
    const code = params.code!;
    const target = await redirects.getOrSet(`code_${code}`, () => db.resolve(code));
    if (target === undefined) throw new HttpError(404, `short code ${code} not found`);
    db.recordClick(code);
    res.writeHead(302, { location: target, 'cache-control': 'no-store' });
    res.end();
  });
}

/**
 * Marks one user's answer (their links, their analytics) `Cache-Control: private`, so that no shared
 * cache between the demo and its clients (a proxy, a CDN) keeps it for other users; the demo's own
 * response cache stores it per user (`store_private` in CACHE_RULES).
 */
function keepPrivate(res: ServerResponse): void {
  res.setHeader('cache-control', 'private');
}

function readTarget(body: Record<string, unknown>): string {
  const url = optionalString(body, 'url');
  if (url === undefined) throw new HttpError(400, 'url is required');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new HttpError(400, 'url must be an absolute http(s) URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new HttpError(400, 'url must be an absolute http(s) URL');
  }
  return url;
}
