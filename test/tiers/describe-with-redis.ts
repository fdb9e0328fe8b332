// describeWithRedis: the describe() of suites that need redis-server. Without the binary they skip
// with a loud warning — or fail when CI or LARDER_REQUIRE_REDIS is set, so CI never passes silently.
import { describe, it } from 'vitest';
import { REDIS_CLI, REDIS_SERVER } from '../helpers/redis-server.js';

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
