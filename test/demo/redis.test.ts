// The demo over Redis (REDIS_URL): two instances share the L2, and a write on one invalidates the
// other's L1 through the bus. Starts its own redis-server on a free port (test/helpers/redis-server.ts);
// skips without the binary unless CI is set.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startDemo, type Demo } from '../../demo/app.js';
import { readConfig } from '../../demo/config.js';
import { RedisServer } from '../helpers/redis-server.js';
import { describeWithRedis } from '../tiers/describe-with-redis.js';

describeWithRedis('demo over Redis', () => {
  let redis: RedisServer;
  let a: Demo;
  let b: Demo;

  beforeAll(async () => {
    redis = await RedisServer.start();
    const config = readConfig({
      PORT: '0',
      LARDER_API_KEY: 'redis-test-key-1',
      REDIS_URL: redis.url,
      DEMO_LATENCY_SCALE: '0',
      // Two instances on one folder would overwrite each other's files; this test is about Redis.
      LARDER_SNAPSHOT_DIR: 'off',
      // Long enough that nothing expires while the test runs on a busy machine.
      LARDER_TTL_STATS: '1m',
    });
    a = await startDemo(config);
    b = await startDemo(config);
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await redis?.destroy();
  });

  const dockerCalls = (demo: Demo) => demo.upstreams.docker.calls.get('docker.stats');

  it('answers one instance from what the other stored in Redis', async () => {
    const first = await (await fetch(`${a.url}/engines/stats/total`)).json();
    const second = await (await fetch(`${b.url}/engines/stats/total`)).json();
    expect(second).toEqual(first);
    expect([dockerCalls(a), dockerCalls(b)]).toEqual([1, 0]);
  });

  it('invalidates the other instance when one provisions an engine', async () => {
    await fetch(`${b.url}/engines/stats/total`);
    const created = await fetch(`${b.url}/engines`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name":"shared"}',
    });
    expect(created.status).toBe(201);
    const before = dockerCalls(a) + dockerCalls(b);
    // The bus delivers asynchronously; the instance that did not write must stop answering the old stats.
    await expect
      .poll(async () => {
        await fetch(`${a.url}/engines/stats/total`);
        return dockerCalls(a) + dockerCalls(b);
      })
      .toBeGreaterThan(before);
  });

  it('reports the shared tier and the bus on the dashboard’s health route', async () => {
    const health = (await (
      await fetch(`${a.url}/cache/health`, { headers: { 'x-api-key': 'redis-test-key-1' } })
    ).json()) as { caches: Record<string, { l2?: { status: string }; bus?: { status: string } }> };
    expect(health.caches.url!.l2!.status).toBe('ok');
    expect(health.caches.url!.bus!.status).toBe('ok');
  });
});
