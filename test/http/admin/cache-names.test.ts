// Cache names that are also names of Object.prototype's members: a cache named `__proto__` is listed
// in every report like any other (an assignment to a plain object's `__proto__` would drop it).
import { afterEach, describe, expect, it } from 'vitest';
import { createCache } from '../../../src/cache/create-cache.js';
import type { Cache } from '../../../src/cache/types.js';
import { createAdmin, type AdminHandler, type AdminOptions } from '../../../src/http/admin/admin.js';
import { listen, type TestServer } from '../helpers/server.js';

const KEY = 'p'.repeat(32);
let admin: AdminHandler;
let server: TestServer;
let caches: Cache[] = [];

async function start(options: Omit<AdminOptions, 'apiKey'>): Promise<void> {
  admin = createAdmin({ apiKey: KEY, ...options });
  server = await listen((req, res) => void admin(req, res));
}

async function get(path: string): Promise<Record<string, any>> {
  const res = await fetch(`${server.url}/${path}`, { headers: { 'x-api-key': KEY } });
  expect(res.status, path).toBe(200);
  return (await res.json()) as Record<string, any>;
}

const own = (record: object) => Object.keys(record).sort();

afterEach(async () => {
  await server?.close();
  admin?.close();
  await Promise.all(caches.map((c) => c.close()));
  caches = [];
});

describe('admin reports and odd cache names', () => {
  it('lists a cache named __proto__ in stats, health, performance and advisor', async () => {
    const proto = createCache<number>({ name: '__proto__', advisor: true });
    const other = createCache<number>({ name: 'other' });
    const constructor = createCache<number>({ name: 'constructor' });
    caches = [proto, other, constructor];
    await proto.set('p', 1);
    await start({ caches: { ['__proto__']: proto, other, constructor } });
    const names = ['__proto__', 'constructor', 'other'];

    const stats = await get('stats');
    expect(own(stats.caches)).toEqual(names);
    expect(stats.caches['__proto__']).toMatchObject({ size: 1, entries: [{ key: 'p' }] });
    expect(own((await get('health')).caches)).toEqual(names);
    expect(own((await get('performance')).cache_instances)).toEqual(names);
    expect(own((await get('advisor')).caches)).toEqual(names);
    expect(own((await get('stats?cache=__proto__')).caches)).toEqual(['__proto__']);
    expect(own((await get('advisor?cache=__proto__')).caches)).toEqual(['__proto__']);
  });

  it('labels GET metrics by the names the admin API shows, not cache.name (two caches named dup)', async () => {
    const first = createCache<number>({ name: 'dup' });
    const second = createCache<number>({ name: 'dup' });
    const proto = createCache<number>({ name: 'p' });
    caches = [first, second, proto];
    for (let i = 0; i < 3; i++) await first.set(`a${i}`, i);
    for (let i = 0; i < 2; i++) await second.set(`b${i}`, i);
    await start({ caches: { first, second, ['__proto__']: proto } });
    expect(own((await get('stats')).caches)).toEqual(['__proto__', 'first', 'second']);
    const res = await fetch(`${server.url}/metrics`, { headers: { 'x-api-key': KEY } });
    const text = await res.text();
    expect(text).toMatch(/^larder_cache_entries\{cache="first"\} 3$/m);
    expect(text).toMatch(/^larder_cache_entries\{cache="second"\} 2$/m);
    expect(text).toMatch(/^larder_cache_entries\{cache="__proto__"\} 0$/m);
    expect(text).not.toContain('cache="dup"');
  });

  it('keeps an instance whose instanceKey is __proto__ in performance', async () => {
    const only = createCache<number>({ name: 'url' });
    caches = [only];
    await start({ caches: { url: only }, instanceKey: () => '__proto__' });
    expect(own((await get('performance')).cache_instances)).toEqual(['__proto__']);
  });
});
