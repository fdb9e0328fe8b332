// A restart never resurrects invalidated data: with a shared tier, entries restored from a snapshot
// are served only once L2 confirms them (same write, tags not invalidated since). Two caches over one
// real redis-server: what A deletes, overwrites or tag-invalidates while B is down is never served by
// B after it restarts from its snapshot. Also measures what the check costs for 10k restored entries.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import { MemoryBusHub } from '../../src/tiers/bus.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { memoryTier, redisTier } from '../../src/tiers/redis-tier.js';
import { SharedTier } from '../../src/tiers/shared-tier.js';
import { ChaosDriver } from '../tiers/chaos-driver.js';
import { RedisServer } from '../helpers/redis-server.js';
import { describeWithRedis } from '../tiers/describe-with-redis.js';

describeWithRedis('restored entries are validated against the shared tier (real redis-server)', () => {
  let server: RedisServer;
  let dir: string;
  const tier = (instanceId: string) =>
    redisTier({ url: server.url, prefix: 'rv:', instanceId, timeout: 2000 });

  beforeAll(async () => {
    server = await RedisServer.start();
    dir = mkdtempSync(join(tmpdir(), 'larder-restore-'));
  });
  afterAll(async () => {
    await server.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('B restarted from its snapshot serves none of the values A deleted, overwrote or tag-invalidated meanwhile', async () => {
    const persist = { path: join(dir, 'b.snap') };
    const a = createCache<string>({ name: 'items', l2: tier('A') });
    const b1 = createCache<string>({ name: 'items', l2: tier('B'), persist });
    await b1.set('deleted', 'old-d');
    await b1.set('overwritten', 'old-o');
    await b1.set('tagged', 'old-t', { tags: ['org:1'] });
    await b1.set('untouched', 'same', { tags: ['org:2'] });
    await b1.close(); // snapshot holds all four

    await a.delete('deleted');
    await a.set('overwritten', 'new-o');
    await a.invalidateTags(['org:1']);

    const b2 = createCache<string>({ name: 'items', l2: tier('B'), persist });
    // Asked at once, before the check has finished, and again after it.
    expect(await b2.get('deleted')).toBeUndefined();
    expect(await b2.get('overwritten')).toBe('new-o');
    expect(await b2.get('tagged')).toBeUndefined();
    await vi.waitFor(() => expect(b2.entries().map((e) => e.key)).toContain('untouched'));
    expect(await b2.get('deleted')).toBeUndefined();
    expect(await b2.get('overwritten')).toBe('new-o');
    expect(await b2.get('tagged')).toBeUndefined();
    expect(await b2.get('untouched')).toBe('same');
    expect(b2.entries().map((e) => e.key)).not.toContain('tagged');
    await Promise.all([a.close(), b2.close()]);
  });

  it('a write that reaches a restored key before the check ends wins over the restored entry', async () => {
    const persist = { path: join(dir, 'race.snap') };
    const b1 = createCache<string>({ name: 'race', l2: tier('B'), persist });
    await b1.set('k', 'restored');
    await b1.close();
    const b2 = createCache<string>({ name: 'race', l2: tier('B'), persist });
    await b2.set('k', 'newer'); // issued before the batched check could answer
    await vi.waitFor(() => expect(b2.entries().map((e) => e.key)).toContain('k'));
    expect(await b2.get('k')).toBe('newer');
    await b2.close();
  });

  it('validating 10k restored entries takes a few batched round trips (figure printed)', async () => {
    const persist = { path: join(dir, 'big.snap') };
    const n = 10_000;
    const b1 = createCache<string>({ name: 'big', l2: tier('B'), persist, maxEntries: 20_000 });
    const tags = (i: number) => [`group:${i % 100}`];
    await vi.waitFor(() => expect(b1.health().bus?.status).toBe('ok'));
    // In slices: 10k writes at once can starve the bus's health check into a resync (clears L1).
    for (let from = 0; from < n; from += 500) {
      const slice = Array.from({ length: 500 }, (_, i) => from + i);
      await Promise.all(slice.map((i) => b1.set(`key:${i}`, `value-${i}`, { tags: tags(i) })));
    }
    expect(b1.entries()).toHaveLength(n);
    await b1.close();
    const logger = { error: vi.fn(), warn: vi.fn(), info: vi.fn(), debug: vi.fn() };
    const started = performance.now();
    const b2 = createCache<string>({ name: 'big', l2: tier('B'), persist, maxEntries: 20_000, logger });
    const created = performance.now() - started;
    await vi.waitFor(() => expect(b2.entries()).toHaveLength(n), { timeout: 10_000 });
    const total = performance.now() - started;
    const line = logger.info.mock.calls.find(([message]) => message === 'L2 validated restored entries');
    const fields = line?.[1] as { kept: number; dropped: number; durationMs: number };
    expect(fields).toMatchObject({ kept: n, dropped: 0 });
    console.log(
      `restore validation: ${n} entries, check ${fields.durationMs} ms (createCache ${created.toFixed(0)} ms, ` +
        `all served from L1 after ${total.toFixed(0)} ms)`,
    );
    await b2.close();
  });
});

describe('restored entries and invalidations that arrive while L2 is checking them', () => {
  /** Reads the shared store at once, but answers batched reads only once `open()` is called. */
  class GatedAnswers extends ChaosDriver {
    readonly #gate: Promise<void>;
    open!: () => void;
    constructor(inner: MemoryDriver) {
      super(inner);
      this.#gate = new Promise((resolve) => (this.open = resolve));
    }
    override async getMany(keys: readonly string[]) {
      const answer = await super.getMany(keys);
      await this.#gate;
      return answer;
    }
  }

  it('a delete heard on the bus after L2 answered, before the entry was served, still wins', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'larder-restore-race-'));
    const persist = { path: join(dir, 'b.snap') };
    const store = new MemoryDriver();
    const hub = new MemoryBusHub();
    const a = createCache<string>({ name: 'r', l2: memoryTier({ driver: store, hub, instanceId: 'A' }) });
    const b1 = createCache<string>({
      name: 'r',
      l2: memoryTier({ driver: store, hub, instanceId: 'B' }),
      persist,
    });
    await b1.set('gone', 'old');
    await b1.set('kept', 'same');
    await b1.close();

    const gated = new GatedAnswers(store);
    const b2 = createCache<string>({
      name: 'r',
      l2: new SharedTier({ driver: gated, bus: hub.connect('B'), publishInOrder: true }),
      persist,
    });
    expect(b2.entries()).toHaveLength(0); // held until L2 vouches for them
    await a.delete('gone'); // L2 has already answered "present" for it; the bus tells B now
    gated.open();
    await vi.waitFor(() => expect(b2.entries().map((e) => e.key)).toEqual(['kept']));
    expect(await b2.get('gone')).toBeUndefined();
    await Promise.all([a.close(), b2.close()]);
    rmSync(dir, { recursive: true, force: true });
  });
});
