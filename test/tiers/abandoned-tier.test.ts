// createCache that throws after being handed an inline redisTier() closes that tier (no cache was ever
// bound to it), so its connection does not keep the process alive; a tier already bound stays open.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { createCache, createCacheManager } from '../../src/index.js';
import { memoryTier } from '../../src/tiers/redis-tier.js';
import { describeWithRedis, withRedisServer } from './describe-with-redis.js';

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('./fixtures/abandoned-tier.ts', import.meta.url));

describeWithRedis('a tier handed to a createCache that throws', () => {
  const server = withRedisServer();

  it.each([
    ['bad-name', /cache name "a:b"/],
    ['bad-option', /unknown option "maxEntrys"/],
  ])(
    '%s: the process exits at once',
    async (mode, message) => {
      const started = performance.now();
      const { stdout } = await run(process.execPath, ['--import', 'tsx', CHILD, server().url, mode], {
        timeout: 10_000,
      });
      expect(stdout).toMatch(message);
      // Before the fix the child never exited (ioredis kept the socket open), and execFile timed out.
      expect(performance.now() - started).toBeLessThan(8_000);
    },
    15_000,
  );
});

it('a tier some cache is bound to is not closed when another createCache throws', async () => {
  const l2 = memoryTier();
  const good = createCache<string>({ name: 'good', l2 });
  expect(() => createCache({ name: 'a:b', l2 })).toThrow(/cache name/);
  await good.set('k', 'v');
  expect(good.health().l2?.status).toBe('ok');
  await good.close();
  // An unbound tier is closed.
  const unbound = memoryTier();
  expect(() => createCache({ name: 'a:b', l2: unbound })).toThrow(/cache name/);
  await new Promise((resolve) => setTimeout(resolve, 0));
  expect(unbound.health().l2).toMatchObject({ status: 'down', reason: 'closed' });
});

it('createCacheManager that throws closes a tier no cache took, and leaves nothing bound', async () => {
  const unbound = memoryTier();
  expect(() => createCacheManager({ l2: unbound, caches: { 'a:b': {} } })).toThrow(/cache name/);
  await new Promise((resolve) => setTimeout(resolve, 0));
  expect(unbound.health().l2).toMatchObject({ status: 'down', reason: 'closed' });
  // A bad cache after a good one: the good one is closed, and the tier with it.
  const l2 = memoryTier();
  expect(() => createCacheManager({ l2, caches: { good: {}, 'a:b': {} } })).toThrow(/cache name/);
  await new Promise((resolve) => setTimeout(resolve, 0));
  expect(l2.health().l2).toMatchObject({ status: 'down', reason: 'closed' });
});
