// The glob matcher behind invalidatePattern: hostile patterns finish in linear-bounded time, results
// agree with a reference on thousands of random patterns and keys, and the pattern limits hold.
import { describe, expect, it } from 'vitest';
import { checkGlob, compileGlob, MAX_GLOB_LENGTH, MAX_GLOB_STARS } from '../../src/util/glob.js';
import { MemoryCache } from '../../src/engine/memory-cache.js';
import { globToRedisMatch } from '../../src/tiers/driver.js';
import { seededRandom as rng } from '../helpers/random.js';

// Reference: the textbook dynamic program over (pattern prefix, key prefix), code unit by code unit.
function reference(pattern: string, key: string): boolean {
  let row = new Array<boolean>(key.length + 1).fill(false);
  row[0] = true;
  for (let p = 0; p < pattern.length; p++) {
    const ch = pattern[p];
    const next = new Array<boolean>(key.length + 1).fill(false);
    if (ch === '*') {
      let any = false;
      for (let k = 0; k <= key.length; k++) next[k] = any = any || row[k]!;
    } else {
      for (let k = 1; k <= key.length; k++) next[k] = row[k - 1]! && (ch === '?' || ch === key[k - 1]);
    }
    row = next;
  }
  return row[key.length]!;
}

function randomString(next: () => number, alphabet: string, max: number): string {
  const length = Math.floor(next() * (max + 1));
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(next() * alphabet.length)]!;
  return out;
}

describe('compileGlob', () => {
  it('matches `*` as any run, `?` as one code unit, everything else literally', () => {
    expect(compileGlob('a.b*').test('a.bcd')).toBe(true);
    expect(compileGlob('a.b*').test('axbcd')).toBe(false);
    expect(compileGlob('(x)+[y]^$\\').test('(x)+[y]^$\\')).toBe(true);
    expect(compileGlob('a?c').test('abc')).toBe(true);
    expect(compileGlob('a?c').test('ac')).toBe(false);
    expect(compileGlob('*').test('multi\nline')).toBe(true);
    expect(compileGlob('').test('')).toBe(true);
    expect(compileGlob('').test('x')).toBe(false);
    expect(compileGlob('a*b*a').test('aba')).toBe(true);
    expect(compileGlob('a*a').test('a')).toBe(false);
    expect(compileGlob('*?*').test('')).toBe(false);
    expect(compileGlob('?').test('\u{1F600}')).toBe(false); // two code units
    expect(compileGlob('??').test('\u{1F600}')).toBe(true);
    expect(compileGlob('user:*').pattern).toBe('user:*');
  });

  it('agrees with a reference matcher on thousands of random patterns and keys', () => {
    const next = rng(0x1a2b3c);
    let matched = 0;
    for (let i = 0; i < 4000; i++) {
      const pattern = randomString(next, 'ab*?', 10);
      const glob = compileGlob(pattern);
      for (let j = 0; j < 5; j++) {
        const key = randomString(next, 'abc', 12);
        const want = reference(pattern, key);
        if (glob.test(key) !== want)
          throw new Error(`${JSON.stringify(pattern)} on ${JSON.stringify(key)}: want ${want}`);
        if (want) matched++;
      }
    }
    // Both outcomes are well represented, so the agreement is not vacuous.
    expect(matched).toBeGreaterThan(2000);
    expect(matched).toBeLessThan(18000);
  });

  it('agrees with the reference on keys with newlines, surrogates and regex metacharacters', () => {
    const next = rng(7);
    for (let i = 0; i < 2000; i++) {
      const pattern = randomString(next, '.\n\u{1F600}*?x', 8);
      const key = randomString(next, '.\n\u{1F600}x', 10);
      expect(compileGlob(pattern).test(key), `${JSON.stringify(pattern)} ${JSON.stringify(key)}`).toBe(
        reference(pattern, key),
      );
    }
  });

  it('agrees with the reference on `?`-heavy segments longer than one 32-bit word', () => {
    const next = rng(0x5eed);
    let matched = 0;
    for (let i = 0; i < 1500; i++) {
      // Long runs of a few letters and `?` between stars: segments of 30 to 100 code units.
      const segment = () => randomString(next, 'aab??????', 100).padStart(30, '?');
      const pattern = `${randomString(next, 'a', 1)}*${segment()}*${segment()}*${randomString(next, 'b', 1)}`;
      const glob = compileGlob(pattern);
      for (let j = 0; j < 3; j++) {
        const key = `a${randomString(next, next() < 0.3 ? 'ab' : 'aaab', 400).padStart(250, 'a')}b`;
        const want = reference(pattern, key);
        if (glob.test(key) !== want)
          throw new Error(`${JSON.stringify(pattern)} on ${JSON.stringify(key)}: want ${want}`);
        if (want) matched++;
      }
    }
    // Both outcomes are represented (about 7 % match), so the agreement is not vacuous.
    expect(matched).toBeGreaterThan(150);
    expect(matched).toBeLessThan(4000);
  });

  it('finds a `?` segment without trying it at every position (1,000 `?`s over 2,000-character keys)', () => {
    // Trying the segment at each position read up to 10^6 characters per key: seconds for these
    // 1,000 keys. Reading each character once, with up to 32 words of state, takes well under one.
    const keys = Array.from({ length: 1000 }, (_, i) => 'a'.repeat(1996) + String(i).padStart(4, '0'));
    const patterns = [
      `*${'?'.repeat(1000)}b*`,
      `*${'a?'.repeat(500)}b*`,
      `*${'a'.repeat(200)}${'?'.repeat(600)}${'a'.repeat(200)}b*`,
    ];
    for (const pattern of patterns) {
      const glob = compileGlob(pattern);
      const started = performance.now();
      let hits = 0;
      for (const key of keys) if (glob.test(key)) hits++;
      expect(hits).toBe(0);
      expect(performance.now() - started).toBeLessThan(1000);
    }
    expect(compileGlob(`*${'?'.repeat(1000)}b*`).test(`${'a'.repeat(1500)}b`)).toBe(true);
  });

  it('runs a backtracking-hostile pattern over 10k keys of 100 characters in linear-bounded time', () => {
    // The old RegExp took seconds on 10 keys of 64 characters for this pattern.
    const keys = Array.from({ length: 10_000 }, (_, i) => 'a'.repeat(96) + String(i).padStart(4, '0'));
    for (const pattern of ['*a*a*a*a*a*b', '*a?a*a?a*a?a*a?a*b', `${'*a'.repeat(MAX_GLOB_STARS - 1)}*b`]) {
      const glob = compileGlob(pattern);
      const started = performance.now();
      let hits = 0;
      for (const key of keys) if (glob.test(key)) hits++;
      const elapsed = performance.now() - started;
      expect(hits).toBe(0);
      // Backtracking took seconds on ten such keys; a linear matcher takes a few ms on 10k (the bound
      // leaves room for a loaded CI machine).
      expect(elapsed).toBeLessThan(500);
    }
  });

  it('keeps MemoryCache.invalidatePattern fast on the hostile pattern', () => {
    const cache = new MemoryCache<string, number>({ maxEntries: 20_000 });
    for (let i = 0; i < 10_000; i++) cache.set('a'.repeat(96) + String(i).padStart(4, '0'), i);
    cache.set(`${'a'.repeat(60)}b`, 1);
    const started = performance.now();
    expect(cache.invalidatePattern('*a*a*a*a*a*b')).toBe(1);
    expect(performance.now() - started).toBeLessThan(100);
    expect(cache.size).toBe(10_000);
  });

  it('bounds pattern length and star count with errors that name the limit', () => {
    expect(() => compileGlob('x'.repeat(MAX_GLOB_LENGTH))).not.toThrow();
    expect(() => compileGlob('x'.repeat(MAX_GLOB_LENGTH + 1))).toThrow(RangeError);
    expect(() => compileGlob('x'.repeat(MAX_GLOB_LENGTH + 1))).toThrow(/at most 1024/);
    expect(() => compileGlob('*'.repeat(MAX_GLOB_STARS))).not.toThrow();
    expect(() => compileGlob('a*'.repeat(MAX_GLOB_STARS + 1))).toThrow(/33 '\*' wildcards; .* at most 32/);
    expect(() => compileGlob(42 as unknown as string)).toThrow(TypeError);
    expect(() => checkGlob('*'.repeat(40), 'invalidatePattern(pattern)')).toThrow(
      /^invalidatePattern\(pattern\) has 40/,
    );
  });

  it('holds the Redis MATCH translation to the same syntax and limits', () => {
    expect(globToRedisMatch('user:[1]*^?\\')).toBe('user:\\[1\\]*\\^?\\\\');
    expect(() => globToRedisMatch('*'.repeat(MAX_GLOB_STARS + 1))).toThrow(RangeError);
    expect(() => globToRedisMatch('x'.repeat(MAX_GLOB_LENGTH + 1))).toThrow(/at most 1024/);
  });

  it('refuses an over-long pattern in MemoryCache before removing anything', () => {
    const cache = new MemoryCache<string, number>({ maxEntries: 10 });
    cache.set('a', 1);
    expect(() => cache.invalidatePattern('*'.repeat(100))).toThrow(RangeError);
    expect(cache.get('a')).toBe(1);
  });
});
