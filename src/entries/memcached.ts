// Subpath export `larder-cache/memcached`: a shared-tier driver over memcached through `memjs` (an optional
// peer dependency, loaded only from here).
export { memcachedDriver, MemcachedDriver, MEMCACHED_MAX_KEY_BYTES } from '../drivers/memcached-driver.js';
export type { MemcachedDriverOptions } from '../drivers/memcached-driver.js';
