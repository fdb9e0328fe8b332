// larder.cache.load.duration is recorded in seconds: its histogram needs bucket bounds in seconds.
// Without advice the SDK's default bounds (0, 5, 10, 25 … 10000, made for milliseconds) put every load
// under five seconds into one bucket, so every quantile read from it was the same.
import { MeterProvider, MetricReader, type HistogramMetricData } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildCache } from '../../src/cache/create-cache.js';
import { instrumentLarder, type UninstallLarder } from '../../src/entries/otel.js';
import { DEFAULT_LOAD_BUCKETS } from '../../src/entries/prometheus.js';

/** A metric reader collected on demand (no export timer). */
class PullReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

let uninstall: UninstallLarder | undefined;
afterEach(() => {
  uninstall?.();
  uninstall = undefined;
  vi.restoreAllMocks();
});

describe('larder.cache.load.duration', () => {
  it('buckets loads by seconds, with the bounds the Prometheus histogram uses', async () => {
    const reader = new PullReader();
    uninstall = instrumentLarder({ meterProvider: new MeterProvider({ readers: [reader] }), spans: false });
    // The instrumentation times a load with performance.now: the loader moves it on by 200 ms.
    let now = 1000;
    vi.spyOn(performance, 'now').mockImplementation(() => now);
    const cache = buildCache<string>({ name: 'slow', retry: false });
    await cache.getOrSet('k', () => {
      now += 200;
      return 'v';
    });

    const { resourceMetrics } = await reader.collect();
    const duration = resourceMetrics.scopeMetrics
      .flatMap((s) => s.metrics)
      .find((m) => m.descriptor.name === 'larder.cache.load.duration') as HistogramMetricData | undefined;
    const point = duration!.dataPoints[0]!;
    expect(point.value.sum).toBeCloseTo(0.2, 9);
    expect(point.value.buckets.boundaries).toEqual(DEFAULT_LOAD_BUCKETS);
    // counts[i] holds the values in (boundaries[i-1], boundaries[i]]: 0.2 s lies in (0.1, 0.25].
    const bucket = DEFAULT_LOAD_BUCKETS.indexOf(0.25);
    expect(point.value.buckets.counts[bucket]).toBe(1);
    expect(point.value.buckets.counts.reduce((a, b) => a + b, 0)).toBe(1);
    await cache.close();
  });
});
