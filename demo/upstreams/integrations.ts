// A flaky third-party integrations API (seed 002): per-user integration status that takes
// 50-200 ms and fails part of the time with a Node-style ECONNREFUSED, or always during an outage.
// The integration cache's retries, backoff and fallback are exercised against it.
import { CallCounter, connectionRefused, simulateLatency, type Simulation } from './simulate.js';

/** One connected integration of a user, as the seed's `Integration[]` holds them. */
export interface Integration {
  id: string;
  provider: string;
  status: 'connected' | 'expired' | 'error';
  lastSyncAt: string;
}

const PROVIDERS = ['instagram', 'slack', 'github', 'google-drive', 'notion'] as const;

/** The simulated integrations service. */
export class IntegrationsUpstream {
  readonly #sim: Simulation;
  #failureRate: number;
  #outage = false;
  /** Attempts made (`integrations.fetch`) and failures injected (`integrations.failed`). */
  readonly calls = new CallCounter();

  /** `failureRate`: fraction of calls that fail with ECONNREFUSED (default 0.2). */
  constructor(sim: Simulation, failureRate = 0.2) {
    this.#sim = sim;
    this.#failureRate = checkRate(failureRate);
  }

  /** Changes the fraction of calls that fail. */
  setFailureRate(rate: number): void {
    this.#failureRate = checkRate(rate);
  }

  /** Starts or ends a total outage: every call fails until it ends. */
  setOutage(down: boolean): void {
    this.#outage = down;
  }

  /** Whether an outage is in progress. */
  get outage(): boolean {
    return this.#outage;
  }

  /** Fetches a user's integrations; rejects with an ECONNREFUSED-shaped error some of the time. */
  async fetchStatus(userId: number): Promise<Integration[]> {
    this.calls.count('integrations.fetch');
    await simulateLatency(this.#sim, 50, 200);
    if (this.#outage || this.#sim.random() < this.#failureRate) {
      this.calls.count('integrations.failed');
      throw connectionRefused('integrations.internal:443');
    }
    // Deterministic per user, so a cached answer and a fresh one agree unless something changed.
    const count = 1 + (userId % PROVIDERS.length);
    const now = new Date(this.#sim.clock()).toISOString();
    return PROVIDERS.slice(0, count).map((provider, i) => ({
      id: `${userId}-${i + 1}`,
      provider,
      status: (userId + i) % 7 === 0 ? 'expired' : 'connected',
      lastSyncAt: now,
    }));
  }
}

function checkRate(rate: number): number {
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`failureRate must be in [0, 1], got ${rate}`);
  return rate;
}
