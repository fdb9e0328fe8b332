// Seed 000, provider resource caching, on Larder: one cache per resource kind (plans 1 h, images 1 h,
// marketplace 6 h, regions 24 h), keyed by provider ID, with the seed's ProviderResourceCache API:
// invalidateProvider / invalidateResource / clearAll / configureTTL / setCacheEnabled / getStats.
import { createCache, type Cache, type CacheOptions, type Duration } from 'larder-cache';

/** The resource kinds of seed 000. */
export type ResourceKind = 'plans' | 'images' | 'marketplace' | 'regions';

/** Seed 000's TTL per resource kind. */
export const RESOURCE_TTLS: Readonly<Record<ResourceKind, Duration>> = {
  plans: '1h',
  images: '1h',
  marketplace: '6h',
  regions: '24h',
};

/**
 * The seed's background-refresh enhancement: a read after this fraction of a kind's TTL answers the
 * cached list at once and refreshes it from the provider API (conditionally, with its ETag) in the
 * background, so readers of a provider that is in use never wait on the API when its entry expires.
 */
export const REFRESH_AHEAD = 0.9;

/** Shared settings (Redis tier, logger, clock) and per-kind TTL overrides, snapshots and advisor. */
export interface ProviderResourceCacheOptions extends Pick<CacheOptions, 'l2' | 'logger' | 'clock'> {
  ttl?: Partial<Record<ResourceKind, Duration>>;
  /** Warm restarts per kind; each kind needs its own file. */
  persist?: Partial<Record<ResourceKind, CacheOptions['persist']>>;
  /** The sizing advisor per kind. */
  advisor?: Partial<Record<ResourceKind, CacheOptions['advisor']>>;
}

/** Seed 000's `ProviderResourceCache`, plus the read-through the provider services call. */
export interface ProviderResourceCache {
  /** The Larder cache of each kind (for the admin API and dashboard). */
  readonly caches: Readonly<Record<ResourceKind, Cache<unknown[]>>>;
  /** A provider's resources of one kind: cached, or fetched from its API once for all callers. */
  get<T>(providerId: string, kind: ResourceKind, fetch: () => Promise<T[]>): Promise<T[]>;
  /**
   * {@link get} with a conditional fetch (seed 000's ETag enhancement): once an entry has expired,
   * `fetch` is handed the ETag it was stored with; a 304 answer renews the entry without a body.
   */
  getConditional<T>(providerId: string, kind: ResourceKind, fetch: ConditionalFetch<T>): Promise<T[]>;
  /** Drops every kind cached for a provider; resolves with the count removed. */
  invalidateProvider(providerId: string): Promise<number>;
  /** Drops one kind of a provider; resolves with the count removed (0 or 1). */
  invalidateResource(providerId: string, kind: ResourceKind): Promise<number>;
  /** Empties every kind. */
  clearAll(): Promise<void>;
  /**
   * Changes a kind's TTL at run time (ms, or a duration string), for the entries already cached too:
   * each counts its age from when it was cached, as the seed's timestamp check does.
   */
  configureTTL(kind: ResourceKind, ttl: Duration): void;
  /** Turns caching of a kind on or off; off means every call goes to the provider API. */
  setCacheEnabled(kind: ResourceKind, enabled: boolean): void;
  /** Per kind: entries held and the providers they belong to (the seed's shape). */
  getStats(): Record<ResourceKind, { size: number; providers: string[] }>;
}

/** A provider API call with If-None-Match: 304 when `etag` still matches, else the body and its ETag. */
export type ConditionalFetch<T> = (
  etag: string | undefined,
) => Promise<{ status: 304 } | { status: 200; body: T[]; etag?: string }>;

/** The tag every entry of a provider carries. */
export const providerTag = (providerId: string): string => `provider:${providerId}`;

/** Builds the four resource caches and the seed's API over them. */
export function createProviderResourceCache(
  options: ProviderResourceCacheOptions = {},
): ProviderResourceCache {
  const { ttl = {}, persist = {}, advisor = {}, ...shared } = options;
  const kinds = Object.keys(RESOURCE_TTLS) as ResourceKind[];
  const caches = Object.fromEntries(
    kinds.map((kind) => [
      kind,
      // A few hundred providers at most; the bounds only guard against a runaway key space.
      createCache<unknown[]>({
        ...shared,
        name: kind,
        ttl: ttl[kind] ?? RESOURCE_TTLS[kind],
        maxEntries: 1000,
        maxBytes: 8 * 2 ** 20,
        refreshAhead: REFRESH_AHEAD,
        persist: persist[kind],
        advisor: advisor[kind],
      }),
    ]),
  ) as Record<ResourceKind, Cache<unknown[]>>;

  // Every entry carries its provider's tag, so invalidation goes through invalidateTags and is logged
  // as `Cache INVALIDATE` (`[Cache INVALIDATE]` with bracketedLogger), as the seed's log lines have it.
  const invalidateResource = (providerId: string, kind: ResourceKind): Promise<number> =>
    caches[kind].invalidateTags([providerTag(providerId)]);

  return {
    caches,
    get: <T>(providerId: string, kind: ResourceKind, fetch: () => Promise<T[]>) =>
      caches[kind].getOrSet<T[]>(providerId, fetch, { tags: [providerTag(providerId)] }),
    // The entry keeps its ETag, and an expired one is kept a TTL longer so it can be revalidated.
    getConditional: <T>(providerId: string, kind: ResourceKind, fetch: ConditionalFetch<T>) =>
      caches[kind].getOrSet<T[]>(
        providerId,
        async (ctx) => {
          const answer = await fetch(ctx.previous?.etag);
          if (answer.status === 304 && ctx.previous !== undefined) return ctx.notModified();
          if (answer.status === 304) throw new Error(`${kind} of ${providerId}: 304 without a held value`);
          if (answer.etag !== undefined) ctx.setValidators({ etag: answer.etag });
          return answer.body;
        },
        { tags: [providerTag(providerId)] },
      ),
    invalidateResource,
    async invalidateProvider(providerId) {
      const counts = await Promise.all(kinds.map((kind) => invalidateResource(providerId, kind)));
      return counts.reduce((a, b) => a + b, 0);
    },
    async clearAll() {
      await Promise.all(kinds.map((kind) => caches[kind].clear()));
    },
    // The seed checks an entry's age against its kind's TTL at every read, so a new TTL reaches the
    // entries already cached: shortening can expire them at once, lengthening keeps them longer.
    configureTTL: (kind, ttlMs) => caches[kind].configure({ ttl: ttlMs, applyToExisting: true }),
    setCacheEnabled: (kind, enabled) => caches[kind].configure({ enabled }),
    getStats() {
      const stats = {} as Record<ResourceKind, { size: number; providers: string[] }>;
      for (const kind of kinds) {
        const providers = caches[kind]
          .entries()
          .filter((e) => !e.stale)
          .map((e) => e.key);
        stats[kind] = { size: providers.length, providers };
      }
      return stats;
    },
  };
}
