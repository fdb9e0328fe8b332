// Snapshot files carry each entry's load state (issue 15): the upstream's validators, the adaptive TTL
// state and the keep window survive a restart, so the first load after it is conditional and the
// adaptive TTL carries on. A file without load state is still written as (and read as) version 1,
// and a malformed validator or adaptive state read from a file is dropped, never its entry.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Packr } from 'msgpackr';
import { createCache } from '../../src/cache/create-cache.js';
import type { LoaderContext } from '../../src/cache/types.js';
import {
  decodeSnapshot,
  encodeSnapshot,
  HEADER_BYTES,
  SNAPSHOT_BASE_VERSION,
  SNAPSHOT_MAGIC,
  SNAPSHOT_VERSION,
} from '../../src/persistence/format.js';
import { msgpackSerializer } from '../../src/codec/serializer.js';
import { manualClock, type ManualClock } from '../helpers/clock.js';
import { entry, scratchDir } from './helpers.js';

const serializer = msgpackSerializer();
const SECOND = 1000;
const NOW = 1_000_000;
const LAST_MODIFIED = 'Fri, 04 Dec 2026 10:00:00 GMT';

/** A well-framed snapshot of `version` around any payload, built without the encoder. */
function framed(version: number, payload: unknown): Buffer {
  const body = new Packr({ useRecords: false, moreTypes: false }).pack(payload);
  const header = Buffer.alloc(HEADER_BYTES);
  SNAPSHOT_MAGIC.copy(header, 0);
  header.writeUInt16BE(version, 8);
  header.writeBigUInt64BE(BigInt(body.length), 12);
  header.writeUInt32BE(crc32(body, crc32(header.subarray(8, 20))), 20);
  return Buffer.concat([header, body]);
}

/** An entry tuple fresh until NOW + 10 s, with `rest` appended (the version 2 load state). */
function tuple(key: string, ...rest: unknown[]): unknown[] {
  const staleAt = NOW + 10 * SECOND;
  return [key, serializer.serialize(`v:${key}`), NOW - SECOND, staleAt, staleAt, [], 0, 0, ...rest];
}

const versionOf = (bytes: Uint8Array) => Buffer.from(bytes).readUInt16BE(8);

/** An upstream with one document: answers 304 to a matching If-None-Match, else the body and its ETag. */
function upstream() {
  const state = { full: 0, notModified: 0 };
  const seen: Array<string | undefined> = [];
  const loader = (ctx: LoaderContext<string>) => {
    seen.push(ctx.previous?.etag);
    if (ctx.previous?.etag === '"1"') {
      state.notModified++;
      return ctx.notModified();
    }
    state.full++;
    ctx.setValidators({ etag: '"1"', lastModified: LAST_MODIFIED });
    return 'body';
  };
  return { state, seen, loader };
}

function docCache(clock: ManualClock, path: string) {
  return createCache<string>({
    name: 'doc',
    ttl: '10s',
    adaptiveTtl: { min: '5s', max: '80s' },
    clock: clock.now,
    persist: { path, onShutdown: true },
  });
}

const adaptiveOf = (cache: ReturnType<typeof docCache>, key: string) =>
  cache.entries().find((e) => e.key === key);

let scratch: ReturnType<typeof scratchDir>;
beforeEach(() => {
  scratch = scratchDir();
});
afterEach(() => scratch.remove());

describe('load state in snapshot files', () => {
  it('a restart keeps validators and adaptive TTL: the next load is conditional and the TTL keeps growing', async () => {
    const clock = manualClock(NOW);
    const path = join(scratch.dir, 'doc.snap');
    const up = upstream();
    const first = docCache(clock, path);
    await first.getOrSet('doc', up.loader);
    // Two unchanged refreshes (304s): 10 s -> 20 s -> 40 s.
    for (let i = 0; i < 2; i++) {
      clock.advance((await first.ttlRemaining('doc'))!);
      await first.getOrSet('doc', up.loader);
    }
    expect(await first.ttlRemaining('doc')).toBe(40 * SECOND);
    await first.close(); // the shutdown snapshot
    expect(versionOf(readFileSync(path))).toBe(SNAPSHOT_VERSION);

    const second = docCache(clock, path);
    expect(adaptiveOf(second, 'doc')).toMatchObject({ adaptiveTtlMs: 40 * SECOND, revalidatable: true });
    // Past staleness: the restored record was kept (keepUntil), so the load revalidates it.
    clock.advance(40 * SECOND);
    expect(await second.get('doc')).toBeUndefined();
    expect(await second.getOrSet('doc', up.loader)).toBe('body');
    expect(up.seen).toEqual([undefined, '"1"', '"1"', '"1"']);
    expect(up.state).toEqual({ full: 1, notModified: 3 });
    // The adaptive TTL carries on from 40 s instead of starting over at 10 s.
    expect(await second.ttlRemaining('doc')).toBe(80 * SECOND);
    await second.close();
  });

  it('round-trips every load state field through the encoder and the decoder', () => {
    const loaded = entry('k', {
      staleAt: NOW,
      expiresAt: NOW,
      validators: { etag: 'W/"abc"', lastModified: LAST_MODIFIED },
      adaptive: { ttl: 20 * SECOND, hash: Number.MAX_SAFE_INTEGER, seen: 123_456, changes: 1.729 },
      keepUntil: NOW + 80 * SECOND,
    });
    const plain = entry('plain');
    const { bytes } = encodeSnapshot(new Map([['c', [loaded, plain]]]), serializer, NOW);
    expect(versionOf(bytes)).toBe(2);
    const back = decodeSnapshot(bytes, serializer).caches.get('c')!;
    expect(back[0]).toEqual(loaded);
    expect(back[1]).toEqual(plain);
    expect(Object.keys(back[1]!)).not.toContain('validators');
  });

  it('writes version 1, byte for byte the old layout, when no entry carries load state', () => {
    const entries = [entry('a', { tags: ['t'], size: 3, frequency: 2 }), entry(7)];
    // Malformed state is not written either: there is nothing an old reader would miss.
    const junk = entry('junk', { validators: { etag: 5 as unknown as string }, keepUntil: NOW });
    const { bytes } = encodeSnapshot(new Map([['c', [...entries, junk]]]), serializer, NOW);
    expect(SNAPSHOT_BASE_VERSION).toBe(1);
    expect(versionOf(bytes)).toBe(1);
    const oldLayout = framed(1, {
      createdAt: NOW,
      caches: [
        {
          name: 'c',
          entries: [...entries, junk].map((e) => [
            e.key,
            serializer.serialize(e.value),
            e.createdAt,
            e.staleAt,
            e.expiresAt,
            e.tags,
            e.size,
            e.frequency,
          ]),
        },
      ],
    });
    expect(Buffer.from(bytes).equals(oldLayout)).toBe(true);
  });

  it('restores an old-format (version 1) file: entries load, the first load after expiry fetches in full', async () => {
    const path = join(scratch.dir, 'doc.snap');
    writeFileSync(path, framed(1, { createdAt: NOW, caches: [{ name: 'doc', entries: [tuple('doc')] }] }));
    const clock = manualClock(NOW);
    const cache = docCache(clock, path);
    expect(await cache.get('doc')).toBe('v:doc');
    expect(adaptiveOf(cache, 'doc')).toMatchObject({ key: 'doc', stale: false });
    clock.advance(10 * SECOND);
    const up = upstream();
    expect(await cache.getOrSet('doc', up.loader)).toBe('body');
    expect(up.seen).toEqual([undefined]);
    await cache.close();
  });

  it('reads version 1 strictly: a ninth element there is a malformed entry, as a tenth is in version 2', () => {
    const state = { validators: { etag: '"x"' } };
    const v1 = decodeSnapshot(
      framed(1, { createdAt: NOW, caches: [{ name: 'c', entries: [tuple('ok'), tuple('nine', state)] }] }),
      serializer,
    );
    expect(v1.caches.get('c')!.map((e) => e.key)).toEqual(['ok']);
    expect(v1.problems).toEqual(['cache "c" entry 1: malformed entry']);
    const v2 = decodeSnapshot(
      framed(2, {
        createdAt: NOW,
        caches: [{ name: 'c', entries: [tuple('ok'), tuple('nine', state), tuple('ten', state, 0)] }],
      }),
      serializer,
    );
    expect(v2.caches.get('c')!.map((e) => [e.key, e.validators])).toEqual([
      ['ok', undefined],
      ['nine', { etag: '"x"' }],
    ]);
    expect(v2.problems).toEqual(['cache "c" entry 2: malformed entry']);
  });

  it('drops malformed validators and adaptive state field by field, keeping the entry', () => {
    const keepUntil = NOW + 90 * SECOND;
    const tooLong = `"${'x'.repeat(2000)}"`;
    const file = framed(2, {
      createdAt: NOW,
      caches: [
        {
          name: 'c',
          entries: [
            tuple('long-etag', {
              validators: { etag: tooLong },
              adaptive: { ttl: 20 * SECOND, hash: 1.5, seen: -1, changes: 2 },
              keepUntil,
            }),
            tuple('numeric-etag', { validators: { etag: 42, lastModified: LAST_MODIFIED }, keepUntil }),
            tuple('bad-adaptive', {
              validators: { etag: '"ok"', extra: 'ignored' },
              adaptive: { ttl: Number.NaN },
              keepUntil: Infinity,
              future: { unknown: true },
            }),
            tuple('only-keep', { validators: 'nope', adaptive: null, keepUntil }),
            tuple('not-a-map', 'garbage'),
            tuple('nil', null),
          ],
        },
      ],
    });
    const content = decodeSnapshot(file, serializer);
    expect(content.invalid).toBe(0);
    const state = content.caches.get('c')!.map(({ key, validators, adaptive, keepUntil: keep }) => ({
      key,
      validators,
      adaptive,
      keep,
    }));
    expect(state).toEqual([
      { key: 'long-etag', validators: undefined, adaptive: { ttl: 20 * SECOND }, keep: keepUntil },
      {
        key: 'numeric-etag',
        validators: { lastModified: LAST_MODIFIED },
        adaptive: undefined,
        keep: keepUntil,
      },
      { key: 'bad-adaptive', validators: { etag: '"ok"' }, adaptive: undefined, keep: undefined },
      { key: 'only-keep', validators: undefined, adaptive: undefined, keep: undefined },
      { key: 'not-a-map', validators: undefined, adaptive: undefined, keep: undefined },
      { key: 'nil', validators: undefined, adaptive: undefined, keep: undefined },
    ]);
    expect(Object.keys(content.caches.get('c')![2]!)).not.toContain('future');
  });

  it('restores an entry whose validator is malformed without it: the next load fetches in full', async () => {
    const path = join(scratch.dir, 'doc.snap');
    const keepUntil = NOW + 90 * SECOND;
    writeFileSync(
      path,
      framed(2, {
        createdAt: NOW,
        caches: [
          {
            name: 'doc',
            entries: [
              tuple('doc', { validators: { etag: `"${'x'.repeat(2000)}"` }, keepUntil }),
              tuple('ok', { validators: { etag: '"1"' }, keepUntil }),
            ],
          },
        ],
      }),
    );
    const clock = manualClock(NOW);
    const cache = docCache(clock, path);
    expect(await cache.get('doc')).toBe('v:doc');
    expect(adaptiveOf(cache, 'doc')?.revalidatable).toBeUndefined();
    expect(adaptiveOf(cache, 'ok')?.revalidatable).toBe(true);
    clock.advance(10 * SECOND);
    const up = upstream();
    // Without validators nothing was kept past expiry: a full load. The sound entry revalidates.
    expect(await cache.getOrSet('doc', up.loader)).toBe('body');
    expect(await cache.getOrSet('ok', up.loader)).toBe('v:ok');
    expect(up.seen).toEqual([undefined, '"1"']);
    expect(up.state).toEqual({ full: 1, notModified: 1 });
    await cache.close();
  });
});
