// Warm-up sources: turns what `warm()` / `warmOnStart` accept (pairs as an array, iterable, async
// iterable, or a function returning one) into one async stream of checked [key, value, options] items.
import type { CacheKey } from '../engine/types.js';
import { keyProblem } from '../util/validate.js';
import type { CacheSetOptions, WarmSource } from './types.js';

/** One checked warm-up item. */
export interface WarmItem<V> {
  key: CacheKey;
  value: V;
  options: CacheSetOptions | undefined;
}

/** Iterates a warm source, validating each item (a TypeError names the bad item's position). */
export async function* readWarmSource<V>(source: WarmSource<V>): AsyncGenerator<WarmItem<V>> {
  const iterable = typeof source === 'function' ? source() : source;
  if (
    iterable === null ||
    typeof iterable !== 'object' ||
    (!(Symbol.iterator in iterable) && !(Symbol.asyncIterator in iterable))
  ) {
    throw new TypeError('warm source must be an iterable or async iterable of [key, value] pairs');
  }
  let index = 0;
  for await (const item of iterable as AsyncIterable<unknown>) {
    if (!Array.isArray(item) || item.length < 2) {
      throw new TypeError(`warm source item ${index} must be a [key, value] or [key, value, options] array`);
    }
    const [key, value, options] = item as [unknown, V, unknown];
    const problem = keyProblem(key);
    if (problem !== undefined) throw new TypeError(`warm source item ${index}: ${problem}`);
    if (options !== undefined && (typeof options !== 'object' || options === null)) {
      throw new TypeError(`warm source item ${index}: options must be an object`);
    }
    yield { key: key as CacheKey, value, options: options as CacheSetOptions | undefined };
    index++;
  }
}
