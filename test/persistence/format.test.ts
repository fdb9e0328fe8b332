// The snapshot file format: values of every type the serializer supports survive, and a foreign,
// future-version, truncated or corrupt file is refused whole, with the reason named.
import { describe, expect, it } from 'vitest';
import { crc32 } from 'node:zlib';
import {
  decodeSnapshot,
  encodeSnapshot,
  HEADER_BYTES,
  SNAPSHOT_VERSION,
  SnapshotRefusedError,
} from '../../src/persistence/format.js';
import { msgpackSerializer } from '../../src/codec/serializer.js';
import { CacheError } from '../../src/errors.js';
import { entry } from './helpers.js';

const serializer = msgpackSerializer();

const VALUES: Record<string, unknown> = {
  object: { a: 1, nested: { b: 'two', c: [3, 4] } },
  array: [1, 'two', { three: 3 }, [4]],
  date: new Date('2026-11-21T14:00:00.000Z'),
  map: new Map<unknown, unknown>([
    ['k', 1],
    [2, { v: true }],
  ]),
  set: new Set([1, 'two', 3]),
  bigint: 12345678901234567890n,
  undefinedField: { present: 1, missing: undefined },
  buffer: Buffer.from([0, 1, 2, 250, 255]),
  string: 'héllo, wörld — ✓',
  emptyString: '',
  integer: 42,
  float: -3.25,
  nan: Number.NaN,
  infinity: Infinity,
  nil: null,
  boolean: false,
};

function sample(): Map<string, ReturnType<typeof entry>[]> {
  return new Map([
    [
      'url',
      Object.entries(VALUES).map(([key, value], i) =>
        entry(key, {
          value,
          createdAt: 100 + i,
          staleAt: 5_000,
          expiresAt: 6_000,
          tags: ['t', key],
          size: i,
          frequency: i % 16,
        }),
      ),
    ],
    ['user', [entry(7, { value: 'seven' })]],
  ]);
}

function refusal(bytes: Uint8Array): SnapshotRefusedError {
  try {
    decodeSnapshot(bytes, serializer);
  } catch (error) {
    expect(error).toBeInstanceOf(SnapshotRefusedError);
    expect(error).toBeInstanceOf(CacheError);
    return error as SnapshotRefusedError;
  }
  throw new Error('the snapshot was accepted');
}

describe('snapshot format', () => {
  it('round-trips every value type the serializer supports, with all entry fields', () => {
    const caches = sample();
    const { bytes, entries, skipped } = encodeSnapshot(caches, serializer, 123);
    expect(entries).toBe(Object.keys(VALUES).length + 1);
    expect(skipped).toBe(0);
    const back = decodeSnapshot(bytes, serializer);
    expect(back.createdAt).toBe(123);
    expect([...back.caches.keys()]).toEqual(['url', 'user']);
    expect(back.caches.get('url')).toEqual(caches.get('url'));
    const byKey = new Map(back.caches.get('url')!.map((e) => [e.key, e.value]));
    expect(byKey.get('date')).toBeInstanceOf(Date);
    expect(byKey.get('map')).toBeInstanceOf(Map);
    expect(byKey.get('set')).toBeInstanceOf(Set);
    expect(typeof byKey.get('bigint')).toBe('bigint');
    expect(Buffer.isBuffer(byKey.get('buffer')) || byKey.get('buffer') instanceof Uint8Array).toBe(true);
    expect(Object.keys(byKey.get('undefinedField') as object)).toEqual(['present', 'missing']);
    expect(back.caches.get('user')![0]!.key).toBe(7);
  });

  it('leaves out a value the serializer refuses and reports it, keeping the rest', () => {
    class Custom {
      x = 1;
    }
    const skippedKeys: unknown[] = [];
    const caches = new Map([
      ['c', [entry('ok'), entry('fn', { value: () => 1 }), entry('cls', { value: new Custom() })]],
    ]);
    const { bytes, entries, skipped } = encodeSnapshot(caches, serializer, 0, (_c, key) =>
      skippedKeys.push(key),
    );
    expect({ entries, skipped }).toEqual({ entries: 1, skipped: 2 });
    expect(skippedKeys).toEqual(['fn', 'cls']);
    expect(
      decodeSnapshot(bytes, serializer)
        .caches.get('c')!
        .map((e) => e.key),
    ).toEqual(['ok']);
  });

  it("keeps a well-formed entry's namespace scope, in version 2, and drops a malformed one", () => {
    const scoped = { ...entry('users:42'), scope: 'users:' };
    const forged = { ...entry('plain'), scope: 'users:' };
    const caches = new Map([['c', [scoped, forged, entry('users:43')]]]);
    const { bytes } = encodeSnapshot(caches, serializer, 0);
    expect(bytes.readUInt16BE(8)).toBe(SNAPSHOT_VERSION);
    const read = decodeSnapshot(bytes, serializer).caches.get('c')!;
    expect(read.map((e) => [e.key, e.scope])).toEqual([
      ['users:42', 'users:'],
      ['plain', undefined],
      ['users:43', undefined],
    ]);
    // Without a scope (or load state) the file is version 1, as earlier builds wrote and read it.
    const plain = encodeSnapshot(new Map([['c', [entry('users:43')]]]), serializer, 0).bytes;
    expect(plain.readUInt16BE(8)).toBe(1);
  });

  it('refuses a foreign file', () => {
    expect(refusal(Buffer.from('{"not":"a snapshot"}\n')).reason).toBe('foreign');
    expect(refusal(new Uint8Array(0)).reason).toBe('foreign');
    const random = Buffer.alloc(4096);
    for (let i = 0; i < random.length; i++) random[i] = (i * 7919 + 13) & 0xff;
    expect(refusal(random).message).toMatch(/snapshot refused \(foreign\)/);
  });

  it('refuses a future format version, even with a valid checksum', () => {
    const { bytes } = encodeSnapshot(sample(), serializer, 0);
    const future = Buffer.from(bytes);
    future.writeUInt16BE(SNAPSHOT_VERSION + 1, 8);
    future.writeUInt32BE(crc32(future.subarray(HEADER_BYTES), crc32(future.subarray(8, 20))), 20);
    const error = refusal(future);
    expect(error.reason).toBe('future-version');
    expect(error.message).toMatch(new RegExp(`version ${SNAPSHOT_VERSION + 1}`));
  });

  it('refuses a file truncated at any length', () => {
    const { bytes } = encodeSnapshot(sample(), serializer, 0);
    for (const length of [
      9,
      HEADER_BYTES - 1,
      HEADER_BYTES,
      HEADER_BYTES + 1,
      bytes.length >> 1,
      bytes.length - 1,
    ]) {
      expect(['truncated', 'foreign']).toContain(refusal(bytes.subarray(0, length)).reason);
    }
    expect(refusal(bytes.subarray(0, bytes.length - 1)).reason).toBe('truncated');
  });

  it('refuses a file with any single byte flipped after the magic', () => {
    const { bytes } = encodeSnapshot(sample(), serializer, 0);
    // Every byte of the header, and a spread of payload bytes.
    const positions = [...Array.from({ length: HEADER_BYTES - 8 }, (_, i) => 8 + i)];
    for (let at = HEADER_BYTES; at < bytes.length; at += Math.max(1, bytes.length >> 6)) positions.push(at);
    positions.push(bytes.length - 1);
    for (const at of positions) {
      const flipped = Buffer.from(bytes);
      flipped[at] = flipped[at]! ^ 0x01;
      expect(['corrupt', 'truncated', 'future-version']).toContain(refusal(flipped).reason);
    }
  });

  it('refuses trailing garbage after the payload', () => {
    const { bytes } = encodeSnapshot(sample(), serializer, 0);
    expect(refusal(Buffer.concat([bytes, Buffer.from([0])])).reason).toBe('corrupt');
  });
});
