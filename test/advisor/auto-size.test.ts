// Adaptive sizing (autoSize): the decision rule (auto-size.ts) and the facade moving a cache within its
// bounds, never past its memory budget, logging each change as RESIZE.
import { describe, expect, it } from 'vitest';
import { chooseSize, resolveAutoSize } from '../../src/advisor/auto-size.js';
import type { Advice } from '../../src/advisor/types.js';
import { createCache } from '../../src/cache/create-cache.js';
import { consoleLogger } from '../helpers/logger.js';
import { seededRandom } from '../helpers/random.js';

function advice(capacity: number, hits: number[], bytesPerEntry = 100, sampledRequests = 5000): Advice {
  const multipliers = [0.25, 0.5, 1, 2, 4];
  return {
    cache: 'c',
    policy: 'tinylfu',
    current: { capacity, hitRatio: hits[2]! },
    curve: multipliers.map((multiplier, i) => ({
      capacity: Math.round(capacity * multiplier),
      multiplier,
      lru: hits[i]!,
      tinylfu: hits[i]!,
    })),
    recommendation: '',
    sampledRequests,
    sampleRate: 1,
    bytesPerEntry,
  };
}

const wide = { min: 10, max: 100_000, memoryBudget: 1e9 };

describe('chooseSize', () => {
  it('grows to the smallest size that gets (nearly) all of the gain', () => {
    expect(chooseSize(advice(1000, [20, 30, 40, 55, 55.5]), wide, 'tinylfu')).toBe(2000);
    expect(chooseSize(advice(1000, [20, 30, 40, 45, 60]), wide, 'tinylfu')).toBe(4000);
  });

  it('shrinks when a smaller size loses less than a point, and stays when both ways are marginal', () => {
    expect(chooseSize(advice(1000, [39.5, 39.8, 40, 41, 41.5]), wide, 'tinylfu')).toBe(250);
    expect(chooseSize(advice(1000, [30, 38, 40, 41, 41.5]), wide, 'tinylfu')).toBeUndefined();
  });

  it('respects min, max and the memory budget', () => {
    // Growth would pay, but 2000 entries x 100 bytes is over a 150 kB budget.
    expect(
      chooseSize(advice(1000, [20, 30, 40, 55, 60], 100), { ...wide, memoryBudget: 150_000 }, 'tinylfu'),
    ).toBeUndefined();
    expect(chooseSize(advice(1000, [20, 30, 40, 55, 60]), { ...wide, max: 2000 }, 'tinylfu')).toBe(2000);
    expect(chooseSize(advice(1000, [39.5, 39.8, 40, 41, 41.5]), { ...wide, min: 400 }, 'tinylfu')).toBe(500);
    // Over budget now (entries grew in size): shrink to what the budget affords at once.
    expect(
      chooseSize(advice(1000, [20, 30, 40, 41, 42], 200), { ...wide, memoryBudget: 100_000 }, 'tinylfu'),
    ).toBe(500);
  });

  it('does not grow an empty cache, whose entries it cannot price against the budget', () => {
    // Growth would pay, but with no entry to measure (cleared, or every value expired) the budget
    // could not bound it: it stays until entries say what a larger cache would cost.
    expect(
      chooseSize(advice(1000, [20, 30, 40, 55, 60], 0), { ...wide, memoryBudget: 150_000 }, 'tinylfu'),
    ).toBe(undefined);
    // It may still shrink, and grow to the bounds' minimum.
    expect(chooseSize(advice(1000, [39.5, 39.8, 40, 41, 41.5], 0), wide, 'tinylfu')).toBe(250);
    expect(chooseSize(advice(1000, [20, 30, 40, 55, 60], 0), { ...wide, min: 2000 }, 'tinylfu')).toBe(2000);
  });

  it('waits for enough sampled requests', () => {
    expect(chooseSize(advice(1000, [20, 30, 40, 55, 60], 100, 10), wide, 'tinylfu')).toBeUndefined();
  });

  it('validates the option', () => {
    expect(() => resolveAutoSize({ min: 0, max: 10, memoryBudget: 1 }, 5)).toThrow(/autoSize.min/);
    expect(() => resolveAutoSize({ min: 10, max: 5, memoryBudget: 1 }, 5)).toThrow(RangeError);
    expect(() => resolveAutoSize({ min: 1, max: 10, memoryBudget: 1.5 }, 5)).toThrow(/memoryBudget/);
    expect(() => resolveAutoSize({ min: 1, max: 10, memoryBudget: 100 }, 50)).toThrow(/within/);
    expect(() => resolveAutoSize('big', 5)).toThrow(TypeError);
    expect(() => resolveAutoSize({ min: 1, max: 10, memoryBudget: 100, budget: 50 }, 5)).toThrow(
      /autoSize: unknown option "budget"/,
    );
    expect(() => resolveAutoSize({ min: 1, max: 10, memoryBudget: 100 }, undefined)).toThrow(/maxEntries/);
  });
});

describe('createCache({ autoSize })', () => {
  it('grows a cache whose working set does not fit, within max and the budget, logging RESIZE', async () => {
    const { logger, lines } = consoleLogger();
    const cache = createCache<string>({
      maxEntries: 200,
      autoSize: { min: 100, max: 800, memoryBudget: 10_000_000 },
      logger,
    });
    expect(() =>
      createCache({ maxEntries: 200, advisor: false, autoSize: { min: 1, max: 800, memoryBudget: 1e6 } }),
    ).toThrow(/advisor/);
    const rand = seededRandom(5);
    // 600 equally popular keys: 200 entries hit about a third of the time, 800 almost always.
    for (let i = 0; i < 60_000; i++) {
      const key = `k${Math.floor(rand() * 600)}`;
      if ((await cache.get(key)) === undefined) await cache.set(key, 'v');
    }
    const resizes = lines.filter((l) => l.message.includes('RESIZE'));
    expect(resizes.length).toBeGreaterThan(0);
    const bound = cache.stats().maxEntries!;
    expect(bound).toBeGreaterThan(200);
    expect(bound).toBeLessThanOrEqual(800);
    expect(resizes.at(-1)!.fields).toMatchObject({ to: bound });
  });

  it('never grows past the memory budget', async () => {
    const cache = createCache<string>({
      maxEntries: 200,
      autoSize: { min: 100, max: 800, memoryBudget: 1 },
      sizeOf: () => 1000,
    });
    const rand = seededRandom(6);
    for (let i = 0; i < 30_000; i++) {
      const key = `k${Math.floor(rand() * 600)}`;
      if ((await cache.get(key)) === undefined) await cache.set(key, 'v');
    }
    // 1000-byte entries and a 1-byte budget: the cache is held at its minimum.
    expect(cache.stats().maxEntries).toBe(100);
  });
});
