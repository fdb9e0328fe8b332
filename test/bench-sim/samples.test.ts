// Hash samples of a trace (bench/sim/samples.ts): sample 0 is the trace itself; other samples rename
// numeric keys one to one, so every reuse pattern (and every reference model's answer) is kept while
// the engine sees other hashes.
import { describe, expect, it } from 'vitest';
import { MAX_SAMPLES, renameKey, sampleKeys, sampleSeed } from '../../bench/sim/samples.js';
import { ArcModel } from '../../bench/sim/arc.js';
import { simulate } from '../../bench/sim/model.js';
import { seededRandom } from '../helpers/random.js';

describe('hash samples of a trace', () => {
  it('sample 0 is the trace itself, with the base seed', () => {
    const keys = [3, 1, 4, 1, 5];
    expect(sampleKeys(keys, 0)).toBe(keys);
    expect(sampleSeed(77, 0)).toBe(77);
  });

  it('renames distinct keys to distinct 32-bit integers, differently per sample', () => {
    for (const sample of [1, 2, MAX_SAMPLES - 1]) {
      const seen = new Set<number>();
      for (let key = -50_000; key < 50_000; key++) {
        const renamed = renameKey(key, sample);
        expect(renamed | 0).toBe(renamed);
        seen.add(renamed);
      }
      expect(seen.size).toBe(100_000);
    }
    expect(renameKey(12345, 1)).not.toBe(renameKey(12345, 2));
    expect(sampleSeed(77, 1)).not.toBe(sampleSeed(77, 2));
  });

  it('keeps the reuse pattern: a reference model hits exactly as often on every sample', () => {
    const rand = seededRandom(3);
    const keys = Array.from({ length: 20_000 }, () => Math.floor(Math.pow(5_000, rand())));
    const expected = simulate(keys, new ArcModel<number>(200));
    for (let sample = 1; sample < 4; sample++) {
      const renamed = sampleKeys(keys, sample);
      expect(renamed).not.toEqual(keys);
      expect(simulate(renamed, new ArcModel<number>(200))).toBe(expected);
    }
  });

  it('leaves string keys alone and names what it cannot rename', () => {
    expect(sampleKeys(['a', 'b'], 3)).toEqual(['a', 'b']);
    expect(() => sampleKeys([1, 2 ** 40], 1)).toThrow(/key 1099511627776 at 1 is not a 32-bit integer/);
    expect(() => sampleKeys([1], MAX_SAMPLES)).toThrow(RangeError);
    expect(() => sampleSeed(1, -1)).toThrow(/sample must be an integer/);
  });
});
