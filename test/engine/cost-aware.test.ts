// Cost-aware eviction (issue 15, seed 004): an entry's reload cost weighs in W-TinyLFU's admission and
// victim choice; equal costs (or none) must leave the policy exactly as it was.
import { describe, expect, it, vi } from 'vitest';
import { MemoryCache, engineInternals } from '../../src/engine/memory-cache.js';
import { MODE_WTINYLFU } from '../../src/engine/miniature.js';
import { createCache } from '../../src/cache/create-cache.js';
import { deferred } from '../helpers/deferred.js';
import { costBucket } from '../../src/engine/tinylfu.js';
import type { EvictionPolicy } from '../../src/engine/types.js';
import { seededRandom } from './helpers.js';

/**
 * Two keys of equal frequency ('cheap', 'dear'; each set three times, so neither is promoted past
 * probation), then a stream of newcomers each used a little more often than they were: plain
 * W-TinyLFU lets the newcomers displace both, cost-awareness keeps the expensive one. Returns which
 * survived.
 */
function duel(costs: { cheap?: number; dear?: number; others?: number }, dearFirst: boolean) {
  const cache = new MemoryCache<string, number>({ maxEntries: 100 });
  const setWith = (key: string, cost: number | undefined): void => {
    cache.set(key, 1, cost === undefined ? undefined : { cost });
  };
  const order = dearFirst ? (['dear', 'cheap'] as const) : (['cheap', 'dear'] as const);
  for (const key of order) for (let i = 0; i < 3; i++) setWith(key, costs[key]);
  for (let i = 0; i < 1_000; i++) {
    const key = `new:${i}`;
    setWith(key, costs.others);
    for (let r = 0; r < 3; r++) cache.get(key);
  }
  return { cheap: cache.has('cheap'), dear: cache.has('dear') };
}

/** Replays a seeded skewed stream (get, set on a miss) and returns every eviction in order. */
function evictions(policy: EvictionPolicy, costOf: (key: number) => number | undefined, maxBytes?: number) {
  const log: number[] = [];
  const cache = new MemoryCache<number, number>({
    ...(maxBytes === undefined ? { maxEntries: 200 } : { maxBytes, sizeOf: (v: number) => 1 + (v % 7) }),
    policy,
    onEvict: (key, _value, reason) => {
      if (reason === 'capacity') log.push(key);
    },
  });
  const random = seededRandom(17);
  for (let i = 0; i < 30_000; i++) {
    // Roughly Zipf-like: small keys far more often than large ones.
    const key = Math.floor(2_000 * random() ** 3);
    if (cache.get(key) === undefined) {
      const cost = costOf(key);
      cache.set(key, key, cost === undefined ? undefined : { cost });
    }
  }
  return { log, kept: cache.hottest().map((e) => e.key) };
}

describe('cost-aware W-TinyLFU', () => {
  it('keeps the expensive key over a cheap one of equal frequency, whichever came first', () => {
    for (const dearFirst of [true, false]) {
      expect(duel({ cheap: 1, dear: 1_000, others: 1 }, dearFirst)).toEqual({ cheap: false, dear: true });
    }
  });

  it('without costs, or with equal ones, the same stream evicts both keys (cost decided above)', () => {
    expect(duel({}, true)).toEqual({ cheap: false, dear: false });
    expect(duel({ cheap: 1_000, dear: 1_000, others: 1_000 }, true)).toEqual({ cheap: false, dear: false });
  });

  it('chooses the cheap victim among the oldest probation entries', () => {
    // 'dear' is older than 'cheap' at probation's tail; the cheaper one leaves first.
    const cache = new MemoryCache<string, number>({ maxEntries: 100 });
    cache.set('dear', 1, { cost: 5_000 });
    cache.set('cheap', 1, { cost: 2 });
    for (let i = 0; i < 99; i++) cache.set(`fill:${i}`, 1, { cost: 5_000 });
    expect(cache.has('dear')).toBe(true);
    expect(cache.has('cheap')).toBe(false);
  });

  it('with equal costs on every entry evicts exactly as with no costs (entries and bytes)', () => {
    for (const maxBytes of [undefined, 600]) {
      const plain = evictions('tinylfu', () => undefined, maxBytes);
      expect(plain.log.length).toBeGreaterThan(1_000);
      for (const cost of [0, 0.5, 7, 1e6]) expect(evictions('tinylfu', () => cost, maxBytes)).toEqual(plain);
      // Control: costs that differ do change the order, so the comparison above means something.
      const mixed = evictions('tinylfu', (key) => (key % 3 === 0 ? 1_000 : 1), maxBytes);
      expect(mixed.log).not.toEqual(plain.log);
    }
  });

  it('saves reload cost on a stream where a few keys are expensive', () => {
    // Costs weigh in W-TinyLFU only (the ARC and S3-FIFO modes ignore them), and on this stream the
    // tuner runs S3-FIFO mode for its last 15 %: so the policy itself is measured pinned to W-TinyLFU,
    // and the tuned cache must still save.
    const total = (withCosts: boolean, pinned: boolean): number => {
      const cache = new MemoryCache<number, number>({ maxEntries: 200 });
      if (pinned) cache[engineInternals]().pinMode(MODE_WTINYLFU);
      const random = seededRandom(3);
      let spent = 0;
      for (let i = 0; i < 50_000; i++) {
        const key = Math.floor(3_000 * random() ** 2);
        const cost = key % 10 === 0 ? 500 : 1;
        if (cache.get(key) === undefined) {
          spent += cost;
          cache.set(key, key, withCosts ? { cost } : undefined);
        }
      }
      return spent;
    };
    expect(total(true, true)).toBeLessThan(0.9 * total(false, true));
    expect(total(true, false)).toBeLessThan(0.95 * total(false, false));
  });

  it('lru ignores costs', () => {
    const plain = evictions('lru', () => undefined);
    expect(evictions('lru', (key) => (key % 3 === 0 ? 1_000 : 1))).toEqual(plain);
  });

  it('buckets costs by log2', () => {
    expect([0, 0.99, 1, 1.5, 2, 3, 4, 1_000, 2 ** 29, 2 ** 30, 1e300].map(costBucket)).toEqual([
      0, 0, 1, 1, 2, 2, 3, 10, 30, 31, 31,
    ]);
  });

  it('refuses a cost that is not a finite number >= 0, naming it', () => {
    const cache = new MemoryCache<string, number>({ maxEntries: 10 });
    for (const bad of [-1, Number.NaN, Infinity, -Infinity]) {
      expect(() => cache.set('k', 1, { cost: bad })).toThrow(RangeError);
      expect(() => cache.set('k', 1, { cost: bad })).toThrow(/cost/);
    }
    expect(() => cache.set('k', 1, { cost: '5' as unknown as number })).toThrow(TypeError);
    expect(cache.has('k')).toBe(false);
  });
});

describe('read-through loads', () => {
  it("store the loader's measured duration as the entry's cost in L1", async () => {
    vi.useFakeTimers({ toFake: ['performance', 'setTimeout', 'clearTimeout'] });
    const set = vi.spyOn(MemoryCache.prototype, 'set');
    try {
      const cache = createCache<string>({ ttl: '1m' });
      const gate = deferred<string>();
      const loading = cache.getOrSet('slow', () => gate.promise);
      await vi.advanceTimersByTimeAsync(250);
      gate.resolve('v');
      expect(await loading).toBe('v');
      const options = set.mock.calls.map((call) => call[2]).find((o) => o?.cost !== undefined);
      expect(options?.cost).toBeGreaterThanOrEqual(250);
      expect(options?.cost).toBeLessThan(260);
      await cache.close();
    } finally {
      set.mockRestore();
      vi.useRealTimers();
    }
  });
});
