// The incremental expiry sweeper of MemoryCache: an unref'ed timer that, each tick, visits a bounded
// run of slots from a rotating cursor and removes the entries that have expired, so entries nobody
// reads again still leave. Expired entries met by reads are removed by the cache itself.
import { FIRST_SLOT } from './links.js';

/** Each tick visits at least this many slots (or all of them, if fewer)... */
const SWEEP_MIN_SLOTS = 1024;
/** ...and at least 1/SWEEP_FRACTION of them, so a full round of the slots takes at most 8 ticks. */
const SWEEP_FRACTION = 8;

/** What the sweeper needs from the cache it cleans. */
export interface SweepTarget {
  /** One past the highest slot in use; entries live in slots FIRST_SLOT..end-1. */
  end(): number;
  /** Removes the entry in `slot`, if there is one and it has expired. */
  expire(slot: number): void;
  /** Reports a tick that threw; the timer carries on. */
  failed(err: unknown): void;
}

/** Runs a sweep tick every `intervalMs` on an unref'ed timer until stopped or its cache is collected. */
export class Sweeper {
  /** The timer (exposed for the engine's test door). */
  readonly timer: ReturnType<typeof setInterval>;
  readonly #target: SweepTarget;
  #cursor = FIRST_SLOT;

  /** Starts the timer; the first tick runs after `intervalMs`. */
  constructor(target: SweepTarget, intervalMs: number) {
    this.#target = target;
    // The timer holds the sweeper only weakly: the cache owns the sweeper and the sweeper owns the
    // target (which points back at the cache), so a cache dropped without close() can be collected.
    const ref = new WeakRef<Sweeper>(this);
    const timer = setInterval(() => {
      const sweeper = ref.deref();
      if (sweeper === undefined) clearInterval(timer);
      else sweeper.sweep();
    }, intervalMs);
    timer.unref();
    this.timer = timer;
  }

  /** One tick: visits the next run of slots, wrapping around at the end. */
  sweep(): void {
    const target = this.#target;
    try {
      const end = target.end();
      const slots = end - FIRST_SLOT;
      let budget = Math.min(slots, Math.max(SWEEP_MIN_SLOTS, Math.ceil(slots / SWEEP_FRACTION)));
      let slot = this.#cursor;
      while (budget-- > 0) {
        if (slot >= end) slot = FIRST_SLOT;
        target.expire(slot);
        slot++;
      }
      this.#cursor = slot;
    } catch (err) {
      target.failed(err);
    }
  }

  /** Stops the timer for good. */
  stop(): void {
    clearInterval(this.timer);
  }
}
