// The demo's simulated world in one object: every fake upstream, sharing one simulation (latency
// scale, random source, clock), so the service, the tests and the load generator build it alike.
import { DockerUpstream } from './docker.js';
import { IntegrationsUpstream } from './integrations.js';
import { ProviderUpstream } from './providers.js';
import { createSimulation, type SimulationOptions } from './simulate.js';
import { SubscriptionUpstream } from './subscriptions.js';
import { UrlUpstream } from './urls.js';

/** All fake upstreams of the demo. */
export interface Upstreams {
  providers: ProviderUpstream;
  docker: DockerUpstream;
  integrations: IntegrationsUpstream;
  subscriptions: SubscriptionUpstream;
  urls: UrlUpstream;
}

/** Options of {@link createUpstreams}. */
export interface UpstreamOptions extends SimulationOptions {
  /** Fraction of integration calls that fail with ECONNREFUSED (default 0.2). */
  integrationFailureRate?: number;
}

/** Builds every upstream over one simulation. */
export function createUpstreams(options: UpstreamOptions = {}): Upstreams {
  const sim = createSimulation(options);
  return {
    providers: new ProviderUpstream(sim),
    docker: new DockerUpstream(sim),
    integrations: new IntegrationsUpstream(sim, options.integrationFailureRate),
    subscriptions: new SubscriptionUpstream(sim),
    urls: new UrlUpstream(sim),
  };
}
