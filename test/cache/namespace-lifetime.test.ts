// A namespace view nothing holds any more is garbage: per-tenant or per-user namespaces
// (`cache.namespace(tenantId)`) must not keep one view per name ever used. While a view is held it is
// the same object on every call, and the state only a view carries (settings it was configured with,
// memoize's prefix claims, loads in flight) is not lost with it.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import { memoize } from '../../src/cache/memoize.js';
import type { Cache } from '../../src/cache/types.js';

/** Runs a full garbage collection (the flag is set for this process at run time). */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/**
 * Collects a few times, letting the current job end between rounds (a WeakRef keeps its target alive
 * until then, and FinalizationRegistry callbacks run as tasks of their own), until `done()`.
 */
async function collect(done: () => boolean = () => false, rounds = 6): Promise<void> {
  const gc = collector();
  for (let i = 0; i < rounds && !done(); i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Counts which registered objects were collected. */
function watcher() {
  const collected = new Set<string>();
  const registry = new FinalizationRegistry<string>((label) => collected.add(label));
  return { collected, watch: (target: object, label: string) => registry.register(target, label) };
}

// memoize warns (next tick) when two functions of one name memoize into one cache; kept off the output.
let warnings: string[];
const onWarning = (w: Error) => warnings.push(w.message);
beforeEach(() => {
  warnings = [];
  process.on('warning', onWarning);
});
afterEach(() => {
  process.off('warning', onWarning);
});

describe('namespace views nothing holds', () => {
  it('are collected: 10,000 per-tenant namespaces used once and dropped', async () => {
    const cache = createCache<string>();
    const { collected, watch } = watcher();
    const N = 10_000;
    // In a function of its own, so no reference to a view outlives it.
    const useEach = async () => {
      for (let i = 0; i < N; i++) {
        const tenant = cache.namespace(`tenant-${i}`);
        watch(tenant, `tenant-${i}`);
        await tenant.get('settings');
      }
    };
    await useEach();
    await collect(() => collected.size === N);
    expect(collected.size).toBe(N);
  });

  it('leave no memory behind per name once collected (20,000 names)', async () => {
    const cache = createCache<string>();
    const N = 20_000;
    const heap = () => process.memoryUsage().heapUsed;
    await collect();
    const before = heap();
    const useEach = () => {
      for (let i = 0; i < N; i++) cache.namespace(`user-${i}`);
    };
    useEach();
    // Enough rounds for the views to go and for what remembered their names to be cleaned up after them.
    await collect(undefined, 8);
    const perName = (heap() - before) / N;
    // Held for ever, each view cost about 1.4 KB; gone, nothing of it should be left (noise is < 50 B/name).
    expect(perName).toBeLessThan(100);
    expect(cache.namespace('user-1').name).toBe('default:user-1');
  });
});

describe('namespace views while they matter', () => {
  it('are the same object on every call while held, nested ones too', async () => {
    const cache = createCache<string>();
    const a = cache.namespace('a');
    const b = a.namespace('b');
    // Only the nested view is held: its parent must stay the same object as long as it is.
    const d = cache.namespace('c').namespace('d');
    await collect();
    expect(cache.namespace('a')).toBe(a);
    expect(cache.namespace('a').namespace('b')).toBe(b);
    expect(cache.namespace('c').namespace('d')).toBe(d);
  });

  it('keep the settings a namespace was configured with after every reference to it is dropped', async () => {
    const cache = createCache<string>({ ttl: '1h' });
    cache.namespace('short').configure({ ttl: 5_000 });
    cache.namespace('outer').namespace('off').configure({ enabled: false });
    await collect();
    expect(cache.namespace('short').ttl).toBe(5_000);
    expect(cache.namespace('outer').namespace('off').enabled).toBe(false);
    await cache.namespace('outer').namespace('off').set('k', 'v');
    expect(await cache.get('outer:off:k')).toBeUndefined();
  });

  it('reach the entries written through an earlier view of the same name (get, clear, invalidateTags)', async () => {
    const cache = createCache<string>();
    const write = async () => {
      const tenant = cache.namespace('t1');
      await tenant.set('a', 'A', { tags: ['plan'] });
      await tenant.set('b', 'B');
      await cache.namespace('t2').set('a', 'other tenant');
    };
    await write();
    await collect();
    expect(await cache.namespace('t1').get('a')).toBe('A');
    expect(await cache.namespace('t1').invalidateTags(['plan'])).toBe(1);
    expect(await cache.namespace('t1').get('a')).toBeUndefined();
    await cache.namespace('t1').clear();
    expect(await cache.namespace('t1').get('b')).toBeUndefined();
    expect(await cache.namespace('t2').get('a')).toBe('other tenant');
  });

  it("keep memoize's prefix claims: a second function of one name is still numbered apart", async () => {
    const cache = createCache<string>();
    const first = { load: async (id: number) => `first ${id}` }.load;
    const second = { load: async (id: number) => `second ${id}` }.load;
    const callOnce = async (fn: (id: number) => Promise<string>) =>
      memoize(fn, { cache: cache.namespace('m') as Cache<string> })(1);
    expect(await callOnce(first)).toBe('first 1');
    // The memoized function (which held the view) is gone, the two functions are not.
    await collect();
    expect(await callOnce(second)).toBe('second 1');
    expect(await callOnce(first)).toBe('first 1');
  });

  it('are not collected while a load of theirs is in flight', async () => {
    const cache = createCache<string>();
    const { collected, watch } = watcher();
    let release!: (value: string) => void;
    const start = () => {
      const busy = cache.namespace('busy');
      watch(busy, 'busy');
      return busy.getOrSet('k', () => new Promise<string>((resolve) => (release = resolve)));
    };
    const pending = start();
    await collect();
    expect(collected.has('busy')).toBe(false);
    release('loaded');
    expect(await pending).toBe('loaded');
    await collect(() => collected.has('busy'));
    expect(collected.has('busy')).toBe(true);
    expect(await cache.namespace('busy').get('k')).toBe('loaded');
  });
});
