// A restored value holding binary data (a Buffer, a typed array) does not keep the snapshot file in
// memory. msgpackr hands binary data back as views of the bytes it reads, and values were read from
// views of the whole file: a four-byte Buffer restored from a 10 MB snapshot held all 10 MB, for as long
// as the entry stayed cached, outside the cache's byte accounting.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { decodeSnapshot, encodeSnapshot } from '../../src/persistence/format.js';
import { msgpackSerializer } from '../../src/codec/serializer.js';
import { createCache } from '../../src/cache/create-cache.js';
import { entry, scratchDir } from './helpers.js';

const serializer = msgpackSerializer();
const FILLER = 'x'.repeat(10_000);
/** Far less than the file, far more than a value and the 8 KB pool slab a small copy may sit in. */
const MOST_HELD = 64 * 1024;

let scratch: ReturnType<typeof scratchDir>;
beforeEach(() => {
  scratch = scratchDir();
});
afterEach(() => scratch.remove());

describe('binary data in restored values', () => {
  it('is not a view of the snapshot file', () => {
    const entries = [
      entry('bin', { value: { data: Buffer.from('tiny'), words: new Uint16Array([1, 2, 3]) } }),
      ...Array.from({ length: 200 }, (_, i) => entry(`k${i}`, { value: FILLER })),
    ];
    const { bytes } = encodeSnapshot(new Map([['c', entries]]), serializer, 1_000);
    expect(bytes.length).toBeGreaterThan(2_000_000);
    const value = decodeSnapshot(bytes, serializer).caches.get('c')![0]!.value as {
      data: Buffer;
      words: Uint16Array;
    };
    expect(value.data.toString()).toBe('tiny');
    expect([...value.words]).toEqual([1, 2, 3]);
    expect(value.data.buffer.byteLength).toBeLessThanOrEqual(MOST_HELD);
    expect(value.words.buffer.byteLength).toBeLessThanOrEqual(MOST_HELD);
  });

  it('restored at start holds its own bytes only', async () => {
    const path = join(scratch.dir, 'c.snap');
    const before = createCache<unknown>({ name: 'c', persist: { path } });
    await before.set('bin', Buffer.from('tiny'));
    for (let i = 0; i < 200; i++) await before.set(`k${i}`, FILLER);
    await before.close();

    const after = createCache<unknown>({ name: 'c', persist: { path } });
    const restored = (await after.get('bin')) as Buffer;
    expect(restored.toString()).toBe('tiny');
    expect(restored.buffer.byteLength).toBeLessThanOrEqual(MOST_HELD);
    await after.close();
  });
});
