// Seed 000's endpoints: provider resources read through the per-kind caches, and the admin endpoints
// that create, update and delete providers and invalidate that provider's caches.
import type { ProviderResourceCache, ResourceKind } from '../seeds/provider-resource-cache.js';
import { offers, type ProviderKind, type ProviderUpstream } from '../upstreams/providers.js';
import { HttpError, optionalString, type Router } from '../router.js';
import { upstreamFailure } from './failures.js';

const KINDS: readonly ResourceKind[] = ['plans', 'images', 'marketplace', 'regions'];
const PROVIDER_KINDS: readonly ProviderKind[] = ['linode', 'digitalocean'];

/** Registers seed 000's routes; `requireKey` guards the admin endpoints. */
export function providerRoutes(
  router: Router,
  upstream: ProviderUpstream,
  cache: ProviderResourceCache,
  requireKey: (headers: Record<string, string | string[] | undefined>) => void,
): void {
  router.on('GET', '/api/providers', () => upstream.list());

  for (const kind of KINDS) {
    router.on('GET', `/api/providers/:id/${kind}`, async ({ params }) => {
      const provider = upstream.get(params.id!);
      if (!provider) throw new HttpError(404, `provider ${params.id} not found`);
      if (!offers(provider.kind, kind)) throw new HttpError(404, `${provider.kind} does not offer ${kind}`);
      try {
        // Conditional: an expired entry is revalidated with its ETag; a 304 renews it without a body.
        return await cache.getConditional(provider.id, kind, (etag) =>
          upstream.fetchResourcesIfChanged(provider.id, kind, etag),
        );
      } catch (error) {
        throw upstreamFailure(error, `${provider.kind} API`);
      }
    });
  }

  router.on('POST', '/api/admin/providers', async ({ req, res, body }) => {
    requireKey(req.headers);
    const input = await body();
    const name = optionalString(input, 'name');
    if (name === undefined) throw new HttpError(400, 'name is required');
    const provider = upstream.create({ name, kind: readKind(input.kind, true)! });
    const invalidated = await cache.invalidateProvider(provider.id);
    res.statusCode = 201;
    return { ...provider, invalidated };
  });

  router.on('PUT', '/api/admin/providers/:id', async ({ req, params, body }) => {
    requireKey(req.headers);
    const input = await body();
    const provider = upstream.update(params.id!, {
      name: optionalString(input, 'name'),
      kind: readKind(input.kind),
    });
    if (!provider) throw new HttpError(404, `provider ${params.id} not found`);
    return { ...provider, invalidated: await cache.invalidateProvider(provider.id) };
  });

  router.on('DELETE', '/api/admin/providers/:id', async ({ req, params }) => {
    requireKey(req.headers);
    if (!upstream.delete(params.id!)) throw new HttpError(404, `provider ${params.id} not found`);
    return { id: params.id, deleted: true, invalidated: await cache.invalidateProvider(params.id!) };
  });

  router.on('GET', '/api/admin/providers/cache', ({ req }) => {
    requireKey(req.headers);
    return cache.getStats();
  });

  // What the conditional requests saved: body bytes the provider APIs sent, and those 304s spared.
  router.on('GET', '/api/admin/providers/transfer', ({ req }) => {
    requireKey(req.headers);
    const t = upstream.transfer;
    const total = t.bytesSent + t.bytesSaved;
    return {
      requests: t.requests,
      full: t.full,
      not_modified: t.notModified,
      bytes_sent: t.bytesSent,
      bytes_saved: t.bytesSaved,
      saved_pct: total === 0 ? 0 : Math.round((10_000 * t.bytesSaved) / total) / 100,
    };
  });
}

function readKind(value: unknown, required = false): ProviderKind | undefined {
  if (value === undefined && !required) return undefined;
  if (!PROVIDER_KINDS.includes(value as ProviderKind)) {
    throw new HttpError(400, `kind must be one of ${PROVIDER_KINDS.join(', ')}`);
  }
  return value as ProviderKind;
}
