import { describe, expect, it } from 'vitest';
import { MemoryCache } from '../../src/engine/memory-cache.js';
import { CACHE_OPTION_NAMES } from '../../src/cache/create-cache.js';

describe('MemoryCache option validation', () => {
  const cases: [string, object, RegExp][] = [
    ['negative ttl', { ttl: -1 }, /ttl/],
    ['NaN ttl', { ttl: NaN }, /ttl/],
    ['unreadable ttl', { ttl: 'soon' }, /ttl/],
    ['zero maxEntries', { maxEntries: 0 }, /maxEntries must be a positive integer/],
    ['fractional maxEntries', { maxEntries: 1.5 }, /maxEntries/],
    ['negative maxEntries', { maxEntries: -3 }, /maxEntries/],
    ['string maxEntries', { maxEntries: '10' }, /maxEntries/],
    ['zero maxBytes', { maxBytes: 0 }, /maxBytes/],
    ['fractional maxBytes', { maxBytes: 10.5 }, /maxBytes/],
    ['unknown policy', { policy: 'lfu' }, /policy must be 'tinylfu' or 'lru'/],
    ['jitter of 1', { jitter: 1 }, /jitter/],
    ['negative jitter', { jitter: -0.1 }, /jitter/],
    ['NaN jitter', { jitter: NaN }, /jitter/],
    ['negative cleanupInterval', { cleanupInterval: -5 }, /cleanupInterval/],
    ['non-function sizeOf', { sizeOf: 4 }, /sizeOf must be a function/],
    ['non-function onEvict', { onEvict: 'x' }, /onEvict must be a function/],
    ['non-function clock', { clock: 1 }, /clock must be a function/],
    ['misspelt option', { maxEntrys: 10 }, /MemoryCache: unknown option "maxEntrys"/],
    ['createCache option', { autoSize: { min: 10, max: 100 } }, /autoSize is an option of createCache/],
  ];
  it.each(cases)('rejects %s, naming the option', (_name, options, message) => {
    let error: unknown;
    try {
      new MemoryCache(options as any);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(Error);
    expect(error instanceof TypeError || error instanceof RangeError).toBe(true);
    expect((error as Error).message).toMatch(message);
  });

  // An option of createCache passed to the bare engine is either one the engine takes too, or refused
  // with a message that says where it belongs (not as an unknown option, which reads like a typo).
  it.each([...CACHE_OPTION_NAMES])('takes createCache option %s or names createCache', (key) => {
    let error: unknown;
    try {
      new MemoryCache({ [key]: undefined } as object).close();
    } catch (err) {
      error = err;
    }
    if (error === undefined) return;
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe(
      `MemoryCache: ${key} is an option of createCache, not of MemoryCache`,
    );
  });

  it('rejects a bad per-entry ttl, naming it, and leaves the cache unchanged', () => {
    const c = new MemoryCache<string, number>();
    c.set('a', 1);
    expect(() => c.set('a', 2, { ttl: -5 })).toThrow(/ttl/);
    expect(() => c.set('b', 2, { ttl: 'later' })).toThrow(/ttl/);
    expect(c.get('a')).toBe(1);
    expect(c.size).toBe(1);
  });

  it('accepts duration strings', () => {
    const c = new MemoryCache<string, number>({ ttl: '5m', cleanupInterval: '30s', clock: () => 1000 });
    c.set('a', 1);
    expect(c.ttlRemaining('a')).toBe(300_000);
    c.close();
  });
});
