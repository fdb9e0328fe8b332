// POST invalidate validates the whole request before applying any of it: a target a shared tier would
// refuse mid-request (a lone surrogate) is a 400, and the keys and tags named beside it stay.
import { afterEach, describe, expect, it } from 'vitest';
import { createCache } from '../../../src/cache/create-cache.js';
import type { Cache } from '../../../src/cache/types.js';
import { createAdmin, type AdminHandler } from '../../../src/http/admin/admin.js';
import { MemoryDriver } from '../../../src/tiers/memory-driver.js';
import { SharedTier } from '../../../src/tiers/shared-tier.js';
import { listen, type TestServer } from '../helpers/server.js';

const KEY = 'v'.repeat(32);
let admin: AdminHandler;
let server: TestServer;
let cache: Cache<number>;

afterEach(async () => {
  await server?.close();
  admin?.close();
  await cache?.close();
});

describe('admin POST invalidate with a shared tier', () => {
  it.each([
    ['keys', '{"keys": ["a", "\\ud800"], "tags": ["t"]}'],
    ['tags', '{"keys": ["a"], "tags": ["t", "x\\udc00"]}'],
    ['patterns', '{"keys": ["a"], "tags": ["t"], "patterns": ["\\ud800*"]}'],
  ])('refuses a lone surrogate in %s with a 400 and invalidates nothing', async (field, body) => {
    cache = createCache<number>({
      name: 'l2',
      ttl: '1h',
      l2: new SharedTier({ driver: new MemoryDriver() }),
    });
    await cache.set('a', 1);
    await cache.set('b', 2, { tags: ['t'] });
    admin = createAdmin({ caches: { l2: cache }, apiKey: KEY });
    server = await listen((req, res) => void admin(req, res));
    const res = await fetch(`${server.url}/invalidate`, {
      method: 'POST',
      headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(
      new RegExp(`"${field}" holds a string that is not well-formed UTF-16`),
    );
    expect(await cache.get('a')).toBe(1);
    expect(await cache.get('b')).toBe(2);
  });
});
