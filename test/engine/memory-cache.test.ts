import { describe, expect, it } from 'vitest';
import { MemoryCache, engineInternals } from '../../src/engine/memory-cache.js';
import { MemoryCache as Exported } from '../../src/index.js';
import { evictionLog } from './helpers.js';

describe.each(['tinylfu', 'lru'] as const)('MemoryCache basics (%s)', (policy) => {
  it('is exported from the package root', () => {
    expect(Exported).toBe(MemoryCache);
  });

  it('gets what was set, and undefined for absent keys', () => {
    const c = new MemoryCache<string, number>({ policy });
    expect(c.set('a', 1)).toBe(c);
    expect(c.get('a')).toBe(1);
    expect(c.get('b')).toBeUndefined();
    expect(c.size).toBe(1);
    expect(c.policy).toBe(policy);
  });

  it('overwrites a key without counting an eviction or calling onEvict', () => {
    const log = evictionLog<string, number>();
    const c = new MemoryCache<string, number>({ policy, onEvict: log.onEvict });
    c.set('a', 1).set('a', 2);
    expect(c.get('a')).toBe(2);
    expect(c.size).toBe(1);
    expect(log.calls).toEqual([]);
    expect(c.stats().sets).toBe(2);
  });

  it('peek and has neither count requests nor refresh recency', () => {
    const c = new MemoryCache<string, number>({ policy: 'lru', maxEntries: 2 });
    c.set('a', 1).set('b', 2);
    expect(c.peek('a')).toBe(1);
    expect(c.has('a')).toBe(true);
    expect(c.has('zz')).toBe(false);
    expect(c.peek('zz')).toBeUndefined();
    c.set('c', 3); // 'a' is still the least recently used
    expect(c.has('a')).toBe(false);
    expect(c.stats().totalRequests).toBe(0);
  });

  it('delete removes and reports; deleting an absent key returns false', () => {
    const log = evictionLog<string, number>();
    const c = new MemoryCache<string, number>({ policy, onEvict: log.onEvict });
    c.set('a', 1);
    expect(c.delete('a')).toBe(true);
    expect(c.delete('a')).toBe(false);
    expect(c.get('a')).toBeUndefined();
    expect(log.calls).toEqual([['a', 1, 'deleted']]);
    expect(c.stats().deletes).toBe(1);
  });

  it('clear removes everything with reason cleared and the cache stays usable', () => {
    const log = evictionLog<string, number>();
    const c = new MemoryCache<string, number>({ policy, onEvict: log.onEvict, maxEntries: 3 });
    c.set('a', 1).set('b', 2);
    c.clear();
    expect(c.size).toBe(0);
    expect(log.calls.map((x) => x[2])).toEqual(['cleared', 'cleared']);
    for (let i = 0; i < 10; i++) c.set(`k${i}`, i);
    expect(c.size).toBe(3);
    expect(c.get('k9')).toBe(9);
  });

  it('holds no more slots after clear and refill, however often', () => {
    const c = new MemoryCache<string, number>({ policy, maxEntries: 1_000 });
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 1_000; i++) c.set(`k${i}`, i);
      c.clear();
    }
    for (let i = 0; i < 1_000; i++) c.set(`k${i}`, i);
    expect(c.size).toBe(1_000);
    expect(c.get('k999')).toBe(999);
    // 1,000 entries and the few reserved slots, not 1,000 more per clear().
    expect(c[engineInternals]().entrySlots).toBeLessThan(1_010);
  });

  it('keeps number keys and string keys apart, and treats __proto__ and constructor as keys', () => {
    const c = new MemoryCache<string | number, string>({ policy });
    c.set(1, 'number').set('1', 'string').set('__proto__', 'proto').set('constructor', 'ctor');
    expect(c.get(1)).toBe('number');
    expect(c.get('1')).toBe('string');
    expect(c.get('__proto__')).toBe('proto');
    expect(c.get('constructor')).toBe('ctor');
    expect(c.get('toString')).toBeUndefined();
    expect(c.size).toBe(4);
  });

  it('rejects keys that are neither strings nor numbers', () => {
    const c = new MemoryCache<any, number>({ policy });
    expect(() => c.set({}, 1)).toThrow(/key must be a string or a number/);
    expect(() => c.set(null, 1)).toThrow(TypeError);
    expect(c.size).toBe(0);
  });

  it('evicts on capacity with reason capacity and never exceeds maxEntries', () => {
    const log = evictionLog<number, number>();
    const c = new MemoryCache<number, number>({ policy, maxEntries: 10, onEvict: log.onEvict });
    for (let i = 0; i < 100; i++) {
      c.set(i, i);
      expect(c.size).toBeLessThanOrEqual(10);
    }
    expect(c.size).toBe(10);
    expect(log.calls).toHaveLength(90);
    expect(log.calls.every((x) => x[2] === 'capacity')).toBe(true);
    expect(c.stats().evictions).toBe(90);
  });

  it('iterates live keys and pairs', () => {
    const c = new MemoryCache<string, number>({ policy });
    c.set('a', 1).set('b', 2);
    expect([...c.keys()].sort()).toEqual(['a', 'b']);
    expect(new Map(c)).toEqual(
      new Map([
        ['a', 1],
        ['b', 2],
      ]),
    );
  });

  it('reports entries with key, value, age, ttl, size and tags', () => {
    let now = 100;
    const c = new MemoryCache<string, string>({ policy, clock: () => now, sizeOf: () => 7 });
    c.set('a', 'x', { ttl: 1000, tags: ['t1'] });
    c.set('b', 'y');
    now += 250;
    const byKey = new Map(c.entries().map((e) => [e.key, e]));
    expect(byKey.get('a')).toEqual({
      key: 'a',
      value: 'x',
      ageMs: 250,
      ttlRemainingMs: 750,
      size: 7,
      tags: ['t1'],
    });
    expect(byKey.get('b')).toEqual({
      key: 'b',
      value: 'y',
      ageMs: 250,
      ttlRemainingMs: undefined,
      size: 7,
      tags: [],
    });
  });

  it('eachEntry() yields what entries() lists, building each entry only when it is reached', () => {
    let now = 100;
    const c = new MemoryCache<string, number>({ policy, clock: () => now });
    for (let i = 0; i < 50; i++) c.set(`k${i}`, i, { ttl: i < 10 ? 5 : 0, tags: [`t${i % 3}`] });
    now += 5; // the first ten have expired
    expect([...c.eachEntry()]).toEqual(c.entries());
    expect(c.entries()).toHaveLength(40);
    const each = c.eachEntry();
    const first = each.next();
    expect(first.done).toBe(false);
    expect(first.value).toMatchObject({ key: 'k10', value: 10, ageMs: 5, tags: ['t1'] });
  });

  it('without a ttl, reads the clock for ages only once entries() has been asked for', () => {
    let now = 1_000;
    let reads = 0;
    const c = new MemoryCache<string, number>({
      policy,
      clock: () => {
        reads++;
        return now;
      },
    });
    const base = reads;
    c.set('old', 1);
    expect(reads).toBe(base);
    now += 500;
    // An entry set before ages were tracked reports the cache's age, an upper bound.
    expect(c.entries()[0]!.ageMs).toBe(500);
    c.set('new', 2);
    now += 100;
    const ages = new Map(c.entries().map((e) => [e.key, e.ageMs]));
    expect(ages.get('new')).toBe(100);
    expect(ages.get('old')).toBe(600);
  });

  it('survives an onEvict callback that throws and logs it', () => {
    const errors: unknown[] = [];
    const c = new MemoryCache<string, number>({
      policy,
      onEvict: () => {
        throw new Error('boom');
      },
      logger: { error: (...a: unknown[]) => void errors.push(a) },
    });
    c.set('a', 1);
    expect(c.delete('a')).toBe(true);
    expect(c.size).toBe(0);
    expect(errors).toHaveLength(1);
  });
});

describe('MemoryCache LRU order', () => {
  it('evicts the least recently read entry', () => {
    const c = new MemoryCache<string, number>({ policy: 'lru', maxEntries: 3 });
    c.set('a', 1).set('b', 2).set('c', 3);
    c.get('a');
    c.set('d', 4);
    expect(c.has('b')).toBe(false);
    expect([...c.keys()].sort()).toEqual(['a', 'c', 'd']);
    c.set('c', 33); // overwrite refreshes recency
    c.set('e', 5);
    expect(c.has('a')).toBe(false);
    expect(c.has('c')).toBe(true);
  });
});

describe('MemoryCache stats', () => {
  it('counts hits, misses and the hit rate in percent with two decimals', () => {
    const c = new MemoryCache<string, number>();
    c.set('a', 1);
    for (let i = 0; i < 25; i++) c.get('a');
    for (let i = 0; i < 3; i++) c.get('nope');
    const s = c.stats();
    expect(s.hits).toBe(25);
    expect(s.misses).toBe(3);
    expect(s.totalRequests).toBe(28);
    expect(s.hitRate).toBe(89.29);
    expect(s.size).toBe(1);
    expect(s.active).toBe(1);
    expect(s.expired).toBe(0);
    expect(s.maxEntries).toBe(10_000);
    expect(s.maxBytes).toBeUndefined();
    expect(s.policy).toBe('tinylfu');
  });

  it('reports a hit rate of 0 with no requests, and resetStats zeroes counters but keeps entries', () => {
    let now = 0;
    const c = new MemoryCache<string, number>({ clock: () => now });
    expect(c.stats().hitRate).toBe(0);
    c.set('a', 1);
    c.get('a');
    c.delete('a');
    c.set('b', 2);
    now = 500;
    expect(c.stats().uptimeMs).toBe(500);
    c.resetStats();
    const s = c.stats();
    expect([s.hits, s.misses, s.sets, s.deletes, s.evictions, s.expirations, s.uptimeMs]).toEqual([
      0, 0, 0, 0, 0, 0, 0,
    ]);
    expect(s.size).toBe(1);
  });

  it('defaults maxEntries to 10,000 when no bound is given', () => {
    const c = new MemoryCache<number, number>({ policy: 'lru' });
    for (let i = 0; i < 10_050; i++) c.set(i, i);
    expect(c.size).toBe(10_000);
    expect(c.stats().evictions).toBe(50);
  });
});
