import { describe, expect, it } from 'vitest';
import { MemoryCache } from '../../src/engine/memory-cache.js';
import { estimateSize } from '../../src/engine/size-of.js';
import { evictionLog } from './helpers.js';

describe.each(['tinylfu', 'lru'] as const)('MemoryCache byte budget (%s)', (policy) => {
  it('accounts bytes exactly across set, overwrite, delete, eviction and clear', () => {
    const c = new MemoryCache<string, string>({ policy, maxBytes: 100, sizeOf: (v) => v.length });
    c.set('a', 'x'.repeat(10)).set('b', 'x'.repeat(20));
    expect(c.stats().bytes).toBe(30);
    c.set('a', 'x'.repeat(15));
    expect(c.stats().bytes).toBe(35);
    c.set('b', 'y', { size: 5 });
    expect(c.stats().bytes).toBe(20);
    c.delete('a');
    expect(c.stats().bytes).toBe(5);
    for (let i = 0; i < 20; i++) c.set(`k${i}`, 'z'.repeat(30));
    const s = c.stats();
    expect(s.bytes).toBeLessThanOrEqual(100);
    expect(s.bytes).toBe(c.entries().reduce((sum, e) => sum + e.size, 0));
    c.clear();
    expect(c.stats().bytes).toBe(0);
  });

  it('refuses an entry larger than maxBytes, removes the stale value and logs a warning', () => {
    const warnings: unknown[][] = [];
    const log = evictionLog<string, string>();
    const c = new MemoryCache<string, string>({
      policy,
      maxBytes: 50,
      sizeOf: (v) => v.length,
      onEvict: log.onEvict,
      logger: { warn: (...a: unknown[]) => void warnings.push(a) },
    });
    c.set('keep', 'k'.repeat(10)).set('big', 'small');
    c.set('big', 'B'.repeat(51));
    expect(c.has('big')).toBe(false);
    expect(c.get('keep')).toBe('k'.repeat(10));
    expect(c.stats().rejections).toBe(1);
    expect(c.stats().bytes).toBe(10);
    expect(warnings).toHaveLength(1);
    expect(log.calls).toEqual([['big', 'small', 'capacity']]);
    c.set('other', 'O'.repeat(500));
    expect(c.size).toBe(1);
    expect(c.stats().rejections).toBe(2);
  });

  it('tracks bytes with a sizeOf and no byte budget, and rejects a bad size', () => {
    const c = new MemoryCache<string, string>({ policy, sizeOf: (v) => v.length * 2 });
    c.set('a', 'abc');
    expect(c.stats().bytes).toBe(6);
    expect(() => c.set('b', 'x', { size: -1 })).toThrow(/size must be/);
    const bad = new MemoryCache<string, string>({ policy, maxBytes: 10, sizeOf: () => NaN });
    expect(() => bad.set('a', 'x')).toThrow(/sizeOf result/);
    expect(bad.size).toBe(0);
  });
});

describe('estimateSize', () => {
  it('sizes primitives, strings, buffers and nested objects', () => {
    expect(estimateSize(42)).toBe(8);
    expect(estimateSize('abcd')).toBeGreaterThan(estimateSize('ab'));
    expect(estimateSize(Buffer.alloc(1000))).toBeGreaterThanOrEqual(1000);
    expect(estimateSize(new Uint8Array(64))).toBeGreaterThanOrEqual(64);
    const small = estimateSize({ a: 1 });
    const nested = estimateSize({ a: 1, b: { c: 'hello', d: [1, 2, 3] } });
    expect(nested).toBeGreaterThan(small);
    expect(estimateSize(new Map([['k', 'v']]))).toBeGreaterThan(estimateSize(new Map()));
    expect(estimateSize(null)).toBe(1);
  });

  it('does bounded work on huge values and still scales with their size', () => {
    const big = Array.from({ length: 200_000 }, (_, i) => ({ id: i, name: `item-${i}` }));
    const started = performance.now();
    const size = estimateSize(big);
    expect(performance.now() - started).toBeLessThan(50);
    expect(size).toBeGreaterThan(200_000 * 20);
    expect(estimateSize(big.slice(0, 1000))).toBeLessThan(size / 100);
  });

  it('counts string keys too', () => {
    expect(estimateSize(1, 'a-long-key-name')).toBeGreaterThan(estimateSize(1, 'k'));
  });
});
