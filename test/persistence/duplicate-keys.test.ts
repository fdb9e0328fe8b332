// A snapshot that lists one key twice (a hand-merged or hostile file; dump() never does): only the
// key's most valuable entry loads, and the copies neither take places of the bounds nor count as loaded.
import { describe, expect, it } from 'vitest';
import { MemoryCache } from '../../src/engine/memory-cache.js';
import { createCache } from '../../src/cache/create-cache.js';
import type { SnapshotEntry } from '../../src/persistence/types.js';
import { entry } from './helpers.js';

const ranked = (key: string | number, value: string, frequency: number): SnapshotEntry<string> =>
  entry(key, { value, frequency }) as SnapshotEntry<string>;
const list = [
  ranked('a', 'hot', 5),
  ranked('a', 'cold', 4),
  ranked(0, 'zero', 3),
  ranked(-0, 'minus zero', 2),
  ranked('b', 'B', 1),
];

describe('a snapshot listing a key twice', () => {
  it('MemoryCache.load keeps the most valuable entry per key and room for the others', () => {
    const cache = new MemoryCache<string | number, string>({ maxEntries: 3, clock: () => 1_000 });
    expect(cache.load(list)).toEqual({ loaded: 3, expired: 0, dropped: 0, invalid: 2 });
    expect(cache.size).toBe(3);
    expect(cache.get('a')).toBe('hot');
    expect(cache.get(0)).toBe('zero');
    expect(cache.get('b')).toBe('B');
  });

  it('cache.load does the same through the facade', async () => {
    const cache = createCache<string>({ maxEntries: 3, clock: () => 1_000, cleanupInterval: 0 });
    expect(cache.load(list)).toEqual({ loaded: 3, expired: 0, dropped: 0, invalid: 2 });
    expect(await cache.get('a')).toBe('hot');
    expect(await cache.get(0)).toBe('zero');
    expect(await cache.get('b')).toBe('B');
    await cache.close();
  });
});
