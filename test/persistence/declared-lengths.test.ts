// A snapshot's payload whose msgpack headers declare more items than the file holds is refused before
// msgpackr reads it: msgpackr allocates a declared array or map before reading its items, so five bytes
// declaring 2^25 items held a start for seconds and took 270 MB, and nested headers each claiming the
// same bytes (2 MB, a hundred of them) took 1.7 GB and 23 s, more of them enough to kill the process.
// The same check covers values, which the serializer reads (nested headers now count together there).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import {
  decodeSnapshot,
  encodeSnapshot,
  HEADER_BYTES,
  SNAPSHOT_MAGIC,
  SnapshotRefusedError,
} from '../../src/persistence/format.js';
import { msgpackSerializer, type Serializer } from '../../src/codec/serializer.js';
import { createCache } from '../../src/cache/create-cache.js';
import { entry, recordingLogger, scratchDir } from './helpers.js';

const serializer = msgpackSerializer();

/** A well-framed snapshot around `payload` (right length, right checksum). */
function framed(payload: Buffer): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  SNAPSHOT_MAGIC.copy(header, 0);
  header.writeUInt16BE(1, 8);
  header.writeBigUInt64BE(BigInt(payload.length), 12);
  header.writeUInt32BE(crc32(payload, crc32(header.subarray(8, 20))), 20);
  return Buffer.concat([header, payload]);
}

/** `depth` array32 headers, each declaring as many items as bytes follow the last, then `rest` zeros. */
function nestedHeaders(depth: number, rest: number): Buffer {
  const headers = Buffer.alloc(5 * depth);
  for (let i = 0; i < depth; i++) {
    headers[5 * i] = 0xdd;
    headers.writeUInt32BE(rest, 5 * i + 1);
  }
  return Buffer.concat([headers, Buffer.alloc(rest)]);
}

function refusal(bytes: Buffer): SnapshotRefusedError {
  try {
    decodeSnapshot(bytes, serializer);
  } catch (error) {
    expect(error).toBeInstanceOf(SnapshotRefusedError);
    return error as SnapshotRefusedError;
  }
  throw new Error('the snapshot was accepted');
}

let scratch: ReturnType<typeof scratchDir>;
beforeEach(() => {
  scratch = scratchDir();
});
afterEach(() => scratch.remove());

describe('a snapshot declaring more msgpack items than it holds', () => {
  it('is refused as corrupt from its headers: an array or map of 2^25 items in five bytes', () => {
    for (const head of [0xdd, 0xdf]) {
      const payload = Buffer.from([head, 0x02, 0x00, 0x00, 0x00]);
      const error = refusal(framed(payload));
      expect(error.reason).toBe('corrupt');
      expect(error.message).toMatch(/declares an? (array|map) of \d+ items/);
    }
    // Inside the frame's map, where the caches are.
    const caches = Buffer.concat([
      Buffer.from([0x81, 0xa6]),
      Buffer.from('caches'),
      Buffer.from([0xdd, 0x02, 0x00, 0x00, 0x00]),
    ]);
    expect(refusal(framed(caches)).message).toMatch(/declares an array of 33554432 items/);
  });

  it('is refused when nested headers each claim the bytes that follow them all', () => {
    const error = refusal(framed(nestedHeaders(20, 1_000)));
    expect(error.reason).toBe('corrupt');
    expect(error.message).toMatch(/declares an array of 1000 items/);
  });

  it('skips a value whose nested headers claim the same bytes, keeping the other entries', () => {
    const hostile = nestedHeaders(20, 1_000);
    // A serializer that writes the hostile bytes for one entry: what a forged file would hold.
    const writer: Serializer = {
      name: 'forger',
      serialize: (value) => (value === 'hostile' ? hostile : serializer.serialize(value)),
      deserialize: (data) => serializer.deserialize(data),
    };
    const { bytes } = encodeSnapshot(
      new Map([['c', [entry('bad', { value: 'hostile' }), entry('good', { value: 'fine' })]]]),
      writer,
      1_000,
    );
    let thrown: unknown;
    const reader: Serializer = {
      name: 'watching',
      serialize: (value) => serializer.serialize(value),
      deserialize(data) {
        try {
          return serializer.deserialize(data);
        } catch (error) {
          thrown = error;
          throw error;
        }
      },
    };
    const content = decodeSnapshot(bytes, reader);
    expect(content.skipped).toBe(1);
    expect(content.caches.get('c')!.map((e) => e.value)).toEqual(['fine']);
    expect((thrown as Error).message).toMatch(/declares an array of 1000 items/);
  });

  it('at start, is refused and logged; the cache starts empty and works', async () => {
    const path = join(scratch.dir, 'c.snap');
    writeFileSync(path, framed(Buffer.from([0xdd, 0x02, 0x00, 0x00, 0x00])));
    const { lines, logger } = recordingLogger();
    const cache = createCache<number>({ name: 'c', logger, persist: { path, onShutdown: false } });
    const refused = lines.find((l) => l.level === 'error' && l.message.startsWith('Cache RESTORE refused'));
    expect(refused?.message).toMatch(/declares an array/);
    await cache.set('k', 1);
    expect(await cache.get('k')).toBe(1);
    await cache.close();
  });
});
