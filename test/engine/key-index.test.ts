import { describe, expect, it } from 'vitest';
import { KeyIndex } from '../../src/engine/key-index.js';
import { MemoryCache } from '../../src/engine/memory-cache.js';

describe('KeyIndex', () => {
  it('keeps strings and numbers apart in both layouts, and treats __proto__ as a key', () => {
    const index = new KeyIndex<string | number>();
    const fill = () => {
      index.set('1', 10);
      index.set(1, 11);
      index.set('__proto__', 12);
      index.set('constructor', 13);
    };
    fill();
    const check = () => {
      expect(index.get('1')).toBe(10);
      expect(index.get(1)).toBe(11);
      expect(index.get('__proto__')).toBe(12);
      expect(index.get('constructor')).toBe(13);
      expect(index.get('toString')).toBeUndefined();
    };
    check();
    index.adapt(1_000_000, 1, 4);
    expect(index.usesDictionary).toBe(true);
    check();
    index.delete('1');
    expect(index.get('1')).toBeUndefined();
    expect(index.get(1)).toBe(11);
    index.set('1', 20);
    index.adapt(1_000_010, 1_000, 4);
    expect(index.usesDictionary).toBe(false);
    expect(index.get('1')).toBe(20);
    index.clear();
    expect(index.get(1)).toBeUndefined();
  });

  it('moves to the dictionary only when reads dominate, and not for large caches', () => {
    const index = new KeyIndex<string>();
    index.adapt(1000, 100, 10);
    expect(index.usesDictionary).toBe(false);
    index.adapt(2000, 101, 1 << 20);
    expect(index.usesDictionary).toBe(false);
    index.adapt(3000, 102, 10);
    expect(index.usesDictionary).toBe(true);
    // A counter reset only re-baselines.
    index.adapt(0, 0, 10);
    expect(index.usesDictionary).toBe(true);
  });

  it('lets a read-heavy cache switch layouts under load without losing entries', () => {
    const cache = new MemoryCache<string, number>({ maxEntries: 5000, policy: 'lru' });
    for (let i = 0; i < 5000; i++) cache.set(`k${i}`, i);
    for (let round = 0; round < 40; round++)
      for (let i = 0; i < 5000; i++) expect(cache.get(`k${i}`)).toBe(i);
    for (let i = 5000; i < 300_000; i++) cache.set(`k${i}`, i);
    expect(cache.size).toBe(5000);
    expect(cache.get('k299999')).toBe(299_999);
    expect(cache.get('k0')).toBeUndefined();
  });
});
