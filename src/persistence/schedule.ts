// The `persist` option: validated once, then a schedule that takes periodic snapshots on an unref'ed
// timer, one more when the cache or manager closes, and never two at a time. A failed periodic
// snapshot is logged and retried at the next tick; it never reaches the caller or crashes the process.
import { parseDuration } from '../util/duration.js';
import { MAX_TIMER_MS } from '../util/time.js';
import { assertSerializer, type Serializer } from '../codec/serializer.js';
import { errorMessage, type LogSink } from '../observability/log-sink.js';
import { assertFunction, assertKnownOptions, assertPositiveInteger, optionNames } from '../util/validate.js';
import type { PersistOptions, SnapshotFs, SnapshotWarmOptions } from './types.js';

/** The `persist` option after validation. */
export interface ResolvedPersist {
  path: string;
  /** ms between snapshots; 0 = none. */
  interval: number;
  onShutdown: boolean;
  restore: boolean;
  serializer: Serializer | undefined;
  /** Test door: file operations to use instead of node:fs. */
  fs: SnapshotFs | undefined;
  /** Predictive warming at start; undefined when off. */
  warm: ResolvedWarm | undefined;
}

/** The `persist.warm` option after validation. */
export interface ResolvedWarm {
  top: number;
  loader: SnapshotWarmOptions['loader'];
  concurrency: number;
  /** ms. */
  timeout: number;
}

/** Loader calls a warm-up keeps in flight by default. */
export const DEFAULT_WARM_CONCURRENCY = 4;
/** How long warming may run by default, ms. */
export const DEFAULT_WARM_TIMEOUT = 5_000;

// `fs` is not public: the tests' seam for a file system that fails on cue.
const PERSIST_OPTIONS = optionNames<PersistOptions & { fs?: SnapshotFs }>({
  path: true,
  interval: true,
  onShutdown: true,
  restore: true,
  serializer: true,
  warm: true,
  fs: true,
});
const WARM_OPTIONS = optionNames<SnapshotWarmOptions>({
  top: true,
  loader: true,
  concurrency: true,
  timeout: true,
});

/** Validates the `persist` option; a TypeError/RangeError names the bad field. Undefined when absent. */
export function resolvePersist(option: unknown): ResolvedPersist | undefined {
  if (option === undefined) return undefined;
  if (typeof option !== 'object' || option === null) {
    throw new TypeError('persist must be an object like { path, interval, onShutdown }');
  }
  assertKnownOptions(option, PERSIST_OPTIONS, 'persist');
  const o = option as PersistOptions & { fs?: SnapshotFs };
  if (typeof o.path !== 'string' || o.path === '')
    throw new TypeError('persist.path must be a non-empty string');
  for (const flag of ['onShutdown', 'restore'] as const) {
    if (o[flag] !== undefined && typeof o[flag] !== 'boolean') {
      throw new TypeError(`persist.${flag} must be a boolean, got ${typeof o[flag]}`);
    }
  }
  if (o.serializer !== undefined) assertSerializer(o.serializer, 'persist.serializer');
  // Warming ranks the keys of the snapshot it restores: without a restore there is nothing to rank.
  if (o.warm !== undefined && o.restore === false)
    throw new TypeError('persist.warm needs persist.restore: drop restore: false or the warm option');
  return {
    path: o.path,
    interval: o.interval === undefined ? 0 : parseDuration(o.interval, 'persist.interval'),
    onShutdown: o.onShutdown ?? true,
    restore: o.restore ?? true,
    serializer: o.serializer,
    fs: o.fs,
    warm: resolveWarm(o.warm),
  };
}

/** Validates `persist.warm`; a TypeError/RangeError names the bad field. Undefined when absent. */
export function resolveWarm(option: unknown): ResolvedWarm | undefined {
  if (option === undefined) return undefined;
  if (typeof option !== 'object' || option === null) {
    throw new TypeError('persist.warm must be an object like { top, loader }');
  }
  assertKnownOptions(option, WARM_OPTIONS, 'persist.warm');
  const o = option as SnapshotWarmOptions;
  if (o.loader !== undefined) assertFunction(o.loader, 'persist.warm.loader');
  return {
    top: assertPositiveInteger(o.top, 'persist.warm.top'),
    loader: o.loader,
    concurrency:
      o.concurrency === undefined
        ? DEFAULT_WARM_CONCURRENCY
        : assertPositiveInteger(o.concurrency, 'persist.warm.concurrency'),
    timeout:
      o.timeout === undefined ? DEFAULT_WARM_TIMEOUT : parseDuration(o.timeout, 'persist.warm.timeout'),
  };
}

/** Periodic and final snapshots of one cache or manager. */
export class SnapshotSchedule {
  readonly #save: () => Promise<unknown>;
  readonly #freeze: () => () => Promise<unknown>;
  readonly #options: ResolvedPersist;
  readonly #log: () => LogSink;
  #timer: ReturnType<typeof setInterval> | undefined;
  #running: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;

  /**
   * @param save takes one snapshot (rejects on failure).
   * @param options the resolved `persist` option.
   * @param log the current log sink (read at each use: configure() may replace it).
   * @param freeze dumps the caches now and answers a save that writes that dump: the shutdown snapshot's,
   *   so it holds what the caches held when stop() was called even when they are closed (emptied) before
   *   its turn to be written comes. Default: `save` itself, which dumps when it runs.
   */
  constructor(
    save: () => Promise<unknown>,
    options: ResolvedPersist,
    log: () => LogSink,
    freeze: () => () => Promise<unknown> = () => save,
  ) {
    this.#save = save;
    this.#freeze = freeze;
    this.#options = options;
    this.#log = log;
    if (options.interval > 0) this.#start(options.interval);
  }

  /** Whether the periodic timer is armed (for tests and health). */
  get active(): boolean {
    return this.#timer !== undefined;
  }

  /** Takes a snapshot now unless one is already being written (then waits for that one). */
  snapshotNow(): Promise<void> {
    return this.#run(this.#save);
  }

  // Runs `save` unless a snapshot is being written (then answers that one), logging its failure.
  #run(save: () => Promise<unknown>): Promise<void> {
    if (this.#running !== undefined) return this.#running;
    let saving: Promise<unknown>;
    try {
      saving = save();
    } catch (error) {
      // Thrown, not rejected: still one logged failure, never an exception out of the timer.
      saving = Promise.reject(error);
    }
    const run = saving.then(
      () => undefined,
      (error: unknown) => {
        const log = this.#log();
        if (log.errorOn)
          log.error('Cache SNAPSHOT failed', { path: this.#options.path, error: errorMessage(error) });
      },
    );
    this.#running = run.finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /**
   * Stops the timer; takes the final snapshot when `onShutdown` is set, of what the caches hold now (see
   * `freeze`): its owner may close them as soon as this returns. Idempotent: every call resolves once
   * that snapshot is written (or has failed, logged), so a second close() never outruns the first's.
   */
  stop(): Promise<void> {
    return (this.#stopping ??= this.#stop());
  }

  async #stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    const final = this.#options.onShutdown ? this.#freeze() : undefined;
    if (this.#running !== undefined) await this.#running;
    if (final !== undefined) await this.#run(final);
  }

  // The timer holds the schedule only weakly, so an owner dropped without close() can be collected. An
  // interval longer than a timer waits (MAX_TIMER_MS; Node fires a longer one after 1 ms) is counted in
  // equal ticks that fit, the snapshot taken at the last.
  #start(interval: number): void {
    const ticks = Math.ceil(interval / MAX_TIMER_MS);
    let tick = 0;
    const ref = new WeakRef<SnapshotSchedule>(this);
    const timer = setInterval(
      () => {
        const schedule = ref.deref();
        if (schedule === undefined) clearInterval(timer);
        else if (++tick === ticks) {
          tick = 0;
          void schedule.snapshotNow();
        }
      },
      Math.ceil(interval / ticks),
    );
    timer.unref();
    this.#timer = timer;
  }
}
