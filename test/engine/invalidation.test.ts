import { describe, expect, it } from 'vitest';
import { MemoryCache } from '../../src/engine/memory-cache.js';
import { globToRegExp } from '../../src/util/glob.js';
import { evictionLog } from './helpers.js';

function seeded(policy: 'tinylfu' | 'lru') {
  const log = evictionLog<string | number, string>();
  const c = new MemoryCache<string | number, string>({ policy, onEvict: log.onEvict });
  c.set('plans_list_acme_aws_1', 'a', { tags: ['org:acme', 'provider:aws'] });
  c.set('plans_list_acme_aws_2', 'b', { tags: ['org:acme', 'provider:aws'] });
  c.set('plans_list_acme_gcp_1', 'c', { tags: ['org:acme', 'provider:gcp'] });
  c.set('all_plans_acme_x', 'd', { tags: ['org:acme'] });
  c.set('providers_list_beta', 'e', { tags: ['org:beta'] });
  c.set(12345, 'f');
  return { c, log };
}

describe.each(['tinylfu', 'lru'] as const)('MemoryCache invalidation (%s)', (policy) => {
  it('invalidateTags removes entries with any of the tags and returns the count', () => {
    const { c, log } = seeded(policy);
    expect(c.invalidateTags(['provider:aws', 'org:beta'])).toBe(3);
    expect(c.size).toBe(3);
    expect(log.calls.every((x) => x[2] === 'invalidated')).toBe(true);
    expect(c.invalidateTags(['provider:aws'])).toBe(0);
    expect(c.invalidateTags(['org:acme'])).toBe(2);
    expect(c.stats().invalidations).toBe(5);
    expect(c.invalidateTags([])).toBe(0);
  });

  it('forgets tags once no entry carries them, and re-tags on overwrite', () => {
    const { c } = seeded(policy);
    c.set('plans_list_acme_aws_1', 'new value'); // overwritten without tags
    expect(c.invalidateTags(['provider:aws'])).toBe(1);
    expect(c.get('plans_list_acme_aws_1')).toBe('new value');
    c.delete('all_plans_acme_x');
    c.delete('plans_list_acme_gcp_1');
    expect(c.invalidateTags(['org:acme'])).toBe(0);
  });

  it('invalidatePrefix and invalidatePattern match keys as strings and return counts', () => {
    const { c } = seeded(policy);
    expect(c.invalidatePrefix('plans_list_acme_aws_')).toBe(2);
    expect(c.invalidatePattern('plans_list_acme_*')).toBe(1);
    expect(c.invalidatePattern('*_acme_?')).toBe(1);
    expect(c.invalidatePattern('123*')).toBe(1);
    expect(c.invalidatePattern('nothing*')).toBe(0);
    expect([...c.keys()]).toEqual(['providers_list_beta']);
  });

  it('validates arguments', () => {
    const { c } = seeded(policy);
    expect(() => c.invalidateTags('org:acme' as any)).toThrow(/tags must be an array/);
    expect(() => c.invalidatePrefix(1 as any)).toThrow(/prefix must be a string/);
    expect(() => c.invalidatePattern(undefined as any)).toThrow(/pattern must be a string/);
    expect(() => c.set('x', 'y', { tags: [1 as any] })).toThrow(/tags must be an array of strings/);
    expect(c.size).toBe(6);
  });
});

describe('globToRegExp', () => {
  it('treats regex metacharacters literally', () => {
    expect(globToRegExp('a.b*').test('a.bcd')).toBe(true);
    expect(globToRegExp('a.b*').test('axbcd')).toBe(false);
    expect(globToRegExp('(x)+[y]').test('(x)+[y]')).toBe(true);
    expect(globToRegExp('a?c').test('abc')).toBe(true);
    expect(globToRegExp('a?c').test('ac')).toBe(false);
    expect(globToRegExp('*').test('multi\nline')).toBe(true);
  });
});
