// describeWithRedis: the describe() of suites that need redis-server. Without the binary they skip
// with a loud warning — or fail when CI or LARDER_REQUIRE_REDIS is set, so CI never passes silently.
// withRedisServer: inside such a suite, one throwaway redis-server for all its tests.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { REDIS_CLI, REDIS_SERVER, RedisServer } from '../helpers/redis-server.js';
import type { RedisServerOptions } from '../helpers/redis-server.js';

const required = Boolean(process.env.CI) || Boolean(process.env.LARDER_REQUIRE_REDIS);

/** `describe` for suites that need redis-server: skips loudly without it, fails in CI. */
export function describeWithRedis(name: string, body: () => void): void {
  if (REDIS_SERVER !== undefined && REDIS_CLI !== undefined) {
    describe(name, body);
    return;
  }
  if (required) {
    describe(name, () => {
      it('needs redis-server and redis-cli on PATH', () => {
        throw new Error('redis-server/redis-cli not found, and CI or LARDER_REQUIRE_REDIS is set');
      });
    });
    return;
  }
  console.warn(
    `\n*** SKIPPING "${name}": redis-server is not installed (set LARDER_REQUIRE_REDIS=1 to fail instead) ***\n`,
  );
  describe.skip(name, body);
}

/**
 * Call in a {@link describeWithRedis} body: starts a redis-server (on a free port, with `options`)
 * before the suite's tests and destroys it after them (resumed first, in case a test left it paused;
 * vitest runs after-hooks in reverse, so a suite's own afterAll still sees it). Returns the server:
 * call it from a test or a hook (it throws before the server has started).
 */
export function withRedisServer(options?: RedisServerOptions): () => RedisServer {
  let server: RedisServer | undefined;
  beforeAll(async () => {
    server = await RedisServer.start(options);
  });
  afterAll(async () => {
    server?.resume();
    await server?.destroy();
  });
  return () => {
    if (server === undefined) throw new Error('withRedisServer: the redis-server has not started yet');
    return server;
  };
}
