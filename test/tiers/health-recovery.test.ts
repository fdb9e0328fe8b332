// Health after an L2 outage too short to open the breaker: the failure stays in health until an L2
// call succeeds, and with no traffic none does. A recovery probe (a PING, backed off, one at a time)
// brings health back to ok on its own once the store answers; a closed cache stops it.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { createCache } from '../../src/index.js';
import type { Cache } from '../../src/index.js';
import { redisTier } from '../../src/tiers/redis-tier.js';
import { RedisServer, redisCli } from '../helpers/redis-server.js';
import { describeWithRedis, withRedisServer } from './describe-with-redis.js';

/** Polls `check` every 10 ms for at most `ms`; resolves whether it came true. */
async function until(check: () => boolean, ms = 10_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return check();
}

/** How many PINGs `server` has answered since it started. */
async function pings(server: RedisServer): Promise<number> {
  const stats = await redisCli(['-p', String(server.port), 'INFO', 'commandstats']);
  return Number(/cmdstat_ping:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

describeWithRedis('L2 health after a short outage, with no traffic', () => {
  const server = withRedisServer();
  const caches: Cache[] = [];
  // Runs before withRedisServer's afterAll (after-hooks run in reverse).
  afterAll(async () => {
    server().resume();
    await Promise.all(caches.map((cache) => cache.close()));
  });

  const open = (prefix: string, timeout: number): Cache<string> => {
    const cache = createCache<string>({
      name: 'health',
      ttl: '1h',
      retry: false,
      // The default breaker (5 failures): one failed call leaves it closed.
      l2: redisTier({ url: server().url, prefix, timeout, reconnectMaxDelay: 50, bus: false }),
    });
    caches.push(cache);
    return cache;
  };

  it('returns to ok after Redis was killed and restarted, with no cache call after the restart', async () => {
    const cache = open('killed:', 1000);
    await cache.set('k', 'v');
    expect(cache.health().l2?.status).toBe('ok');

    await server().kill();
    expect(await cache.get('other')).toBeUndefined(); // L2 fails: a miss
    expect(await until(() => cache.health().l2?.status === 'degraded')).toBe(true);
    expect(cache.health().l2?.breaker).toBe('closed');

    await server().restart();
    // Without a probe this stayed 'degraded' for good: nothing calls L2.
    expect(await until(() => cache.health().l2?.status === 'ok')).toBe(true);
    expect(cache.health().l2?.breaker).toBe('closed');
    // A handful of probes at most, none once healthy.
    const probes = await pings(server());
    expect(probes).toBeGreaterThanOrEqual(1);
    expect(probes).toBeLessThanOrEqual(3);
  });

  it('returns to ok after Redis hung (SIGSTOP) and resumed (SIGCONT), with no cache call after', async () => {
    const cache = open('paused:', 200);
    await cache.set('k', 'v');
    server().pause();
    expect(await cache.get('other')).toBeUndefined(); // times out: a miss
    expect(cache.health().l2?.status).toBe('degraded');
    expect(cache.health().l2?.breaker).toBe('closed');

    server().resume();
    expect(await until(() => cache.health().l2?.status === 'ok')).toBe(true);
  });

  it('a closed cache stops probing: its process exits while Redis is down', async () => {
    const down = await RedisServer.start();
    const port = down.port;
    await down.destroy(); // nothing listens on the port: every probe fails, and would be rescheduled
    const script = fileURLToPath(new URL('./fixtures/probe-exit.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script, String(port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(null);
      }, 20_000);
      child.once('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    expect(out).toContain('degraded');
    expect(code, out).toBe(0);
  });
});
