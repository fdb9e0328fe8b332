// Per-user caching with identity set by the framework (a Fastify onRequest hook / decorateRequest, an
// Express middleware on req or res.locals): user() receives the framework's own request and response,
// so two users and an anonymous caller never get each other's answer.
import express, { type Request, type Response } from 'express';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import type { Cache } from '../../src/cache/types.js';
import { expressCache } from '../../src/http/express.js';
import { fastifyCache } from '../../src/http/fastify.js';
import { listen, type TestServer } from './helpers/server.js';

type Authed = FastifyRequest & { auth?: { userId: string } | undefined };

let cache: Cache;
let closeAll: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closeAll) await close();
  closeAll = [];
  await cache?.close();
});

/** Three callers in a row, twice: each must get its own answer, the second round from the cache. */
async function expectNoCrossUserHit(base: string): Promise<void> {
  const who = [{ token: 'u1' }, { token: 'u2' }, {}] as const;
  for (const round of [0, 1]) {
    for (const caller of who) {
      const headers: Record<string, string> = 'token' in caller ? { 'x-token': caller.token } : {};
      const res = await fetch(`${base}/me`, { headers });
      const body = (await res.json()) as { user: string | null };
      expect(body.user).toBe('token' in caller ? caller.token : null);
      expect(res.headers.get('x-cache')).toBe(round === 0 ? 'MISS' : 'HIT');
    }
  }
}

describe('user() sees the identity the framework set', () => {
  it('Fastify: an onRequest hook on a decorated request (request.auth)', async () => {
    cache = createCache({ name: 'api' });
    const app: FastifyInstance = Fastify();
    app.decorateRequest('auth', undefined);
    // The app's authentication: reads its own token header and sets request.auth before the cache.
    app.addHook('onRequest', async (request: Authed) => {
      const token = request.headers['x-token'];
      request.auth = typeof token === 'string' ? { userId: token } : undefined;
    });
    await app.register(fastifyCache, {
      cache,
      user: (req: Authed) => req.auth?.userId,
      credentialHeaders: [],
      rules: [{ path: '/me', perUser: true, ttl: '1m' }],
    });
    app.get('/me', async (req: Authed) => ({ user: req.auth?.userId ?? null }));
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    closeAll.push(() => app.close());
    await expectNoCrossUserHit(base);
  });

  it('Express: a middleware setting req.user', async () => {
    cache = createCache({ name: 'api' });
    type UserRequest = Request & { user?: string };
    const app = express();
    app.use((req: UserRequest, _res, next) => {
      const token = req.headers['x-token'];
      if (typeof token === 'string') req.user = token;
      next();
    });
    app.use(
      expressCache({
        cache,
        user: (req: UserRequest) => req.user,
        credentialHeaders: [],
        rules: [{ path: '/me', perUser: true, ttl: '1m' }],
      }),
    );
    app.get('/me', (req: UserRequest, res) => void res.json({ user: req.user ?? null }));
    const server: TestServer = await listen((req, res) => app(req, res));
    closeAll.push(() => server.close());
    await expectNoCrossUserHit(server.url);
  });

  it('Express: a middleware setting res.locals.userId', async () => {
    cache = createCache({ name: 'api' });
    const app = express();
    app.use((req, res, next) => {
      const token = req.headers['x-token'];
      if (typeof token === 'string') res.locals.userId = token;
      next();
    });
    app.use(
      expressCache({
        cache,
        user: (_req, res: Response) => res.locals.userId as string | undefined,
        credentialHeaders: [],
        rules: [{ path: '/me', perUser: true, ttl: '1m' }],
      }),
    );
    app.get('/me', (_req, res) => void res.json({ user: (res.locals.userId as string | undefined) ?? null }));
    const server: TestServer = await listen((req, res) => app(req, res));
    closeAll.push(() => server.close());
    await expectNoCrossUserHit(server.url);
  });

  it('Fastify: a key function receives the FastifyRequest too', async () => {
    cache = createCache({ name: 'api' });
    const app: FastifyInstance = Fastify();
    app.decorateRequest('auth', undefined);
    app.addHook('onRequest', async (request: Authed) => {
      request.auth = { userId: String(request.headers['x-token'] ?? 'anon') };
    });
    await app.register(fastifyCache, {
      cache,
      rules: [{ path: '/me', ttl: '1m', key: (req: Authed) => `me:${req.auth?.userId ?? ''}` }],
    });
    app.get('/me', async (req: Authed) => ({ user: req.auth?.userId ?? null }));
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    closeAll.push(() => app.close());
    await fetch(`${base}/me`, { headers: { 'x-token': 'u1' } });
    const u2 = await fetch(`${base}/me`, { headers: { 'x-token': 'u2' } });
    expect(u2.headers.get('x-cache')).toBe('MISS');
    expect(await u2.json()).toEqual({ user: 'u2' });
    expect(
      cache
        .entries()
        .map((e) => e.key)
        .sort(),
    ).toEqual(['me:u1', 'me:u2']);
  });
});
