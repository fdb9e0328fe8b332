// Fake Linode and DigitalOcean APIs (seed 000) and the admin's provider registry. Each API call
// takes 150-400 ms and spends a token of the provider's rate limit; this is what the provider
// resource caches stand in front of. Answers carry an ETag, and a call with a matching If-None-Match
// is answered 304 without a body (seed 000's "conditional requests" enhancement); `transfer` counts
// the bytes sent and the bytes such answers saved.
import { createHash } from 'node:crypto';
import { CallCounter, RateLimiter, simulateLatency, UpstreamError, type Simulation } from './simulate.js';

/** The cloud providers the demo simulates. */
export type ProviderKind = 'linode' | 'digitalocean';

/** The resource kinds seed 000 caches per provider. */
export type ResourceType = 'plans' | 'images' | 'marketplace' | 'regions';

/** All resource kinds, in the seed's order. */
export const RESOURCE_TYPES: readonly ResourceType[] = ['plans', 'images', 'marketplace', 'regions'];

/** A configured provider account, as the admin endpoints create and edit it. */
export interface Provider {
  id: string;
  name: string;
  kind: ProviderKind;
  /** Bumped on every update, and echoed in resources, so a test can see fresh data after invalidation. */
  revision: number;
}

/** One resource as a provider API lists it (plan, image, app or region). */
export interface ProviderResource {
  id: string;
  label: string;
  providerId: string;
  revision: number;
  [detail: string]: unknown;
}

type Catalog = Partial<
  Record<ResourceType, ReadonlyArray<Record<string, unknown> & { id: string; label: string }>>
>;

// Static catalogs in the spirit of each API's real answers; marketplace (1-Click apps) exists only
// for DigitalOcean, as in the seed.
const CATALOGS: Record<ProviderKind, Catalog> = {
  linode: {
    plans: [
      { id: 'g6-nanode-1', label: 'Nanode 1GB', vcpus: 1, memory: 1024, price_monthly: 5 },
      { id: 'g6-standard-1', label: 'Linode 2GB', vcpus: 1, memory: 2048, price_monthly: 12 },
      { id: 'g6-standard-2', label: 'Linode 4GB', vcpus: 2, memory: 4096, price_monthly: 24 },
      { id: 'g6-dedicated-2', label: 'Dedicated 4GB', vcpus: 2, memory: 4096, price_monthly: 36 },
    ],
    images: [
      { id: 'linode/debian12', label: 'Debian 12' },
      { id: 'linode/ubuntu24.04', label: 'Ubuntu 24.04 LTS' },
      { id: 'linode/alpine3.20', label: 'Alpine 3.20' },
    ],
    regions: [
      { id: 'us-east', label: 'Newark, NJ' },
      { id: 'eu-central', label: 'Frankfurt, DE' },
      { id: 'ap-south', label: 'Singapore, SG' },
    ],
  },
  digitalocean: {
    plans: [
      { id: 's-1vcpu-1gb', label: 'Basic 1 GB', vcpus: 1, memory: 1024, price_monthly: 6 },
      { id: 's-2vcpu-2gb', label: 'Basic 2 GB', vcpus: 2, memory: 2048, price_monthly: 18 },
      { id: 'g-2vcpu-8gb', label: 'General Purpose 8 GB', vcpus: 2, memory: 8192, price_monthly: 63 },
    ],
    images: [
      { id: 'debian-12-x64', label: 'Debian 12 x64' },
      { id: 'ubuntu-24-04-x64', label: 'Ubuntu 24.04 (LTS) x64' },
      { id: 'fedora-40-x64', label: 'Fedora 40 x64' },
    ],
    marketplace: [
      { id: 'wordpress-20-04', label: 'WordPress' },
      { id: 'docker-20-04', label: 'Docker' },
      { id: 'mongodb-7', label: 'MongoDB' },
    ],
    regions: [
      { id: 'nyc3', label: 'New York 3' },
      { id: 'ams3', label: 'Amsterdam 3' },
      { id: 'sgp1', label: 'Singapore 1' },
    ],
  },
};

/** A conditional API call's answer: 200 with the body and its ETag, or 304 (the ETag still matches). */
export type ConditionalAnswer<T> =
  { status: 200; etag: string; body: T; bytes: number } | { status: 304; etag: string };

/** What the provider APIs sent, and what 304 answers spared (bytes of the bodies not sent again). */
export interface TransferStats {
  /** API calls answered (200 or 304). */
  requests: number;
  /** Answers with a body. */
  full: number;
  /** 304 answers. */
  notModified: number;
  /** Body bytes sent. */
  bytesSent: number;
  /** Body bytes a 304 did not send. */
  bytesSaved: number;
}

/** Thrown when a provider does not offer a resource kind (Linode has no 1-Click marketplace). */
export class UnsupportedResourceError extends Error {
  constructor(kind: ProviderKind, resource: ResourceType) {
    super(`${kind} does not offer ${resource}`);
    this.name = 'UnsupportedResourceError';
  }
}

/** Whether a provider kind offers a resource kind. */
export function offers(kind: ProviderKind, resource: ResourceType): boolean {
  return CATALOGS[kind][resource] !== undefined;
}

/**
 * The provider registry plus the fake cloud APIs behind it. One rate limiter per provider account,
 * as real API tokens are limited per account.
 */
export class ProviderUpstream {
  readonly #sim: Simulation;
  readonly #providers = new Map<string, Provider>();
  readonly #limiters = new Map<string, RateLimiter>();
  #nextId = 1;
  /** API calls per `<kind>.<resource>`, i.e. the calls the caches are meant to save. */
  readonly calls = new CallCounter();
  /** Bytes sent and saved by conditional calls (fetchResourcesIfChanged). */
  readonly transfer: TransferStats = { requests: 0, full: 0, notModified: 0, bytesSent: 0, bytesSaved: 0 };

  constructor(sim: Simulation) {
    this.#sim = sim;
    this.create({ name: 'Linode (production)', kind: 'linode' });
    this.create({ name: 'DigitalOcean (staging)', kind: 'digitalocean' });
  }

  /** Every configured provider. */
  list(): Provider[] {
    return [...this.#providers.values()];
  }

  /** One provider, or undefined. */
  get(id: string): Provider | undefined {
    return this.#providers.get(id);
  }

  /** Adds a provider account (POST /api/admin/providers). */
  create(input: { name: string; kind: ProviderKind }): Provider {
    const provider: Provider = {
      id: `prov-${this.#nextId++}`,
      name: input.name,
      kind: input.kind,
      revision: 1,
    };
    this.#providers.set(provider.id, provider);
    // 20 calls at once, 5 per second after that: low enough that uncached polling hits the limit.
    this.#limiters.set(provider.id, new RateLimiter(20, 5, this.#sim.clock));
    return provider;
  }

  /** Changes a provider's settings (PUT /api/admin/providers/:id); undefined when absent. */
  update(id: string, input: { name?: string; kind?: ProviderKind }): Provider | undefined {
    const provider = this.#providers.get(id);
    if (!provider) return undefined;
    if (input.name !== undefined) provider.name = input.name;
    if (input.kind !== undefined) provider.kind = input.kind;
    provider.revision++;
    return provider;
  }

  /** Removes a provider (DELETE /api/admin/providers/:id); false when absent. */
  delete(id: string): boolean {
    this.#limiters.delete(id);
    return this.#providers.delete(id);
  }

  /** Calls the provider's API for one resource kind: slow, rate-limited, and counted. */
  async fetchResources(providerId: string, resource: ResourceType): Promise<ProviderResource[]> {
    return (await this.#call(providerId, resource)).body;
  }

  /**
   * The same call with `If-None-Match`: 304 without a body when `ifNoneMatch` is the resource's
   * current ETag, else 200 with the body and its ETag. Both spend a rate-limit token, as a request.
   */
  async fetchResourcesIfChanged(
    providerId: string,
    resource: ResourceType,
    ifNoneMatch: string | undefined,
  ): Promise<ConditionalAnswer<ProviderResource[]>> {
    const { body, json } = await this.#call(providerId, resource);
    const etag = `"${createHash('sha1').update(json).digest('base64url').slice(0, 16)}"`;
    const bytes = Buffer.byteLength(json);
    this.transfer.requests++;
    if (ifNoneMatch === etag) {
      this.transfer.notModified++;
      this.transfer.bytesSaved += bytes;
      return { status: 304, etag };
    }
    this.transfer.full++;
    this.transfer.bytesSent += bytes;
    return { status: 200, etag, body, bytes };
  }

  async #call(
    providerId: string,
    resource: ResourceType,
  ): Promise<{ body: ProviderResource[]; json: string }> {
    const provider = this.#providers.get(providerId);
    if (!provider) throw new UpstreamError(`provider ${providerId} not found`, { status: 404 });
    const catalog = CATALOGS[provider.kind][resource];
    if (!catalog) throw new UnsupportedResourceError(provider.kind, resource);
    this.#limiters.get(providerId)!.take(`${provider.kind} API`);
    this.calls.count(`${provider.kind}.${resource}`);
    await simulateLatency(this.#sim, 150, 400);
    const body = catalog.map((item) => ({ ...item, providerId, revision: provider.revision }));
    return { body, json: JSON.stringify(body) };
  }
}
