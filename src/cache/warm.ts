// Warming a cache: what `warm()` / `warmOnStart` accept (pairs as an array, iterable, async iterable,
// or a function returning one) read as one stream of checked [key, value, options] items; and the
// predictive warm-up at start (`persist.warm`), which fetches the snapshot's hottest stale keys again
// with bounded concurrency, within a deadline, counting failures instead of throwing them. Its loads are
// the cache's own (see WarmTarget): a write that reaches a key while it is being warmed wins.
import type { CacheKey } from '../engine/types.js';
import { keyProblem } from '../util/validate.js';
import { raceTimeout, since, TIMED_OUT } from '../util/time.js';
import { errorMessage, type LogSink } from '../observability/log-sink.js';
import type { ResolvedWarm } from '../persistence/schedule.js';
import { snapshotScope } from '../persistence/format.js';
import type { SnapshotEntry } from '../persistence/types.js';
import type { WarmPlan } from '../persistence/warm-plan.js';
import type { CacheSetOptions, WarmSource } from './types.js';

/** One checked warm-up item. */
export interface WarmItem<V> {
  key: CacheKey;
  value: V;
  options: CacheSetOptions | undefined;
}

/** Whether `value` is an iterable or async iterable object (what a warm source, or its function, gives). */
function isIterableObject(value: unknown): value is object {
  return (
    value !== null && typeof value === 'object' && (Symbol.iterator in value || Symbol.asyncIterator in value)
  );
}

/**
 * Throws a TypeError naming `where` unless `source` can be a warm source: an iterable, an async
 * iterable, or a function (called when warming starts). Its items are checked as they are read.
 */
export function checkWarmSource(source: unknown, where: string): void {
  if (typeof source !== 'function' && !isIterableObject(source)) {
    throw new TypeError(
      `${where} must be an iterable or async iterable of [key, value] pairs, or a function returning one`,
    );
  }
}

/** Iterates a warm source, validating each item (a TypeError names the bad item's position). */
export async function* readWarmSource<V>(source: WarmSource<V>): AsyncGenerator<WarmItem<V>> {
  const iterable = typeof source === 'function' ? source() : source;
  if (!isIterableObject(iterable)) {
    throw new TypeError('warm source must be an iterable or async iterable of [key, value] pairs');
  }
  let index = 0;
  for await (const item of iterable as AsyncIterable<unknown>) {
    if (!Array.isArray(item) || item.length < 2) {
      throw new TypeError(`warm source item ${index} must be a [key, value] or [key, value, options] array`);
    }
    const [key, value, options] = item as [unknown, V, unknown];
    const problem = keyProblem(key);
    if (problem !== undefined) throw new TypeError(`warm source item ${index}: ${problem}`);
    if (options !== undefined && (typeof options !== 'object' || options === null)) {
      throw new TypeError(`warm source item ${index}: options must be an object`);
    }
    yield { key: key as CacheKey, value, options: options as CacheSetOptions | undefined };
    index++;
  }
}

/** The door through which predictive warming loads and stores one key of a cache (see WarmTarget). */
export const WARM_KEY = Symbol('larder.warmKey');

/** What predictive warming writes to: a cache's name and its warm-load door. */
export interface WarmTarget {
  readonly name: string;
  /**
   * Loads `key` through `load` as a load of the cache that no caller joins, and stores the result with
   * `options` unless a write, delete, invalidation or clear reached the key meanwhile, or `until` or
   * close() aborted it (the signal `load` gets aborts then too). Resolves whether it stored the result;
   * false without calling `load` when the key is already being loaded. Rejects with `load`'s error.
   * `scope` is the snapshot entry's namespace (SnapshotEntry.scope): its tags are scoped to it again.
   */
  [WARM_KEY](
    key: CacheKey,
    load: (signal: AbortSignal) => unknown,
    options: CacheSetOptions,
    until: AbortSignal,
    scope: string | undefined,
  ): Promise<boolean>;
}

/** What predictive warming did for one cache (logged as `Cache WARM`). */
export interface SnapshotWarmReport {
  cache: string;
  /** Hot keys considered: the snapshot's `top` most valuable entries of this cache. */
  hottest: number;
  /** Of those, entries still fresh: restored as they were, no upstream call. */
  fresh: number;
  /** Stale hot keys fetched again through the loader and stored. */
  refetched: number;
  /** Loader calls (or stores) that failed; counted, never thrown. */
  failed: number;
  /**
   * Stale hot keys not stored: no loader, the deadline came first (late results are discarded), or a
   * write reached the key while it loaded (the write wins, as over a getOrSet load).
   */
  skipped: number;
  /** Whether warming stopped at its deadline. */
  timedOut: boolean;
  durationMs: number;
}

/**
 * Warms `target` from its part of the last snapshot: the fresh hot entries were already restored; the
 * stale ones are fetched through `warm.loader`, at most `warm.concurrency` at a time, hottest first,
 * and stored with their tags and original TTL and grace. Resolves (never rejects) by `warm.timeout`.
 */
export async function warmFromSnapshot(
  target: WarmTarget,
  plan: WarmPlan,
  warm: ResolvedWarm,
  log: LogSink,
): Promise<SnapshotWarmReport> {
  const started = performance.now();
  const queue = plan.stale;
  const controller = new AbortController();
  const { signal } = controller;
  let next = 0;
  let refetched = 0;
  let failed = 0;
  let firstError: unknown;
  const loader = warm.loader;
  const worker = async (): Promise<void> => {
    while (loader !== undefined && next < queue.length && !signal.aborted) {
      const entry = queue[next++]!;
      try {
        // Stored only if nothing reached the key while it loaded, and before the deadline.
        const stored = await target[WARM_KEY](
          entry.key,
          (loadSignal) => loader(entry.key, { cache: target.name, entry, signal: loadSignal }),
          refetchOptions(entry),
          signal,
          snapshotScope(entry),
        );
        if (stored) refetched++;
      } catch (error) {
        if (signal.aborted) return;
        failed++;
        firstError ??= error;
      }
    }
  };
  const workers = Array.from({ length: Math.min(warm.concurrency, queue.length) }, worker);
  const timedOut = (await raceTimeout(Promise.all(workers), warm.timeout)) === TIMED_OUT;
  controller.abort();
  const report: SnapshotWarmReport = {
    cache: target.name,
    hottest: plan.fresh.length + queue.length,
    fresh: plan.fresh.length,
    refetched,
    failed,
    skipped: queue.length - refetched - failed,
    timedOut,
    durationMs: since(started),
  };
  if (failed > 0 || timedOut) {
    if (log.warnOn)
      log.warn('Cache WARM incomplete', {
        ...report,
        ...(firstError === undefined ? {} : { error: errorMessage(firstError) }),
      });
  } else if (log.infoOn) {
    log.info('Cache WARM', { ...report });
  }
  return report;
}

// A refetched value lives as long as the stale one was given to live, with the same grace and tags;
// one that never went stale (refetched because it came from a clock ahead of ours) never expires either.
function refetchOptions(entry: SnapshotEntry): CacheSetOptions {
  const ttl = entry.staleAt === 0 ? 0 : Math.max(1, entry.staleAt - entry.createdAt);
  const grace = entry.expiresAt > entry.staleAt ? entry.expiresAt - entry.staleAt : 0;
  return { ttl, tags: entry.tags, ...(grace > 0 ? { grace } : {}) };
}
