// The demo over Redis keeps its tier's outbox beside the snapshots: an invalidation of a URL-manager
// cache (which has no snapshot file of its own) made while Redis is down survives the demo's close()
// in LARDER_SNAPSHOT_DIR/redis.outbox instead of being dropped, and the next start replays it.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SNAPSHOT_FILES, startDemo } from '../../demo/app.js';
import { readConfig } from '../../demo/config.js';
import { RedisServer } from '../helpers/redis-server.js';
import { describeWithRedis } from '../tiers/describe-with-redis.js';

describeWithRedis('demo: the Redis tier’s outbox under LARDER_SNAPSHOT_DIR', () => {
  let server: RedisServer;
  let dir: string;
  beforeAll(async () => {
    server = await RedisServer.start();
    dir = mkdtempSync(join(tmpdir(), 'larder-demo-outbox-'));
  });
  afterAll(async () => {
    await server.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps a URL-manager delete made during an outage across a restart', async () => {
    const config = readConfig({
      PORT: '0',
      LARDER_API_KEY: 'outbox-test-key-1',
      REDIS_URL: server.url,
      DEMO_LATENCY_SCALE: '0',
      LARDER_SNAPSHOT_DIR: dir,
    });
    const first = await startDemo(config);
    const urls = first.seeds.urls.getCache<string>('url');
    await urls.set('abc', 'https://example.com/');
    await server.kill();
    await urls.delete('abc'); // L2 unreachable: pending, and kept in the tier's outbox
    await first.close();
    const outbox = join(dir, SNAPSHOT_FILES.tierOutbox);
    expect(existsSync(outbox)).toBe(true); // before: no outbox, the delete was logged as dropped
    const kept = JSON.parse(readFileSync(outbox, 'utf8')) as { caches: Record<string, { keys: string[] }> };
    expect(Object.values(kept.caches).flatMap((c) => c.keys)).toContain('abc');

    await server.restart();
    const second = await startDemo(config);
    expect(await second.seeds.urls.getCache<string>('url').get('abc')).toBeUndefined();
    await second.close();
  });
});
