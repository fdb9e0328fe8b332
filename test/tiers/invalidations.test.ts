// The invalidation table's edges: the L2 key layout (stored data depends on it), the bus wire format of
// a prefix invalidation (sent as `prefix`, the legacy `namespace-clear` still understood on receive,
// for rolling upgrades), and how each bus message reads as an invalidation.
import { describe, expect, it, vi } from 'vitest';
import { MemoryBusHub, busMessageProblem, decodeBusMessage, encodeBusMessage } from '../../src/tiers/bus.js';
import type { BusMessage } from '../../src/tiers/bus.js';
import { fromBusMessage } from '../../src/tiers/invalidations.js';
import { cachePrefix, entryKey, fenceKey, lockKey, tagKey } from '../../src/tiers/keys.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { memoryTier } from '../../src/tiers/redis-tier.js';
import type { RemoteInvalidation } from '../../src/tiers/types.js';

describe('the L2 key layout', () => {
  it('is the one earlier releases wrote (entries, tags, fences, locks)', () => {
    expect(entryKey('plans', 'p:1')).toBe('e:plans:p:1');
    expect(cachePrefix('plans')).toBe('e:plans:');
    expect(tagKey('plans', 'org:acme')).toBe('t:{plans}:org:acme');
    expect(fenceKey('plans')).toBe('f:plans');
    expect(lockKey('plans', 'p:1')).toBe('l:plans:p:1');
  });

  it('is what a shared tier writes to its driver', async () => {
    const driver = new MemoryDriver();
    const tier = memoryTier({ driver });
    const plans = tier.bind('plans');
    const now = Date.now();
    await plans.set('p:1', { value: 1, createdAt: now, staleAt: 0, expiresAt: 0, tags: ['org:acme'] });
    await plans.invalidateTags(['org:acme']);
    await plans.clear();
    expect(await driver.get(entryKey('plans', 'p:1'))).toBeDefined();
    expect(await driver.get(tagKey('plans', 'org:acme'))).toBeDefined();
    expect(await driver.get(fenceKey('plans'))).toBeDefined();
    await plans.close();
  });
});

describe('bus messages as invalidations', () => {
  const now = (): number => 1234;

  it('reads every kind, with `at` defaulting to now', () => {
    const base = { source: 's', cache: 'c' };
    expect(fromBusMessage({ ...base, kind: 'set', keys: ['k'] }, now)).toEqual({ kind: 'set', keys: ['k'] });
    expect(fromBusMessage({ ...base, kind: 'delete', keys: ['k'] }, now)).toEqual({
      kind: 'delete',
      keys: ['k'],
    });
    expect(fromBusMessage({ ...base, kind: 'tags', tags: ['t'], at: 5 }, now)).toEqual({
      kind: 'tags',
      tags: ['t'],
      at: 5,
    });
    expect(fromBusMessage({ ...base, kind: 'pattern', pattern: 'p*' }, now)).toEqual({
      kind: 'pattern',
      pattern: 'p*',
      at: 1234,
    });
    expect(fromBusMessage({ ...base, kind: 'prefix', prefix: 'ns:', at: 7 }, now)).toEqual({
      kind: 'prefix',
      prefix: 'ns:',
      at: 7,
    });
    expect(fromBusMessage({ ...base, kind: 'clear' }, now)).toEqual({ kind: 'clear', at: 1234 });
  });

  it('reads the legacy `namespace-clear` (prefix in `pattern`) as a prefix invalidation', () => {
    const legacy: BusMessage = { source: 's', cache: 'c', kind: 'namespace-clear', pattern: 'ns:', at: 9 };
    expect(fromBusMessage(legacy, now)).toEqual({ kind: 'prefix', prefix: 'ns:', at: 9 });
  });

  it('checks a `prefix` message like a pattern: present, bounded, a string', () => {
    const base = { source: 's', cache: 'c', kind: 'prefix' };
    expect(busMessageProblem(base, 0)).toMatch(/prefix needs a prefix/);
    expect(busMessageProblem({ ...base, prefix: 5 }, 0)).toMatch(/prefix must be a string/);
    expect(busMessageProblem({ ...base, prefix: 'a'.repeat(5000) }, 0)).toMatch(/exceeds/);
    const message: BusMessage = { source: 's', cache: 'c', kind: 'prefix', prefix: 'ns:', at: 3 };
    expect(decodeBusMessage(encodeBusMessage(message))).toEqual(message);
  });
});

describe('prefix invalidations on the wire', () => {
  function spyOn(hub: MemoryBusHub): BusMessage[] {
    const seen: BusMessage[] = [];
    void hub.connect('spy').start({ message: (message) => seen.push(message), resync: () => {} });
    return seen;
  }

  it('are sent as kind `prefix` with a `prefix` field', async () => {
    const hub = new MemoryBusHub();
    const seen = spyOn(hub);
    const tier = memoryTier({ hub, instanceId: 'A' });
    const plans = tier.bind('plans');
    await plans.invalidatePrefix('images:');
    await vi.waitFor(() => expect(seen).toHaveLength(1));
    expect(seen[0]).toMatchObject({ source: 'A', cache: 'plans', kind: 'prefix', prefix: 'images:' });
    expect(seen[0]?.pattern).toBeUndefined();
    await plans.close();
  });

  it('from an instance not upgraded yet (`namespace-clear`) are still heard', async () => {
    const hub = new MemoryBusHub();
    const old = hub.connect('old');
    await old.start({ message: () => {}, resync: () => {} });
    const tier = memoryTier({ hub, instanceId: 'B' });
    const plans = tier.bind('plans');
    const heard: RemoteInvalidation[] = [];
    plans.onRemote((event) => heard.push(event));
    await old.publish({ cache: 'plans', kind: 'namespace-clear', pattern: 'images:', at: Date.now() });
    await vi.waitFor(() => expect(heard).toHaveLength(1));
    expect(heard[0]).toEqual({ kind: 'prefix', prefix: 'images:' });
    await plans.close();
  });
});
