import { describe, expect, it } from 'vitest';
import { createCacheManager } from '../../src/cache/manager.js';
import { manualClock } from '../helpers/clock.js';

function seed000() {
  const clock = manualClock();
  return createCacheManager({
    defaults: { maxEntries: 100 },
    caches: {
      plans: { ttl: '1h' },
      images: { ttl: '1h' },
      marketplace: { ttl: '6h' },
      regions: { ttl: '24h' },
    },
    clock: clock.now,
  });
}

describe('CacheManager across caches', () => {
  it('invalidateTags drops the tagged entries of every cache and returns the total', async () => {
    const caches = seed000();
    for (const kind of caches.names()) {
      await caches.get(kind).set('uuid-1', [kind], { tags: ['provider:uuid-1'] });
      await caches.get(kind).set('uuid-2', [kind], { tags: ['provider:uuid-2'] });
    }
    await caches.get('plans').set('uuid-1:extra', ['x'], { tags: ['provider:uuid-1'] });
    expect(await caches.invalidateTags(['provider:uuid-1'])).toBe(5);
    for (const kind of caches.names()) {
      expect(await caches.get(kind).has('uuid-1')).toBe(false);
      expect(await caches.get(kind).has('uuid-2')).toBe(true);
    }
    expect(await caches.get('plans').has('uuid-1:extra')).toBe(false);
    expect(await caches.invalidateTags(['provider:uuid-1'])).toBe(0);
    expect(await caches.invalidateTags([])).toBe(0);
    await expect(caches.invalidateTags('provider:uuid-2' as never)).rejects.toThrow(TypeError);
    await caches.close();
  });

  it('delete removes a key from every cache holding it and returns how many did', async () => {
    const caches = seed000();
    await caches.get('plans').set('uuid-1', ['p']);
    await caches.get('regions').set('uuid-1', ['r']);
    await caches.get('images').set('uuid-2', ['i']);
    expect(await caches.delete('uuid-1')).toBe(2);
    expect(await caches.get('plans').has('uuid-1')).toBe(false);
    expect(await caches.get('regions').has('uuid-1')).toBe(false);
    expect(await caches.get('images').has('uuid-2')).toBe(true);
    expect(await caches.delete('uuid-1')).toBe(0);
    await caches.close();
  });
});
