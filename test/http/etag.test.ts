import { describe, expect, it } from 'vitest';
import { computeEtag, ifNoneMatchMatches } from '../../src/http/etag.js';

describe('etag', () => {
  it('is strong, quoted, and equal only for equal bodies', () => {
    const a = computeEtag(Buffer.from('hello'));
    expect(a).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect(computeEtag(Buffer.from('hello'))).toBe(a);
    expect(computeEtag(Buffer.from('hellO'))).not.toBe(a);
  });

  it('matches If-None-Match lists, weak forms and *', () => {
    expect(ifNoneMatchMatches('"x"', '"x"')).toBe(true);
    expect(ifNoneMatchMatches('"a", W/"x"', '"x"')).toBe(true);
    expect(ifNoneMatchMatches('*', '"x"')).toBe(true);
    expect(ifNoneMatchMatches('"y"', '"x"')).toBe(false);
    expect(ifNoneMatchMatches(undefined, '"x"')).toBe(false);
  });
});
