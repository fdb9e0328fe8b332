import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCacheManager } from '../../../src/cache/manager.js';
import type { CacheManager } from '../../../src/cache/types.js';
import { createAdmin, type AdminHandler, type AdminOptions } from '../../../src/http/admin/admin.js';
import { listen, type TestServer } from '../helpers/server.js';

const KEY = 'k'.repeat(32);
let manager: CacheManager;
let admin: AdminHandler;
let server: TestServer;

async function start(options: Partial<AdminOptions> = {}): Promise<void> {
  admin = createAdmin({ caches: manager, apiKey: KEY, prefix: '/api/cache', ...options });
  server = await listen((req, res) => {
    void admin(req, res, () => {
      res.statusCode = 418;
      res.end('app');
    });
  });
}

function call(
  method: string,
  path: string,
  init: { key?: string | null; body?: string; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { ...init.headers };
  if (init.key !== null) headers['x-api-key'] = init.key ?? KEY;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  return fetch(`${server.url}/api/cache/${path}`, { method, headers, body: init.body });
}

async function json(method: string, path: string, init?: Parameters<typeof call>[2]) {
  const r = await call(method, path, init);
  return { status: r.status, body: (await r.json()) as Record<string, any> };
}

beforeEach(async () => {
  manager = createCacheManager({
    caches: { url: { maxEntries: 5000, ttl: '1h' }, user: { maxEntries: 1000, ttl: '30m' } },
  });
  const url = manager.get('url');
  await url.set('url:1', 'https://a.example', { tags: ['org:acme'] });
  await url.set('url:2', 'https://b.example', { tags: ['org:globex'] });
  await url.set('plans_list_acme_slack_True', [1]);
  await url.get('url:1');
  await url.get('url:404');
  await manager.get('user').set('user:7', { name: 'Ada' });
});
afterEach(async () => {
  admin?.close();
  await server?.close();
  await manager.close();
  admin = undefined as unknown as AdminHandler;
  server = undefined as unknown as TestServer;
});

describe('createAdmin', () => {
  it('refuses to mount without an API key, and names bad options', () => {
    expect(() => createAdmin({ caches: manager } as AdminOptions)).toThrow(/apiKey is required/);
    expect(() => createAdmin({ caches: manager, apiKey: '' })).toThrow(/apiKey is required/);
    expect(() => createAdmin({ caches: manager, apiKey: KEY, prefix: 'api/' })).toThrow(/prefix must be/);
    expect(() => createAdmin({ caches: manager, apiKey: KEY, maxRequestBytes: 0 })).toThrow(
      /maxRequestBytes/,
    );
    expect(() => createAdmin({ caches: manager, apiKey: KEY, publicStat: true } as never)).toThrow(
      /unknown option "publicStat"/,
    );
  });

  it.each([
    ['GET', 'stats'],
    ['GET', 'health'],
    ['GET', 'performance'],
    ['GET', 'metrics'],
    ['POST', 'clear'],
    ['POST', 'clear/url'],
    ['POST', 'invalidate'],
    ['POST', 'config/url'],
  ])(
    '%s %s answers 401 without the key, with a wrong key of the same length, and changes nothing',
    async (method, path) => {
      await start();
      const body =
        method === 'POST' ? JSON.stringify({ tags: ['org:acme'], ttl: 5, enabled: false }) : undefined;
      for (const key of [null, 'x'.repeat(KEY.length), `${KEY}x`, '']) {
        const r = await json(method, path, { key, body });
        expect(r.status).toBe(401);
        expect(r.body.error).toMatch(/X-API-Key/);
      }
      expect(manager.get('url').stats().size).toBe(3);
      expect(manager.get('url').enabled).toBe(true);
    },
  );

  it('GET stats: per cache and overall, snake_case, entries with age and ttl_remaining in seconds', async () => {
    await start();
    const { status, body } = await json('GET', 'stats');
    expect(status).toBe(200);
    expect(body.overall).toMatchObject({ hits: 1, misses: 1, hit_rate: 50, size: 4, total_requests: 2 });
    const url = body.caches.url;
    expect(url).toMatchObject({
      size: 3,
      max_entries: 5000,
      enabled: true,
      ttl: 3_600_000,
      sets: 3,
      entries_total: 3,
    });
    for (const field of ['stale_hits', 'load_errors', 'evictions', 'expirations', 'bytes', 'invalidations']) {
      expect(typeof url[field]).toBe('number');
    }
    expect(url.load_time).toMatchObject({
      mean: expect.any(Number),
      p50: expect.any(Number),
      p99: expect.any(Number),
    });
    const entry = url.entries.find((e: { key: string }) => e.key === 'url:1');
    expect(entry.age).toBeGreaterThanOrEqual(0);
    expect(entry.ttl_remaining).toBeGreaterThan(3590);
    expect(entry.ttl_remaining).toBeLessThanOrEqual(3600);
    expect(entry.tags).toEqual(['org:acme']);
  });

  it('GET stats filters by cache and key text, and limits the entries', async () => {
    await start();
    const { body } = await json('GET', 'stats?cache=url&q=URL:&limit=1');
    expect(Object.keys(body.caches)).toEqual(['url']);
    expect(body.caches.url.entries).toHaveLength(1);
    expect(body.caches.url.entries_total).toBe(2);
    expect(body.overall.size).toBe(3);
    expect((await json('GET', 'stats?cache=nope')).status).toBe(404);
    expect((await json('GET', 'stats?limit=-1')).body.error).toMatch(/limit must be a non-negative integer/);
  });

  it.each(['', '%20', '0x10', '1e2', '+5', '1.0', '5%20'])(
    'GET stats?limit=%s is a 400: limit takes decimal digits only',
    async (limit) => {
      await start();
      for (const path of [`stats?limit=${limit}`, `stats?cache=url&format=compact&limit=${limit}`]) {
        const r = await json('GET', path);
        expect(r.status, path).toBe(400);
        expect(r.body.error).toMatch(/limit must be a non-negative integer/);
      }
    },
  );

  it('publicStats opens GET stats without the key, counters only', async () => {
    await start({ publicStats: true });
    const open = await call('GET', 'stats', { key: null });
    const text = await open.text();
    expect(open.status).toBe(200);
    expect(text).not.toMatch(/url:1|plans_list|user:7|"entries"|ttl_remaining/);
    expect(JSON.parse(text).caches.url.hits).toBe(1);
    // Everything else still needs the key, and a wrong key is still refused.
    expect((await json('GET', 'health', { key: null })).status).toBe(401);
    expect((await json('GET', 'stats', { key: 'y'.repeat(32) })).status).toBe(401);
    expect((await json('GET', 'stats')).body.caches.url.entries).toHaveLength(3);
  });

  it('publicStats: an unknown cache gets a 404 that names no cache, unless the key is given', async () => {
    await start({ publicStats: true });
    const open = await call('GET', 'stats?cache=nope', { key: null });
    expect(open.status).toBe(404);
    const text = await open.text();
    expect(JSON.parse(text)).toEqual({ error: 'unknown cache' });
    expect(text).not.toMatch(/url|user/);
    expect((await json('GET', 'stats?cache=url', { key: null })).status).toBe(200);
    const keyed = await json('GET', 'stats?cache=nope');
    expect(keyed.status).toBe(404);
    expect(keyed.body.error).toMatch(/unknown cache "nope" \(known: url, user\)/);
  });

  it('GET health: ok with each cache, 200', async () => {
    await start();
    const { status, body } = await json('GET', 'health');
    expect(status).toBe(200);
    expect(body.status).toBe('ok');
    expect(Object.keys(body.caches).sort()).toEqual(['url', 'user']);
  });

  it('GET health: degraded with the reason (e.g. an open L2 circuit), 503 only when asked to be strict', async () => {
    const real = manager.get('url');
    // The same cache, reporting what a cache with an unreachable Redis reports.
    const degraded = new Proxy(real, {
      get(target, prop) {
        if (prop === 'health')
          return () => ({ status: 'degraded', reason: 'L2 circuit open', l2: { status: 'down' } });
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    await start({ caches: { url: degraded, user: manager.get('user') } });
    const { status, body } = await json('GET', 'health');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      status: 'degraded',
      reason: 'url: L2 circuit open',
      l2: { status: 'down' },
    });
    expect(body.caches.user.status).toBe('ok');
    expect((await json('GET', 'health?strict')).status).toBe(503);
  });

  it('GET health shows the shared tier of healthy caches too', async () => {
    const withTier = new Proxy(manager.get('url'), {
      get(target, prop) {
        if (prop === 'health') return () => ({ status: 'ok', l2: { status: 'ok' }, bus: { status: 'ok' } });
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    await start({ caches: { user: manager.get('user'), url: withTier } });
    const { body } = await json('GET', 'health');
    expect(body).toMatchObject({ status: 'ok', l2: { status: 'ok' }, bus: { status: 'ok' } });
    expect(body.reason).toBeUndefined();
  });

  it("GET performance: seed 004's shape", async () => {
    await start();
    const { body } = await json('GET', 'performance');
    expect(body.overall_performance).toMatchObject({
      total_requests: 2,
      total_hits: 1,
      total_misses: 1,
      overall_hit_rate: 50,
    });
    expect(body.overall_performance.total_cache_memory_mb).toBeGreaterThanOrEqual(0);
    expect(body.system_info.system_memory_total_gb).toBeGreaterThan(0);
    expect(body.system_info.system_memory_percent_used).toBeGreaterThan(0);
    expect(body.system_info.process_memory_mb).toBeGreaterThan(1);
    expect(body.cache_instances.url).toMatchObject({
      hits: 1,
      misses: 1,
      hit_rate: 50,
      current_size: 3,
      max_size: 5000,
    });
  });

  it('GET metrics: Prometheus text with per-cache series that parse back', async () => {
    await start();
    const r = await call('GET', 'metrics');
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    const samples = new Map<string, number>();
    for (const line of (await r.text()).split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const m = /^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
      expect(m, line).not.toBeNull();
      samples.set(m![1]!, Number(m![2]));
    }
    expect(samples.get('larder_cache_hits_total{cache="url"}')).toBe(1);
    expect(samples.get('larder_cache_misses_total{cache="url"}')).toBe(1);
    expect(samples.get('larder_cache_entries{cache="user"}')).toBe(1);
  });

  it('POST clear/:cache clears one cache, 404 naming an unknown one; POST clear clears all', async () => {
    await start();
    expect(await json('POST', 'clear/url')).toMatchObject({ status: 200, body: { cleared: ['url'] } });
    expect(manager.get('url').stats().size).toBe(0);
    expect(manager.get('user').stats().size).toBe(1);
    const unknown = await json('POST', 'clear/nope');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatch(/unknown cache "nope"/);
    await json('POST', 'clear');
    expect(manager.get('user').stats().size).toBe(0);
  });

  it('only POST clear (or clear/) clears every cache: an empty name is refused, ?cache= names one', async () => {
    await start();
    for (const path of ['clear//', 'clear?cache=', 'clear/?cache=', 'clear/url?cache=user']) {
      const r = await json('POST', path);
      expect(r.status, path).toBe(400);
      expect(r.body.error).toMatch(/cache name is empty|name the cache once/);
    }
    expect(manager.get('url').stats().size).toBe(3);
    expect(manager.get('user').stats().size).toBe(1);
    expect(await json('POST', 'clear?cache=user')).toMatchObject({
      status: 200,
      body: { cleared: ['user'] },
    });
    expect(manager.get('user').stats().size).toBe(0);
    expect(manager.get('url').stats().size).toBe(3);
    const config = await json('POST', 'config?cache=url', { body: '{"enabled": false}' });
    expect(config).toMatchObject({ status: 200, body: { cache: 'url', enabled: false } });
    expect((await json('POST', 'config//', { body: '{"enabled": false}' })).status).toBe(400);
    expect((await json('POST', 'config/', { body: '{"enabled": false}' })).status).toBe(404);
    expect((await json('GET', 'stats/')).status).toBe(200);
    expect((await json('POST', 'clear/url/')).body).toEqual({ cleared: ['url'] });
    expect((await json('POST', 'clear/')).body).toEqual({ cleared: ['url', 'user'] });
  });

  it('POST invalidate: keys, tags and patterns with counts, in one cache or all', async () => {
    await start();
    const r = await json('POST', 'invalidate', {
      body: JSON.stringify({ tags: ['org:acme'], patterns: ['plans_list_acme_*'], keys: ['user:7', 'nope'] }),
    });
    expect(r).toMatchObject({
      status: 200,
      body: { invalidated: 3, counts: { keys: 1, tags: 1, patterns: 1 } },
    });
    expect(
      manager
        .get('url')
        .entries()
        .map((e) => e.key),
    ).toEqual(['url:2']);
    const scoped = await json('POST', 'invalidate', {
      body: JSON.stringify({ cache: 'user', tags: ['org:globex'] }),
    });
    expect(scoped.body).toMatchObject({ invalidated: 0, caches: ['user'] });
    expect(
      (await json('POST', 'invalidate', { body: JSON.stringify({ cache: 'x', tags: ['a'] }) })).status,
    ).toBe(404);
  });

  it.each([
    ['{"tags": ', /not valid JSON/],
    ['[1]', /must be a JSON object/],
    ['{}', /at least one of "keys", "tags" or "patterns"/],
    ['{"tags": "org:acme"}', /"tags" must be an array of strings/],
    ['{"tags": [""]}', /"tags" must hold non-empty strings/],
    ['{"tag": ["x"]}', /unknown field "tag"/],
    ['', /request body is required/],
    ['{"keys": ["user:7"], "tags": ["\\ud800"]}', /"tags" holds a string that is not well-formed UTF-16/],
    ['{"keys": ["url:1", "\\udc00x"]}', /"keys" holds a string that is not well-formed UTF-16/],
    ['{"keys": ["url:1"], "tags": ["\\ue000x"]}', /"tags" holds a tag starting with U\+E000/],
  ])('POST invalidate with %j answers 400 naming the problem', async (body, message) => {
    await start();
    const r = await json('POST', 'invalidate', { body });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(message);
    expect(manager.get('url').stats().size).toBe(3);
  });

  it('POST invalidate checks every pattern before applying anything: too many stars is a 400, nothing goes', async () => {
    await start();
    const r = await json('POST', 'invalidate', {
      body: JSON.stringify({ keys: ['user:7'], tags: ['org:acme'], patterns: ['url:*', '*'.repeat(33)] }),
    });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(/"patterns"\[1\] has 33 '\*' wildcards/);
    expect(manager.get('url').stats().size).toBe(3);
    expect(manager.get('user').stats().size).toBe(1);
    const ok = await json('POST', 'invalidate', { body: JSON.stringify({ patterns: ['*'.repeat(32)] }) });
    expect(ok.status).toBe(200);
  });

  it('POST invalidate refuses (413) more pattern matching than one request may do, before anything runs', async () => {
    const url = manager.get('url');
    for (let i = 0; i < 1000; i++) await url.set(`bulk:${i}`, i);
    await start();
    // 1,000 patterns over 1,004 entries: over a million key tests, each pattern a scan of its own.
    const patterns = Array.from({ length: 1000 }, (_, i) => `z${i}*`);
    const r = await json('POST', 'invalidate', { body: JSON.stringify({ keys: ['user:7'], patterns }) });
    expect(r.status).toBe(413);
    expect(r.body.error).toMatch(/"patterns": 1000 patterns over 1004 entries .* at most 1000000/);
    expect(manager.get('user').stats().size).toBe(1);
    // One pattern is always one scan, and a few patterns fit.
    expect((await json('POST', 'invalidate', { body: '{"patterns": ["bulk:1*"]}' })).body.invalidated).toBe(
      111,
    );
    const few = await json('POST', 'invalidate', { body: '{"patterns": ["bulk:2*", "bulk:3*"]}' });
    expect(few.body.invalidated).toBe(222);
  });

  it('numeric keys: listed with key_type, invalidated as JSON numbers, distinct from their strings', async () => {
    await start();
    const user = manager.get('user');
    await user.set(123, { name: 'numeric' });
    await user.set('123', { name: 'string' });
    const listed = (await json('GET', 'stats?cache=user&q=123')).body.caches.user.entries as {
      key: string;
      key_type: string;
    }[];
    expect(listed.map((e) => [e.key, e.key_type]).sort()).toEqual([
      ['123', 'number'],
      ['123', 'string'],
    ]);
    // `123` names the number key; the string key stays.
    const r = await json('POST', 'invalidate', { body: JSON.stringify({ cache: 'user', keys: [123] }) });
    expect(r).toMatchObject({ status: 200, body: { invalidated: 1, counts: { keys: 1 } } });
    expect(await user.get(123)).toBeUndefined();
    expect(await user.get('123')).toEqual({ name: 'string' });
    const s = await json('POST', 'invalidate', { body: JSON.stringify({ cache: 'user', keys: ['123'] }) });
    expect(s.body.invalidated).toBe(1);
    expect(await user.get('123')).toBeUndefined();
    // JSON reads 1e999 as Infinity, which no key can be.
    const bad = await json('POST', 'invalidate', { body: '{"keys": [1e999]}' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/"keys" holds a non-finite number/);
    expect((await json('POST', 'invalidate', { body: '{"keys": [true]}' })).body.error).toMatch(
      /"keys" must hold numbers or non-empty strings/,
    );
  });

  it('refuses a body over the limit with 413', async () => {
    await start({ maxRequestBytes: 64 });
    const r = await call('POST', 'invalidate', { body: JSON.stringify({ keys: ['x'.repeat(100)] }) });
    expect(r.status).toBe(413);
    expect(manager.get('url').stats().size).toBe(3);
  });

  it('POST config/:cache changes TTL and switch at run time, validating both', async () => {
    await start();
    expect(await json('POST', 'config/url', { body: '{"ttl": "5m", "enabled": false}' })).toMatchObject({
      status: 200,
      body: { cache: 'url', enabled: false, ttl: 300_000 },
    });
    expect(manager.get('url').enabled).toBe(false);
    expect((await json('POST', 'config/url', { body: '{"ttl": -5}' })).body.error).toMatch(
      /"ttl" must not be negative/,
    );
    expect((await json('POST', 'config/url', { body: '{"enabled": "yes"}' })).body.error).toMatch(
      /"enabled" must be true or false/,
    );
    expect((await json('POST', 'config/nope', { body: '{"enabled": true}' })).status).toBe(404);
    expect(manager.get('url').stats().ttl).toBe(300_000);
  });

  it('sends unknown paths to next, or 404s without one; wrong methods get 405', async () => {
    await start();
    expect((await call('GET', 'nope')).status).toBe(418);
    expect((await fetch(`${server.url}/elsewhere`)).status).toBe(418);
    const wrong = await call('GET', 'clear');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    admin.close();
    await server.close();
    admin = createAdmin({ caches: manager, apiKey: KEY, prefix: '/api/cache' });
    server = await listen((req, res) => void admin(req, res));
    expect((await call('GET', 'nope')).status).toBe(404);
  });

  it('serves the dashboard page without the key, and its data only with it', async () => {
    await start();
    const page = await fetch(`${server.url}/api/cache/dashboard`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toMatch(/<html|<!doctype/i);
    expect((await fetch(`${server.url}/api/cache/dashboard/nope.js`)).status).toBe(418);
  });

  it('works over a { name: Cache } record and a single cache too', async () => {
    await start({ caches: { url: manager.get('url') } });
    expect((await json('GET', 'stats')).body.overall).toMatchObject({ size: 3, hits: 1 });
    expect(await (await call('GET', 'metrics')).text()).toMatch(/larder_cache_hits_total\{cache="url"\} 1/);
    admin.close();
    await server.close();
    await start({ caches: manager.get('user') });
    const single = await json('GET', 'stats');
    expect(Object.keys(single.body.caches)).toEqual(['user']);
    expect(single.body.overall.size).toBe(1);
    expect((await json('POST', 'clear/url')).status).toBe(404);
  });
});
