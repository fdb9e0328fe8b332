// Fake Docker host, orchestrator and VPN (seed 001): the expensive calls behind the endpoints a UI
// panel polls every few seconds. Each call takes 100-300 ms; engines can be provisioned and deleted,
// which is what invalidates the stats and orchestrator caches.
import { CallCounter, simulateLatency, type Simulation } from './simulate.js';

/** One engine container. */
export interface Engine {
  id: string;
  name: string;
  image: string;
  createdAt: string;
}

/** The answer of `/engines/stats/total`. */
export interface TotalStats {
  engines: number;
  cpu_percent: number;
  memory_used_mb: number;
  memory_limit_mb: number;
  network_rx_mb: number;
  network_tx_mb: number;
  collected_at: string;
}

/** The answer of `/vpn/status`. */
export interface VpnStatus {
  connected: boolean;
  endpoint: string;
  latency_ms: number;
  peers: number;
  checked_at: string;
}

/** The answer of `/orchestrator/status`. */
export interface OrchestratorStatus {
  status: 'healthy' | 'degraded';
  engines: { total: number; running: number };
  vpn: { connected: boolean };
  docker: { reachable: boolean };
  checked_at: string;
}

/** The simulated Docker daemon, orchestrator and VPN. */
export class DockerUpstream {
  readonly #sim: Simulation;
  readonly #engines = new Map<string, Engine>();
  #nextId = 1;
  /** Expensive calls made, per operation. */
  readonly calls = new CallCounter();

  constructor(sim: Simulation) {
    this.#sim = sim;
    for (const name of ['engine-eu-1', 'engine-us-1', 'engine-ap-1']) this.provision(name);
  }

  /** The engines currently running. */
  listEngines(): Engine[] {
    return [...this.#engines.values()];
  }

  /** Starts an engine container (POST /engines). */
  provision(name: string, image = 'larder/engine:latest'): Engine {
    const engine: Engine = {
      id: `eng-${this.#nextId++}`,
      name,
      image,
      createdAt: new Date(this.#sim.clock()).toISOString(),
    };
    this.#engines.set(engine.id, engine);
    return engine;
  }

  /** Stops and removes an engine (DELETE /engines/:id); false when absent. */
  delete(id: string): boolean {
    return this.#engines.delete(id);
  }

  /** Docker stats for every container, summed: one stats call per container, hence expensive. */
  async totalStats(): Promise<TotalStats> {
    this.calls.count('docker.stats');
    await simulateLatency(this.#sim, 100, 300);
    const n = this.#engines.size;
    const r = this.#sim.random;
    return {
      engines: n,
      cpu_percent: round(n * (5 + r() * 20)),
      memory_used_mb: round(n * (200 + r() * 300)),
      memory_limit_mb: n * 1024,
      network_rx_mb: round(n * r() * 50),
      network_tx_mb: round(n * r() * 30),
      collected_at: new Date(this.#sim.clock()).toISOString(),
    };
  }

  /** VPN health check. */
  async vpnStatus(): Promise<VpnStatus> {
    this.calls.count('vpn.health');
    await simulateLatency(this.#sim, 100, 300);
    return {
      connected: true,
      endpoint: 'wg0.vpn.internal:51820',
      latency_ms: round(10 + this.#sim.random() * 30),
      peers: 3,
      checked_at: new Date(this.#sim.clock()).toISOString(),
    };
  }

  /** Aggregates Docker, VPN and health into one status, as the seed's orchestrator does. */
  async orchestratorStatus(): Promise<OrchestratorStatus> {
    this.calls.count('orchestrator.aggregate');
    await simulateLatency(this.#sim, 100, 300);
    const total = this.#engines.size;
    return {
      status: 'healthy',
      engines: { total, running: total },
      vpn: { connected: true },
      docker: { reachable: true },
      checked_at: new Date(this.#sim.clock()).toISOString(),
    };
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
