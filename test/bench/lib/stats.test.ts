// The benchmark summaries: a wrong median or percentile would silently misreport every table.
import { describe, expect, it } from 'vitest';
import { median, pairedRatio, percentile, spread } from '../../../bench/lib/stats.js';

describe('median', () => {
  it('takes the middle value of an odd count regardless of order', () => {
    expect(median([9, 1, 5])).toBe(5);
  });
  it('averages the middle two of an even count', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
  it('does not reorder its input', () => {
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
  });
  it('refuses an empty list', () => {
    expect(() => median([])).toThrow(RangeError);
  });
});

describe('percentile', () => {
  const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 1..100, reversed
  it('uses the nearest rank', () => {
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([7], 1)).toBe(7);
  });
  it('names p when it is out of range', () => {
    expect(() => percentile(values, 0)).toThrow(/p must be/);
    expect(() => percentile(values, 101)).toThrow(RangeError);
  });
});

describe('spread', () => {
  it('is the range relative to the median', () => {
    expect(spread([90, 100, 110])).toBeCloseTo(0.2);
    expect(spread([5, 5, 5])).toBe(0);
  });
});

describe('pairedRatio', () => {
  it('takes the median of per-round ratios, cancelling a shared slowdown', () => {
    // Round 2 ran while the machine was busy: both libraries halved, the ratio stayed 2.
    expect(pairedRatio([200, 100, 210], [100, 50, 100])).toBe(2);
    // Separate medians would answer 200 / 100 = 2 here too, but 150 / 50 = 3 if the rounds differed.
    expect(pairedRatio([150, 60], [50, 30])).toBe(2.5);
  });
  it('refuses lists of different lengths', () => {
    expect(() => pairedRatio([1], [1, 2])).toThrow(/equal lengths/);
  });
});
