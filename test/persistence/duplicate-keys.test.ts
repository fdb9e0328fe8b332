// A snapshot that lists one key twice (a hand-merged or hostile file; dump() never does): only the
// key's most valuable entry loads, and the copies neither take places of the bounds nor count as loaded.
// A file that lists one cache twice: the first record is read, the second counted as invalid.
import { describe, expect, it } from 'vitest';
import { MemoryCache } from '../../src/engine/memory-cache.js';
import { createCache } from '../../src/cache/create-cache.js';
import type { SnapshotEntry } from '../../src/persistence/types.js';
import { crc32 } from 'node:zlib';
import { decodeSnapshot, encodeSnapshot, HEADER_BYTES } from '../../src/persistence/format.js';
import { msgpackSerializer } from '../../src/codec/serializer.js';
import { entry } from './helpers.js';

const ranked = (key: string | number, value: string, frequency: number): SnapshotEntry<string> =>
  entry(key, { value, frequency }) as SnapshotEntry<string>;
const list = [
  ranked('a', 'hot', 5),
  ranked('a', 'cold', 4),
  ranked(0, 'zero', 3),
  ranked(-0, 'minus zero', 2),
  ranked('b', 'B', 1),
];

describe('a snapshot listing a key twice', () => {
  it('MemoryCache.load keeps the most valuable entry per key and room for the others', () => {
    const cache = new MemoryCache<string | number, string>({ maxEntries: 3, clock: () => 1_000 });
    expect(cache.load(list)).toEqual({ loaded: 3, expired: 0, dropped: 0, invalid: 2 });
    expect(cache.size).toBe(3);
    expect(cache.get('a')).toBe('hot');
    expect(cache.get(0)).toBe('zero');
    expect(cache.get('b')).toBe('B');
  });

  it('cache.load does the same through the facade', async () => {
    const cache = createCache<string>({ maxEntries: 3, clock: () => 1_000, cleanupInterval: 0 });
    expect(cache.load(list)).toEqual({ loaded: 3, expired: 0, dropped: 0, invalid: 2 });
    expect(await cache.get('a')).toBe('hot');
    expect(await cache.get(0)).toBe('zero');
    expect(await cache.get('b')).toBe('B');
    await cache.close();
  });
});

describe('a snapshot file listing a cache twice', () => {
  it('reads the first record of the name and counts the second as invalid', () => {
    const serializer = msgpackSerializer();
    const { bytes } = encodeSnapshot(
      new Map([
        ['c', [entry('kept')]],
        ['d', []],
      ]),
      serializer,
      0,
    );
    // Rename cache "d" to "c" (msgpack: fixstr "name", then fixstr "d"), and seal the file again.
    const file = Buffer.from(bytes);
    const at = file.indexOf(Buffer.from([0xa4, ...Buffer.from('name'), 0xa1, 0x64]));
    file[at + 6] = 0x63;
    file.writeUInt32BE(crc32(file.subarray(HEADER_BYTES), crc32(file.subarray(8, 20))), 20);
    const content = decodeSnapshot(file, serializer);
    expect(content.caches.get('c')?.map((e) => e.key)).toEqual(['kept']);
    expect(content.invalid).toBe(1);
    expect(content.problems).toEqual(['cache record 1: cache "c" listed again']);
  });
});
