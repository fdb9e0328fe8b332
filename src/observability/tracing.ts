// Tracing through node:diagnostics_channel, following Node's TracingChannel conventions (start, end,
// asyncStart, asyncEnd, error) as lru-cache does: one tracing channel per operation, `larder:<op>`.
// APMs, tests and larder-cache/otel subscribe; the channel sets `result` or `error` on the context object.
// Nothing is built when nobody listens: callers test the channel's `hasSubscribers` first (one
// property read) and only then make a context and wrap the call, so the getOrSet hit path allocates
// nothing for tracing. Keys are put in contexts only when the cache's `traceKeys` option is on.
import diagnosticsChannel from 'node:diagnostics_channel';
import type { CacheKey } from '../util/key.js';

/** The traced operations and their channel names (`larder:<operation>`). */
export const TRACE_CHANNELS = {
  get: 'larder:get',
  set: 'larder:set',
  getOrSet: 'larder:getOrSet',
  delete: 'larder:delete',
  invalidate: 'larder:invalidate',
  l2Read: 'larder:l2:read',
  l2Write: 'larder:l2:write',
  busPublish: 'larder:bus:publish',
  busReceive: 'larder:bus:receive',
  loader: 'larder:loader',
} as const;

/** Name of the tracing channel around loader calls. */
export const LOADER_CHANNEL = TRACE_CHANNELS.loader;

/** How a read was answered: from the cache, by a load (or not at all), or with a value past its TTL. */
export type TraceOutcome = 'hit' | 'miss' | 'stale';

/** The tier that answered a read or that an L2 event concerns. */
export type TraceTier = 'l1' | 'l2';

/** Fields every context carries; the channel adds `result` or `error` when the call settles. */
export interface TraceContextBase {
  /** The cache's name (`root:namespace` for a namespace; for L2 and bus events, the root's). */
  cache: string;
  /**
   * For an operation on a namespace, the root cache's name (absent on the root itself). Namespace names
   * may come from callers (a tenant, a user), so metrics label by this, not by `cache`.
   */
  root?: string;
  /** The key as the caller gave it (as stored, for L2 events); only with `traceKeys: true`. */
  key?: CacheKey;
  /** Set by the channel when the call resolves. */
  result?: unknown;
  /** Set by the channel when the call throws or rejects. */
  error?: unknown;
}

/**
 * Context of `larder:get`, `larder:getOrSet`, `larder:set` and `larder:delete`. `outcome` and `tier` are
 * filled in as the read is answered (before `asyncEnd`): `hit` from `l1` or `l2`, `miss` (a load ran or
 * was joined: `coalesced`), or `stale` (fail-safe or soft timeout answered a value past its TTL).
 */
export interface OperationTraceContext extends TraceContextBase {
  operation: 'get' | 'getOrSet' | 'set' | 'delete';
  outcome?: TraceOutcome;
  tier?: TraceTier;
  /** getOrSet joined a load already in flight (outcome `miss`, no loader call of its own). */
  coalesced?: boolean;
}

/** Context of `larder:invalidate`: by tags, by glob pattern, or the whole cache (clear). */
export interface InvalidateTraceContext extends TraceContextBase {
  operation: 'invalidate';
  kind: 'tags' | 'pattern' | 'clear';
  /** The tags (kind `tags`) or the pattern (kind `pattern`); only with `traceKeys: true`. */
  tags?: readonly string[];
  pattern?: string;
}

/** Context of `larder:l2:read` and `larder:l2:write`: one call of the cache into its shared tier. */
export interface L2TraceContext extends TraceContextBase {
  operation: 'l2.read' | 'l2.write';
  tier: 'l2';
  /** The tier method: get, getMany, set, delete, invalidateTags, invalidatePattern, invalidatePrefix, clear. */
  method: string;
  /** How many keys a many-key call carries. */
  keyCount?: number;
  /** For reads: `hit` when L2 held the key (every key, for getMany), else `miss`. */
  outcome?: 'hit' | 'miss';
}

/** Context of `larder:bus:publish` and `larder:bus:receive`: one invalidation message between instances. */
export interface BusTraceContext extends TraceContextBase {
  operation: 'bus.publish' | 'bus.receive';
  /** The message kind: set, delete, tags, pattern, prefix, clear… */
  kind: string;
  /** How many keys the message names (set/delete). */
  keyCount?: number;
}

/** Context of `larder:loader`: one loader attempt (0 for the first call, then each retry). */
export interface LoaderTraceContext extends TraceContextBase {
  attempt: number;
}

/** Any context a Larder tracing channel publishes. */
export type LarderTraceContext =
  OperationTraceContext | InvalidateTraceContext | L2TraceContext | BusTraceContext | LoaderTraceContext;

const channel = <C extends object>(name: string) => diagnosticsChannel.tracingChannel<string, C>(name);

/** `larder:get`. */
export const getChannel = channel<OperationTraceContext>(TRACE_CHANNELS.get);
/** `larder:set`. */
export const setChannel = channel<OperationTraceContext>(TRACE_CHANNELS.set);
/** `larder:getOrSet`. */
export const getOrSetChannel = channel<OperationTraceContext>(TRACE_CHANNELS.getOrSet);
/** `larder:delete`. */
export const deleteChannel = channel<OperationTraceContext>(TRACE_CHANNELS.delete);
/** `larder:invalidate`. */
export const invalidateChannel = channel<InvalidateTraceContext>(TRACE_CHANNELS.invalidate);
/** `larder:l2:read`. */
export const l2ReadChannel = channel<L2TraceContext>(TRACE_CHANNELS.l2Read);
/** `larder:l2:write`. */
export const l2WriteChannel = channel<L2TraceContext>(TRACE_CHANNELS.l2Write);
/** `larder:bus:publish`. */
export const busPublishChannel = channel<BusTraceContext>(TRACE_CHANNELS.busPublish);
/** `larder:bus:receive`. */
export const busReceiveChannel = channel<BusTraceContext>(TRACE_CHANNELS.busReceive);
/** `larder:loader`. */
export const loaderChannel = channel<LoaderTraceContext>(TRACE_CHANNELS.loader);

/** Runs one loader attempt inside the tracing channel when anyone listens, else directly. */
export function traceLoader<T>(
  run: () => Promise<T>,
  cache: string,
  key: CacheKey | undefined,
  attempt: number,
  root: string = cache,
): Promise<T> {
  if (!loaderChannel.hasSubscribers) return run();
  const context: LoaderTraceContext = { cache, attempt };
  if (root !== cache) context.root = root;
  if (key !== undefined) context.key = key;
  return loaderChannel.tracePromise(run, context);
}

/**
 * A getOrSet/get/set/delete context; `key` is included only when `withKey` (the traceKeys option), `root`
 * only when it differs from `cache` (a namespace).
 */
export function operationContext(
  operation: OperationTraceContext['operation'],
  cache: string,
  key: CacheKey,
  withKey: boolean,
  root: string = cache,
): OperationTraceContext {
  const context: OperationTraceContext = { operation, cache };
  if (root !== cache) context.root = root;
  if (withKey) context.key = key;
  return context;
}

/**
 * Runs an L2 call inside `larder:l2:read` or `larder:l2:write` (the caller checked hasSubscribers).
 * `describe` fills a read's outcome from its answer.
 */
export function traceL2<T>(
  channel: typeof l2ReadChannel,
  context: L2TraceContext,
  run: () => Promise<T>,
  describe?: (result: T, context: L2TraceContext) => void,
): Promise<T> {
  return channel.tracePromise(
    describe === undefined
      ? run
      : async () => {
          const result = await run();
          describe(result, context);
          return result;
        },
    context,
  );
}
