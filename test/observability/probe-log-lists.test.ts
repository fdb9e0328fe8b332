// The admin API's and the write rules' log lines name several caches and lists of keys, tags and
// patterns (`caches`, `keys`, `patterns`): the bracketed and colon forms write those, where they
// wrote an empty `tags=` (a pattern invalidation read as a tag one) and no cache names.
import { describe, expect, it } from 'vitest';
import { formatBracketed, formatColon } from '../../src/observability/log-format.js';

describe('log lines of the admin API and write rules', () => {
  const invalidation = {
    caches: ['plans', 'images'],
    keys: ['k1', 7],
    tags: [],
    patterns: ['org_*'],
    count: 3,
    via: 'admin',
  };

  it('name what was invalidated, not an empty tag list', () => {
    expect(formatBracketed('Cache INVALIDATE', invalidation)).toBe(
      '[Cache INVALIDATE] plans,images keys=k1,7 patterns=org_* count=3',
    );
    expect(formatColon('Cache INVALIDATE', invalidation)).toBe(
      'Cache INVALIDATE: keys=k1,7 patterns=org_* count=3',
    );
    const byTag = { ...invalidation, keys: [], tags: ['org:1'], patterns: [] };
    expect(formatBracketed('Cache INVALIDATE', byTag)).toBe(
      '[Cache INVALIDATE] plans,images tags=org:1 count=3',
    );
    expect(formatColon('Cache INVALIDATE', byTag)).toBe('Cache INVALIDATE: tags=org:1 count=3');
  });

  it('name the caches cleared', () => {
    expect(formatBracketed('Cache CLEAR', { caches: ['a', 'b'], via: 'admin' })).toBe('[Cache CLEAR] a,b');
    expect(formatColon('Cache CLEAR', { caches: ['a', 'b'], via: 'admin' })).toBe('Cache CLEAR: a,b');
  });

  it('escape control characters in those lists too', () => {
    expect(formatBracketed('Cache INVALIDATE', { caches: ['c'], keys: ['a\nb'], patterns: ['p\r*'] })).toBe(
      '[Cache INVALIDATE] c keys=a\\nb patterns=p\\r*',
    );
  });
});
