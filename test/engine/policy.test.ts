import { describe, expect, it } from 'vitest';
import { FIRST_SLOT } from '../../src/engine/links.js';
import { hashKey } from '../../src/engine/hash.js';
import { LruPolicy, type Policy } from '../../src/engine/policy.js';
import { TinyLfuPolicy } from '../../src/engine/tinylfu.js';

describe('LruPolicy', () => {
  it('evicts the least recently added or touched slot', () => {
    const lru = new LruPolicy(16, 16);
    for (const slot of [3, 4, 5]) lru.add(slot);
    expect(lru.victim()).toBe(3);
    lru.touch(3);
    expect(lru.victim()).toBe(4);
    lru.update(4);
    expect(lru.victim()).toBe(5);
    lru.remove(5);
    expect(lru.victim()).toBe(3);
  });

  it('retentionOrder is the reverse of the eviction order', () => {
    const lru = new LruPolicy(16, 16);
    for (const slot of [3, 4, 5, 6]) lru.add(slot);
    lru.touch(4);
    expect(lru.retentionOrder()).toEqual([4, 6, 5, 3]);
  });

  it('keeps no frequencies, ignores weights, and clear forgets every slot', () => {
    const lru = new LruPolicy(16, 16);
    lru.setWeights();
    lru.add(3);
    expect(lru.frequencyOf()).toBe(0);
    expect(lru.snapshot()).toEqual({});
    lru.clear();
    expect(lru.retentionOrder()).toEqual([]);
  });

  it('grows its slot space keeping the order', () => {
    const lru = new LruPolicy(8, 8);
    for (const slot of [3, 7]) lru.add(slot);
    lru.grow(32);
    lru.add(20);
    expect(lru.retentionOrder()).toEqual([20, 7, 3]);
  });
});

// The contract MemoryCache relies on, held by both policies: every added slot is retained until
// removed, victim() names a held slot, and clear() forgets them all.
describe.each([
  ['lru', () => new LruPolicy(64, 64)],
  ['tinylfu', () => new TinyLfuPolicy(64, 32, 32)],
] as const)('Policy contract (%s)', (name, create: () => Policy) => {
  it('has its public name', () => {
    expect(create().name).toBe(name);
  });

  it('retains every added slot exactly once, and victim() is one of them', () => {
    const policy = create();
    const held = new Set<number>();
    for (let slot = FIRST_SLOT; slot < FIRST_SLOT + 20; slot++) {
      policy.add(slot, hashKey(`k${slot}`), 1, 0);
      held.add(slot);
    }
    for (const slot of [5, 9, 9, 12]) policy.touch(slot);
    expect(policy.retentionOrder().sort((a, b) => a - b)).toEqual([...held].sort((a, b) => a - b));
    for (let i = 0; i < 10; i++) {
      const victim = policy.victim();
      expect(held.has(victim)).toBe(true);
      policy.remove(victim);
      held.delete(victim);
    }
    expect(policy.retentionOrder().sort((a, b) => a - b)).toEqual([...held].sort((a, b) => a - b));
  });

  it('clear forgets every slot', () => {
    const policy = create();
    for (let slot = FIRST_SLOT; slot < FIRST_SLOT + 5; slot++) policy.add(slot, slot, 1, 0);
    policy.clear();
    expect(policy.retentionOrder()).toEqual([]);
  });
});
