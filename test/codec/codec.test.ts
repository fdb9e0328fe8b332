// The codec: compression above a threshold, one flag byte saying how each value is stored.
import { describe, expect, it } from 'vitest';
import { brotliCompressSync, constants, deflateSync, gzipSync } from 'node:zlib';
import { createCodec } from '../../src/codec/codec.js';
import { jsonSerializer, msgpackSerializer } from '../../src/codec/serializer.js';

const big = { text: 'plans '.repeat(2000), list: Array.from({ length: 200 }, (_, i) => ({ id: i })) };

describe('createCodec', () => {
  it('without compression stores exactly what the serializer produced', () => {
    const codec = createCodec(jsonSerializer());
    expect(codec.encode({ a: 1 })).toBe('{"a":1}');
    expect(codec.decode('{"a":1}')).toEqual({ a: 1 });
  });

  it.each(['gzip', 'brotli', 'deflate'] as const)(
    'compresses large values with %s and reads them back',
    (algorithm) => {
      const codec = createCodec(msgpackSerializer(), { algorithm, threshold: 256 });
      const plain = msgpackSerializer().serialize(big) as Buffer;
      const stored = codec.encode(big) as Buffer;
      expect(stored[0]).not.toBe(0);
      expect(stored.length).toBeLessThan(plain.length / 4);
      expect(codec.decode(stored)).toEqual(big);
    },
  );

  it('leaves values under the threshold uncompressed, behind a 0 flag', () => {
    const codec = createCodec(jsonSerializer(), { threshold: 1024 });
    const stored = codec.encode({ a: 1 }) as Buffer;
    expect(stored[0]).toBe(0);
    expect(stored.subarray(1).toString()).toBe('{"a":1}');
    expect(codec.decode(stored)).toEqual({ a: 1 });
  });

  it('reads values written with another algorithm or threshold (the flag decides)', () => {
    const gzip = createCodec(msgpackSerializer(), { algorithm: 'gzip', threshold: 0 });
    const brotli = createCodec(msgpackSerializer(), { algorithm: 'brotli', threshold: 100_000 });
    expect(brotli.decode(gzip.encode(big))).toEqual(big);
  });

  it('rejects an unknown flag, an empty value and bad options', () => {
    const codec = createCodec(jsonSerializer(), {});
    expect(() => codec.decode(Buffer.of(9, 1, 2))).toThrow(/unknown compression flag 9/);
    expect(() => codec.decode(Buffer.alloc(0))).toThrow(/empty/);
    expect(() => createCodec(jsonSerializer(), { algorithm: 'lz4' as 'gzip' })).toThrow(
      /compression\.algorithm/,
    );
    expect(() => createCodec(jsonSerializer(), { threshold: -1 })).toThrow(/compression\.threshold/);
  });
});

describe('createCodec decompression limit', () => {
  // 16 gzip members of 16 MiB of zeros: about 256 KB stored, 256 MiB inflated.
  const member = gzipSync(Buffer.alloc(16 * 1024 * 1024), { level: 9 });
  const bomb = Buffer.concat([Buffer.of(1), ...Array.from({ length: 16 }, () => member)]);

  it('refuses a stored value that inflates past maxDecompressedBytes, without inflating it all', () => {
    const codec = createCodec(msgpackSerializer(), { maxDecompressedBytes: 1024 * 1024 });
    const started = performance.now();
    expect(() => codec.decode(bomb)).toThrow(/compression\.maxDecompressedBytes \(1048576 bytes\)/);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it.each([
    ['gzip', gzipSync],
    [
      'brotli',
      (input: Buffer) => brotliCompressSync(input, { params: { [constants.BROTLI_PARAM_QUALITY]: 1 } }),
    ],
    ['deflate', deflateSync],
  ] as const)('bounds %s by default (16 MiB)', (algorithm, compressSync) => {
    const codec = createCodec(msgpackSerializer(), { algorithm });
    const flag = { gzip: 1, brotli: 2, deflate: 3 }[algorithm];
    const planted = Buffer.concat([Buffer.of(flag), compressSync(Buffer.alloc(17 * 1024 * 1024))]);
    expect(() => codec.decode(planted)).toThrow(/maxDecompressedBytes \(16777216 bytes\)/);
  });

  it('stores a value larger than the limit uncompressed, so it reads back', () => {
    const codec = createCodec(jsonSerializer(), { threshold: 0, maxDecompressedBytes: 1000 });
    const value = { text: 'x'.repeat(5000) };
    const stored = codec.encode(value) as Buffer;
    expect(stored[0]).toBe(0);
    expect(codec.decode(stored)).toEqual(value);
    expect((codec.encode({ text: 'x'.repeat(500) }) as Buffer)[0]).toBe(1);
  });

  it('checks maxDecompressedBytes', () => {
    expect(() => createCodec(jsonSerializer(), { maxDecompressedBytes: 0 })).toThrow(
      /compression\.maxDecompressedBytes must be a positive integer/,
    );
    expect(() => createCodec(jsonSerializer(), { maxDecompressedBytes: 2 ** 53 })).toThrow(
      /compression\.maxDecompressedBytes/,
    );
  });
});
