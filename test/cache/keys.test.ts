// Keys the facade refuses: NaN and ±Infinity cannot round-trip through a snapshot or the shared tier,
// so every entry point refuses them with a TypeError that names the method, and nothing is stored.
import { describe, expect, it } from 'vitest';
import { createCache } from '../../src/index.js';

describe('non-finite keys', () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    it(`refuses ${String(bad)} in every method and stores nothing`, async () => {
      const cache = createCache<string>({ name: 'keys' });
      let loads = 0;
      await expect(cache.set(bad, 'v')).rejects.toThrow(/set: key must be a string or a finite number/);
      await expect(
        cache.getOrSet(bad, () => {
          loads++;
          return 'v';
        }),
      ).rejects.toThrow(/getOrSet: key must be a string or a finite number/);
      await expect(cache.get(bad)).rejects.toThrow(TypeError);
      await expect(cache.delete(bad)).rejects.toThrow(TypeError);
      await expect(cache.has(bad)).rejects.toThrow(TypeError);
      await expect(cache.warm([[bad, 'v']])).rejects.toThrow(/warm source item 0: key must be/);
      expect(loads).toBe(0);
      expect(cache.stats().size).toBe(0);
      expect(cache.dump()).toEqual([]);
      await cache.close();
    });
  }

  it('still takes finite numbers and strings', async () => {
    const cache = createCache<string>({ name: 'keys' });
    await cache.set(123, 'n');
    await cache.set('123', 's');
    expect(await cache.get(123)).toBe('n');
    expect(await cache.getOrSet(-0.5, () => 'f')).toBe('f');
    await cache.close();
  });
});

describe('number and string keys in a namespace', () => {
  it('keeps 1 and "1" apart, as the root does, in every method', async () => {
    const root = createCache<string>({ name: 'keys' });
    const ns = root.namespace('ns');
    await ns.set(1, 'number');
    await ns.set('1', 'string');
    await ns.set('\uE0001', 'marked string');
    expect([await ns.get(1), await ns.get('1'), await ns.get('\uE0001')]).toEqual([
      'number',
      'string',
      'marked string',
    ]);
    expect(
      ns
        .entries()
        .map((e) => [e.key, e.keyType])
        .sort(),
    ).toEqual([
      ['1', 'number'],
      ['1', 'string'],
      ['\uE0001', 'string'],
    ]);
    const asked: unknown[] = [];
    const values = await ns.getOrSetMany([2, '2', 2], (missing) => {
      asked.push(...missing);
      return missing.map((key) => typeof key);
    });
    expect(asked).toEqual([2, '2']);
    expect(values).toEqual(['number', 'string', 'number']);
    // dump()/load() of the namespace keep the type.
    const other = createCache<string>({ name: 'keys' });
    other.namespace('ns').load(ns.dump());
    expect([await other.namespace('ns').get(1), await other.namespace('ns').get('1')]).toEqual([
      'number',
      'string',
    ]);
    // A pattern reaches number keys as the root's does (it matches String(key)).
    expect(await ns.invalidatePattern('1')).toBe(2);
    expect(await ns.get('\uE0001')).toBe('marked string');
    expect(await ns.invalidatePattern('?1')).toBe(1);
    expect(await ns.delete(2)).toBe(true);
    expect(await ns.get('2')).toBe('string');
    await Promise.all([root.close(), other.close()]);
  });
});

describe('pattern length in a namespace', () => {
  it("refuses a pattern too long with the namespace's prefix, naming the caller's length and the limit", async () => {
    const root = createCache<string>({ name: 'keys' });
    const ns = root.namespace('ns');
    await ns.set('k', 'v');
    // 'ns:' adds 3 characters, and a number-like pattern one more (the number keys' mark).
    await expect(ns.invalidatePattern('a'.repeat(1022))).rejects.toThrow(
      'invalidatePattern(pattern) is 1022 characters long; in namespace "keys:ns" (whose stored keys add 3) a glob pattern may have at most 1021',
    );
    await expect(ns.invalidatePattern('1'.repeat(1021))).rejects.toThrow(
      /add 4\) a glob pattern may have at most 1020/,
    );
    expect(await ns.invalidatePattern('a'.repeat(1021))).toBe(0);
    expect(await ns.get('k')).toBe('v');
    await root.close();
  });
});
