// Loader tracing through node:diagnostics_channel: APMs (or tests) subscribe to the `larder:loader`
// tracing channel and see start/end/asyncStart/asyncEnd/error around every loader call. When nobody
// subscribes the loader is called directly, so tracing costs one property read.
import diagnosticsChannel from 'node:diagnostics_channel';
import type { CacheKey } from '../util/key.js';

/** Name of the tracing channel around loader calls. */
export const LOADER_CHANNEL = 'larder:loader';

/** What subscribers receive as the trace context of one loader attempt. */
export interface LoaderTraceContext {
  cache: string;
  key: CacheKey;
  attempt: number;
  /** Set by the channel when the loader resolves. */
  result?: unknown;
  /** Set by the channel when the loader rejects. */
  error?: unknown;
}

/** The `larder:loader` tracing channel. */
export const loaderChannel = diagnosticsChannel.tracingChannel<'larder:loader', LoaderTraceContext>(
  LOADER_CHANNEL,
);

/** Runs one loader attempt inside the tracing channel when anyone listens, else directly. */
export function traceLoader<T>(run: () => Promise<T>, context: LoaderTraceContext): Promise<T> {
  if (!loaderChannel.hasSubscribers) return run();
  return loaderChannel.tracePromise(run, context);
}
