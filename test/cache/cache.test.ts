import { describe, expect, it, vi } from 'vitest';
import { buildCache, createCache } from '../../src/cache/create-cache.js';
import { manualClock } from '../helpers/clock.js';
import { consoleLogger, pinoLogger } from '../helpers/logger.js';

describe('facade methods', () => {
  it('get/set/has/delete/ttlRemaining follow the entry and its TTL', async () => {
    const clock = manualClock();
    const cache = createCache<string>({ ttl: '1s', clock: clock.now });
    await cache.set('a', 'A');
    await cache.set('b', 'B', { ttl: 0 });
    expect(await cache.get('a')).toBe('A');
    expect(await cache.has('a')).toBe(true);
    expect(await cache.ttlRemaining('a')).toBe(1000);
    expect(await cache.ttlRemaining('b')).toBe(Infinity);
    expect(await cache.ttlRemaining('missing')).toBeUndefined();
    clock.advance(1000);
    expect(await cache.get('a')).toBeUndefined();
    expect(await cache.get('b')).toBe('B');
    expect(await cache.delete('b')).toBe(true);
    expect(await cache.delete('b')).toBe(false);
    expect(cache.stats()).toMatchObject({ hits: 2, misses: 1, totalRequests: 3, hitRate: 66.67, sets: 2 });
  });

  it('invalidateTags and invalidatePattern return counts (seed 003 writes)', async () => {
    const cache = createCache<number>({ ttl: '5m' });
    await cache.set('plans_list_acme_slack_true', 1, { tags: ['org:acme'] });
    await cache.set('plans_list_acme_slack_false', 2, { tags: ['org:acme'] });
    await cache.set('plans_list_acme_zoom_true', 3, { tags: ['org:acme'] });
    await cache.set('all_plans_acme_true', 4, { tags: ['org:acme'] });
    await cache.set('providers_list_globex', 5, { tags: ['org:globex'] });
    expect(await cache.invalidatePattern('plans_list_acme_slack_*')).toBe(2);
    expect(await cache.invalidateTags(['org:acme'])).toBe(2);
    expect(await cache.get('providers_list_globex')).toBe(5);
    expect(cache.stats().size).toBe(1);
    await cache.clear();
    expect(cache.stats().size).toBe(0);
  });

  it('a load in flight during an invalidation that reaches it does not store its (old) answer', async () => {
    const cache = createCache<string>({ ttl: '5m' });
    const releases: Array<(v: string) => void> = [];
    const slow = () => new Promise<string>((r) => releases.push(r));
    const tagged = cache.getOrSet('k', slow, { tags: ['org:acme'] });
    const lateTagged = cache.getOrSet('late', async (ctx) => {
      const v = await slow();
      ctx.setTags(['org:acme']); // tags chosen by the loader at the end count too
      return v;
    });
    const other = cache.getOrSet('o', slow, { tags: ['org:globex'] });
    await cache.invalidateTags(['org:acme']);
    for (const release of releases) release('old');
    await expect(tagged).resolves.toBe('old');
    await Promise.all([lateTagged, other]);
    expect(await cache.has('k')).toBe(false);
    expect(await cache.has('late')).toBe(false);
    // A load's final tags are unknown until it returns, so a tag invalidation detaches every load of
    // the view: 'o' answers its caller but is not stored (one extra loader call later, never a stale one).
    await expect(other).resolves.toBe('old');
    expect(await cache.has('o')).toBe(false);

    releases.length = 0;
    const matching = cache.getOrSet('plans:acme:1', slow);
    const outside = cache.getOrSet('plans:globex:1', slow);
    await cache.invalidatePattern('plans:acme:*');
    for (const release of releases) release('old');
    await Promise.all([matching, outside]);
    expect(await cache.has('plans:acme:1')).toBe(false);
    expect(await cache.has('plans:globex:1')).toBe(true);

    releases.length = 0;
    const images = cache.namespace('images');
    const inNamespace = images.getOrSet('x', slow);
    const atRoot = cache.getOrSet('y', slow);
    await images.clear();
    for (const release of releases) release('old');
    await Promise.all([inNamespace, atRoot]);
    expect(await images.has('x')).toBe(false);
    expect(await cache.has('y')).toBe(true);

    releases.length = 0;
    const q = cache.getOrSet('j', slow);
    await cache.delete('j');
    for (const release of releases) release('old');
    await q;
    expect(await cache.has('j')).toBe(false);

    releases.length = 0;
    const beforeClear = cache.getOrSet('z', slow);
    await cache.clear();
    for (const release of releases) release('old');
    await beforeClear;
    expect(await cache.has('z')).toBe(false);
  });

  it('rejects bad options at construction, naming them', () => {
    expect(() => createCache({ ttl: -1 })).toThrow(/ttl/);
    expect(() => createCache({ ttl: 'soon' })).toThrow(/ttl/);
    expect(() => createCache({ jitter: 1.5 })).toThrow(/jitter/);
    expect(() => createCache({ refreshAhead: 1 })).toThrow(/refreshAhead/);
    expect(() => createCache({ maxEntries: 0 })).toThrow(/maxEntries/);
    expect(() => createCache({ retry: { maxRetries: -2 } })).toThrow(/maxRetries/);
    expect(() => createCache({ timeout: { hard: 'x' } })).toThrow(/timeout.hard/);
    expect(() => createCache({ enabled: 'yes' as any })).toThrow(/enabled/);
    expect(() => createCache({ loggerStyle: 'bunyan' as any, logger: {} })).toThrow(/loggerStyle/);
    expect(() => createCache({ l2: { not: 'a tier' } as any })).toThrow(/l2 is not a recognised tier/);
  });

  it('rejects bad arguments and leaves the cache unchanged', async () => {
    const cache = createCache<number>();
    await cache.set('a', 1);
    await expect(cache.set('b', 2, { ttl: -5 })).rejects.toThrow(/ttl/);
    await expect(cache.set('b', 2, { tags: 'x' as any })).rejects.toThrow(/tags/);
    await expect(cache.invalidateTags('x' as any)).rejects.toThrow(/invalidateTags/);
    await expect(cache.invalidatePattern('')).rejects.toThrow(/invalidatePattern/);
    await expect(cache.get(null as any)).rejects.toThrow(/key/);
    expect(() => cache.configure({ ttl: '1h', jitter: 3 })).toThrow(/jitter/);
    expect(cache.stats()).toMatchObject({ size: 1, ttl: 0 });
  });

  it('health is ok for a memory-only cache', () => {
    expect(createCache().health()).toEqual({ status: 'ok' });
  });
});

describe('namespaces', () => {
  it('have their own key space; clearing one clears only it', async () => {
    const root = createCache<string>({ name: 'providers', ttl: '1h' });
    const plans = root.namespace('plans');
    const images = root.namespace('images');
    expect(root.namespace('plans')).toBe(plans);
    expect(plans.name).toBe('providers:plans');
    await plans.set('p1', 'plans-of-p1');
    await images.set('p1', 'images-of-p1');
    await root.set('p1', 'root');
    expect(await plans.get('p1')).toBe('plans-of-p1');
    expect(await images.get('p1')).toBe('images-of-p1');
    expect(plans.entries().map((e) => e.key)).toEqual(['p1']);
    await plans.clear();
    expect(await plans.get('p1')).toBeUndefined();
    expect(await images.get('p1')).toBe('images-of-p1');
    expect(await root.get('p1')).toBe('root');
  });

  it('tags: a namespace invalidates only its own entries; the root reaches all namespaces', async () => {
    const root = createCache<string>({ ttl: '1h' });
    const plans = root.namespace('plans');
    const regions = root.namespace('regions');
    await plans.set('p1', 'x', { tags: ['provider:1'] });
    await regions.set('p1', 'y', { tags: ['provider:1'] });
    expect(await plans.invalidateTags(['provider:1'])).toBe(1);
    expect(await regions.get('p1')).toBe('y');
    await plans.set('p1', 'x', { tags: ['provider:1'] });
    expect(await root.invalidateTags(['provider:1'])).toBe(2);
    expect(await plans.invalidatePattern('*')).toBe(0);
  });

  it("tags: a namespace's scoped copies cannot collide with a caller's tags or another namespace's", async () => {
    const root = createCache<string>({ ttl: '1h' });
    const billing = root.namespace('billing');
    const nested = billing.namespace('x');
    await root.set('r', 'root', { tags: ['billing:paid'] });
    await billing.set('b', 'billing', { tags: ['paid', 'x:paid'] });
    await nested.set('n', 'nested', { tags: ['paid'] });
    expect(await billing.invalidateTags(['paid'])).toBe(1);
    expect(await root.get('r')).toBe('root');
    expect(await nested.get('n')).toBe('nested');
    await billing.set('b', 'billing', { tags: ['x:paid'] });
    expect(await billing.invalidateTags(['x:paid'])).toBe(1);
    expect(await nested.get('n')).toBe('nested');
    expect(await nested.invalidateTags(['paid'])).toBe(1);
    expect(await root.get('r')).toBe('root');
    // The root's invalidateTags still reaches every namespace.
    await billing.set('b', 'billing', { tags: ['paid'] });
    await nested.set('n', 'nested', { tags: ['paid'] });
    expect(await root.invalidateTags(['paid'])).toBe(2);
    // The mark that starts a scoped copy is refused in a caller's tags, wherever tags are taken.
    const marked = ['\uE0008:billing:paid'];
    await expect(root.invalidateTags(marked)).rejects.toThrow(/U\+E000/);
    await expect(root.set('k', 'v', { tags: marked })).rejects.toThrow(/tags: a tag may not start/);
    await expect(
      root.getOrSet('k', (ctx) => {
        ctx.setTags(marked);
        return 'v';
      }),
    ).rejects.toThrow(/ctx.setTags/);
    expect(await root.get('r')).toBe('root');
  });

  it('have their own ttl and switch (seed 000 configureTTL / setCacheEnabled)', async () => {
    const clock = manualClock();
    const root = createCache<string>({ ttl: '1h', clock: clock.now });
    const marketplace = root.namespace('marketplace');
    marketplace.configure({ ttl: '6h' });
    await marketplace.set('p1', 'apps');
    await root.set('p1', 'x');
    expect(await marketplace.ttlRemaining('p1')).toBe(6 * 3_600_000);
    expect(await root.ttlRemaining('p1')).toBe(3_600_000);
    marketplace.configure({ enabled: false });
    expect(marketplace.enabled).toBe(false);
    expect(await marketplace.get('p1')).toBeUndefined();
    expect(await root.get('p1')).toBe('x');
    expect(() => root.namespace('a*b')).toThrow(/namespace/);
  });

  it("refuses ':' in a namespace name, so sibling namespaces never share keys", async () => {
    const root = createCache<string>({ ttl: '1h' });
    expect(() => root.namespace('alice:admin')).toThrow(TypeError);
    expect(() => root.namespace('alice:admin')).toThrow(/without : .*got "alice:admin"/);
    // Nesting is the way to get there, and a nested namespace stays apart from its parent's keys.
    const alice = root.namespace('alice');
    const admin = alice.namespace('admin');
    await alice.set('admin-token', 'alice-token');
    await admin.set('x', 'admin-x');
    expect(await admin.get('token')).toBeUndefined();
    await alice.namespace('other').clear();
    expect(await admin.get('x')).toBe('admin-x');
    expect(
      root
        .entries()
        .map((entry) => entry.key)
        .sort(),
    ).toEqual(['alice:admin-token', 'alice:admin:x']);
  });
});

describe('configure', () => {
  it('changes ttl and enabled at run time and logs CONFIG', async () => {
    const { logger, lines } = consoleLogger();
    const clock = manualClock();
    const cache = createCache<number>({ name: 'plans', ttl: '1h', logger, clock: clock.now });
    const events = vi.fn();
    cache.on('cache:config', events);
    cache.configure({ ttl: '2h' });
    await cache.set('a', 1);
    expect(await cache.ttlRemaining('a')).toBe(7_200_000);
    cache.configure({ enabled: false });
    const loader = vi.fn(() => 2);
    await cache.getOrSet('a', loader);
    expect(loader).toHaveBeenCalledTimes(1);
    expect(await cache.get('a')).toBeUndefined();
    cache.configure({ enabled: true });
    expect(await cache.get('a')).toBe(1);
    const config = lines.filter((l) => l.message === 'Cache CONFIG');
    expect(config.map((l) => l.fields)).toEqual([
      { cache: 'plans', ttl: '2h' },
      { cache: 'plans', enabled: false },
      { cache: 'plans', enabled: true },
    ]);
    expect(events).toHaveBeenCalledWith({ cache: 'plans', changes: { ttl: '2h' } });
    expect(cache.stats()).toMatchObject({ ttl: 7_200_000, enabled: true });
  });

  it('a new logger takes effect (and re-reads its levels)', async () => {
    const cache = createCache<number>();
    const { logger, lines } = pinoLogger('debug');
    await cache.get('a');
    expect(lines).toEqual([]);
    cache.configure({ logger });
    await cache.get('a');
    expect(lines.map((l) => l.message)).toEqual(['Cache CONFIG', 'Cache MISS']);
  });
});

describe('warm', () => {
  it('takes an array, an async generator, or a function returning one; returns the count', async () => {
    const clock = manualClock();
    const cache = createCache<string>({ ttl: '1h', clock: clock.now });
    expect(
      await cache.warm([
        ['a', 'A'],
        ['b', 'B', { ttl: '5m', tags: ['t'] }],
      ]),
    ).toBe(2);
    expect(await cache.ttlRemaining('b')).toBe(300_000);
    async function* gen() {
      yield ['c', 'C'] as const;
      yield ['d', 'D'] as const;
    }
    expect(await cache.warm(gen())).toBe(2);
    expect(await cache.warm(() => [['e', 'E'] as const])).toBe(1);
    expect(await Promise.all(['a', 'c', 'e'].map((k) => cache.get(k)))).toEqual(['A', 'C', 'E']);
    expect(await cache.invalidateTags(['t'])).toBe(1);
    await expect(cache.warm([['x'] as any])).rejects.toThrow(/item 0/);
    await expect(cache.warm(42 as any)).rejects.toThrow(/warm source/);
  });

  it('warmOnStart pre-populates the cache; ready settles when done', async () => {
    const cache = createCache<number>({
      ttl: '1h',
      warmOnStart: async function* () {
        yield ['x', 1];
        yield ['y', 2];
      },
    });
    await cache.ready;
    expect(await cache.get('x')).toBe(1);
    expect(cache.stats().size).toBe(2);
  });

  it('refuses a warmOnStart that cannot be a warm source at construction, naming it', () => {
    for (const bad of [5, 'pairs', null, {}]) {
      expect(() => createCache({ warmOnStart: bad as never })).toThrow(
        /warmOnStart must be an iterable or async iterable/,
      );
    }
    // Arrays, iterables and functions are taken; their items are checked as they are read.
    for (const good of [[['a', 1]], new Map([['a', 1]]), () => [['a', 1]]]) {
      void createCache({ warmOnStart: good as never }).close();
    }
  });
});

describe('stats and entries', () => {
  it('adds facade counters and loader latency to the engine counters', async () => {
    const clock = manualClock();
    const cache = buildCache<number>({
      name: 'calc',
      ttl: 1000,
      grace: 5000,
      clock: clock.now,
      retry: false,
    });
    await cache.getOrSet('a', () => 1);
    await cache.getOrSet('a', () => 1);
    await cache.getOrSet('b', () => 2, { tags: ['t'] });
    clock.advance(1500);
    await cache.getOrSet('a', async () => {
      throw new Error('down');
    });
    const s = cache.stats();
    expect(s).toMatchObject({
      name: 'calc',
      hits: 1,
      misses: 3,
      staleHits: 1,
      loads: 3,
      loadErrors: 1,
      totalRequests: 4,
      hitRate: 25,
      size: 2,
    });
    expect(s.loadTime.count).toBe(3);
    expect(s.loadTime.p99).toBeGreaterThanOrEqual(s.loadTime.p50);
    const entries = cache.entries().sort((x, y) => x.key.localeCompare(y.key));
    expect(entries).toMatchObject([
      { key: 'a', ageMs: 1500, stale: true, ttlRemainingMs: 0 },
      { key: 'b', ageMs: 1500, stale: true, tags: ['t'] },
    ]);
    cache.resetStats();
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 0, loads: 0, loadTime: { count: 0 }, sets: 0 });
  });

  it("resetStats() zeroes the engine's counters too, and keeps the entries", async () => {
    const clock = manualClock();
    const cache = createCache<string>({
      name: 'reset',
      ttl: 1000,
      maxEntries: 2,
      maxBytes: 5_000,
      cleanupInterval: 0,
      clock: clock.now,
    });
    await cache.set('a', 'A', { tags: ['t'] });
    await cache.set('b', 'B');
    await cache.get('a');
    await cache.get('a');
    await cache.set('c', 'C'); // over maxEntries: evictions
    await cache.set('d', 'D');
    await cache.delete('b');
    await cache.invalidateTags(['t']);
    await cache.set('e', 'E', { ttl: 10 });
    clock.advance(50);
    await cache.get('e'); // expired on read
    await cache.set('huge', 'x'.repeat(20_000)); // over maxBytes: refused
    await cache.set('kept', 'K');
    const keys = () => cache.entries().map((e) => e.key);
    const counters = [
      'hits',
      'misses',
      'sets',
      'deletes',
      'invalidations',
      'evictions',
      'expirations',
      'rejections',
    ] as const;
    const before = cache.stats();
    const keysBefore = keys();
    expect(keysBefore.length).toBeGreaterThan(0);
    for (const name of counters) expect(before[name], name).toBeGreaterThan(0);
    cache.resetStats();
    const after = cache.stats();
    expect(after).toMatchObject({
      hits: 0,
      misses: 0,
      totalRequests: 0,
      hitRate: 0,
      sets: 0,
      deletes: 0,
      invalidations: 0,
      evictions: 0,
      expirations: 0,
      rejections: 0,
      coalesced: 0,
      staleHits: 0,
      loads: 0,
      loadErrors: 0,
      refreshes: 0,
      loadTime: { count: 0 },
      uptimeMs: 0,
    });
    // Counters only: the contents stay.
    expect(after.size).toBe(before.size);
    expect(keys()).toEqual(keysBefore);
  });
});

describe('logging', () => {
  it('console-style: Cache MISS/SET/HIT/DELETE/INVALIDATE/CLEAR at debug with { cache, key, durationMs }', async () => {
    const { logger, lines } = consoleLogger();
    const cache = createCache<number>({ name: 'stats', ttl: '3s', logger });
    await cache.getOrSet('stats:total', () => 1);
    await cache.getOrSet('stats:total', () => 1);
    await cache.delete('stats:total');
    await cache.invalidatePattern('stats:*');
    await cache.clear();
    expect(lines.map((l) => `${l.level} ${l.message}`)).toEqual([
      'debug Cache MISS',
      'debug Cache SET',
      'debug Cache HIT',
      'debug Cache DELETE',
      'debug Cache INVALIDATE',
      'debug Cache CLEAR',
    ]);
    expect(lines[0]!.fields).toEqual({ cache: 'stats', key: 'stats:total', durationMs: expect.any(Number) });
  });

  it('pino-style: (fields, message) and levels below the threshold are never built', async () => {
    const { logger, lines } = pinoLogger('warn');
    const cache = createCache<number>({ name: 'int', ttl: 1000, grace: '1h', logger, retry: false });
    await cache.getOrSet('a', () => 1);
    expect(logger.debug).not.toHaveBeenCalled();
    await expect(
      cache.getOrSet('b', async () => {
        throw new Error('down');
      }),
    ).rejects.toThrow();
    expect(lines).toEqual([
      { level: 'error', message: 'Cache ERROR', fields: expect.objectContaining({ cache: 'int', key: 'b' }) },
    ]);
    expect(logger.error.mock.calls[0][1]).toBe('Cache ERROR');
  });

  it('an explicit loggerStyle overrides detection', async () => {
    const lines: unknown[][] = [];
    const logger = { debug: (...args: unknown[]) => lines.push(args) };
    const cache = createCache({ logger, loggerStyle: 'pino' });
    await cache.get('k');
    expect(lines[0]).toEqual([expect.objectContaining({ key: 'k' }), 'Cache MISS']);
  });
});

describe('events', () => {
  it('emits hit, miss, set, delete, evict, invalidate, clear, load; off() stops delivery', async () => {
    const cache = createCache<number>({ name: 'ev', maxEntries: 1, policy: 'lru' });
    const seen: string[] = [];
    const record = (name: string) => (p: any) => seen.push(`${name}:${p.key ?? p.count ?? ''}`);
    const names = [
      'cache:hit',
      'cache:miss',
      'cache:set',
      'cache:delete',
      'cache:evict',
      'cache:clear',
    ] as const;
    const listeners = names.map((n) => [n, record(n)] as const);
    for (const [n, l] of listeners) cache.on(n, l as any);
    const loads = vi.fn();
    cache.on('cache:load', loads);
    await cache.getOrSet('a', () => 1);
    await cache.getOrSet('a', () => 1);
    await cache.set('b', 2);
    await cache.delete('b');
    await cache.clear();
    expect(seen).toEqual([
      'cache:miss:a',
      'cache:set:a',
      'cache:hit:a',
      'cache:evict:a',
      'cache:set:b',
      'cache:evict:b',
      'cache:delete:b',
      'cache:clear:',
    ]);
    expect(loads).toHaveBeenCalledWith({ cache: 'ev', key: 'a', durationMs: expect.any(Number), ok: true });
    for (const [n, l] of listeners) cache.off(n, l as any);
    await cache.get('a');
    expect(seen).toHaveLength(8);
  });

  it('a throwing listener does not break the operation', async () => {
    const cache = createCache<number>();
    cache.on('cache:miss', () => {
      throw new Error('listener bug');
    });
    await expect(cache.getOrSet('a', () => 1)).resolves.toBe(1);
  });
});

describe('close and namespaces', () => {
  it('close() on a namespace is a no-op; closing the root closes every namespace', async () => {
    const root = createCache<number>({ ttl: '1m' });
    const child = root.namespace('child');
    await child.set('a', 1);
    await child.close();
    expect(await child.get('a')).toBe(1);
    await root.close();
    expect(await child.get('a')).toBeUndefined();
    expect(await child.has('a')).toBe(false);
    expect(await child.delete('a')).toBe(false);
    await child.set('b', 2);
    expect(await root.warm([['c', 3]])).toBe(0);
    expect(child.health()).toEqual({ status: 'degraded', reason: 'closed' });
  });
});

describe('createCache options', () => {
  it.each([
    ['a misspelt option', { maxEntrys: 10 }, 'maxEntrys'],
    ["the bare engine's onEvict", { onEvict: () => undefined }, 'onEvict'],
    ['a per-call option', { forceFresh: true }, 'forceFresh'],
  ])('refuses %s with a TypeError naming it', (_what, options, key) => {
    expect(() => createCache(options as object)).toThrow(
      new TypeError(`createCache: unknown option ${JSON.stringify(key)}`),
    );
  });

  it.each([
    ['retry', { retry: { maxRetrys: 1 } }, 'retry: unknown option "maxRetrys"'],
    ['timeout', { timeout: { hrd: '1s' } }, 'timeout: unknown option "hrd"'],
    ['advisor', { advisor: { rates: 0.5 } }, 'advisor: unknown option "rates"'],
    [
      'adaptiveTtl.underLoad',
      { adaptiveTtl: { min: '1s', max: '1m', underLoad: { latncy: '1s' } } },
      'adaptiveTtl.underLoad: unknown option "latncy"',
    ],
    ['persist', { persist: { path: '/tmp/x.snap', intervl: '1m' } }, 'persist: unknown option "intervl"'],
    [
      'persist.warm',
      { persist: { path: '/tmp/x.snap', warm: { top: 10, concurency: 2 } } },
      'persist.warm: unknown option "concurency"',
    ],
  ])('refuses an unknown key inside %s, naming the option it is in', (_what, options, message) => {
    expect(() => createCache(options as object)).toThrow(new TypeError(message));
  });

  it('refuses an unknown key in a call or a configure, before anything changes', async () => {
    const cache = createCache<number>({ ttl: '1m' });
    await cache.set('a', 1);
    await expect(cache.set('a', 2, { tll: '5s' } as object)).rejects.toThrow(
      new TypeError('set: unknown option "tll"'),
    );
    await expect(cache.getOrSet('b', () => 2, { negativeTTL: '1s' } as object)).rejects.toThrow(
      new TypeError('getOrSet: unknown option "negativeTTL"'),
    );
    await expect(
      cache.getOrSetMany(['c'], () => [3], { retry: { maxRetries: 1, backof: 2 } } as object),
    ).rejects.toThrow(new TypeError('retry: unknown option "backof"'));
    await expect(cache.setMany([['d', 4, { tag: ['x'] } as object]])).rejects.toThrow(
      new TypeError('setMany: unknown option "tag"'),
    );
    expect(() => cache.configure({ tll: '5s' } as object)).toThrow(
      new TypeError('configure: unknown option "tll"'),
    );
    expect(await cache.get('a')).toBe(1);
    expect(await cache.has('b')).toBe(false);
    expect(await cache.has('c')).toBe(false);
    expect(await cache.has('d')).toBe(false);
    expect(await cache.ttlRemaining('a')).toBe(60_000);
    await cache.close();
  });

  it("names the manager's cache whose options hold an unknown key, and creates no cache", async () => {
    const { createCacheManager } = await import('../../src/cache/manager.js');
    const manager = createCacheManager({ caches: {} });
    expect(() => manager.create('users', { ttl: '1m', tll: '5m' } as object)).toThrow(
      'cache "users": createCache: unknown option "tll"',
    );
    expect(manager.has('users')).toBe(false);
    await manager.close();
    expect(() => createCacheManager({ cache: {} } as object)).toThrow(
      new TypeError('createCacheManager: unknown option "cache"'),
    );
  });
});
