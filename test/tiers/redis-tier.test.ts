// redisTier against a real redis-server started here: cross-instance invalidation over pub/sub,
// Redis killed and restarted (no call fails, the bus resyncs, missed invalidations are replayed),
// and Redis down at startup (no hang, fast failure after the first second, recovery without restart).
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { redisTier } from '../../src/tiers/redis-tier.js';
import type { SharedTier } from '../../src/tiers/shared-tier.js';
import type { RemoteInvalidation, TierEntry } from '../../src/tiers/types.js';
import { manualClock } from '../helpers/clock.js';
import { deferred } from '../helpers/deferred.js';
import { RedisServer, freePort, redisCli } from '../helpers/redis-server.js';
import { describeWithRedis } from './describe-with-redis.js';
import { holdsEntry } from './stored.js';

/** An entry written now (by `now`, default real time), live for a minute. */
const entry = <V>(value: V, tags: string[] = [], now = Date.now()): TierEntry<V> => {
  return { value, createdAt: now, staleAt: now + 60_000, expiresAt: now + 60_000, tags };
};

const fast = { timeout: 100, breaker: { threshold: 2, resetAfter: 100 }, reconnectMaxDelay: 100 } as const;
// For tests that are not about outages: on a loaded machine a 100 ms call may time out, and a timed-out
// PUBLISH is replayed (heard twice) or a lock taken late (loaded twice).
const patient = { timeout: 2000 } as const;

describeWithRedis('redisTier (standalone redis-server)', () => {
  let server: RedisServer;
  const tiers: SharedTier[] = [];
  const open = (options: Partial<Parameters<typeof redisTier>[0]> = {}): SharedTier => {
    const tier = redisTier({ url: server.url, prefix: 'it:', ...fast, ...options });
    tiers.push(tier);
    return tier;
  };

  beforeAll(async () => {
    // An fsync'ed append-only file keeps what was written across a SIGKILL, so a restarted server
    // still holds values written before the outage (as a Redis with persistence would).
    server = await RedisServer.start({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
  });
  afterAll(async () => {
    await Promise.all(tiers.map((tier) => tier.close()));
    await server.destroy();
  });

  it('carries every kind of invalidation to the other instance, never back to the sender', async () => {
    const a = open({ instanceId: 'A', ...patient }).bind('plans');
    const b = open({ instanceId: 'B', ...patient }).bind('plans');
    const heardA: RemoteInvalidation[] = [];
    const heardB: RemoteInvalidation[] = [];
    a.onRemote((e) => heardA.push(e));
    b.onRemote((e) => heardB.push(e));
    await vi.waitFor(() => expect(a.health().bus?.status).toBe('ok'));
    await vi.waitFor(() => expect(b.health().bus?.status).toBe('ok'));
    await a.set('p1', entry({ id: 1 }));
    await a.delete('p1');
    await a.invalidateTags(['org:acme']);
    await a.invalidatePattern('plans_list_acme_*');
    await a.invalidatePrefix('images:');
    await a.clear();
    await vi.waitFor(() => expect(heardB).toHaveLength(6));
    expect(heardB.map((e) => e.kind)).toEqual(['set', 'delete', 'tags', 'pattern', 'prefix', 'clear']);
    expect(heardA).toEqual([]);
  });

  it('sends key invalidations made in the same tick as one PUBLISH; awaited ones one by one', async () => {
    const a = open({ instanceId: 'A', timeout: 2000 }).bind('batched');
    const b = open({ instanceId: 'B', timeout: 2000 }).bind('batched');
    const heard: RemoteInvalidation[] = [];
    b.onRemote((e) => heard.push(e));
    await vi.waitFor(() => expect(b.health().bus?.status).toBe('ok'));
    const published = async (): Promise<number> => {
      const info = await redisCli(['-p', String(server.port), 'INFO', 'commandstats']);
      return Number(/cmdstat_publish:calls=(\d+)/.exec(info)?.[1] ?? 0);
    };
    const before = await published();
    await Promise.all(['k1', 'k2', 'k3'].map((key) => a.set(key, entry(key))));
    expect((await published()) - before).toBe(1);
    await vi.waitFor(() => expect(heard).toEqual([{ kind: 'set', keys: ['k1', 'k2', 'k3'] }]));
    await a.delete('k1');
    await a.delete('k2');
    await vi.waitFor(() =>
      expect(heard.slice(1)).toEqual([
        { kind: 'delete', keys: ['k1'] },
        { kind: 'delete', keys: ['k2'] },
      ]),
    );
  });

  it('B reads what A wrote, with types intact, and stops seeing it after A invalidates its tag', async () => {
    // One manual clock for both instances, so the invalidation is later than the write by construction.
    const clock = manualClock(Date.now());
    const a = open({ clock: clock.now }).bind('shared');
    const b = open({ clock: clock.now }).bind('shared');
    const value = { at: new Date(7), m: new Map([[1, 2n]]), buf: Buffer.from('x') };
    await a.set('k', entry(value, ['t1'], clock.now()));
    const got = await b.get('k');
    expect(got?.value).toEqual({ at: new Date(7), m: new Map([[1, 2n]]), buf: Buffer.from('x') });
    clock.advance(1);
    await a.invalidateTags(['t1']);
    await vi.waitFor(async () => expect(await b.get('k')).toBeUndefined());
  });

  it('survives Redis being killed: no call throws, the bus resyncs on restart, missed deletes are replayed', async () => {
    const tierA = open({ instanceId: 'A' });
    const a = tierA.bind('chaos');
    const b = open({ instanceId: 'B' }).bind('chaos');
    const heardB: RemoteInvalidation[] = [];
    b.onRemote((e) => heardB.push(e));
    await vi.waitFor(() => expect(b.health().bus?.status).toBe('ok'));
    await a.set('k', entry('v1'));
    await server.kill();
    const started = Date.now();
    for (let i = 0; i < 20; i++) expect(await a.get('k')).toBeUndefined();
    await a.delete('k'); // missed by L2 and the bus: kept for replay
    expect(Date.now() - started).toBeLessThan(3000);
    expect(a.health().l2.status).not.toBe('ok');
    expect(a.health().l2.pending).toBe(1);
    await vi.waitFor(() => expect(b.health().bus?.status).toBe('down'));
    // The append-only file brings v1 back with the server: only the replayed delete can remove it.
    await server.restart();
    await vi.waitFor(() => expect(heardB).toContainEqual({ kind: 'resync' }), { timeout: 5000 });
    await vi.waitFor(async () => expect(a.health().l2.pending).toBe(0), { timeout: 5000 });
    await vi.waitFor(async () => {
      expect(await b.get('k')).toBeUndefined();
      expect(b.health().l2.status).toBe('ok');
    });
    const cli = (...args: string[]): Promise<string> => redisCli(['-p', String(server.port), ...args]);
    expect(await holdsEntry(cli, 'it:e:chaos:k')).toBe(false);
    expect(tierA.health().bus?.status).toBe('ok');
  });

  it('with Redis down at startup: waits about a second, then fails fast; recovers when Redis appears', async () => {
    const port = await freePort();
    const tier = redisTier({
      url: `redis://127.0.0.1:${port}`,
      prefix: 'late:',
      ...fast,
      connectTimeout: 300,
    });
    tiers.push(tier);
    const binding = tier.bind('c');
    const events: RemoteInvalidation[] = [];
    binding.onRemote((e) => events.push(e));
    let started = Date.now();
    expect(await binding.get('k')).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(3000);
    started = Date.now();
    for (let i = 0; i < 10; i++) await binding.get('k');
    expect(Date.now() - started).toBeLessThan(1000);
    const late = await RedisServer.start({ port });
    try {
      await vi.waitFor(
        async () => {
          await binding.set('k', entry('v'));
          expect((await binding.get('k'))?.value).toBe('v');
        },
        { timeout: 5000, interval: 50 },
      );
      // The bus subscribed only now: the instance was deaf until then, so it resyncs.
      await vi.waitFor(() => expect(events).toContainEqual({ kind: 'resync' }), { timeout: 5000 });
    } finally {
      await tier.close();
      await late.destroy();
    }
  });

  it('tag timestamps expire after tagRetention (24h by default), or as late as a longer-lived tagged entry', async () => {
    const clock = manualClock(Date.now());
    const a = open({ tagRetention: '10m', clock: clock.now }).bind('retained');
    const byDefault = open({ clock: clock.now }).bind('retained');
    const now = clock.now();
    const long = { value: 'l', createdAt: now, staleAt: now + 3_600_000, expiresAt: now + 7_200_000 };
    await a.set('short', entry('s', ['user:1'], now));
    await a.set('long', { ...long, tags: ['user:2'] });
    clock.advance(1); // the invalidation comes after the writes
    await a.invalidateTags(['user:1', 'user:2']);
    await byDefault.invalidateTags(['user:3']);
    const pttl = async (key: string): Promise<number> =>
      Number(await redisCli(['-p', String(server.port), 'PTTL', `it:${key}`]));
    const short = await pttl('t:{retained}:user:1');
    expect(short).toBeGreaterThan(0);
    expect(short).toBeLessThanOrEqual(600_000);
    const entryLeft = await pttl('e:retained:long');
    const held = await pttl('t:{retained}:user:2');
    expect(held).toBeGreaterThanOrEqual(entryLeft); // the timestamp outlives the entry it hides
    expect(held).toBeLessThanOrEqual(7_200_000 + 1000);
    const standard = await pttl('t:{retained}:user:3');
    expect(standard).toBeGreaterThan(23 * 3_600_000);
    expect(standard).toBeLessThanOrEqual(24 * 3_600_000);
    expect(await a.get('long')).toBeUndefined();
  });

  it('the distributed lock makes instances load a key once', async () => {
    const tiers = [1, 2, 3].map(() => open({ lock: true, ...patient }));
    const tries = tiers.map((tier) => vi.spyOn(tier.driver.inner, 'add'));
    const bindings = tiers.map((tier) => tier.bind('locked'));
    const finish = deferred();
    let loads = 0;
    const loading = Promise.all(
      bindings.map((binding) =>
        binding.lockedLoad('k', async () => {
          loads++;
          await finish.promise;
          return entry('once');
        }),
      ),
    );
    // The load finishes only once every instance has tried the lock, so two are waiting on it.
    await vi.waitFor(() => tries.forEach((add) => expect(add).toHaveBeenCalled()), { timeout: 5000 });
    finish.resolve();
    const results = await loading;
    expect(loads).toBe(1);
    expect(results.map((r) => r.entry?.value)).toEqual(['once', 'once', 'once']);
  });

  it('close() releases its connections', async () => {
    const tier = redisTier({ url: server.url, prefix: 'close:' });
    const binding = tier.bind('c');
    await vi.waitFor(() => expect(binding.health().bus?.status).toBe('ok'));
    await binding.close();
    expect(tier.health().l2.status).toBe('down');
    expect(tier.health().bus?.status).toBe('down');
  });

  it('rejects bad options before opening a connection', () => {
    expect(() => redisTier({ url: server.url, timeout: 'never' })).toThrow(/timeout/);
    expect(() => redisTier({ url: server.url, bus: 'yes' as unknown as boolean })).toThrow(
      /bus must be a boolean/,
    );
    expect(() => redisTier({ url: server.url, breaker: { threshold: -1 } })).toThrow(/breaker\.threshold/);
  });
});
