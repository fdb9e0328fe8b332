// Runs one loader call for the facade: the loader context (ttl/tags overrides, skip, abort signal,
// attempt), retries with backoff on retryable failures only, and the hard timeout that bounds the whole
// call, retries included. Knows nothing of stores: the facade decides what to do with the outcome.
import { CacheError, CacheErrorType } from '../errors.js';
import type { CacheKey } from '../engine/types.js';
import { errorMessage, type LogSink } from '../observability/log-sink.js';
import { traceLoader } from '../observability/tracing.js';
import { parseDuration, type Duration } from '../util/duration.js';
import { copyCallerTags } from './tag-scope.js';
import { backoffDelay, isRetryableError, type ResolvedRetry } from './retry.js';
import type { Loader, LoaderContext, PreviousEntry, UpstreamValidators } from './types.js';
import type { EntryValidators } from '../util/stored-entry.js';
import { raceTimeout, sleep, TIMED_OUT } from '../util/time.js';

/**
 * One loader call: the context handed to the loader (the public LoaderContext), which after the call
 * also carries the value and the loader's overrides (ttl, tags, skip).
 */
export class LoaderCall<V> implements LoaderContext<V> {
  /** The key as the caller gave it. */
  readonly key: CacheKey;
  /** Aborted on hard timeout or cache close. */
  readonly signal: AbortSignal;
  /** The value held in grace, if any. */
  readonly stale: V | undefined;
  /** 0 for the first attempt, then 1, 2, … */
  attempt = 0;
  /** TTL set by the loader (ms), overriding the call's. */
  ttl: number | undefined = undefined;
  /** Tags set by the loader, overriding the call's. */
  tags: readonly string[] | undefined = undefined;
  /** True when the loader asked not to cache its result. */
  skipped = false;
  /** The loaded value (after success). */
  value: V | undefined = undefined;
  /** How long the successful attempt took, ms: the entry's reload cost in L1 (cost-aware eviction). */
  loadMs = 0;
  /** What the cache held before this load, with its validators. */
  readonly previous: PreviousEntry<V> | undefined;
  /** Validators set by the loader: undefined = not called (keep none, or the previous on notModified). */
  validators: EntryValidators | null | undefined = undefined;
  /** True when the loader answered ctx.notModified(). */
  unchanged = false;

  constructor(
    key: CacheKey,
    signal: AbortSignal,
    stale: V | undefined,
    previous: PreviousEntry<V> | undefined = undefined,
  ) {
    this.key = key;
    this.signal = signal;
    this.stale = stale;
    this.previous = previous;
  }

  /** Records the upstream's validators for the value this load returns (null: none). */
  setValidators(validators: UpstreamValidators): void {
    if (typeof validators !== 'object' || validators === null) {
      throw new TypeError('ctx.setValidators(validators) takes an object like { etag, lastModified }');
    }
    const { etag, lastModified } = validators;
    if (etag !== undefined && typeof etag !== 'string') {
      throw new TypeError('ctx.setValidators: etag must be a string');
    }
    if (lastModified !== undefined && typeof lastModified !== 'string') {
      throw new TypeError('ctx.setValidators: lastModified must be a string');
    }
    const kept: EntryValidators = {};
    if (etag !== undefined && etag !== '') kept.etag = etag;
    if (lastModified !== undefined && lastModified !== '') kept.lastModified = lastModified;
    this.validators = kept.etag === undefined && kept.lastModified === undefined ? null : kept;
  }

  /** The upstream said "not modified": answers the previous value, renewed by the cache. */
  notModified(): V {
    const previous = this.previous;
    if (previous === undefined) {
      throw new TypeError(
        `ctx.notModified() for key ${JSON.stringify(this.key)}: the cache holds no previous value (check ctx.previous first)`,
      );
    }
    this.unchanged = true;
    return previous.value;
  }

  /** Overrides the entry's TTL. */
  setTtl(ttl: Duration): void {
    this.ttl = parseDuration(ttl, 'ctx.setTtl(ttl)');
  }

  /** Overrides the entry's tags. */
  setTags(tags: readonly string[]): void {
    this.tags = copyCallerTags(tags, 'ctx.setTags(tags)');
  }

  /** Answers the value without caching it. */
  skip(): void {
    this.skipped = true;
  }
}

/** What one loader call needs to know besides the loader: its retry policy, hard timeout and hooks. */
export interface LoaderRunOptions {
  cache: string;
  /** The root cache's name, when `cache` is a namespace's (trace contexts carry it). */
  root?: string;
  retry: ResolvedRetry;
  /** Bound on the whole call in ms; 0 = none. */
  hardTimeout: number;
  /**
   * The performance.now() reading the hard timeout counts from, when the call began before the loader
   * could start (a wait for another instance's distributed lock): the loader gets what is left of it.
   * Undefined: it counts from runLoader.
   */
  startedAt?: number;
  log: LogSink;
  /** Called after every attempt with its duration and whether it succeeded (stats, metrics). */
  onAttempt: (durationMs: number, ok: boolean, key: CacheKey) => void;
  random: () => number;
  /** Whether the `larder:loader` trace context carries the key (the cache's `traceKeys` option). */
  traceKeys?: boolean;
  /**
   * Whether retry backoff keeps the process alive (default true: callers wait for the answer). A
   * background refresh-ahead, which nobody awaits and which must not hold a process open that is done,
   * passes a {@link BackoffHold} that does so only once a caller joins it.
   */
  keepAlive?: boolean | BackoffHold;
}

/** Why a backoff wait that did not hold the process was cut short: a caller joined (BackoffHold.hold). */
const HELD: unique symbol = Symbol('held');

/**
 * The retry backoff of a load nobody waits on yet (a background refresh-ahead): it does not keep the
 * process alive until {@link hold} is called, when a caller joins the load; from then on it does, the
 * wait already under way included, as for any load a caller waits on.
 */
export class BackoffHold {
  #held = false;
  /** Ends the current wait that does not hold the process, so it goes on as one that does. */
  #wake: (() => void) | undefined = undefined;

  /** A caller now waits on the load: its backoff keeps the process alive from now on. */
  hold(): void {
    if (this.#held) return;
    this.#held = true;
    this.#wake?.();
  }

  /** Waits `ms`, or rejects with the reason as soon as `signal` aborts; holds the process once held. */
  async wait(ms: number, signal: AbortSignal): Promise<void> {
    if (!this.#held) {
      if (signal.aborted) throw signal.reason;
      const started = performance.now();
      const quiet = new AbortController();
      const forward = (): void => quiet.abort(signal.reason);
      signal.addEventListener('abort', forward, { once: true });
      this.#wake = () => quiet.abort(HELD);
      try {
        await sleep(ms, quiet.signal, false);
        return;
      } catch (error) {
        if (error !== HELD) throw error;
        ms = Math.max(0, ms - (performance.now() - started));
      } finally {
        this.#wake = undefined;
        signal.removeEventListener('abort', forward);
      }
    }
    await sleep(ms, signal, true);
  }
}

/**
 * Calls the loader (retrying as the policy allows) under `controller`; resolves to the context holding
 * the value, or rejects with a CacheError: FETCH_FAILED, RETRY_EXHAUSTED or TIMEOUT (cause = original).
 * A call whose signal is already aborted (the cache closed, or its hard timeout passed while it waited
 * for a lock) rejects with the reason and never calls the loader.
 */
export function runLoader<V>(
  loader: Loader<V>,
  ctx: LoaderCall<V>,
  controller: AbortController,
  settings: LoaderRunOptions,
): Promise<LoaderCall<V>> {
  if (ctx.signal.aborted) return Promise.reject(abortError(ctx.signal, ctx.signal.reason));
  const hard = settings.hardTimeout;
  if (hard <= 0) return attempts(loader, ctx, settings);
  const left = settings.startedAt === undefined ? hard : hard - (performance.now() - settings.startedAt);
  if (left <= 0) {
    const error = hardTimeoutError(ctx.key, settings.cache, hard);
    controller.abort(error);
    return Promise.reject(error);
  }
  return withHardTimeout(attempts(loader, ctx, settings), ctx, controller, settings, left);
}

/** The CacheError TIMEOUT of a call of `key` that outlasted its hard timeout of `ms`; `where` ends the message. */
export function hardTimeoutError(key: CacheKey, cache: string, ms: number, where = ''): CacheError {
  return new CacheError(
    CacheErrorType.TIMEOUT,
    `loader for key ${JSON.stringify(key)} of cache "${cache}" exceeded its hard timeout of ${ms} ms${where}`,
  );
}

// A hung loader must not keep the process alive: raceTimeout's timer bounds callers, not the event loop.
async function withHardTimeout<V>(
  work: Promise<LoaderCall<V>>,
  ctx: LoaderCall<V>,
  controller: AbortController,
  settings: LoaderRunOptions,
  left: number,
): Promise<LoaderCall<V>> {
  const outcome = await raceTimeout(work, left);
  if (outcome !== TIMED_OUT) return outcome;
  const error = hardTimeoutError(ctx.key, settings.cache, settings.hardTimeout);
  controller.abort(error);
  throw error;
}

async function attempts<V>(
  loader: Loader<V>,
  ctx: LoaderCall<V>,
  s: LoaderRunOptions,
): Promise<LoaderCall<V>> {
  const policy = s.retry;
  for (let attempt = 0; ; attempt++) {
    ctx.attempt = attempt;
    // What an attempt said (validators, not modified, its ttl, tags or skip) is that attempt's alone:
    // a failed attempt's ctx.skip() or ctx.setTtl() must not decide how the retry's value is stored.
    ctx.unchanged = false;
    ctx.validators = undefined;
    ctx.ttl = undefined;
    ctx.tags = undefined;
    ctx.skipped = false;
    const started = performance.now();
    try {
      const value = await traceLoader(
        async () => loader(ctx),
        s.cache,
        s.traceKeys === true ? ctx.key : undefined,
        attempt,
        s.root,
      );
      ctx.loadMs = performance.now() - started;
      s.onAttempt(ctx.loadMs, true, ctx.key);
      ctx.value = value;
      return ctx;
    } catch (error) {
      s.onAttempt(performance.now() - started, false, ctx.key);
      // Given up from outside (hard timeout, close): report why, not the loader's reaction to the abort.
      if (ctx.signal.aborted) throw abortError(ctx.signal, error);
      const retryable = classify(policy, error, attempt);
      const what = `loader for key ${JSON.stringify(ctx.key)} of cache "${s.cache}"`;
      if (!retryable) {
        throw new CacheError(CacheErrorType.FETCH_FAILED, `${what} failed: ${errorMessage(error)}`, {
          cause: error,
          retryable: false,
        });
      }
      if (attempt >= policy.maxRetries) {
        if (policy.maxRetries === 0) {
          throw new CacheError(CacheErrorType.FETCH_FAILED, `${what} failed: ${errorMessage(error)}`, {
            cause: error,
          });
        }
        throw new CacheError(
          CacheErrorType.RETRY_EXHAUSTED,
          `${what} failed after ${attempt + 1} attempts: ${errorMessage(error)}`,
          { cause: error },
        );
      }
      const delay = backoffDelay(policy, attempt, s.random);
      if (s.log.infoOn) {
        s.log.info('Cache RETRY', {
          cache: s.cache,
          key: ctx.key,
          attempt: attempt + 1,
          maxRetries: policy.maxRetries,
          delayMs: delay,
          error: errorMessage(error),
        });
      }
      // The backoff keeps the process alive when callers are waiting for this load's answer.
      const keepAlive = s.keepAlive;
      if (typeof keepAlive === 'object') await keepAlive.wait(delay, ctx.signal);
      else await sleep(delay, ctx.signal, keepAlive !== false);
    }
  }
}

function classify(policy: ResolvedRetry, error: unknown, attempt: number): boolean {
  if (policy.retryOn === undefined) return isRetryableError(error);
  try {
    return policy.retryOn(error, attempt) === true;
  } catch {
    return false;
  }
}

function abortError(signal: AbortSignal, fallback: unknown): unknown {
  return signal.reason instanceof CacheError ? signal.reason : fallback;
}
