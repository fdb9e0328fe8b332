// Hostile probes of the sizing advisor and adaptive sizing around run-time resizes: configure() moving
// the bound under the advisor, and the advice that follows.
import { describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import { MAX_EVICTIONS_PER_STEP } from '../../src/cache/advise.js';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A cache of 1,000 entries with the advisor on, after a loop of reads over all of them. */
async function advised(autoSize: boolean) {
  const cache = createCache<string>({
    maxEntries: 1000,
    cleanupInterval: 0,
    ...(autoSize ? { autoSize: { min: 50, max: 4000, memoryBudget: 1e9 } } : { advisor: true }),
  });
  for (let i = 0; i < 1000; i++) await cache.set(`k${i}`, 'v');
  for (let i = 0; i < 3000; i++) await cache.get(`k${i % 1000}`);
  return cache;
}

describe('configure({ maxEntries }) re-centres the sizing advisor', () => {
  it.each([false, true])('advise() describes the new bound at once (autoSize: %s)', async (autoSize) => {
    const cache = await advised(autoSize);
    expect(cache.advise()!.current.capacity).toBe(1000);
    cache.configure({ maxEntries: 100 });
    const advice = cache.advise()!;
    // Not the 1,000 entries the cache no longer has, nor a curve (and a recommendation) around them.
    expect(advice.current.capacity).toBe(100);
    expect(advice.curve.map((p) => p.capacity)).toEqual([25, 50, 100, 200, 400]);
    // The model starts over at the new size, so it does not advise from the old one's traffic.
    expect(advice.sampledRequests).toBe(0);
    expect(advice.recommendation).toMatch(/^Not enough traffic/);
    await cache.close();
  });

  it('a refused bound leaves the advisor where it was', async () => {
    const cache = await advised(true);
    expect(() => cache.configure({ maxEntries: 10 })).toThrow(RangeError);
    expect(() => cache.configure({ maxEntries: 100, maxBytes: 5000 })).toThrow(/maxBytes/);
    expect(cache.advise()!.current.capacity).toBe(1000);
    expect(cache.stats().maxEntries).toBe(1000);
    await cache.close();
  });
});

describe('configure({ maxEntries }) under hostile input', () => {
  it('checks against autoSize the same bound it applies (a getter cannot answer twice)', async () => {
    const cache = createCache<string>({
      maxEntries: 100,
      autoSize: { min: 50, max: 200, memoryBudget: 1e9 },
      cleanupInterval: 0,
    });
    for (let i = 0; i < 100; i++) await cache.set(`k${i}`, 'v');
    // 100 for the autoSize check, 5 for the resize: the bound below min must not get through.
    const answers = [100, 5];
    let reads = 0;
    const update = {
      get maxEntries(): number {
        return answers[Math.min(reads++, answers.length - 1)]!;
      },
    };
    cache.configure(update);
    expect(cache.stats()).toMatchObject({ maxEntries: 100, size: 100 });
    await cache.close();
  });
});

describe('configure() during a stepped autoSize shrink', () => {
  it('keeps a bound set to the step the shrink is at (an operator pinning the current size)', async () => {
    const entries = 2 * MAX_EVICTIONS_PER_STEP + 5_000;
    const cache = createCache<string>({
      maxEntries: entries,
      autoSize: { min: 1_000, max: entries, memoryBudget: 1 },
      sizeOf: () => 1_000,
      cleanupInterval: 0,
    });
    for (let i = 0; i < entries; i++) await cache.set(`k${i}`, 'v');
    for (let i = 0; cache.stats().maxEntries === entries; i++) await cache.get(`k${i % entries}`);
    const pinned = cache.stats().maxEntries!;
    expect(pinned).toBe(entries - MAX_EVICTIONS_PER_STEP);
    cache.configure({ maxEntries: pinned });
    await nextTurn();
    await nextTurn();
    await nextTurn();
    expect(cache.stats()).toMatchObject({ maxEntries: pinned, size: pinned });
    expect(cache.advise()!.current.capacity).toBe(pinned);
    await cache.close();
  });
});

describe('configure() from a cache:evict listener', () => {
  it('leaves the advisor on the bound the cache ends with', async () => {
    const cache = createCache<string>({ maxEntries: 1000, advisor: true, cleanupInterval: 0 });
    for (let i = 0; i < 1000; i++) await cache.set(`k${i}`, 'v');
    let nested = false;
    cache.on('cache:evict', () => {
      if (nested) return;
      nested = true;
      // The shrink to 100 is under way: this bound is the one the cache ends with.
      cache.configure({ maxEntries: 400 });
    });
    cache.configure({ maxEntries: 100 });
    expect(cache.stats().maxEntries).toBe(400);
    expect(cache.advise()!.current.capacity).toBe(400);
    await cache.close();
  });
});

describe('autoSize with a value that cannot be measured', () => {
  it("never makes a request throw when the advisor's period ends inside it", async () => {
    const cache = createCache<unknown>({
      maxEntries: 200,
      autoSize: { min: 100, max: 800, memoryBudget: 1e9 },
      cleanupInterval: 0,
    });
    const hostile = {
      get boom(): string {
        throw new Error('getter');
      },
    };
    await cache.set('hostile', hostile);
    let failures = 0;
    for (let i = 0; i < 6000; i++) {
      try {
        await cache.get('hostile');
        const key = `k${i % 600}`;
        if ((await cache.get(key)) === undefined) await cache.set(key, 'v');
      } catch {
        failures++;
      }
    }
    expect(failures).toBe(0);
    expect(() => cache.stats()).not.toThrow();
    await cache.close();
  });
});
