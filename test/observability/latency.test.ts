import { describe, expect, it } from 'vitest';
import { LATENCY_WINDOW, LatencyRecorder, summarizeLatency } from '../../src/observability/latency.js';

describe('LatencyRecorder', () => {
  it('summarises count, mean, p50 and p99 (nearest rank)', () => {
    const r = new LatencyRecorder();
    expect(r.summary()).toEqual({ count: 0, mean: 0, p50: 0, p99: 0 });
    for (let i = 1; i <= 100; i++) r.record(i);
    expect(r.summary()).toEqual({ count: 100, mean: 50.5, p50: 50, p99: 99 });
  });

  it('keeps a bounded window for percentiles but an all-time count and mean', () => {
    const r = new LatencyRecorder();
    for (let i = 0; i < LATENCY_WINDOW; i++) r.record(1000);
    for (let i = 0; i < LATENCY_WINDOW; i++) r.record(1);
    const s = r.summary();
    expect(r.samples().length).toBe(LATENCY_WINDOW);
    expect(s.count).toBe(2 * LATENCY_WINDOW);
    expect(s.mean).toBe(500.5);
    expect(s.p99).toBe(1);
    r.reset();
    expect(r.summary().count).toBe(0);
  });

  it('merges several recorders', () => {
    const a = new LatencyRecorder();
    const b = new LatencyRecorder();
    a.record(10);
    b.record(30);
    b.record(20);
    expect(summarizeLatency([a, b])).toEqual({ count: 3, mean: 20, p50: 20, p99: 30 });
  });
});
