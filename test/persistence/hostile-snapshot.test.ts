// Bad keys never poison a restart: a NaN or ±Infinity key is refused when written, and a well-framed
// snapshot holding invalid entries (NaN key, non-finite or out-of-range times, bad tags, wrong types)
// loads its good entries, counts and logs the rest, and never stops the cache from starting.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Packr } from 'msgpackr';
import { createCache } from '../../src/cache/create-cache.js';
import { MemoryCache } from '../../src/engine/memory-cache.js';
import { restoreCachesSync } from '../../src/persistence/multi-cache.js';
import {
  decodeSnapshot,
  encodeSnapshot,
  HEADER_BYTES,
  SNAPSHOT_MAGIC,
} from '../../src/persistence/format.js';
import { msgpackSerializer } from '../../src/codec/serializer.js';
import { entry, recordingLogger, scratchDir } from './helpers.js';

const serializer = msgpackSerializer();
const NOW = 1_000_000;

/** A well-framed snapshot (magic, version, length, checksum all right) around any payload. */
function framed(payload: unknown): Buffer {
  const body = new Packr({ useRecords: false, moreTypes: false }).pack(payload);
  const header = Buffer.alloc(HEADER_BYTES);
  SNAPSHOT_MAGIC.copy(header, 0);
  header.writeUInt16BE(1, 8);
  header.writeBigUInt64BE(BigInt(body.length), 12);
  header.writeUInt32BE(crc32(body, crc32(header.subarray(8, 20))), 20);
  return Buffer.concat([header, body]);
}

const envelopeBytes = (value: unknown) => serializer.serialize(value) as Uint8Array;

/** Tuple [key, value bytes, createdAt, staleAt, expiresAt, tags, size, frequency], good unless overridden. */
function tuple(key: unknown, overrides: Record<number, unknown> = {}): unknown[] {
  const t: unknown[] = [key, envelopeBytes(`v:${String(key)}`), NOW - 10, 0, 0, ['t'], 0, 0];
  for (const [i, v] of Object.entries(overrides)) t[Number(i)] = v;
  return t;
}

const BAD = [
  tuple(Number.NaN),
  tuple(Infinity),
  tuple(-Infinity),
  tuple(null),
  tuple({ an: 'object' }),
  tuple('nan-created', { 2: Number.NaN }),
  tuple('inf-stale', { 3: Infinity }),
  tuple('neg-expires', { 4: -5 }),
  tuple('huge-expires', { 4: 1e300 }),
  tuple('string-time', { 2: 'yesterday' }),
  tuple('bad-tags', { 5: [1, 2] }),
  tuple('tags-not-array', { 5: 'a,b' }),
  tuple('nan-size', { 6: Number.NaN }),
  tuple('hot-frequency', { 7: 1_000 }),
  tuple('no-bytes', { 1: 'not bytes' }),
  ['too', 'short'],
  'not even an array',
];

function hostileFile(): Buffer {
  return framed({
    createdAt: Number.NaN, // out of range, only used to report the snapshot's age
    caches: [
      {
        name: 'url',
        entries: [tuple('good-1'), ...BAD, tuple(42), tuple('good-2', { 3: NOW + 60_000, 4: NOW + 90_000 })],
      },
      { name: 42, entries: [tuple('in-a-nameless-record')] },
      { name: 'other', entries: 'not an array' },
    ],
  });
}

let scratch: ReturnType<typeof scratchDir>;
beforeEach(() => {
  scratch = scratchDir();
});
afterEach(() => scratch.remove());

describe('non-finite keys', () => {
  it('are refused by the engine with a TypeError on writes and reads', () => {
    const cache = new MemoryCache<number, string>({ maxEntries: 10 });
    for (const key of [Number.NaN, Infinity, -Infinity]) {
      expect(() => cache.set(key, 'x')).toThrow(TypeError);
      expect(() => cache.set(key, 'x')).toThrow(
        `key must be a string or a finite number, got ${String(key)}`,
      );
      expect(() => cache.get(key)).toThrow(TypeError);
      expect(() => cache.peek(key)).toThrow(TypeError);
      expect(() => cache.has(key)).toThrow(TypeError);
      expect(() => cache.delete(key)).toThrow(TypeError);
      expect(() => cache.ttlRemaining(key)).toThrow(TypeError);
    }
    cache.set(0, 'zero');
    cache.set(-1.5, 'minus');
    expect(cache.get(0)).toBe('zero');
    expect(cache.get(-1.5)).toBe('minus');
    expect(cache.size).toBe(2);
    expect(cache.stats().misses).toBe(0);
  });

  it('never reach a snapshot through the facade, so the next start is clean', async () => {
    const path = join(scratch.dir, 'url.snap');
    const first = createCache<string>({ name: 'url', persist: { path } });
    // The facade may refuse it itself (TypeError) or pass on the engine's TypeError as the cause.
    await expect(first.set(Number.NaN, 'poison')).rejects.toThrow();
    await first.set(7, 'seven');
    await first.close();
    const second = createCache<string>({ name: 'url', persist: { path, onShutdown: false } });
    expect(second.entries()).toHaveLength(1);
    expect(await second.get(7)).toBe('seven');
    await second.close();
  });
});

describe('a snapshot with invalid entries', () => {
  it('decodes the good entries and counts the bad ones, with reasons', () => {
    const content = decodeSnapshot(hostileFile(), serializer);
    expect(content.caches.get('url')!.map((e) => e.key)).toEqual(['good-1', 42, 'good-2']);
    expect(content.caches.has('other')).toBe(false);
    // Every BAD tuple, plus the two malformed cache records.
    expect(content.invalid).toBe(BAD.length + 2);
    expect(content.invalidByCache.get('url')).toBe(BAD.length);
    expect(content.createdAt).toBe(0);
    expect(content.problems).toHaveLength(5);
    expect(content.problems[0]).toBe('cache "url" entry 1: key is NaN');
    expect(content.problems[1]).toBe('cache "url" entry 2: key is Infinity');
  });

  it('restores the good entries at start, reports the skipped count and logs it', async () => {
    const path = join(scratch.dir, 'url.snap');
    writeFileSync(path, hostileFile());
    const { logger, lines } = recordingLogger();
    const cache = createCache<string>({
      name: 'url',
      persist: { path, onShutdown: false },
      logger,
      clock: () => NOW,
    });
    expect(cache.entries()).toHaveLength(3);
    expect(await cache.get('good-1')).toBe('v:good-1');
    expect(await cache.get(42)).toBe('v:42');
    expect(await cache.get('good-2')).toBe('v:good-2');
    const warning = lines.find((l) => l.message === 'Cache RESTORE skipped invalid entries');
    expect(warning?.level).toBe('warn');
    expect(warning?.fields).toMatchObject({ invalid: BAD.length + 2, caches: { url: BAD.length } });
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
    await cache.close();
  });

  it('reports the count in the restore result, per cache and in total', () => {
    const path = join(scratch.dir, 'url.snap');
    writeFileSync(path, hostileFile());
    const cache = createCache<string>({ name: 'url', clock: () => NOW });
    const result = restoreCachesSync(path, (name) => (name === 'url' ? cache : undefined));
    expect(result).toMatchObject({ restored: true, loaded: 3, invalid: BAD.length + 2 });
    expect(result.caches['url']).toEqual({ loaded: 3, expired: 0, dropped: 0, invalid: BAD.length });
    void cache.close();
  });

  it('is never written: the encoder leaves out what the decoder would refuse', () => {
    const skipped: unknown[] = [];
    const { entries } = encodeSnapshot(
      new Map([['c', [entry('ok'), entry(Number.NaN), entry('late', { expiresAt: Infinity })]]]),
      serializer,
      NOW,
      (_cache, key) => skipped.push(key),
    );
    expect(entries).toBe(1);
    expect(skipped).toEqual([Number.NaN, 'late']);
  });
});
