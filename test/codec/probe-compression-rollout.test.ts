// Turning compression on (or off) in a running deployment: during the rolling restart instances with
// and without it share one L2, and after it L2 still holds what the old setting wrote. Each must read
// the other's entries, not take them for corrupt (delete them, report SERIALIZATION_FAILED) and reload.
import { describe, expect, it } from 'vitest';
import { createCodec } from '../../src/codec/codec.js';
import { jsonSerializer, msgpackSerializer } from '../../src/codec/serializer.js';
import { createCache } from '../../src/index.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { memoryTier } from '../../src/tiers/redis-tier.js';

const record = { value: { plans: 'basic '.repeat(400) }, createdAt: 1, staleAt: 2, graceUntil: 3, tags: [] };

describe('compression turned on or off while L2 holds values of the other setting', () => {
  it.each([
    ['msgpack', msgpackSerializer],
    ['json', jsonSerializer],
  ] as const)('%s: each codec reads what the other wrote', (_, serializer) => {
    const plain = createCodec(serializer());
    const compressed = createCodec(serializer(), { threshold: 0 });
    const small = createCodec(serializer(), { threshold: 1_000_000 }); // flagged, stored raw
    expect(compressed.decode(plain.encode(record))).toEqual(record);
    expect(plain.decode(compressed.encode(record))).toEqual(record);
    expect(plain.decode(small.encode(record))).toEqual(record);
  });

  it('still refuses what is neither (an unknown flag, a corrupt body)', () => {
    const plain = createCodec(msgpackSerializer());
    const compressed = createCodec(msgpackSerializer(), { threshold: 0 });
    expect(() => compressed.decode(Buffer.of(9, 1, 2))).toThrow(/unknown compression flag 9/);
    expect(() => plain.decode(Buffer.of(1, 1, 2))).toThrow();
    expect(() => plain.decode(Buffer.of(1, 0x1f, 0x8b, 0))).toThrow();
  });

  it('instances with and without compression share entries without errors or reloads', async () => {
    const driver = new MemoryDriver();
    const errors: unknown[] = [];
    const open = (compression: boolean) => {
      const cache = createCache<string>({
        name: 'plans',
        ttl: '1h',
        l2: memoryTier({ driver, compression: compression ? { threshold: 0 } : false }),
      });
      cache.on('cache:error', ({ error }) => errors.push(error));
      return cache;
    };
    const before = open(false);
    const after = open(true);
    try {
      await before.set('old', 'written without compression');
      await after.set('new', 'written with compression');
      let loads = 0;
      const load = async (): Promise<string> => `loaded ${++loads}`;
      expect(await after.getOrSet('old', load)).toBe('written without compression');
      expect(await before.getOrSet('new', load)).toBe('written with compression');
      expect(loads).toBe(0);
      expect(errors).toEqual([]);
    } finally {
      await before.close();
      await after.close();
    }
  });
});
