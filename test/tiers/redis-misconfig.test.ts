// Redis misconfiguration is loud (issue 10): a refused connection, an unknown host, a wrong or missing
// password each show their cause (ECONNREFUSED, ENOTFOUND, WRONGPASS, NOAUTH) in health and in one
// log line per outage, however many retries; an out-of-range DB index fails every call instead of
// silently writing to DB 0. Each case runs against real redis-server processes (or a closed port).
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createCache } from '../../src/index.js';
import type { Cache } from '../../src/index.js';
import type { RedisDriver } from '../../src/tiers/redis-driver.js';
import { redisTier } from '../../src/tiers/redis-tier.js';
import { RedisServer, freePort, redisCli } from '../helpers/redis-server.js';
import { describeWithRedis } from './describe-with-redis.js';

describeWithRedis('Redis misconfiguration', () => {
  let open: RedisServer;
  let locked: RedisServer;
  const caches: Cache[] = [];
  beforeAll(async () => {
    [open, locked] = await Promise.all([
      RedisServer.start(),
      RedisServer.start({ args: ['--requirepass', 's3cret-pass'] }),
    ]);
  });
  afterAll(async () => {
    await Promise.all(caches.map((cache) => cache.close()));
    await Promise.all([open.destroy(), locked.destroy()]);
  });

  /**
   * A cache over `url` with a logger that records error lines, and a few calls; with `retries`, each
   * call after a further failed connection attempt, so that one outage spans several attempts.
   */
  const tryUrl = async (url: string, retries = true): Promise<{ cache: Cache; errors: string[] }> => {
    const errors: string[] = [];
    const logger = { error: (...args: unknown[]) => errors.push(JSON.stringify(args)) };
    const tier = redisTier({ url, connectTimeout: 200, reconnectMaxDelay: 50, breaker: { threshold: 2 } });
    let attempts = 0;
    (tier.driver.inner as RedisDriver).client.on('error', () => attempts++);
    const cache = createCache({ name: 'conf', logger, l2: tier });
    caches.push(cache);
    for (let i = 0; i < 5; i++) {
      expect(await cache.getOrSet(`k${i}`, () => 'loaded')).toBe('loaded');
      const seen = attempts;
      if (retries) await vi.waitFor(() => expect(attempts).toBeGreaterThan(seen), { timeout: 2000 });
    }
    return { cache, errors };
  };
  const reasonOf = (cache: Cache): string => String(cache.health().l2?.reason);

  it.each([
    ['a refused connection', async () => `redis://127.0.0.1:${await freePort()}`, /ECONNREFUSED/],
    ['an unknown host', async () => `redis://nonexistent.invalid:${await freePort()}`, /ENOTFOUND|EAI_AGAIN/],
    ['a wrong password', async () => `redis://:wrong@127.0.0.1:${locked.port}`, /WRONGPASS/],
    ['a missing password', async () => `redis://127.0.0.1:${locked.port}`, /NOAUTH/],
  ])('names %s in health and in one log line', async (_name, url, cause) => {
    const { cache, errors } = await tryUrl(await url());
    await vi.waitFor(() => expect(reasonOf(cache)).toMatch(cause));
    expect(cache.health().l2?.status).not.toBe('ok');
    const outage = errors.filter((line) => line.includes('unavailable'));
    expect(outage).toHaveLength(1);
    expect(outage[0]).toMatch(cause);
  });

  it('refuses an out-of-range DB index instead of writing to DB 0', async () => {
    // The server answers, so the client does not reconnect: it only refuses the DB index.
    const { cache, errors } = await tryUrl(`${open.url}/99`, false);
    await cache.set('written', 'somewhere');
    await vi.waitFor(() => expect(reasonOf(cache)).toMatch(/DB index 99/));
    expect(cache.health().l2?.status).toBe('down');
    expect(errors.join('\n')).toMatch(/DB index is out of range/);
    expect((await redisCli(['-p', String(open.port), 'DBSIZE'])).trim()).toBe('0');
    // A DB index the server has works as before.
    const fine = createCache({ name: 'conf', l2: redisTier({ url: `${open.url}/3`, timeout: 2000 }) });
    caches.push(fine);
    await fine.set('k', 'v');
    expect((await redisCli(['-p', String(open.port), '-n', '3', 'DBSIZE'])).trim()).toBe('1');
  });

  it('refuses a URL whose DB index is not a number, before connecting', () => {
    expect(() => redisTier({ url: 'redis://127.0.0.1:1/abc' })).toThrow(/db index/);
    expect(() => redisTier({ redis: { port: 1, db: -1 } })).toThrow(
      /redis\.db must be a non-negative integer/,
    );
  });
});
