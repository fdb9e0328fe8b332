// The codec sits between a serializer and a driver: it serializes, and above a size threshold it
// compresses with node:zlib. With compression on, every stored value starts with one flag byte
// saying how the rest is encoded, so the threshold can change without making old values unreadable.
// Whatever L2 holds is untrusted: inflating stops at a size limit, so a planted "bomb" (a few MB that
// would inflate to GBs) is a corrupt value, i.e. a miss, not a multi-second block and a huge allocation.
// Turning compression on or off leaves L2 holding values of the other form (and instances of both
// share it during a rolling restart): each codec reads both. A value the serializer wrote never starts
// with a flag byte (an entry record is an object: a msgpack map or record, JSON's `{`), so a codec with
// compression reads an unknown first byte as an unflagged value, and one without it reads a value its
// serializer refuses as a flagged one when it starts with a flag.
import {
  brotliCompressSync,
  brotliDecompressSync,
  constants,
  deflateSync,
  gunzipSync,
  gzipSync,
  inflateSync,
} from 'node:zlib';
import type { ZlibOptions } from 'node:zlib';
import { constants as bufferConstants } from 'node:buffer';
import { assertKnownOptions, assertPositiveInteger, optionNames } from '../util/validate.js';
import type { DriverValue, Serializer } from './serializer.js';

/** Compression algorithms the codec offers. */
export type CompressionAlgorithm = 'gzip' | 'brotli' | 'deflate';

/** Options of value compression in L2. */
export interface CompressionOptions {
  /** Algorithm (default `'gzip'`). */
  algorithm?: CompressionAlgorithm;
  /** Values whose serialized size is at least this many bytes are compressed (default 1024). */
  threshold?: number;
  /**
   * Largest size in bytes a stored value may decompress to (default 16 MiB); one that would inflate
   * past it is read as corrupt (a miss). A value whose serialized size is above it is stored
   * uncompressed, so it can always be read back. A shared tier's `maxValueBytes` (default 4 MiB)
   * lowers it when smaller: decoding what 16 MiB inflate to can block the event loop for most of a
   * second.
   */
  maxDecompressedBytes?: number;
}

const COMPRESSION_OPTIONS = optionNames<CompressionOptions>({
  algorithm: true,
  threshold: true,
  maxDecompressedBytes: true,
});

/** Encodes values for a driver and decodes them back. */
export interface Codec {
  /** Serializes (and maybe compresses). Throws what the serializer throws. */
  encode(value: unknown): DriverValue;
  /** Decompresses (when flagged) and deserializes. */
  decode(data: DriverValue): unknown;
}

const FLAG_RAW = 0;
const FLAG_BY_ALGORITHM: Record<CompressionAlgorithm, number> = { gzip: 1, brotli: 2, deflate: 3 };

// Brotli's default quality (11) costs tens of milliseconds per 100 kB; 4 keeps most of the gain.
const BROTLI_OPTIONS = { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } };

const COMPRESS: Record<number, (input: Buffer) => Buffer> = {
  1: (input) => gzipSync(input),
  2: (input) => brotliCompressSync(input, BROTLI_OPTIONS),
  3: (input) => deflateSync(input),
};
// Inflating 16 MiB blocks the loop for about 60 ms (64 MiB: about 230 ms) on the project's machine.
const DEFAULT_MAX_DECOMPRESSED_BYTES = 16 * 1024 * 1024;
/** The limit a codec without compression inflates a flagged value within (another instance's). */
const DEFAULT_LIMIT: ZlibOptions = { maxOutputLength: DEFAULT_MAX_DECOMPRESSED_BYTES };
const MAX_LENGTH = bufferConstants.MAX_LENGTH;

const DECOMPRESS: Record<number, (input: Buffer, limit: ZlibOptions) => Buffer> = {
  1: (input, limit) => gunzipSync(input, limit),
  2: (input, limit) => brotliDecompressSync(input, limit),
  3: (input, limit) => inflateSync(input, limit),
};

/**
 * Builds the codec: the serializer alone, or the serializer plus flagged compression. `maxValueBytes`
 * (the shared tier's) also bounds what a value may inflate to, so no value larger than it is ever
 * deserialized, however it was stored: a few kB of gzip inflate to 16 MiB of msgpack zeros, whose
 * decoding blocks the event loop for about 0.65 s. A value whose serialized size is above the lower of
 * the two bounds is stored uncompressed (and the tier then does not write it).
 */
export function createCodec(
  serializer: Serializer,
  compression?: CompressionOptions | false,
  maxValueBytes = Infinity,
): Codec {
  if (compression === undefined || compression === false) {
    const fallbackMax = Math.min(DEFAULT_MAX_DECOMPRESSED_BYTES, maxValueBytes);
    const fallbackLimit: ZlibOptions =
      fallbackMax === DEFAULT_MAX_DECOMPRESSED_BYTES ? DEFAULT_LIMIT : { maxOutputLength: fallbackMax };
    const fallbackName = boundName(DEFAULT_MAX_DECOMPRESSED_BYTES, maxValueBytes);
    return {
      encode: (value) => serializer.serialize(value),
      decode(data) {
        try {
          return serializer.deserialize(data);
        } catch (error) {
          // Written by an instance with compression on: read as it would, within the default limit.
          const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
          const mark = bytes[0];
          if (mark !== FLAG_RAW && (mark === undefined || DECOMPRESS[mark] === undefined)) throw error;
          try {
            return decodeFlagged(
              serializer,
              mark,
              bytes.subarray(1),
              fallbackLimit,
              fallbackMax,
              fallbackName,
            );
          } catch (fallback) {
            // Flagged, but inflating past the bound: say so rather than what the serializer said.
            if (tooLarge(fallback)) throw fallback;
            throw error;
          }
        }
      },
    };
  }
  assertKnownOptions(compression, COMPRESSION_OPTIONS, 'compression');
  const algorithm = compression.algorithm ?? 'gzip';
  const flag = FLAG_BY_ALGORITHM[algorithm];
  if (flag === undefined) {
    throw new RangeError(
      `compression.algorithm must be 'gzip', 'brotli' or 'deflate', got ${JSON.stringify(algorithm)}`,
    );
  }
  const threshold = compression.threshold ?? 1024;
  if (!Number.isInteger(threshold) || threshold < 0) {
    throw new RangeError(
      `compression.threshold must be a non-negative integer, got ${String(compression.threshold)}`,
    );
  }
  const maxBytes = assertPositiveInteger(
    compression.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES,
    'compression.maxDecompressedBytes',
    'number of bytes',
  );
  if (maxBytes > MAX_LENGTH) {
    throw new RangeError(
      `compression.maxDecompressedBytes must be at most ${MAX_LENGTH} (the largest Buffer), got ${maxBytes}`,
    );
  }
  const inflateMax = Math.min(maxBytes, maxValueBytes);
  const bound = boundName(maxBytes, maxValueBytes);
  const limit: ZlibOptions = { maxOutputLength: inflateMax };
  const compress = COMPRESS[flag]!;
  return {
    encode(value) {
      const raw = serializer.serialize(value);
      const bytes = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
      if (bytes.length < threshold || bytes.length > inflateMax)
        return Buffer.concat([Buffer.of(FLAG_RAW), bytes]);
      return Buffer.concat([Buffer.of(flag), compress(bytes)]);
    },
    decode(data) {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
      const mark = bytes[0];
      if (mark === undefined) throw new RangeError('stored value is empty');
      if (mark === FLAG_RAW || DECOMPRESS[mark] !== undefined)
        return decodeFlagged(serializer, mark, bytes.subarray(1), limit, inflateMax, bound);
      // Written by an instance without compression (before it was turned on, or still without it).
      try {
        return serializer.deserialize(data);
      } catch (error) {
        throw new RangeError(`stored value has an unknown compression flag ${mark}`, { cause: error });
      }
    },
  };
}

/** Whether `error` is {@link inflate}'s refusal of a value that inflates past its bound. */
function tooLarge(error: unknown): boolean {
  return (
    error instanceof RangeError &&
    (error.cause as { code?: unknown } | undefined)?.code === 'ERR_BUFFER_TOO_LARGE'
  );
}

/** The option whose bound applies to inflating: the lower of the two. */
function boundName(maxDecompressedBytes: number, maxValueBytes: number): string {
  return maxValueBytes < maxDecompressedBytes ? 'maxValueBytes' : 'compression.maxDecompressedBytes';
}

/** Decodes the `body` of a value flagged `mark` (FLAG_RAW or an algorithm's flag). */
function decodeFlagged(
  serializer: Serializer,
  mark: number,
  body: Buffer,
  limit: ZlibOptions,
  maxBytes: number,
  bound: string,
): unknown {
  if (mark === FLAG_RAW) return serializer.deserialize(body);
  return serializer.deserialize(inflate(DECOMPRESS[mark]!, body, limit, maxBytes, bound));
}

function inflate(
  decompress: (input: Buffer, limit: ZlibOptions) => Buffer,
  body: Buffer,
  limit: ZlibOptions,
  maxBytes: number,
  bound: string,
): Buffer {
  try {
    return decompress(body, limit);
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ERR_BUFFER_TOO_LARGE') throw error;
    throw new RangeError(`stored value decompresses to more than ${bound} (${maxBytes} bytes)`, {
      cause: error,
    });
  }
}
