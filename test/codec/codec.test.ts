// The codec: compression above a threshold, one flag byte saying how each value is stored.
import { describe, expect, it } from 'vitest';
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
