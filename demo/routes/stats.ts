// Seed 001's endpoints: the polled stats endpoints behind 2-3 s caches, and the engine provisioning
// endpoints whose writes invalidate the stats and orchestrator entries.
import type { StatsCache } from '../seeds/stats-cache.js';
import type { DockerUpstream } from '../upstreams/docker.js';
import { HttpError, optionalString, type Router } from '../router.js';

/** Registers seed 001's routes. (`/cache/stats` and `POST /cache/clear` are wired in app.ts.) */
export function statsRoutes(router: Router, docker: DockerUpstream, cache: StatsCache): void {
  router.on('GET', '/engines/stats/total', () => cache.cached('stats:total', () => docker.totalStats()));
  router.on('GET', '/orchestrator/status', () =>
    cache.cached('orchestrator:status', () => docker.orchestratorStatus()),
  );
  router.on('GET', '/vpn/status', () => cache.cached('vpn:status', () => docker.vpnStatus()));

  router.on('GET', '/engines', () => docker.listEngines());

  router.on('POST', '/engines', async ({ res, body }) => {
    const input = await body();
    const engine = docker.provision(
      optionalString(input, 'name') ?? `engine-${Date.now().toString(36)}`,
      optionalString(input, 'image'),
    );
    await cache.onEngineChange();
    res.statusCode = 201;
    return engine;
  });

  router.on('DELETE', '/engines/:id', async ({ params }) => {
    if (!docker.delete(params.id!)) throw new HttpError(404, `engine ${params.id} not found`);
    await cache.onEngineChange();
    return { id: params.id, deleted: true };
  });
}
