// Values read back from the shared tier are checked: an L2 entry with NaN or infinite times, tags that
// are not strings, or no value at all is a miss (reported once), and the loader's write replaces it,
// so the next instance reading the key gets the good value from L2 instead of running its loader.
// Removing an unusable entry removes only the bytes that were read, never a write made meanwhile.
import { Redis } from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import { createCodec } from '../../src/codec/codec.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { memoryTier, redisTier } from '../../src/tiers/redis-tier.js';
import { msgpackSerializer } from '../../src/codec/serializer.js';
import { unframe } from '../../src/tiers/stamp.js';
import { SharedTier } from '../../src/tiers/shared-tier.js';
import type { TierEntry } from '../../src/tiers/types.js';
import { deferred } from '../helpers/deferred.js';
import { ChaosDriver } from './chaos-driver.js';
import { describeWithRedis, withRedisServer } from './describe-with-redis.js';

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

describe('an unusable L2 entry raced by a write', () => {
  const entry = (value: string, expiresAt = 0): TierEntry => ({
    value,
    createdAt: Date.now(),
    staleAt: 0,
    expiresAt,
    tags: [],
  });
  const corrupt = (driver: MemoryDriver) => driver.set('e:c:k', 'not a Larder entry');
  const expired = async (driver: MemoryDriver) => {
    await memoryTier({ driver })
      .bind('c')
      .set('k', entry('old', Date.now() + 60_000));
  };

  // A reads `k` (corrupt, or expired by A's clock, an hour ahead) through a driver whose replies the
  // test holds; B writes a new value meanwhile; then A's read comes back and it removes what it
  // judged unusable: that must not be B's write.
  it.each([
    ['corrupt', corrupt, false],
    ['corrupt, read by getMany', corrupt, true],
    ['expired', expired, false],
    ['expired, read by getMany', expired, true],
  ])('%s: the write made meanwhile stays, and a load older than it cannot land', async (_, bad, many) => {
    const driver = new MemoryDriver();
    await bad(driver);
    const chaos = new ChaosDriver(driver);
    const a = new SharedTier({ driver: chaos, clock: () => Date.now() + 3_600_000 }).bind('c');
    const b = memoryTier({ driver }).bind('c');
    const older = b.stamp(); // a load (on any instance) that began before B's write
    const replies = deferred();
    chaos.heldReplies = replies.promise;
    const read = many ? a.getMany(['k']).then(([found]) => found) : a.get('k');
    await vi.waitFor(() => expect(chaos.calls).toBe(1)); // A's read is out
    expect(await b.set('k', entry('new'))).toBe(true);
    chaos.heldReplies = undefined;
    replies.resolve();
    expect(await read).toBeUndefined();
    await vi.waitFor(() => expect(chaos.calls).toBeGreaterThanOrEqual(2)); // A's clean-up went out
    await new Promise((resolve) => setImmediate(resolve));
    expect((await b.get('k'))?.value).toBe('new');
    // The load that began before the write is refused (its stamp is older than the one held).
    expect(await b.set('k', { ...entry('from before'), version: older })).toBe(false);
    expect((await b.get('k'))?.value).toBe('new');
  });
});

describeWithRedis('an unusable entry in Redis', () => {
  const server = withRedisServer();

  it('is removed after the read that found it (compared byte for byte, binary included)', async () => {
    const admin = new Redis(server().url);
    const tier = redisTier({ url: server().url, prefix: 'bad:', bus: false, timeout: '5s' });
    const cache = tier.bind('c');
    try {
      const garbage = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0xc1, 0x9f]);
      await admin.set('bad:e:c:k', garbage);
      expect(await cache.get('k')).toBeUndefined();
      await vi.waitFor(async () => expect(await admin.exists('bad:e:c:k')).toBe(0));
      await admin.set('bad:e:c:j', garbage);
      expect(await cache.getMany(['j'])).toEqual([undefined]);
      await vi.waitFor(async () => expect(await admin.exists('bad:e:c:j')).toBe(0));
    } finally {
      admin.disconnect();
      await cache.close();
    }
  });
});
