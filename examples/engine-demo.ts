// The synchronous engine on its own: bounds, TTLs with an injected clock, tags and patterns, eviction
// reasons, and W-TinyLFU keeping a hot set through a scan that flushes LRU.
// Run: `node --import tsx examples/engine-demo.ts`.
import { MemoryCache, type EvictionReason } from 'larder-cache';

let now = 0;
const evicted: Record<string, number> = {};
const plans = new MemoryCache<string, { name: string; price: number }>({
  maxEntries: 1_000,
  ttl: '1h',
  clock: () => now,
  cleanupInterval: 0,
  onEvict: (_key: string, _value: unknown, reason: EvictionReason) => {
    evicted[reason] = (evicted[reason] ?? 0) + 1;
  },
});

plans.set('plans:acme:linode', { name: 'Linode 2GB', price: 12 }, { tags: ['org:acme'] });
plans.set('plans:acme:do', { name: 'Basic', price: 6 }, { tags: ['org:acme'], ttl: '5m' });
plans.set('plans:globex:do', { name: 'Premium', price: 24 }, { tags: ['org:globex'] });

now += 6 * 60_000; // six minutes later: the 5-minute entry has expired
console.log('plans:acme:do after 6 min:', plans.get('plans:acme:do')); // undefined ('expired')
console.log('ttlRemaining(plans:acme:linode):', plans.ttlRemaining('plans:acme:linode'), 'ms');
console.log('invalidatePattern(plans:acme:*):', plans.invalidatePattern('plans:acme:*'));
console.log('invalidateTags([org:globex]):', plans.invalidateTags(['org:globex']));
console.log('evictions by reason:', evicted);

// A hot set read over and over, then a one-off scan twice the size of the cache.
function survivors(policy: 'tinylfu' | 'lru'): number {
  const cache = new MemoryCache<string, number>({ maxEntries: 1_000, policy, cleanupInterval: 0 });
  const hot = Array.from({ length: 500 }, (_, i) => `hot:${i}`);
  for (let round = 0; round < 5; round++)
    for (const key of hot) if (cache.get(key) === undefined) cache.set(key, 1);
  for (let i = 0; i < 2_000; i++) cache.set(`scan:${i}`, 1);
  const kept = hot.filter((key) => cache.has(key)).length;
  cache.close();
  return kept;
}
console.log(
  'hot keys kept after a 2,000-key scan: tinylfu',
  survivors('tinylfu'),
  'of 500; lru',
  survivors('lru'),
);
console.log('stats:', plans.stats());
plans.close();
