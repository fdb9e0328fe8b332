// The one wrapper that holds the remote tier's error policy: a timeout per call, the circuit
// breaker, and outage logging (one error line when an outage starts, one info line when it ends,
// never one per request). Everything above it sees failures as CacheError TIER_UNAVAILABLE/TIMEOUT.
// While an outage lasts it probes the store on its own (a PING, backed off, one at a time, unref'd
// timer), so health recovers once the store answers even when nothing else calls it.
// Time source: the tier's `clock` (default `Date.now`, as everywhere in tiers/), handed on to the
// breaker, the deadlines and the guarded bus, so one injected clock moves the whole error policy.
import { CacheError } from '../errors.js';
import { errorMessage } from '../observability/log-sink.js';
import { CircuitBreaker } from './breaker.js';
import type { BreakerOptions, BreakerState } from './breaker.js';
import { Deadlines } from './deadlines.js';
import { setMaxKeeps, valueBytes } from './driver.js';
import type { DriverValue, SetIfNewerResult, TierDriver } from './driver.js';
import { PROBE_KEY } from './keys.js';
import type { TierLogWriter } from './tier-log.js';

/** Options of {@link GuardedDriver}. */
export interface GuardOptions {
  /** Per-call timeout for single-key commands, ms. */
  timeoutMs: number;
  /** Timeout for SCAN-based bulk deletes, ms (they walk the whole keyspace). */
  bulkTimeoutMs: number;
  breaker?: BreakerOptions;
  log: TierLogWriter;
  /** Tier name for log lines. */
  name: string;
  /** Called when the tier comes back after an outage (used to replay missed invalidations). */
  onRecover?: () => void;
  /**
   * Called when the store shows it answers again while calls are failing (a timed-out call got its
   * reply late, or the connection came back): the breaker then lets a probe through at once, and the
   * tier should replay now rather than when the breaker would next have probed.
   */
  onReachable?: () => void;
  /** Time source, ms (default `Date.now`); also drives the breaker and the call deadlines. */
  clock?: () => number;
}

function noop(): void {}

/** First recovery probe after a failure, ms; each failed or refused probe doubles the wait. */
const PROBE_FIRST_MS = 100;
/** The longest wait between probes is the breaker's resetAfter, and at least this, ms. */
const PROBE_MAX_MIN_MS = 1000;

const stored = (): SetIfNewerResult => 'stored';

/** Runs `promise` with a deadline; the timer never keeps the process alive. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  if (ms <= 0 || !Number.isFinite(ms)) return promise;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CacheError('TIMEOUT', `${what} took longer than ${ms}ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/**
 * Calls `check` every `everyMs` (an unref'd interval, one call out at a time) and `onFailure` when a
 * call rejects or takes longer than `timeoutMs`; returns what stops it. The buses watch their listening
 * connection with it: one lost without a word (a NAT or firewall forgetting the flow, a partition) is
 * noticed by nothing else, and the instance would stay deaf to invalidations.
 */
export function heartbeat(
  check: () => Promise<unknown>,
  everyMs: number,
  timeoutMs: number,
  what: string,
  onFailure: (error: unknown) => void,
): () => void {
  let out = false;
  const timer = setInterval(() => {
    if (out) return;
    out = true;
    withTimeout(check(), timeoutMs, what).then(
      () => (out = false),
      (error: unknown) => {
        out = false;
        onFailure(error);
      },
    );
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** A {@link TierDriver} with timeouts, a circuit breaker and outage logging around another driver. */
export class GuardedDriver implements TierDriver {
  /** @inheritdoc */
  readonly name: string;
  /** The breaker (read by health reports). */
  readonly breaker: CircuitBreaker;
  /** The time source of this driver, its breaker and its deadlines (the guarded bus reads it too). */
  readonly clock: () => number;
  readonly #inner: TierDriver;
  readonly #options: GuardOptions;
  readonly #deadlines: Deadlines;
  readonly #bulkDeadlines: Deadlines;
  readonly #labels = new Map<string, string>();
  #outageSince = 0;
  #lastError = '';
  #disconnected = false;
  #probeTimer: NodeJS.Timeout | undefined;
  #probeOut = false;
  #probeDelayMs = PROBE_FIRST_MS;

  constructor(inner: TierDriver, options: GuardOptions) {
    this.#inner = inner;
    this.#options = options;
    this.name = inner.name;
    const clock = options.clock ?? Date.now;
    this.clock = clock;
    this.#deadlines = new Deadlines(options.timeoutMs, clock);
    this.#bulkDeadlines = new Deadlines(options.bulkTimeoutMs, clock);
    this.breaker = new CircuitBreaker(
      options.breaker,
      (state, previous) => this.#onBreaker(state, previous),
      clock,
    );
  }

  /** The driver underneath. */
  get inner(): TierDriver {
    return this.#inner;
  }

  /** Whether an outage is in progress (a call failed and none has succeeded since). */
  get failing(): boolean {
    return this.#outageSince !== 0;
  }

  /** The message of the last failure, for health reports. */
  get lastError(): string {
    return this.#lastError;
  }

  get(key: string): Promise<DriverValue | undefined> {
    return this.#call('get', () => this.#inner.get(key));
  }

  getMany(keys: readonly string[]): Promise<Array<DriverValue | undefined>> {
    return this.#call('getMany', () => this.#inner.getMany(keys));
  }

  set(key: string, value: DriverValue, ttlMs?: number): Promise<void> {
    return this.#call('set', () => this.#inner.set(key, value, ttlMs));
  }

  add(key: string, value: DriverValue, ttlMs: number): Promise<boolean> {
    return this.#call('add', () => this.#inner.add(key, value, ttlMs));
  }

  delete(key: string): Promise<boolean> {
    return this.#call('delete', () => this.#inner.delete(key));
  }

  deleteMany(keys: readonly string[]): Promise<number> {
    return this.#call('deleteMany', () => this.#inner.deleteMany(keys));
  }

  deleteIfEquals(key: string, value: DriverValue): Promise<boolean> {
    return this.#call('deleteIfEquals', async () => {
      if (this.#inner.deleteIfEquals) return this.#inner.deleteIfEquals(key, value);
      // Not atomic without store support; good enough for lock release, whose TTL bounds any mistake.
      const held = await this.#inner.get(key);
      return held !== undefined && valueBytes(held).equals(valueBytes(value))
        ? this.#inner.delete(key)
        : false;
    });
  }

  /** Whether the store compares stamps itself (setIfNewer); without it, writes are plain sets. */
  get versioned(): boolean {
    return typeof this.#inner.setIfNewer === 'function';
  }

  setIfNewer(key: string, value: DriverValue, ttlMs: number, always = false): Promise<SetIfNewerResult> {
    return this.#call('setIfNewer', () => {
      if (this.#inner.setIfNewer) return this.#inner.setIfNewer(key, value, ttlMs, always);
      // The documented degradation: last write wins in arrival order, as before versioning.
      return this.#inner.set(key, value, ttlMs).then(stored);
    });
  }

  setAtLeast(key: string, value: DriverValue, ttlMs: number, keepValue = false): Promise<void> {
    return this.#call('setAtLeast', async () => {
      if (this.#inner.setAtLeast) return this.#inner.setAtLeast(key, value, ttlMs, keepValue);
      // Without store support the key is kept forever (so it can never lapse too early) and, being
      // forever already, needs no extending.
      if (!keepValue) await this.#inner.set(key, value);
    });
  }

  setMax(key: string, value: DriverValue, ttlMs: number): Promise<void> {
    return this.#call('setMax', async () => {
      if (this.#inner.setMax) return this.#inner.setMax(key, value, ttlMs);
      // Best effort without store support: a larger number held stays unless another writer gets in
      // between the read and the write (then the last write wins, as a plain setAtLeast would).
      const held = await this.#inner.get(key);
      const keep = held !== undefined && setMaxKeeps(held, value);
      if (this.#inner.setAtLeast) return this.#inner.setAtLeast(key, value, ttlMs, keep);
      if (!keep) await this.#inner.set(key, value); // forever, as setAtLeast's fallback keeps it
    });
  }

  clear(namespace?: string): Promise<number> {
    return this.#call('clear', () => this.#inner.clear(namespace), this.#bulkDeadlines);
  }

  deletePattern(pattern: string): Promise<number> {
    return this.#call('deletePattern', () => this.#inner.deletePattern(pattern), this.#bulkDeadlines);
  }

  whenReady(): Promise<void> | undefined {
    return this.#inner.whenReady?.();
  }

  /**
   * The store is reachable again (a late reply, or the connection's own `ready`): while calls are
   * failing, let the next one probe at once and tell the tier. Cheap and idempotent.
   */
  nudge(): void {
    if (this.#outageSince === 0 && this.breaker.state === 'closed') return;
    this.breaker.allowProbe();
    this.#options.onReachable?.();
    // The recovery probe goes now rather than at its backed-off time (its backoff is kept); with the
    // circuit open, the next call is its half-open probe and the recovery probe keeps its time.
    if (this.#probeTimer !== undefined && this.breaker.state === 'closed') {
      clearTimeout(this.#probeTimer);
      this.#probeTimer = undefined;
      this.#scheduleProbe(0);
    }
  }

  /** Whether a recovery probe is waiting for its timer or out (for tests). */
  get probing(): boolean {
    return this.#probeTimer !== undefined || this.#probeOut;
  }

  /**
   * The transport reports that it cannot reach the store (refused, unknown host, bad password): the
   * outage starts now, with that cause in health and in its one log line, even before any call fails.
   */
  reportUnreachable(cause: string): void {
    if (this.#disconnected) return;
    this.#failed('connect', new Error(cause));
  }

  disconnect(): Promise<void> {
    this.#disconnected = true;
    this.#stopProbe();
    this.#deadlines.stop();
    this.#bulkDeadlines.stop();
    return this.#inner.disconnect();
  }

  #call<T>(what: string, run: () => Promise<T>, deadlines = this.#deadlines, probe = false): Promise<T> {
    if (!this.breaker.tryPass()) {
      return Promise.reject(
        new CacheError('TIER_UNAVAILABLE', `${this.name} tier circuit is open: ${this.#lastError}`),
      );
    }
    // Not async on the fast path (connected): every L2 command passes here.
    let call: Promise<T>;
    try {
      // The wait for a first connection is not part of the call's own timeout (see ConnectionGate).
      const wait = this.#inner.whenReady?.();
      if (wait !== undefined) return this.#callOnceReady(wait, what, run, deadlines, probe);
      call = run();
    } catch (error) {
      return Promise.reject(this.#failure(what, error, undefined, probe));
    }
    return deadlines.run(call, this.#label(what)).then(this.#passed<T>, (error: unknown) => {
      throw this.#failure(what, error, call, probe);
    });
  }

  /** {@link #call} while the store is still connecting: the wait comes first, outside the timeout. */
  async #callOnceReady<T>(
    wait: Promise<void>,
    what: string,
    run: () => Promise<T>,
    deadlines: Deadlines,
    probe: boolean,
  ): Promise<T> {
    let call: Promise<T> | undefined;
    try {
      await wait;
      call = run();
      return this.#passed(await deadlines.run(call, this.#label(what)));
    } catch (error) {
      throw this.#failure(what, error, call, probe);
    }
  }

  /** A call answered: the breaker and the outage bookkeeping hear of it. */
  readonly #passed = <T>(result: T): T => {
    this.breaker.success();
    if (this.#outageSince !== 0) this.#recovered();
    return result;
  };

  /**
   * A call failed (or timed out): counts it and returns the CacheError its caller gets. A recovery
   * probe's failure counts only as the breaker's half-open probe: while the circuit is closed, probes
   * never add to the failures that open it (without traffic it would otherwise open on probes alone).
   */
  #failure(what: string, error: unknown, call: Promise<unknown> | undefined, probe = false): CacheError {
    // A hung store (SIGSTOP, a long fork) answers timed-out calls once it resumes: that reply is the
    // earliest sign it is back, well before the open breaker would probe again.
    if (call !== undefined && error instanceof CacheError && error.type === 'TIMEOUT') {
      call.then(this.#lateReply, noop);
    }
    // The store answered, refusing this call's arguments: it is reachable, so no outage starts.
    if (!(error instanceof CacheError) && this.#inner.refusesInput?.(error) === true) {
      this.#passed(undefined);
      return new CacheError('TIER_UNAVAILABLE', `${this.name} refused ${what}: ${errorMessage(error)}`, {
        cause: error,
      });
    }
    if (!probe || this.breaker.state !== 'closed') this.breaker.failure();
    this.#failed(what, error);
    return error instanceof CacheError
      ? error
      : new CacheError('TIER_UNAVAILABLE', `${this.name} ${what} failed: ${errorMessage(error)}`, {
          cause: error,
        });
  }

  readonly #lateReply = (): void => this.nudge();

  /** `<name> <what>`, as timeouts name a call: built once per kind of call, not on every call. */
  #label(what: string): string {
    let label = this.#labels.get(what);
    if (label === undefined) this.#labels.set(what, (label = `${this.name} ${what}`));
    return label;
  }

  #failed(what: string, error: unknown): void {
    this.#lastError = errorMessage(error);
    if (this.#outageSince !== 0) return;
    this.#outageSince = this.clock();
    this.#scheduleProbe(this.#probeDelayMs);
    this.#options.log.error(`L2 ${this.name} unavailable; answering from L1 and loaders until it recovers`, {
      tier: this.#options.name,
      operation: what,
      error: this.#lastError,
    });
  }

  #recovered(): void {
    const downMs = this.clock() - this.#outageSince;
    this.#outageSince = 0;
    this.#stopProbe();
    this.#probeDelayMs = PROBE_FIRST_MS;
    this.#options.log.info(`L2 ${this.name} recovered`, { tier: this.#options.name, downMs });
    this.#options.onRecover?.();
  }

  /**
   * Arms the recovery probe in `delayMs`, while an outage lasts and none is waiting or out: health is
   * set by calls, and with no traffic no call would ever see the store answer again.
   */
  #scheduleProbe(delayMs: number): void {
    if (this.#disconnected || this.#outageSince === 0) return;
    if (this.#probeTimer !== undefined || this.#probeOut) return;
    this.#probeTimer = setTimeout(this.#probe, delayMs);
    this.#probeTimer.unref();
  }

  /**
   * One recovery probe through the guard (the call timeout; while the circuit is open, only as its
   * half-open probe, else it is skipped). Its success ends the outage as any call's would; a failure or
   * a skip doubles the wait before the next one, up to the breaker's resetAfter (at least 1 s).
   */
  readonly #probe = (): void => {
    this.#probeTimer = undefined;
    if (this.#disconnected || this.#outageSince === 0) return;
    this.#probeOut = true;
    const inner = this.#inner;
    const run = (): Promise<unknown> => (inner.ping ? inner.ping() : inner.get(PROBE_KEY));
    this.#call('ping', run, this.#deadlines, true).then(
      () => {
        this.#probeOut = false;
      },
      () => {
        this.#probeOut = false;
        const max = Math.max(PROBE_MAX_MIN_MS, this.breaker.resetAfterMs);
        this.#probeDelayMs = Math.min(this.#probeDelayMs * 2, max);
        this.#scheduleProbe(this.#probeDelayMs);
      },
    );
  };

  #stopProbe(): void {
    if (this.#probeTimer !== undefined) clearTimeout(this.#probeTimer);
    this.#probeTimer = undefined;
  }

  #onBreaker(state: BreakerState, previous: BreakerState): void {
    if (state === 'open' && previous === 'closed') {
      this.#options.log.warn(`L2 ${this.name} circuit opened`, {
        tier: this.#options.name,
        failures: this.breaker.failures,
        resetAfterMs: this.breaker.resetAfterMs,
      });
    }
  }
}
