// Values read back from the shared tier are checked: an L2 entry with NaN or infinite times, tags that
// are not strings, or no value at all is a miss (reported once), and the loader's write replaces it,
// so the next instance reading the key gets the good value from L2 instead of running its loader.
import { describe, expect, it, vi } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import { createCodec } from '../../src/codec/codec.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { memoryTier } from '../../src/tiers/redis-tier.js';
import { msgpackSerializer } from '../../src/codec/serializer.js';
import { unframe } from '../../src/tiers/stamp.js';

const codec = createCodec(msgpackSerializer());
const now = Date.now();
const good = { value: 'poison', createdAt: now, staleAt: now + 60_000, graceUntil: now + 60_000, tags: [] };

const cases: Array<[string, Record<string, unknown>]> = [
  ['NaN times', { ...good, createdAt: NaN, staleAt: NaN, graceUntil: NaN }],
  ['an infinite createdAt', { ...good, createdAt: Infinity }],
  ['a NaN graceUntil only', { ...good, graceUntil: NaN }],
  ['non-string tags', { ...good, tags: [1, { t: 2 }] }],
  ['non-string index tags', { ...good, indexTags: [null] }],
  ['no value', { createdAt: now, staleAt: 0, graceUntil: 0, tags: [] }],
];

describe('malformed entries in the shared tier', () => {
  it.each(cases)('an entry with %s is a miss, and the loaded value replaces it in L2', async (_, bad) => {
    const driver = new MemoryDriver();
    const a = createCache<string>({ name: 'm', l2: memoryTier({ driver }) });
    await driver.set('e:m:k', codec.encode(bad));
    let loads = 0;
    expect(await a.getOrSet('k', async () => `fresh-${++loads}`)).toBe('fresh-1');
    expect(await a.getOrSet('k', async () => `fresh-${++loads}`)).toBe('fresh-1');
    expect(loads).toBe(1);
    // What L2 holds now is the loader's entry, well formed.
    const held = unframe((await driver.get('e:m:k'))!);
    if (held.tombstone) throw new Error('expected an entry, found a tombstone');
    const stored = codec.decode(held.body) as { value: unknown; createdAt: number };
    expect(stored.value).toBe('fresh-1');
    expect(Number.isFinite(stored.createdAt)).toBe(true);
    // Another instance reads it from L2 without loading.
    const b = createCache<string>({ name: 'm', l2: memoryTier({ driver }) });
    const loader = vi.fn(async () => 'b-loaded');
    expect(await b.getOrSet('k', loader)).toBe('fresh-1');
    expect(loader).not.toHaveBeenCalled();
    await Promise.all([a.close(), b.close()]);
  });
});
