// Hostile probes of key collisions: two logical keys that must never share one stored entry.
import { describe, expect, it } from 'vitest';
import { createCache } from '../../src/index.js';
import { memoize } from '../../src/cache/memoize.js';
import type { Cache } from '../../src/index.js';
import { MemoryBusHub } from '../../src/tiers/bus.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { memoryTier } from '../../src/tiers/redis-tier.js';

/** Two instances (caches named `c`) over one in-memory store and bus, on one manual clock. */
function instances() {
  const time = { now: 1_000_000 };
  const clock = (): number => time.now;
  const driver = new MemoryDriver({ clock });
  const hub = new MemoryBusHub();
  const make = (id: string): Cache<string> =>
    createCache<string>({
      name: 'c',
      ttl: '10s',
      clock,
      retry: false,
      l2: memoryTier({ driver, hub, instanceId: id, clock }),
    });
  return { a: make('A'), b: make('B'), time, driver };
}

describe('number and string keys across a shared tier', () => {
  it('keeps root keys 1 and "1" apart in L2: another instance reads each its own value', async () => {
    const { a, b } = instances();
    await a.set(1, 'number');
    await a.set('1', 'string');
    expect([await a.get(1), await a.get('1')]).toEqual(['number', 'string']);
    expect([await b.get(1), await b.get('1')]).toEqual(['number', 'string']);
    await Promise.all([a.close(), b.close()]);
  });

  it('keeps a root string key starting with U+E000 apart from the number it spells after the mark', async () => {
    const { a, b } = instances();
    await a.set(7, 'number');
    await a.set('\uE0007', 'marked string');
    expect([await b.get(7), await b.get('\uE0007'), await b.get('7')]).toEqual([
      'number',
      'marked string',
      undefined,
    ]);
    await Promise.all([a.close(), b.close()]);
  });

  it('deletes, patterns and namespace clears still reach marked keys on every instance and in L2', async () => {
    const { a, b } = instances();
    await a.set(1, 'n1');
    await a.set('1', 's1');
    await a.set(12, 'n12');
    await a.set('\uE000x', 'marked');
    await a.namespace('\uE000ns').set('k', 'in ns');
    expect([await b.get(1), await b.get('1'), await b.get(12), await b.get('\uE000x')]).toEqual([
      'n1',
      's1',
      'n12',
      'marked',
    ]);
    expect(await b.namespace('\uE000ns').get('k')).toBe('in ns');
    // A delete of the number key leaves the string key, here and on B (L1 and L2).
    await a.delete(1);
    expect([await b.get(1), await b.get('1')]).toEqual([undefined, 's1']);
    // A pattern matches String(key), as in L1: '1*' reaches the number 12 in L2 too.
    await a.invalidatePattern('1*');
    expect([await b.get(12), await b.get('1')]).toEqual([undefined, undefined]);
    expect(await a.get(12)).toBeUndefined();
    await a.invalidatePattern('\uE000x');
    expect(await b.get('\uE000x')).toBeUndefined();
    await a.namespace('\uE000ns').clear();
    expect(await b.namespace('\uE000ns').get('k')).toBeUndefined();
    await Promise.all([a.close(), b.close()]);
  });
});

describe('namespace keys across a shared tier', () => {
  it('keeps number and string keys of a namespace apart on another instance, and a nested namespace is a key prefix', async () => {
    const { a, b } = instances();
    await a.namespace('ns').set(1, 'number');
    await a.namespace('ns').set('1', 'string');
    expect([await b.namespace('ns').get(1), await b.namespace('ns').get('1')]).toEqual(['number', 'string']);
    // A root number key is not the namespace's: root 1 is neither 'ns:1' nor ns's 1.
    await a.set(1, 'root number');
    expect([await b.get(1), await b.get('ns:1'), await b.namespace('ns').get(1)]).toEqual([
      'root number',
      'string',
      'number',
    ]);
    await Promise.all([a.close(), b.close()]);
  });
});

describe('memoize default prefixes', () => {
  it('never number a second owner onto a prefix that an explicit prefix already uses', async () => {
    const cache = createCache<string>({ name: 'm' });
    const warnings: string[] = [];
    const quiet = (w: Error): void => void warnings.push(w.message);
    process.on('warning', quiet);
    try {
      const first = { getUser: async (id: number) => `first ${id}` };
      const second = { getUser: async (id: number) => `second ${id}` };
      const reports = memoize(async (id: number) => `report ${id}`, { cache, prefix: 'getUser#2' });
      const a = memoize(first.getUser, { cache }); // 'getUser'
      const b = memoize(second.getUser, { cache }); // the second 'getUser': numbered, but not 'getUser#2'
      expect([await reports(1), await a(1), await b(1)]).toEqual(['report 1', 'first 1', 'second 1']);
      expect(await reports(1)).toBe('report 1');
      // The other order: a numbered default prefix taken first, then an explicit prefix equal to it.
      const later = createCache<string>({ name: 'm2' });
      const c = memoize(first.getUser, { cache: later });
      const d = memoize(second.getUser, { cache: later }); // 'getUser#2'
      memoize(async (id: number) => `report ${id}`, { cache: later, prefix: 'getUser#2' });
      expect([await c(1), await d(1)]).toEqual(['first 1', 'second 1']);
      // Too late to renumber: it warns, as for an explicit prefix equal to a default name.
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(warnings.filter((w) => w.includes("prefix 'getUser#2' equals"))).toHaveLength(1);
      await later.close();
    } finally {
      process.off('warning', quiet);
    }
    await cache.close();
  });
});
