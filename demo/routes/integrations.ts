// Seed 002's endpoints: a user's integration status read through the integration cache, from a
// flaky upstream, with retries and backoff; the default answer never fails (the fallback variant),
// `?strict=1` uses the throwing variant and maps its CacheError to a 502.
import type { createIntegrationCache } from '../seeds/integration-cache.js';
import type { IntegrationsUpstream } from '../upstreams/integrations.js';
import { HttpError, type Router } from '../router.js';
import { upstreamFailure } from './failures.js';

type IntegrationCacheApi = ReturnType<typeof createIntegrationCache>;

/** Registers seed 002's routes; the user is the `X-User-Id` header (a positive integer). */
export function integrationRoutes(
  router: Router,
  upstream: IntegrationsUpstream,
  api: IntegrationCacheApi,
  requireKey: (headers: Record<string, string | string[] | undefined>) => void,
): void {
  router.on('GET', '/api/integrations/status', async ({ req, query }) => {
    const userId = readUserId(req.headers['x-user-id']);
    const fetchFn = () => upstream.fetchStatus(userId);
    if (query.get('strict') === '1') {
      try {
        return { user_id: userId, integrations: await api.getCachedIntegrations(userId, fetchFn) };
      } catch (error) {
        throw upstreamFailure(error, 'integrations API');
      }
    }
    return { user_id: userId, integrations: await api.getCachedIntegrationsWithFallback(userId, fetchFn) };
  });

  // The seed's synchronous instance API (this instance's memory; see demo/seeds/integration-cache.ts).
  router.on('GET', '/api/integrations/cache', ({ req }) => {
    const userId = readUserId(req.headers['x-user-id']);
    const { integrationCache } = api;
    return {
      user_id: userId,
      has: integrationCache.has(userId),
      time_to_expiry_ms: integrationCache.getTimeToExpiry(userId),
      size: integrationCache.size(),
      stats: integrationCache.getStats(),
    };
  });

  // Seed 002 "Invalidate Cache on Updates": after a user changes an integration.
  // The route waits for every tier (the seed's synchronous invalidate leaves the shared one to finish).
  router.on('POST', '/api/integrations/invalidate', async ({ req }) => {
    const userId = readUserId(req.headers['x-user-id']);
    await api.cache.delete(userId);
    return { user_id: userId, invalidated: true };
  });

  // A switch for the simulated upstream, so an outage can be shown on purpose.
  router.on('POST', '/api/integrations/outage', async ({ req, body }) => {
    requireKey(req.headers);
    const { down } = await body();
    if (typeof down !== 'boolean') throw new HttpError(400, 'down must be a boolean');
    upstream.setOutage(down);
    return { outage: down };
  });
}

function readUserId(header: string | string[] | undefined): number {
  const id = Number(header);
  if (typeof header !== 'string' || !Number.isSafeInteger(id) || id <= 0) {
    throw new HttpError(400, 'X-User-Id must be a positive integer');
  }
  return id;
}
