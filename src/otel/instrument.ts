// larder-cache/otel: turns the `larder:*` tracing channels (observability/tracing.ts) into OpenTelemetry
// spans and metrics. Each channel's start event is bound, through `bindStore`, to a store whose `run`
// is the OpenTelemetry context API's `context.with`: the span is made from the caller's active context
// when the operation starts, and is the active span while the operation runs, so whatever the operation
// calls (the loader, the Redis client's own instrumentation) nests under it. The span ends at asyncEnd
// (end for synchronous operations, or for a call that threw before returning its promise).
import type { AsyncLocalStorage } from 'node:async_hooks';
import diagnosticsChannel from 'node:diagnostics_channel';
import {
  context as otelContext,
  metrics as otelMetrics,
  trace as otelTrace,
  SpanKind,
  SpanStatusCode,
  type Attributes,
  type Context,
  type Counter,
  type Exception,
  type Histogram,
  type MeterProvider,
  type Span,
  type TracerProvider,
} from '@opentelemetry/api';
import { LOAD_DURATION_BUCKETS } from '../observability/latency.js';
import { errorMessage } from '../observability/log-sink.js';
import { TRACE_CHANNELS, type LarderTraceContext } from '../observability/tracing.js';
import { assertKnownOptions, optionNames } from '../util/validate.js';

/** Name (and instrumentation scope) under which spans and metrics are created. */
export const INSTRUMENTATION_NAME = 'larder-cache';

/** Options of {@link instrumentLarder}. */
export interface InstrumentLarderOptions {
  /** Where spans go; default: the global provider (`trace.getTracerProvider()`). */
  tracerProvider?: TracerProvider;
  /** Where metrics go; default: the global provider (`metrics.getMeterProvider()`). */
  meterProvider?: MeterProvider;
  /** Make spans (default true). */
  spans?: boolean;
  /** Record metrics (default true). */
  metrics?: boolean;
}

/** Takes the instrumentation out again: no more spans or metrics, and the channels lose their subscribers. */
export type UninstallLarder = () => void;

/** Whether an instrumentLarder call is in force (the channels are process-wide, so one at a time). */
let installed = false;

const INSTRUMENT_OPTIONS = optionNames<InstrumentLarderOptions>({
  tracerProvider: true,
  meterProvider: true,
  spans: true,
  metrics: true,
});

/**
 * Subscribes OpenTelemetry to Larder's tracing channels, for every cache in the process.
 *
 * **Spans** (OpenTelemetry has no semantic conventions for caches, so Larder's own attributes sit in a
 * `larder.` namespace; the general ones are used where they fit):
 * - `getOrSet <cache>`, `get <cache>`, `set <cache>`, `delete <cache>`, `invalidate <cache>` (kind
 *   INTERNAL), nested under the caller's active span; a getOrSet miss holds `loader <cache>`, which holds
 *   whatever the loader itself traces.
 * - `l2.read <cache>` and `l2.write <cache>` (INTERNAL) around each call into the shared tier, with
 *   `db.operation.name` set to the tier method (`get`, `set`, `delete`, `invalidateTags`…); a Redis or
 *   Postgres client's own CLIENT spans nest under them.
 * - `bus.publish <cache>` (PRODUCER, `messaging.operation.type` = `send`) and `bus.receive <cache>`
 *   (CONSUMER, `process`) for invalidation messages between instances.
 *
 * Attributes: `larder.cache.name`, `larder.cache.operation`, `larder.cache.outcome` (`hit`, `miss`,
 * `stale`), `larder.cache.tier` (`l1`, `l2`), `larder.cache.coalesced`, `larder.cache.key` (only with the
 * cache option `traceKeys: true`), `larder.cache.key_count`, `larder.invalidate.kind` / `.tags` /
 * `.pattern` / `.count`, `larder.bus.message_kind`, `larder.loader.attempt`; on failure the span's
 * status is ERROR with the exception recorded and `error.type` set (the CacheError type, else the
 * error's name), as the general conventions ask. A CacheError's message names its key, so without
 * `traceKeys` a CacheError is recorded as its type and code plus the message of the first error in its
 * `cause` chain that is not a CacheError (what the loader or the driver threw), with no stack trace.
 *
 * Spans are named after the root cache, so a namespace's operations share its root's span names; their
 * `larder.cache.name` attribute is the namespace's (`root:namespace`).
 *
 * **Metrics** (meter `larder`), each with `larder.cache.name`, the root cache's name (namespace names
 * may come from callers, so they never multiply the series):
 * - `larder.cache.hits` (with `larder.cache.tier`), `larder.cache.misses` (with
 *   `larder.cache.coalesced`) and `larder.cache.stale_hits`: counters of get/getOrSet lookups;
 * - `larder.cache.loads`: loader attempts, with `error.type` on failed ones;
 * - `larder.cache.load.duration`: histogram of loader attempt durations in seconds (unit `s`, as the
 *   conventions recommend for durations), advising the Prometheus histogram's bounds (1 ms … 10 s).
 *
 * Subscribing makes every traced operation build its context object; without instrumentation the
 * channels have no subscribers and cost one property read per operation.
 *
 * One instrumentation at a time: a second call before the first is uninstalled throws, since every
 * operation would otherwise make two spans and add to each counter twice.
 */
export function instrumentLarder(options: InstrumentLarderOptions = {}): UninstallLarder {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('instrumentLarder: options must be an object');
  assertKnownOptions(options, INSTRUMENT_OPTIONS, 'instrumentLarder');
  if (installed) {
    throw new Error(
      'instrumentLarder: Larder is already instrumented in this process (every operation would make two ' +
        'spans and count twice); call the function the first call returned before instrumenting again',
    );
  }
  const undo: Array<() => void> = [];
  try {
    if (options.spans !== false) undo.push(...instrumentSpans(options.tracerProvider));
    if (options.metrics !== false) undo.push(instrumentMetrics(options.meterProvider));
  } catch (error) {
    for (const step of undo) step(); // a provider that threw leaves no channel subscribed
    throw error;
  }
  installed = true;
  let done = false;
  return () => {
    if (done) return;
    done = true;
    installed = false;
    for (const step of undo) step();
  };
}

/** Channel handlers as TracingChannel.subscribe takes them. */
interface Handlers {
  start: (message: unknown) => void;
  end: (message: unknown) => void;
  asyncStart: (message: unknown) => void;
  asyncEnd: (message: unknown) => void;
  error: (message: unknown) => void;
}

const CHANNEL_NAMES = Object.values(TRACE_CHANNELS);
const SYNC_CHANNELS = new Set<string>([TRACE_CHANNELS.busReceive]);
const ignore = (): void => {};

function kindOf(operation: string): SpanKind {
  if (operation === 'bus.publish') return SpanKind.PRODUCER;
  if (operation === 'bus.receive') return SpanKind.CONSUMER;
  return SpanKind.INTERNAL;
}

/** The operation of a context (loader contexts carry none). */
function operationOf(ctx: LarderTraceContext): string {
  return 'operation' in ctx ? ctx.operation : 'loader';
}

/** Attributes known when an operation starts. */
function startAttributes(ctx: LarderTraceContext, operation: string): Attributes {
  const attributes: Attributes = {
    'larder.cache.name': ctx.cache,
    'larder.cache.operation': operation,
  };
  if (ctx.key !== undefined) attributes['larder.cache.key'] = String(ctx.key);
  if ('attempt' in ctx) attributes['larder.loader.attempt'] = ctx.attempt;
  if ('method' in ctx) {
    attributes['db.operation.name'] = ctx.method;
    attributes['larder.cache.tier'] = 'l2';
  }
  if ('keyCount' in ctx && ctx.keyCount !== undefined) attributes['larder.cache.key_count'] = ctx.keyCount;
  if (operation === 'bus.publish' || operation === 'bus.receive') {
    attributes['messaging.operation.type'] = operation === 'bus.publish' ? 'send' : 'process';
    attributes['larder.bus.message_kind'] = (ctx as { kind: string }).kind;
  }
  if (operation === 'invalidate' && 'kind' in ctx) {
    attributes['larder.invalidate.kind'] = ctx.kind;
    if ('tags' in ctx && ctx.tags !== undefined) attributes['larder.invalidate.tags'] = [...ctx.tags];
    if ('pattern' in ctx && ctx.pattern !== undefined) attributes['larder.invalidate.pattern'] = ctx.pattern;
  }
  return attributes;
}

/** What an error is called in `error.type`: a CacheError's type, else its class name. */
function errorType(error: unknown): string {
  if (error !== null && typeof error === 'object') {
    const type = (error as { type?: unknown }).type;
    if (typeof type === 'string') return type;
    const name = (error as { name?: unknown }).name;
    if (typeof name === 'string' && name !== '') return name;
  }
  return '_OTHER';
}

/** Whether a value is one of Larder's CacheErrors (by shape: the root and /otel bundles hold separate classes). */
function isCacheError(value: unknown): value is Error & { type: string; code: string; cause?: unknown } {
  return (
    value instanceof Error &&
    value.name === 'CacheError' &&
    typeof (value as { type?: unknown }).type === 'string' &&
    typeof (value as { code?: unknown }).code === 'string'
  );
}

/**
 * What a span records about a failure. A CacheError's message names the key it failed on, so unless the
 * context carries the key (the cache's `traceKeys`), a CacheError is recorded by its type and code, with
 * the message of the first error in its `cause` chain that is not a CacheError (the loader's or the
 * driver's own error) and no stack trace, whose first line repeats the message.
 */
function describeError(error: unknown, keysTraced: boolean): { exception: Exception; message: string } {
  if (keysTraced || !isCacheError(error)) {
    return {
      exception: error instanceof Error ? error : String(error),
      message: error instanceof Error ? error.message : String(error),
    };
  }
  let cause: unknown = error.cause;
  for (let depth = 0; isCacheError(cause) && depth < 8; depth++) cause = cause.cause;
  const detail = cause === undefined || isCacheError(cause) ? '' : `: ${errorMessage(cause)}`;
  const message = `${error.type}${detail}`;
  return { exception: { name: error.name, code: error.code, message }, message };
}

function instrumentSpans(provider: TracerProvider | undefined): Array<() => void> {
  const tracer = (provider ?? otelTrace.getTracerProvider()).getTracer(INSTRUMENTATION_NAME);
  const spans = new WeakMap<object, Span>();
  // bindStore calls `store.run(transform(message), next)`: running `next` in the span's context is what
  // makes the span the parent of everything the operation does.
  const store = {
    run: <R>(ctx: Context, fn: () => R): R => otelContext.with(ctx, fn),
  } as unknown as AsyncLocalStorage<Context>;

  const startSpan = (message: unknown): Context => {
    const active = otelContext.active();
    try {
      const ctx = message as LarderTraceContext;
      const operation = operationOf(ctx);
      const span = tracer.startSpan(
        `${operation} ${ctx.root ?? ctx.cache}`,
        { kind: kindOf(operation), attributes: startAttributes(ctx, operation) },
        active,
      );
      spans.set(ctx, span);
      return otelTrace.setSpan(active, span);
    } catch {
      return active; // a throwing transform would be rethrown asynchronously by Node
    }
  };

  const finish = (message: unknown): void => {
    const ctx = message as LarderTraceContext & {
      outcome?: string;
      tier?: string;
      coalesced?: boolean;
    };
    const span = spans.get(ctx);
    if (span === undefined) return;
    spans.delete(ctx);
    if (ctx.outcome !== undefined) span.setAttribute('larder.cache.outcome', ctx.outcome);
    if (ctx.tier !== undefined) span.setAttribute('larder.cache.tier', ctx.tier);
    if (ctx.coalesced === true) span.setAttribute('larder.cache.coalesced', true);
    if (operationOf(ctx) === 'invalidate' && typeof ctx.result === 'number')
      span.setAttribute('larder.invalidate.count', ctx.result);
    if ('error' in ctx && ctx.error !== undefined) {
      const error = ctx.error;
      const { exception, message } = describeError(error, ctx.key !== undefined);
      span.recordException(exception);
      span.setAttribute('error.type', errorType(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message });
    }
    span.end();
  };

  return CHANNEL_NAMES.map((name) => {
    const channel = diagnosticsChannel.tracingChannel(name);
    const sync = SYNC_CHANNELS.has(name);
    const handlers: Handlers = {
      start: ignore,
      // A synchronous operation ends here; so does a promise-returning one that threw before returning.
      end: (message) => {
        if (sync || (message as { error?: unknown }).error !== undefined) finish(message);
      },
      asyncStart: ignore,
      asyncEnd: finish,
      error: ignore,
    };
    channel.start.bindStore(store, startSpan);
    channel.subscribe(handlers);
    return () => {
      channel.unsubscribe(handlers);
      channel.start.unbindStore(store);
    };
  });
}

function instrumentMetrics(provider: MeterProvider | undefined): () => void {
  const meter = (provider ?? otelMetrics.getMeterProvider()).getMeter(INSTRUMENTATION_NAME);
  const hits: Counter = meter.createCounter('larder.cache.hits', {
    description: 'get/getOrSet lookups answered by the cache',
    unit: '{lookup}',
  });
  const misses: Counter = meter.createCounter('larder.cache.misses', {
    description: 'get/getOrSet lookups the cache could not answer (getOrSet then loaded or joined a load)',
    unit: '{lookup}',
  });
  const staleHits: Counter = meter.createCounter('larder.cache.stale_hits', {
    description: 'getOrSet lookups answered with a value past its TTL (fail-safe or soft timeout)',
    unit: '{lookup}',
  });
  const loads: Counter = meter.createCounter('larder.cache.loads', {
    description: 'Loader attempts (each retry counts)',
    unit: '{call}',
  });
  const loadDuration: Histogram = meter.createHistogram('larder.cache.load.duration', {
    description: 'Duration of loader attempts',
    unit: 's',
    // The SDK's default bounds (0, 5, 10 … 10000) are made for milliseconds: in seconds, every load
    // under 5 s would fall in one bucket. A View the application sets still wins over this advice.
    advice: { explicitBucketBoundaries: [...LOAD_DURATION_BUCKETS] },
  });

  const lookup = (message: unknown): void => {
    const ctx = message as {
      cache: string;
      root?: string;
      outcome?: string;
      tier?: string;
      coalesced?: boolean;
    };
    const attributes: Attributes = { 'larder.cache.name': ctx.root ?? ctx.cache };
    if (ctx.outcome === 'hit') {
      if (ctx.tier !== undefined) attributes['larder.cache.tier'] = ctx.tier;
      hits.add(1, attributes);
    } else if (ctx.outcome === 'miss') {
      attributes['larder.cache.coalesced'] = ctx.coalesced === true;
      misses.add(1, attributes);
    } else if (ctx.outcome === 'stale') staleHits.add(1, attributes);
  };
  const lookupHandlers: Handlers = {
    start: ignore,
    end: ignore,
    asyncStart: ignore,
    asyncEnd: lookup,
    error: ignore,
  };

  const started = new WeakMap<object, number>();
  const loaderHandlers: Handlers = {
    start: (message) => started.set(message as object, performance.now()),
    end: ignore,
    asyncStart: ignore,
    asyncEnd: (message) => {
      const ctx = message as { cache: string; root?: string; error?: unknown };
      const attributes: Attributes = { 'larder.cache.name': ctx.root ?? ctx.cache };
      if (ctx.error !== undefined) attributes['error.type'] = errorType(ctx.error);
      loads.add(1, attributes);
      const begun = started.get(ctx);
      if (begun !== undefined) loadDuration.record((performance.now() - begun) / 1000, attributes);
    },
    error: ignore,
  };

  const subscriptions: Array<[string, Handlers]> = [
    [TRACE_CHANNELS.get, lookupHandlers],
    [TRACE_CHANNELS.getOrSet, lookupHandlers],
    [TRACE_CHANNELS.loader, loaderHandlers],
  ];
  for (const [name, handlers] of subscriptions) diagnosticsChannel.tracingChannel(name).subscribe(handlers);
  return () => {
    for (const [name, handlers] of subscriptions)
      diagnosticsChannel.tracingChannel(name).unsubscribe(handlers);
  };
}
