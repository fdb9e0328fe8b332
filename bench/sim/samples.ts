// Hash samples of a trace. The engine sees a trace through its key hashes: which keys the window
// tuner's miniatures follow, which keys share frequency-sketch counters. One replay is therefore one
// sample of those choices, and on some traces samples differ by more than a point. Sample 0 is the
// trace itself; sample s > 0 renames every numeric key by a bijection of the 32-bit integers chosen
// by s (the reuse pattern is untouched: the same requests go to the same, renamed, keys), and string
// keys, which cannot be renamed without changing their length, hash under another seed instead
// (sampleSeed). The reference models in this folder never hash, so a sample changes nothing for them.

/** Samples a hit-ratio run may take (the first is the trace itself). */
export const MAX_SAMPLES = 16;

/** Renames integer key `key` (|key| < 2^31) for sample `sample` > 0: a bijection of the int32 values. */
export function renameKey(key: number, sample: number): number {
  let h = key ^ Math.imul(sample, 0x9e3779b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  return h ^ (h >>> 16);
}

/** `keys` as sample `sample` sees them: the same array for sample 0, numeric keys renamed otherwise. */
export function sampleKeys<K extends number | string>(keys: ArrayLike<K>, sample: number): ArrayLike<K> {
  checkSample(sample);
  if (sample === 0) return keys;
  const out = new Array<K>(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (typeof key === 'number' && (key | 0) !== key)
      throw new RangeError(`sampleKeys: key ${key} at ${i} is not a 32-bit integer`);
    out[i] = (typeof key === 'number' ? renameKey(key, sample) : key) as K;
  }
  return out;
}

/** The string-hash seed of sample `sample` (hash.ts's setHashSeed); sample 0 keeps `base`. */
export function sampleSeed(base: number, sample: number): number {
  checkSample(sample);
  return sample === 0 ? base : (base ^ Math.imul(sample, 0x85ebca6b)) | 0;
}

function checkSample(sample: number): void {
  if (!Number.isInteger(sample) || sample < 0 || sample >= MAX_SAMPLES)
    throw new RangeError(`sample must be an integer from 0 to ${MAX_SAMPLES - 1}, got ${sample}`);
}
