// The recommendation text: grow when it pays, shrink when it costs nothing, otherwise say the size is
// right; suggest the other policy when it wins; refuse to guess on too little traffic.
import { describe, expect, it } from 'vitest';
import { buildRecommendation, formatBytes, MIN_SAMPLED_REQUESTS } from '../../src/advisor/recommendation.js';
import type { Advice, AdviceCurvePoint } from '../../src/advisor/types.js';

function advice(points: [number, number, number][], overrides: Partial<Advice> = {}): Advice {
  const curve: AdviceCurvePoint[] = points.map(([multiplier, lru, tinylfu]) => ({
    capacity: 5_000 * multiplier,
    multiplier,
    lru,
    tinylfu,
  }));
  return {
    cache: 'url',
    policy: 'tinylfu',
    current: { capacity: 5_000, hitRatio: 72 },
    curve,
    recommendation: '',
    sampledRequests: 50_000,
    sampleRate: 1,
    bytesPerEntry: 300,
    ...overrides,
  };
}

describe('buildRecommendation', () => {
  it('recommends growing, priced in bytes, anchored on the measured hit ratio', () => {
    const text = buildRecommendation(
      advice([
        [0.5, 60, 65],
        [1, 70, 71],
        [2, 79, 80],
        [4, 85, 86],
      ]),
    );
    expect(text).toBe(
      'Doubling url from 5,000 to 10,000 entries would raise its hit ratio from 72% to 81% for about 1.5 MB more. ' +
        'At 20,000 entries it would reach 87%.',
    );
  });

  it('recommends shrinking when half the size costs less than a point', () => {
    const text = buildRecommendation(
      advice([
        [0.25, 60, 60],
        [0.5, 71.5, 71.6],
        [1, 72, 72],
        [2, 72.3, 72.3],
      ]),
    );
    expect(text).toBe(
      'url is larger than its workload needs: halving it from 5,000 to 2,500 entries would lower its hit ratio only from 72% to 71.6% and free about 750 kB.',
    );
  });

  it('says the size is right when neither direction pays', () => {
    const text = buildRecommendation(
      advice([
        [0.5, 60, 60],
        [1, 72, 72],
        [2, 73, 73],
      ]),
    );
    expect(text).toBe(
      'url is well sized: growing it from 5,000 to 10,000 entries would raise its hit ratio by only 1 point (to 73%).',
    );
  });

  it('suggests the other policy when it wins at the same size', () => {
    const text = buildRecommendation(
      advice(
        [
          [0.5, 50, 65],
          [1, 55, 72],
          [2, 56, 73],
        ],
        { policy: 'lru', bytesPerEntry: 0 },
      ),
    );
    expect(text).toMatch(
      /Switching url to the tinylfu policy would raise its hit ratio to about 89% at the same size\.$/,
    );
    expect(text).not.toMatch(/MB|kB/);
  });

  it('declines to advise on too little traffic', () => {
    const text = buildRecommendation(advice([[1, 50, 50]], { sampledRequests: MIN_SAMPLED_REQUESTS - 1 }));
    expect(text).toMatch(/^Not enough traffic yet to advise on url: 999 sampled requests/);
  });
});

describe('formatBytes', () => {
  it('scales to a short unit', () => {
    expect(formatBytes(512)).toBe('512 bytes');
    expect(formatBytes(40_000)).toBe('40 kB');
    expect(formatBytes(1_500_000)).toBe('1.5 MB');
    expect(formatBytes(3_000_000)).toBe('3 MB');
    expect(formatBytes(1.2e9)).toBe('1.2 GB');
  });
});
