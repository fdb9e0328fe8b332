// The demo's start-up banner tells the truth about Redis (issue 10): "Redis + invalidation bus" only
// when Redis answers; with REDIS_URL pointing at nothing it names the cause and says it serves from
// memory. Runs `demo/main.ts` as a real process, against a closed port and a real redis-server.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RedisServer, freePort } from '../helpers/redis-server.js';
import { describeWithRedis } from '../tiers/describe-with-redis.js';

/** Starts the demo with `redisUrl`, returns its banner (up to the "Ctrl-C" line) and stops it. */
async function banner(redisUrl: string): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'demo/main.ts'], {
    env: {
      ...process.env,
      PORT: '0',
      LARDER_API_KEY: 'banner-test-key-1',
      DEMO_LATENCY_SCALE: '0',
      LARDER_SNAPSHOT_DIR: 'off',
      REDIS_URL: redisUrl,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: string) => {
        out += chunk;
        if (out.includes('Ctrl-C')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`exited early with ${code}: ${out}`)));
    });
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  return /shared tier\s+(.*)/.exec(out)?.[1] ?? out;
}

describeWithRedis('demo banner', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(async () => {
    await server.destroy();
  });

  it('names the cause when Redis is unreachable, and promises no bus', async () => {
    const line = await banner(`redis://127.0.0.1:${await freePort()}`);
    expect(line).toMatch(/^Redis configured but unreachable: ECONNREFUSED/);
    expect(line).toMatch(/serving from memory, will reconnect/);
    expect(line).not.toContain('Redis + invalidation bus');
  }, 30_000);

  it('says "Redis + invalidation bus" when Redis answers', async () => {
    expect(await banner(server.url)).toBe('Redis + invalidation bus');
  }, 30_000);
});
