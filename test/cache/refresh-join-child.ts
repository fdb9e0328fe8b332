// The child process of probe-readthrough-2.test.ts: a refresh-ahead fails with a retryable error and
// backs off (300 ms, which keeps nothing alive while nobody waits); the entry then goes, and the script
// awaits a getOrSet (getOrSetMany with the argument `many`) that joins that refresh. The process must
// stay up for that answer.
import { createCache } from '../../src/cache/create-cache.js';

let now = 1_000_000;
const cache = createCache<string>({
  ttl: 1_000,
  refreshAhead: 0.5,
  clock: () => now,
  cleanupInterval: 0,
  retry: { maxRetries: 1, initialDelay: 300, maxDelay: 300, jitter: 0 },
  timeout: { hard: false },
});
await cache.set('k', 'v');
now += 600;
let calls = 0;
const loader = (): string => {
  if (++calls === 1) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  return 'new';
};
const hit = await cache.getOrSet('k', loader);
now += 1_000; // the entry has ended; its refresh is still backing off
const joined =
  process.argv[2] === 'many'
    ? (await cache.getOrSetMany(['k'], (keys) => keys.map(() => 'batch')))[0]
    : await cache.getOrSet('k', loader);
console.log(JSON.stringify({ hit, joined, calls }));
