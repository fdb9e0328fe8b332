// The coherence soak: `npm run chaos -- --minutes 10 [--seed N]` runs the chaos harness of
// test/chaos (three instances over a real redis-server, faults injected) for longer than CI does, prints
// operations, faults and violations, and exits 1 when any read served what an acknowledged write removed.
import { parseArgs } from 'node:util';
import { REDIS_SERVER } from '../test/helpers/redis-server.js';
import { formatResult, runChaos } from '../test/chaos/harness.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    seed: { type: 'string' },
    'fault-every': { type: 'string', default: '4' },
  },
});
const minutes = Number(values.minutes);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const faultEvery = Number(values['fault-every']);
if (!(minutes > 0) || !Number.isInteger(seed) || !(faultEvery > 0)) {
  console.error('usage: npm run chaos -- [--minutes 10] [--seed N] [--fault-every SECONDS]');
  process.exit(2);
}
if (REDIS_SERVER === undefined) {
  console.error('redis-server is not installed: the chaos soak needs it on PATH');
  process.exit(2);
}
console.log(`chaos soak: ${minutes} min, seed ${seed} (replay with --seed ${seed})`);
const result = await runChaos({
  seed,
  durationMs: minutes * 60_000,
  faultEveryMs: faultEvery * 1000,
  log: (line) => console.log(`  ${line}`),
});
console.log(formatResult(result, 10));
process.exit(result.violations.length > 0 ? 1 : 0);
