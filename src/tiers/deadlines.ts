// Timeouts for many short calls without one timer per call: every call with the same timeout gets a
// deadline in a FIFO queue (deadlines arrive in order), and one unref'd interval, running only while
// calls are pending, fails the overdue ones. A call may time out up to a quarter of the timeout (at
// most 25 ms) late, which is the price of not arming and clearing a timer on every Redis command.
// Time source: the `now` it is given (the tier passes its clock), by default `Date.now` like the rest
// of tiers/; so a test's manual clock decides when a call is overdue, and the interval only looks.
import { CacheError } from '../errors.js';

interface Deadline {
  at: number;
  settled: boolean;
  reject: (error: unknown) => void;
  what: string;
}

/** Runs promises against one fixed timeout; overdue ones reject with CacheError TIMEOUT. */
export class Deadlines {
  /** The timeout, ms. */
  readonly timeoutMs: number;
  readonly #tickMs: number;
  readonly #now: () => number;
  #queue: Deadline[] = [];
  #head = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number, now: () => number = Date.now) {
    this.timeoutMs = timeoutMs;
    this.#now = now;
    this.#tickMs = Math.max(1, Math.min(timeoutMs / 4, 25));
  }

  /** Number of calls being watched (for tests). */
  get pending(): number {
    return this.#queue.length - this.#head;
  }

  /** `promise`, or a TIMEOUT rejection naming `what` if it has not settled in time. 0 or Infinity: no timeout. */
  run<T>(promise: Promise<T>, what: string): Promise<T> {
    if (this.timeoutMs <= 0 || !Number.isFinite(this.timeoutMs)) return promise;
    return new Promise<T>((resolve, reject) => {
      const deadline: Deadline = { at: this.#now() + this.timeoutMs, settled: false, reject, what };
      this.#queue.push(deadline);
      if (this.#timer === undefined) {
        this.#timer = setInterval(this.#sweep, this.#tickMs);
        this.#timer.unref();
      }
      promise.then(
        (value) => {
          if (deadline.settled) return;
          deadline.settled = true;
          resolve(value);
        },
        (error: unknown) => {
          if (deadline.settled) return;
          deadline.settled = true;
          reject(error);
        },
      );
    });
  }

  /** Stops the interval; pending calls are left to settle on their own. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#queue = [];
    this.#head = 0;
  }

  readonly #sweep = (): void => {
    const now = this.#now();
    const queue = this.#queue;
    while (this.#head < queue.length) {
      const deadline = queue[this.#head]!;
      if (!deadline.settled) {
        if (deadline.at > now) break;
        deadline.settled = true;
        deadline.reject(new CacheError('TIMEOUT', `${deadline.what} took longer than ${this.timeoutMs}ms`));
      }
      this.#head++;
    }
    if (this.#head === queue.length) {
      this.stop();
    } else if (this.#head > 1024 && this.#head * 2 > queue.length) {
      // Drop the swept prefix now and then, so the queue's memory follows the calls in flight.
      this.#queue = queue.slice(this.#head);
      this.#head = 0;
    }
  };
}
