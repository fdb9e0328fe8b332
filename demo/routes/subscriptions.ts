// Seed 003's endpoints under /api/v1/subscriptions: three cached GETs keyed by org and provider, and
// six writes that each invalidate the seed's set (plans_list_{org}_{provider}_*, all_plans_{org}_*,
// providers_list_{org}) before answering, reporting the count. The seed writes the write paths both
// with and without `/providers/`; both are served.
import type { createPlansCache } from '../seeds/plans-cache.js';
import { planKeys, SLUG_RE } from '../seeds/plans-cache.js';
import type { PlanInput, SubscriptionUpstream } from '../upstreams/subscriptions.js';
import {
  HttpError,
  optionalNumber,
  optionalString,
  type Handler,
  type RequestContext,
  type Router,
} from '../router.js';

type PlansCacheApi = ReturnType<typeof createPlansCache>;

const BASE = '/api/v1/subscriptions';

/** Registers seed 003's routes. */
export function subscriptionRoutes(router: Router, store: SubscriptionUpstream, api: PlansCacheApi): void {
  const found = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new HttpError(404, `${what} not found`);
    return value;
  };

  // An unknown org or provider loads `undefined`, which is answered 404 and not cached.
  router.on('GET', `${BASE}/:org/providers`, async ({ params }) => {
    const org = slug(params, 'org');
    return found(await api.cached(planKeys.providersList(org), () => store.listProviders(org)), `org ${org}`);
  });

  router.on('GET', `${BASE}/:org/providers/:provider/plans`, async ({ params, query }) => {
    const [org, provider] = [slug(params, 'org'), slug(params, 'provider')];
    const includeDisabled = flag(query, 'include_disabled');
    const plans = await api.cached(planKeys.plansList(org, provider, includeDisabled), () =>
      store.listPlans(org, provider, includeDisabled),
    );
    return found(plans, `provider ${provider} of org ${org}`);
  });

  router.on('GET', `${BASE}/:org/all-plans`, async ({ params, query }) => {
    const org = slug(params, 'org');
    const enabledOnly = flag(query, 'enabled_only');
    return found(
      await api.cached(planKeys.allPlans(org, enabledOnly), () => store.allPlans(org, enabledOnly)),
      `org ${org}`,
    );
  });

  /** A write: runs `change`, then invalidates the seed's set for the org and provider. */
  const write =
    (
      change: (org: string, provider: string, ctx: RequestContext) => Promise<unknown>,
      status = 200,
    ): Handler =>
    async (ctx) => {
      const [org, provider] = [slug(ctx.params, 'org'), slug(ctx.params, 'provider')];
      const result = await change(org, provider, ctx);
      const invalidated = await api.invalidateProviderCache(org, provider);
      ctx.res.statusCode = status;
      return { result, invalidated };
    };

  const createPlan = write(async (org, provider, { body }) => {
    const input = readPlan(await body());
    if (!input.plan_name) throw new HttpError(400, 'plan_name is required');
    return found(store.createPlan(org, provider, input), `org ${org}`);
  }, 201);
  const updatePlan = write(async (org, provider, { params, body }) =>
    found(store.updatePlan(org, provider, params.id!, readPlan(await body())), `plan ${params.id}`),
  );
  const deletePlan = write(async (org, provider, { params }) => {
    if (!store.deletePlan(org, provider, params.id!)) throw new HttpError(404, `plan ${params.id} not found`);
    return { subscription_id: params.id, deleted: true };
  });
  const enable = (enabled: boolean) =>
    write(async (org, provider) => {
      if (!store.setProviderEnabled(org, provider, enabled)) {
        throw new HttpError(404, `provider ${provider} of org ${org} not found`);
      }
      return { provider, enabled };
    });
  const togglePlan = write(async (org, provider, { params }) =>
    found(store.togglePlan(org, provider, params.id!), `plan ${params.id}`),
  );

  for (const prefix of [`${BASE}/:org/providers/:provider`, `${BASE}/:org/:provider`]) {
    router.on('POST', `${prefix}/plans`, createPlan);
    router.on('PUT', `${prefix}/plans/:id`, updatePlan);
    router.on('DELETE', `${prefix}/plans/:id`, deletePlan);
    router.on('POST', `${prefix}/enable`, enable(true));
    router.on('POST', `${prefix}/disable`, enable(false));
    router.on('POST', `${prefix}/toggle/:id`, togglePlan);
  }

  router.on('GET', `${BASE}/cache/stats`, () => api.getStats());
}

function slug(params: Record<string, string>, name: string): string {
  const value = params[name] ?? '';
  if (!SLUG_RE.test(value))
    throw new HttpError(400, `${name} must be a slug like "acme", got ${JSON.stringify(value)}`);
  return value;
}

function flag(query: URLSearchParams, name: string): boolean {
  const value = query.get(name);
  if (value === null || value === '' || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1') return true;
  throw new HttpError(400, `${name} must be true or false`);
}

function readPlan(body: Record<string, unknown>): PlanInput {
  return {
    plan_name: optionalString(body, 'plan_name'),
    unit_price_usd: optionalNumber(body, 'unit_price_usd'),
    quantity: optionalNumber(body, 'quantity'),
  };
}
