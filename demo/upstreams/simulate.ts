// What every fake upstream shares: simulated latency, a token-bucket rate limit, injected
// connection failures and a call counter. One place decides how "slow" and "flaky" look, so the
// demo's upstreams differ only in their data.

/** How the fake upstreams behave: tests turn latency off and pin the random source. */
export interface SimulationOptions {
  /** Multiplies every simulated latency; 0 answers at once (tests), 1 is the realistic default. */
  latencyScale?: number;
  /** Source of randomness in [0, 1); a seeded one makes failures and latencies reproducible. */
  random?: () => number;
  /** Time source in ms for the rate limiters. */
  clock?: () => number;
}

/** Resolved simulation settings handed to each upstream. */
export interface Simulation {
  readonly latencyScale: number;
  readonly random: () => number;
  readonly clock: () => number;
}

/** Fills in defaults and validates `latencyScale`. */
export function createSimulation(options: SimulationOptions = {}): Simulation {
  const latencyScale = options.latencyScale ?? 1;
  if (!Number.isFinite(latencyScale) || latencyScale < 0) {
    throw new RangeError(`latencyScale must be a finite number >= 0, got ${latencyScale}`);
  }
  return {
    latencyScale,
    random: options.random ?? Math.random,
    clock: options.clock ?? Date.now,
  };
}

/** A small seeded PRNG (mulberry32), so a demo run or a test can be replayed exactly. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Waits a random time in [minMs, maxMs] scaled by the simulation; resolves at once at scale 0. */
export function simulateLatency(sim: Simulation, minMs: number, maxMs: number): Promise<void> {
  const ms = (minMs + sim.random() * (maxMs - minMs)) * sim.latencyScale;
  if (ms <= 0) return Promise.resolve();
  // The timer belongs to one in-flight call and ends with it, so it may keep the process alive.
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** An error as a real network client or HTTP API would raise it: a Node-style `code`, an HTTP `status`. */
export class UpstreamError extends Error {
  /** Node-style error code such as `ECONNREFUSED`, when the failure is a connection failure. */
  readonly code: string | undefined;
  /** HTTP status such as 429 or 503, when the upstream answered with an error. */
  readonly status: number | undefined;

  constructor(message: string, options: { code?: string; status?: number } = {}) {
    super(message);
    this.name = 'UpstreamError';
    this.code = options.code;
    this.status = options.status;
  }
}

/** A connection failure shaped like Node's own (`connect ECONNREFUSED host:port`, code `ECONNREFUSED`). */
export function connectionRefused(upstream: string): UpstreamError {
  return new UpstreamError(`connect ECONNREFUSED ${upstream}`, { code: 'ECONNREFUSED' });
}

/**
 * A token bucket: `capacity` calls at once, refilled at `perSecond`. Refill is computed from the
 * clock on each call, so the limiter owns no timer.
 */
export class RateLimiter {
  readonly #capacity: number;
  readonly #perSecond: number;
  readonly #clock: () => number;
  #tokens: number;
  #updatedAt: number;
  /** Calls refused so far (the rate-limit consumption caching is meant to save). */
  rejected = 0;

  constructor(capacity: number, perSecond: number, clock: () => number) {
    if (!Number.isInteger(capacity) || capacity <= 0) {
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    }
    if (!(perSecond > 0)) throw new RangeError(`perSecond must be > 0, got ${perSecond}`);
    this.#capacity = capacity;
    this.#perSecond = perSecond;
    this.#clock = clock;
    this.#tokens = capacity;
    this.#updatedAt = clock();
  }

  /** Takes one token, or throws a 429 `UpstreamError` naming the upstream when none is left. */
  take(upstream: string): void {
    const now = this.#clock();
    const refill = ((now - this.#updatedAt) / 1000) * this.#perSecond;
    this.#tokens = Math.min(this.#capacity, this.#tokens + refill);
    this.#updatedAt = now;
    if (this.#tokens < 1) {
      this.rejected++;
      throw new UpstreamError(`${upstream}: rate limit exceeded (429 Too Many Requests)`, { status: 429 });
    }
    this.#tokens -= 1;
  }
}

/** Counts calls per operation, so tests and the load report can show what the caches saved. */
export class CallCounter {
  readonly #counts = new Map<string, number>();

  /** Records one call of `operation`. */
  count(operation: string): void {
    this.#counts.set(operation, (this.#counts.get(operation) ?? 0) + 1);
  }

  /** Calls of `operation` so far (0 when never called). */
  get(operation: string): number {
    return this.#counts.get(operation) ?? 0;
  }

  /** Every operation's count, for reports. */
  toJSON(): Record<string, number> {
    return Object.fromEntries(this.#counts);
  }
}
