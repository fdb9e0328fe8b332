import { afterEach, describe, expect, it, vi } from 'vitest';
import { TagIndex } from '../../src/engine/tag-index.js';
import { MemoryCache } from '../../src/engine/memory-cache.js';

describe('TagIndex', () => {
  it('finds the slots carrying any of the given tags', () => {
    const index = new TagIndex();
    index.tag(3, ['user', 'team:1']);
    index.tag(4, ['user']);
    index.tag(5, ['team:2']);
    expect([...index.slotsWithAny(['user'])].sort()).toEqual([3, 4]);
    expect([...index.slotsWithAny(['team:1', 'team:2'])].sort()).toEqual([3, 5]);
    expect(index.slotsWithAny(['nobody']).size).toBe(0);
    expect(index.size).toBe(3);
  });

  it('keeps each slot’s tags deduplicated and frozen, and nothing for an untagged slot', () => {
    const index = new TagIndex();
    index.tag(7, ['a', 'b', 'a']);
    expect(index.bySlot[7]).toEqual(['a', 'b']);
    expect(Object.isFrozen(index.bySlot[7])).toBe(true);
    expect(index.bySlot[8]).toBeUndefined();
  });

  it('untag forgets a tag no slot carries any more, so the index stays bounded', () => {
    const index = new TagIndex();
    for (let slot = 3; slot < 1003; slot++) {
      index.tag(slot, [`request:${slot}`, 'shared']);
      index.untag(slot);
    }
    expect(index.size).toBe(0);
    index.tag(3, ['shared']);
    index.tag(4, ['shared']);
    index.untag(3);
    expect(index.size).toBe(1);
    expect([...index.slotsWithAny(['shared'])]).toEqual([4]);
    expect(index.bySlot[3]).toBeUndefined();
  });

  it('untag of an untagged slot does nothing', () => {
    const index = new TagIndex();
    index.tag(3, ['a']);
    index.untag(4);
    expect([...index.slotsWithAny(['a'])]).toEqual([3]);
  });

  it('returns a fresh set: removing entries while walking it is safe', () => {
    const index = new TagIndex();
    index.tag(3, ['a']);
    index.tag(4, ['a']);
    const seen: number[] = [];
    for (const slot of index.slotsWithAny(['a'])) {
      seen.push(slot);
      index.untag(slot);
    }
    expect(seen.sort()).toEqual([3, 4]);
    expect(index.size).toBe(0);
  });
});

describe('MemoryCache and its tag index', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('keeps the index off the hot path: tag-less sets, hits and evictions of untagged entries never call it', () => {
    const tag = vi.spyOn(TagIndex.prototype, 'tag');
    const untag = vi.spyOn(TagIndex.prototype, 'untag');
    const c = new MemoryCache<number, number>({ maxEntries: 100, policy: 'lru' });
    c.set(-1, 0, { tags: ['t'] });
    expect(tag).toHaveBeenCalledTimes(1);
    for (let i = 0; i < 1000; i++) {
      c.set(i % 150, i);
      c.get(i % 150);
      c.get(-1); // keeps the tagged entry from being evicted
    }
    c.delete(3);
    expect(tag).toHaveBeenCalledTimes(1);
    expect(untag).not.toHaveBeenCalled();
    expect(c.has(-1)).toBe(true);
    expect(c.stats().evictions).toBeGreaterThan(0);
    expect(c.invalidateTags(['t'])).toBe(1);
    expect(untag).toHaveBeenCalledTimes(1);
  });

  it('an overwrite replaces the entry’s tags; a delete or eviction drops them', () => {
    const c = new MemoryCache<string, number>({ maxEntries: 2, policy: 'lru' });
    c.set('a', 1, { tags: ['old'] });
    c.set('a', 2, { tags: ['new'] });
    expect(c.invalidateTags(['old'])).toBe(0);
    expect(c.entries()[0]!.tags).toEqual(['new']);
    c.set('a', 3);
    expect(c.entries()[0]!.tags).toEqual([]);
    expect(c.invalidateTags(['new'])).toBe(0);
    c.set('b', 1, { tags: ['t'] });
    c.set('c', 1);
    c.set('d', 1); // evicts b (LRU)
    expect(c.has('b')).toBe(false);
    expect(c.invalidateTags(['t'])).toBe(0);
    expect(c.size).toBe(2);
  });

  it('clear forgets every tag', () => {
    const c = new MemoryCache<string, number>();
    c.set('a', 1, { tags: ['t'] });
    c.clear();
    c.set('a', 2);
    expect(c.invalidateTags(['t'])).toBe(0);
    expect(c.get('a')).toBe(2);
  });
});
