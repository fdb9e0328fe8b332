// The subscription-plans store of seed 003: organisations, the SaaS providers they subscribe to and
// their plans. Reads are the seed's 1-2 s warehouse queries scaled down to 100-300 ms; writes are
// quick. The plans cache and its invalidation sets stand in front of it.
import { CallCounter, simulateLatency, type Simulation } from './simulate.js';

/** One subscription plan of an organisation at a provider. */
export interface Plan {
  subscription_id: string;
  provider: string;
  plan_name: string;
  unit_price_usd: number;
  quantity: number;
  enabled: boolean;
}

/** A provider as `GET /subscriptions/{org}/providers` lists it, with plan counts. */
export interface ProviderSummary {
  provider: string;
  enabled: boolean;
  plan_count: number;
  enabled_plan_count: number;
  monthly_cost_usd: number;
}

/** The fields a plan write may carry. */
export interface PlanInput {
  plan_name?: string;
  unit_price_usd?: number;
  quantity?: number;
}

interface ProviderRow {
  enabled: boolean;
  plans: Map<string, Plan>;
}

const SEED: Record<string, Record<string, Array<[string, number, number]>>> = {
  acme: {
    slack: [
      ['PRO', 8.75, 40],
      ['BUSINESS', 15, 5],
    ],
    canva: [['TEAMS', 10, 12]],
    github: [['TEAM', 4, 30]],
    notion: [['PLUS', 10, 25]],
  },
  globex: {
    slack: [['PRO', 8.75, 120]],
    figma: [['PROFESSIONAL', 15, 18]],
    zoom: [['BUSINESS', 21.99, 50]],
  },
  initech: {
    github: [['ENTERPRISE', 21, 80]],
    notion: [['BUSINESS', 15, 60]],
  },
};

/** The simulated warehouse of subscription data. */
export class SubscriptionUpstream {
  readonly #sim: Simulation;
  readonly #orgs = new Map<string, Map<string, ProviderRow>>();
  #nextId = 1;
  /** Queries run, per query name. */
  readonly calls = new CallCounter();

  constructor(sim: Simulation) {
    this.#sim = sim;
    for (const [org, providers] of Object.entries(SEED)) {
      const rows = new Map<string, ProviderRow>();
      this.#orgs.set(org, rows);
      for (const [provider, plans] of Object.entries(providers)) {
        rows.set(provider, { enabled: true, plans: new Map() });
        for (const [plan_name, unit_price_usd, quantity] of plans) {
          this.createPlan(org, provider, { plan_name, unit_price_usd, quantity });
        }
      }
    }
  }

  /** Whether the organisation exists. */
  hasOrg(org: string): boolean {
    return this.#orgs.has(org);
  }

  /** The organisations, for the load generator. */
  orgs(): string[] {
    return [...this.#orgs.keys()];
  }

  /** `list_providers_query`: providers with plan counts; undefined for an unknown org. */
  async listProviders(org: string): Promise<ProviderSummary[] | undefined> {
    const rows = await this.#query('list_providers_query', org);
    if (!rows) return undefined;
    return [...rows].map(([provider, row]) => {
      const plans = [...row.plans.values()];
      const enabled = plans.filter((p) => p.enabled);
      return {
        provider,
        enabled: row.enabled,
        plan_count: plans.length,
        enabled_plan_count: enabled.length,
        monthly_cost_usd: round(enabled.reduce((sum, p) => sum + p.unit_price_usd * p.quantity, 0)),
      };
    });
  }

  /** `list_plans_query`: one provider's plans; undefined for an unknown org or provider. */
  async listPlans(org: string, provider: string, includeDisabled: boolean): Promise<Plan[] | undefined> {
    const rows = await this.#query('list_plans_query', org);
    const row = rows?.get(provider);
    if (!row) return undefined;
    return [...row.plans.values()].filter((p) => includeDisabled || p.enabled).map((p) => ({ ...p }));
  }

  /** `all_plans_query`: every plan of an organisation; undefined for an unknown org. */
  async allPlans(org: string, enabledOnly: boolean): Promise<Plan[] | undefined> {
    const rows = await this.#query('all_plans_query', org);
    if (!rows) return undefined;
    const plans: Plan[] = [];
    for (const row of rows.values()) {
      if (enabledOnly && !row.enabled) continue;
      for (const p of row.plans.values()) if (!enabledOnly || p.enabled) plans.push({ ...p });
    }
    return plans;
  }

  /** Creates a custom plan; adds the provider to the org when new. Undefined for an unknown org. */
  createPlan(org: string, provider: string, input: PlanInput): Plan | undefined {
    const rows = this.#orgs.get(org);
    if (!rows) return undefined;
    let row = rows.get(provider);
    if (!row) rows.set(provider, (row = { enabled: true, plans: new Map() }));
    const name = input.plan_name ?? 'CUSTOM';
    const plan: Plan = {
      subscription_id: `sub_${provider}_${name.toLowerCase()}_${(this.#nextId++).toString(16).padStart(6, '0')}`,
      provider,
      plan_name: name,
      unit_price_usd: input.unit_price_usd ?? 0,
      quantity: input.quantity ?? 1,
      enabled: true,
    };
    row.plans.set(plan.subscription_id, plan);
    return plan;
  }

  /** Updates a plan's fields; undefined when org, provider or plan is unknown. */
  updatePlan(org: string, provider: string, id: string, input: PlanInput): Plan | undefined {
    const plan = this.#orgs.get(org)?.get(provider)?.plans.get(id);
    if (!plan) return undefined;
    if (input.plan_name !== undefined) plan.plan_name = input.plan_name;
    if (input.unit_price_usd !== undefined) plan.unit_price_usd = input.unit_price_usd;
    if (input.quantity !== undefined) plan.quantity = input.quantity;
    return { ...plan };
  }

  /** Deletes a plan; false when unknown. */
  deletePlan(org: string, provider: string, id: string): boolean {
    return this.#orgs.get(org)?.get(provider)?.plans.delete(id) ?? false;
  }

  /** Enables or disables a provider for an org; false when unknown. */
  setProviderEnabled(org: string, provider: string, enabled: boolean): boolean {
    const row = this.#orgs.get(org)?.get(provider);
    if (!row) return false;
    row.enabled = enabled;
    return true;
  }

  /** Flips a plan's enabled flag; the plan, or undefined when unknown. */
  togglePlan(org: string, provider: string, id: string): Plan | undefined {
    const plan = this.#orgs.get(org)?.get(provider)?.plans.get(id);
    if (!plan) return undefined;
    plan.enabled = !plan.enabled;
    return { ...plan };
  }

  async #query(name: string, org: string): Promise<Map<string, ProviderRow> | undefined> {
    this.calls.count(name);
    await simulateLatency(this.#sim, 100, 300);
    return this.#orgs.get(org);
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
