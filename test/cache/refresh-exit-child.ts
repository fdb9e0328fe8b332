// The child process of close.test.ts: a refresh-ahead that nobody awaits fails with a retryable error
// and backs off for 20 s; the script never closes its cache, and must still exit as soon as it is done.
import { createCache } from '../../src/cache/create-cache.js';

let now = 1_000_000;
const cache = createCache<string>({
  ttl: 1_000,
  refreshAhead: 0.5,
  clock: () => now,
  cleanupInterval: 0,
  retry: { maxRetries: 3, initialDelay: '20s', maxDelay: '20s', jitter: 0 },
  timeout: { hard: false },
});
await cache.set('k', 'v');
now += 600;
let calls = 0;
const value = await cache.getOrSet('k', () => {
  calls++;
  throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
});
await new Promise((resolve) => setImmediate(resolve));
console.log(JSON.stringify({ value, calls }));
