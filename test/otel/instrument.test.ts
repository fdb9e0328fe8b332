// larder-cache/otel (issue 14): the tracing channels become OpenTelemetry spans, nested under the caller's
// active span, and metrics; exercised with the SDK's in-memory exporter and a pull metric reader.
import { context, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  DataPointType,
  MeterProvider,
  MetricReader,
  type HistogramMetricData,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildCache } from '../../src/cache/create-cache.js';
import { instrumentLarder, type UninstallLarder } from '../../src/entries/otel.js';
import { getOrSetChannel, l2ReadChannel, loaderChannel } from '../../src/observability/tracing.js';
import { MemoryBusHub } from '../../src/tiers/bus.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { memoryTier } from '../../src/tiers/redis-tier.js';
import { deferred } from '../helpers/deferred.js';

/** A metric reader collected on demand (no export timer). */
class PullReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

const exporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = tracerProvider.getTracer('app');
let reader: PullReader;
let meterProvider: MeterProvider;
let uninstall: UninstallLarder | undefined;

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
});
afterAll(() => {
  context.disable();
});
afterEach(() => {
  uninstall?.();
  uninstall = undefined;
  exporter.reset();
});

function install(): void {
  reader = new PullReader();
  meterProvider = new MeterProvider({ readers: [reader] });
  uninstall = instrumentLarder({ tracerProvider, meterProvider });
}

const named = (name: string): ReadableSpan => {
  const found = exporter.getFinishedSpans().filter((s) => s.name === name);
  expect(found.map((s) => s.name)).toEqual([name]);
  return found[0]!;
};
const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;
const idOf = (span: ReadableSpan): string => span.spanContext().spanId;

async function metric(name: string): Promise<MetricData | undefined> {
  const { resourceMetrics } = await reader.collect();
  return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
}

/** Two instances over one in-memory L2 and bus. */
function twoInstances(traceKeys = false) {
  const driver = new MemoryDriver();
  const hub = new MemoryBusHub();
  const a = buildCache<string>({
    name: 'users',
    ttl: '1m',
    retry: false,
    traceKeys,
    l2: memoryTier({ driver, hub, instanceId: 'A' }),
  });
  const b = buildCache<string>({
    name: 'users',
    ttl: '1m',
    retry: false,
    traceKeys,
    l2: memoryTier({ driver, hub, instanceId: 'B' }),
  });
  return { a, b };
}

describe('instrumentLarder spans', () => {
  it("nests a getOrSet miss's loader span, and the loader's own span, under the cache span under the caller's", async () => {
    install();
    const cache = buildCache<string>({ name: 'users', retry: false });
    const value = await tracer.startActiveSpan('request', async (request) => {
      const v = await cache.getOrSet('u1', () =>
        tracer.startActiveSpan('db.query', async (query) => {
          query.end();
          return 'Ada';
        }),
      );
      request.end();
      return v;
    });
    expect(value).toBe('Ada');
    const request = named('request');
    const getOrSet = named('getOrSet users');
    const loader = named('loader users');
    const query = named('db.query');
    expect(parentOf(getOrSet)).toBe(idOf(request));
    expect(parentOf(loader)).toBe(idOf(getOrSet));
    expect(parentOf(query)).toBe(idOf(loader));
    expect(getOrSet.kind).toBe(SpanKind.INTERNAL);
    expect(getOrSet.attributes).toMatchObject({
      'larder.cache.name': 'users',
      'larder.cache.operation': 'getOrSet',
      'larder.cache.outcome': 'miss',
    });
    // Keys stay out of spans unless the cache opts in.
    expect(getOrSet.attributes['larder.cache.key']).toBeUndefined();
    expect(loader.attributes['larder.loader.attempt']).toBe(0);
    await cache.close();
  });

  it('marks an L1 hit, and puts the key in only with traceKeys', async () => {
    install();
    const cache = buildCache<string>({ name: 'keyed', traceKeys: true });
    await cache.set('k', 'v');
    exporter.reset();
    expect(await cache.getOrSet('k', () => 'loaded')).toBe('v');
    const span = named('getOrSet keyed');
    expect(span.attributes).toMatchObject({
      'larder.cache.outcome': 'hit',
      'larder.cache.tier': 'l1',
      'larder.cache.key': 'k',
    });
    expect(exporter.getFinishedSpans().some((s) => s.name.startsWith('loader'))).toBe(false);
    await cache.close();
  });

  it('shows an L2 hit as the tier span under the getOrSet span', async () => {
    const { a, b } = twoInstances();
    await a.set('u1', 'Ada');
    install();
    expect(await b.getOrSet('u1', () => 'loaded')).toBe('Ada');
    const getOrSet = named('getOrSet users');
    const read = named('l2.read users');
    expect(parentOf(read)).toBe(idOf(getOrSet));
    expect(read.attributes).toMatchObject({
      'larder.cache.tier': 'l2',
      'db.operation.name': 'get',
      'larder.cache.outcome': 'hit',
    });
    expect(getOrSet.attributes).toMatchObject({ 'larder.cache.outcome': 'hit', 'larder.cache.tier': 'l2' });
    expect(exporter.getFinishedSpans().some((s) => s.name.startsWith('loader'))).toBe(false);
    await a.close();
    await b.close();
  });

  it('traces an L2 write and its bus publish under set, and the receive on the other instance', async () => {
    const { a, b } = twoInstances();
    await b.set('u1', 'old'); // b holds it in L1, so a's write must reach b by the bus
    install();
    await a.set('u1', 'new');
    await new Promise((resolve) => setTimeout(resolve, 0)); // the in-process bus delivers next turn
    const set = named('set users');
    const write = named('l2.write users');
    expect(parentOf(write)).toBe(idOf(set));
    expect(write.attributes['db.operation.name']).toBe('set');
    const publish = named('bus.publish users');
    expect(publish.kind).toBe(SpanKind.PRODUCER);
    expect(publish.attributes).toMatchObject({
      'larder.bus.message_kind': 'set',
      'larder.cache.key_count': 1,
    });
    const receive = named('bus.receive users');
    expect(receive.kind).toBe(SpanKind.CONSUMER);
    expect(await b.get('u1')).toBe('new');
    await a.close();
    await b.close();
  });

  it('records a failed load as an error on the loader and getOrSet spans', async () => {
    install();
    const cache = buildCache<string>({ name: 'failing', retry: false });
    await expect(
      cache.getOrSet('k', () => {
        throw new Error('upstream down');
      }),
    ).rejects.toThrow(/upstream down/);
    const loader = named('loader failing');
    const getOrSet = named('getOrSet failing');
    expect(loader.status.code).toBe(SpanStatusCode.ERROR);
    expect(loader.attributes['error.type']).toBe('Error');
    expect(getOrSet.status.code).toBe(SpanStatusCode.ERROR);
    expect(getOrSet.attributes['error.type']).toBe('FETCH_FAILED');
    expect(loader.events.some((e) => e.name === 'exception')).toBe(true);
    await cache.close();
  });

  it('keeps the key out of a failed span without traceKeys, though the CacheError message names it', async () => {
    install();
    const cache = buildCache<string>({ name: 'private', retry: false });
    const error = await cache
      .getOrSet('user:alice@example.com', () => {
        throw new Error('upstream down');
      })
      .catch((e: unknown) => e as Error);
    expect(error.message).toContain('alice@example.com'); // the caller's error keeps it
    const getOrSet = named('getOrSet private');
    expect(JSON.stringify([getOrSet.status, getOrSet.attributes, getOrSet.events])).not.toContain('alice');
    expect(getOrSet.status.message).toBe('FETCH_FAILED: upstream down');
    expect(getOrSet.events[0]?.attributes).toMatchObject({
      'exception.type': 'E_FETCH_FAILED',
      'exception.message': 'FETCH_FAILED: upstream down',
    });
    await cache.close();

    exporter.reset();
    const traced = buildCache<string>({ name: 'traced', retry: false, traceKeys: true });
    await traced
      .getOrSet('user:bob', () => {
        throw new Error('upstream down');
      })
      .catch(() => undefined);
    expect(named('getOrSet traced').status.message).toContain('user:bob');
    await traced.close();
  });

  it('traces invalidations with their count, tags only with traceKeys', async () => {
    install();
    const cache = buildCache<string>({ name: 'inv' });
    await cache.set('a', 'A', { tags: ['t'] });
    expect(await cache.invalidateTags(['t'])).toBe(1);
    const span = named('invalidate inv');
    expect(span.attributes).toMatchObject({ 'larder.invalidate.kind': 'tags', 'larder.invalidate.count': 1 });
    expect(span.attributes['larder.invalidate.tags']).toBeUndefined();
    await cache.close();
  });

  it('stops making spans and metrics once uninstalled, and leaves the channels without subscribers', async () => {
    install();
    expect(getOrSetChannel.hasSubscribers).toBe(true);
    uninstall!();
    uninstall = undefined;
    expect(getOrSetChannel.hasSubscribers).toBe(false);
    expect(l2ReadChannel.hasSubscribers).toBe(false);
    expect(loaderChannel.hasSubscribers).toBe(false);
    const cache = buildCache<string>({ name: 'after' });
    await cache.getOrSet('k', () => 'v');
    expect(exporter.getFinishedSpans()).toEqual([]);
    expect((await metric('larder.cache.misses'))?.dataPoints ?? []).toEqual([]);
    await cache.close();
  });
});

describe('instrumentLarder metrics', () => {
  it('counts hits by tier, misses (coalesced apart) and loads, and records load durations in seconds', async () => {
    install();
    const gate = deferred<string>();
    const cache = buildCache<string>({ name: 'm', retry: false });
    const first = cache.getOrSet('k', () => gate.promise);
    const joined = cache.getOrSet('k', () => 'unused');
    gate.resolve('v');
    expect([await first, await joined]).toEqual(['v', 'v']);
    await cache.getOrSet('k', () => 'unused');
    expect(await cache.get('absent')).toBeUndefined();

    const hits = await metric('larder.cache.hits');
    expect(hits?.dataPoints.map((p) => [p.attributes, p.value])).toEqual([
      [{ 'larder.cache.name': 'm', 'larder.cache.tier': 'l1' }, 1],
    ]);
    const misses = await metric('larder.cache.misses');
    const byCoalesced = Object.fromEntries(
      (misses?.dataPoints ?? []).map((p) => [String(p.attributes['larder.cache.coalesced']), p.value]),
    );
    expect(byCoalesced).toEqual({ false: 2, true: 1 });
    const loads = await metric('larder.cache.loads');
    expect(loads?.dataPoints.map((p) => p.value)).toEqual([1]);
    const duration = (await metric('larder.cache.load.duration')) as HistogramMetricData | undefined;
    expect(duration?.dataPointType).toBe(DataPointType.HISTOGRAM);
    expect(duration?.descriptor.unit).toBe('s');
    expect(duration?.dataPoints[0]?.value.count).toBe(1);
    await cache.close();
  });

  it('labels a namespace’s metrics and names its spans by the root cache, so tenants do not multiply series', async () => {
    install();
    const cache = buildCache<string>({ name: 'sessions', retry: false });
    for (const user of ['u1', 'u2', 'u3']) {
      const mine = cache.namespace(user);
      await mine.getOrSet('profile', () => `p-${user}`);
      await mine.getOrSet('profile', () => 'unused');
    }
    const names = async (metricName: string) =>
      ((await metric(metricName))?.dataPoints ?? []).map((p) => [p.attributes['larder.cache.name'], p.value]);
    expect(await names('larder.cache.hits')).toEqual([['sessions', 3]]);
    expect(await names('larder.cache.loads')).toEqual([['sessions', 3]]);
    const spans = exporter.getFinishedSpans();
    expect(new Set(spans.map((s) => s.name))).toEqual(new Set(['getOrSet sessions', 'loader sessions']));
    expect(spans.find((s) => s.name === 'loader sessions')?.attributes['larder.cache.name']).toBe(
      'sessions:u1',
    );
    await cache.close();
  });

  it('refuses a second instrumentation while one is in force, so nothing is counted twice', async () => {
    install();
    expect(() => instrumentLarder({ tracerProvider, meterProvider })).toThrow(/already instrumented/);
    const cache = buildCache<string>({ name: 'once', retry: false });
    await cache.getOrSet('k', () => 'v');
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['loader once', 'getOrSet once']);
    expect((await metric('larder.cache.loads'))?.dataPoints.map((p) => p.value)).toEqual([1]);

    uninstall!();
    // A provider that throws leaves nothing subscribed, and does not block the next call.
    const broken = {
      getMeter: () => {
        throw new Error('no meter');
      },
    };
    expect(() => instrumentLarder({ tracerProvider, meterProvider: broken })).toThrow('no meter');
    expect(getOrSetChannel.hasSubscribers).toBe(false);
    install();
    expect(getOrSetChannel.hasSubscribers).toBe(true);
    await cache.close();
  });

  it('refuses an unknown option, naming it, and instruments nothing', () => {
    expect(() => instrumentLarder({ span: false } as object)).toThrow(
      new TypeError('instrumentLarder: unknown option "span"'),
    );
  });
});
