// Seed 004: user-specific invalidation expressed in invalidation rules through `{user}`, the writer's
// `user()`, with no hand-written code: a user's write drops that user's per-user answers only.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import type { Cache } from '../../src/cache/types.js';
import { createHttpCache } from '../../src/http/http-cache.js';
import { compileInvalidationRules, type InvalidationRule } from '../../src/http/rules.js';
import { renderTargets } from '../../src/http/invalidate.js';
import { listen, type TestServer } from '../http/helpers/server.js';

let cache: Cache;
let server: TestServer;

const cacheRules = [
  { path: '/api/urls', ttl: '5m', perUser: true },
  { path: '/api/urls/stats', ttl: '15m', perUser: true },
];

async function start(invalidate: InvalidationRule[]): Promise<void> {
  const mw = createHttpCache({
    cache,
    rules: cacheRules,
    invalidate,
    // Only the rule may invalidate: the write's own URI is not cached per user anyway, but be sure.
    invalidateOnWrite: false,
    user: (req: IncomingMessage) => (req.headers['x-user-id'] as string | undefined) ?? undefined,
  });
  const app = (req: IncomingMessage, res: ServerResponse) => {
    res.statusCode = req.method === 'GET' ? 200 : 201;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ url: req.url, user: req.headers['x-user-id'] ?? null }));
  };
  server = await listen((req, res) => void mw(req, res, () => app(req, res)));
}

const call = (method: string, path: string, user?: string) =>
  fetch(server.url + path, {
    method,
    headers: user === undefined ? {} : { 'x-user-id': encodeURIComponent(user) },
  }).then((r) => r.status);

/** Users whose per-user answers are cached, by the user id in their keys. */
const usersCached = () =>
  cache
    .entries()
    .map((e) => decodeURIComponent(e.key.slice(e.key.lastIndexOf(' user=') + ' user='.length)))
    .sort();

beforeEach(() => {
  cache = createCache({ name: 'urls', ttl: '5m' });
});
afterEach(async () => {
  await server.close();
  await cache.close();
});

describe('seed 004: {user} in invalidation rules', () => {
  const userRule: InvalidationRule = {
    method: 'POST',
    path: '/api/urls',
    patterns: ['GET /api/urls* user={user}'],
  };

  it("drops the writer's own list and stats, and no other user's", async () => {
    await start([userRule]);
    for (const user of ['alice', 'bob']) {
      expect(await call('GET', '/api/urls', user)).toBe(200);
      expect(await call('GET', '/api/urls/stats', user)).toBe(200);
    }
    expect(usersCached()).toEqual(['alice', 'alice', 'bob', 'bob']);
    expect(await call('POST', '/api/urls', 'alice')).toBe(201);
    expect(usersCached()).toEqual(['bob', 'bob']);
  });

  it('encodes the user as per-user keys hold it, so ids with separators and spaces still match', async () => {
    await start([userRule]);
    for (const user of ['ann lee_1', 'ann']) expect(await call('GET', '/api/urls', user)).toBe(200);
    expect(await call('POST', '/api/urls', 'ann lee_1')).toBe(201);
    expect(usersCached()).toEqual(['ann']);
  });

  it('an anonymous write drops nothing through a {user} target', async () => {
    await start([userRule]);
    expect(await call('GET', '/api/urls', 'alice')).toBe(200);
    expect(await call('POST', '/api/urls')).toBe(201);
    expect(usersCached()).toEqual(['alice']);
  });

  it('renders {user}: raw in tags, key-encoded in keys, `*` widened to `?` in patterns', () => {
    const [rule] = compileInvalidationRules([
      {
        path: '/api/urls/:id',
        tags: ['user:{user}', 'url:{id}'],
        keys: ['GET /api/urls user={user}'],
        patterns: ['GET /api/urls/{id}* user={user}'],
      },
    ]);
    expect(rule!.usesUser).toBe(true);
    expect(renderTargets(rule!, { id: '7' }, 'a b*')).toEqual({
      tags: ['user:a b*', 'url:7'],
      keys: ['GET /api/urls user=a%20b*'],
      patterns: ['GET /api/urls/7* user=a%20b?'],
    });
    // Anonymous: only the targets that do not name {user}.
    expect(renderTargets(rule!, { id: '7' }, undefined)).toEqual({ tags: ['url:7'], keys: [], patterns: [] });
  });

  it('a path that captures :user keeps {user} as that route param', () => {
    const [rule] = compileInvalidationRules([{ path: '/users/:user/urls', tags: ['user:{user}'] }]);
    expect(rule!.usesUser).toBe(false);
    expect(renderTargets(rule!, { user: 'bob' }, 'alice').tags).toEqual(['user:bob']);
    expect(() => compileInvalidationRules([{ path: '/x', tags: ['{nobody}'] }])).toThrow(/\{nobody\}/);
  });
});
