// A circuit breaker for the remote tier. Closed: calls pass. After `threshold` consecutive failures
// it opens: calls fail at once, so a dead Redis costs nothing per request. After `resetAfter` it is
// half-open: exactly one probe call passes; its success closes the circuit, its failure re-opens it.
// Time source: the clock it is given (GuardedDriver passes the tier's), by default `Date.now` like the
// rest of tiers/.
import { parseDuration } from '../util/duration.js';
import type { Duration } from '../util/duration.js';
import { assertKnownOptions, optionNames } from '../util/validate.js';

/** Options of {@link CircuitBreaker}. */
export interface BreakerOptions {
  /** Consecutive failures that open the circuit (default 5). */
  threshold?: number;
  /** How long the circuit stays open before one probe is let through (default `'5s'`). */
  resetAfter?: Duration;
}

const BREAKER_OPTIONS = optionNames<BreakerOptions>({ threshold: true, resetAfter: true });

/** The three breaker states. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** Counts failures and decides whether a call may go to the remote tier. */
export class CircuitBreaker {
  /** Consecutive failures that open the circuit. */
  readonly threshold: number;
  /** Milliseconds the circuit stays open before a probe. */
  readonly resetAfterMs: number;
  readonly #clock: () => number;
  readonly #onChange: (state: BreakerState, previous: BreakerState) => void;
  #state: BreakerState = 'closed';
  #failures = 0;
  #openedAt = 0;
  #probing = false;

  constructor(
    options: BreakerOptions = {},
    onChange: (state: BreakerState, previous: BreakerState) => void = () => {},
    clock: () => number = Date.now,
  ) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError('breaker must be an object like { threshold, resetAfter }');
    }
    assertKnownOptions(options, BREAKER_OPTIONS, 'breaker');
    const threshold = options.threshold ?? 5;
    if (!Number.isInteger(threshold) || threshold <= 0) {
      throw new RangeError(`breaker.threshold must be a positive integer, got ${String(options.threshold)}`);
    }
    this.threshold = threshold;
    this.resetAfterMs = parseDuration(options.resetAfter ?? '5s', 'breaker.resetAfter');
    this.#onChange = onChange;
    this.#clock = clock;
  }

  /** The current state (an open circuit past its reset time reads as half-open). */
  get state(): BreakerState {
    if (this.#state === 'open' && this.#clock() - this.#openedAt >= this.resetAfterMs) return 'half-open';
    return this.#state;
  }

  /** Consecutive failures so far. */
  get failures(): number {
    return this.#failures;
  }

  /** True when a call may proceed now; in half-open state only the first caller gets through. */
  tryPass(): boolean {
    if (this.#state === 'closed') return true;
    if (this.#probing) return false;
    if (this.#state === 'open' && this.#clock() - this.#openedAt < this.resetAfterMs) return false;
    this.#probing = true;
    this.#set('half-open');
    return true;
  }

  /**
   * Lets the next call probe now instead of waiting out `resetAfter` (the store showed it answers again,
   * e.g. a call that had timed out got its reply late). No effect unless the circuit is open.
   */
  allowProbe(): void {
    if (this.#state === 'open') this.#openedAt = this.#clock() - this.resetAfterMs;
  }

  /** Records a successful call. */
  success(): void {
    this.#failures = 0;
    this.#probing = false;
    if (this.#state !== 'closed') this.#set('closed');
  }

  /** Records a failed call. */
  failure(): void {
    this.#failures++;
    const wasProbe = this.#probing;
    this.#probing = false;
    if (wasProbe || (this.#state === 'closed' && this.#failures >= this.threshold)) {
      this.#openedAt = this.#clock();
      this.#set('open');
    }
  }

  #set(state: BreakerState): void {
    const previous = this.#state;
    if (previous === state) return;
    this.#state = state;
    this.#onChange(state, previous);
  }
}
