import { describe, expect, it } from 'vitest';
import { compilePathPattern } from '../../src/http/path-pattern.js';

describe('compilePathPattern', () => {
  it('captures :params and decodes them', () => {
    const p = compilePathPattern('/subscriptions/:org/providers/:provider/plans');
    expect(p.params).toEqual(['org', 'provider']);
    expect(p.match('/subscriptions/acme/providers/sl%20ack/plans')).toEqual({
      org: 'acme',
      provider: 'sl ack',
    });
    expect(p.match('/subscriptions/acme/providers/slack')).toBeUndefined();
    expect(p.match('/subscriptions/acme/providers/slack/plans/x')).toBeUndefined();
  });

  it('ignores a trailing slash but not an empty segment', () => {
    const p = compilePathPattern('/api/urls/:id');
    expect(p.match('/api/urls/7/')).toEqual({ id: '7' });
    expect(p.match('/api/urls//')).toBeUndefined();
    expect(compilePathPattern('/').match('/')).toEqual({});
  });

  it('matches one segment with a middle * and the rest with a trailing *', () => {
    expect(compilePathPattern('/a/*/c').match('/a/b/c')).toEqual({});
    expect(compilePathPattern('/a/*/c').match('/a/b/x/c')).toBeUndefined();
    const rest = compilePathPattern('/s/:org/plans/*');
    expect(rest.match('/s/acme/plans')).toEqual({ org: 'acme' });
    expect(rest.match('/s/acme/plans/1/2/3')).toEqual({ org: 'acme' });
    expect(rest.match('/s/acme/other')).toBeUndefined();
  });

  it('compares whole segments, not prefixes', () => {
    const p = compilePathPattern('/api/urls/:id');
    expect(p.match('/api/urlsX/1')).toBeUndefined();
    expect(p.match('/api/url/1')).toBeUndefined();
    expect(p.match('/api/urls')).toBeUndefined();
    expect(p.match('api/urls/1')).toBeUndefined();
    expect(compilePathPattern('/').match('/a')).toBeUndefined();
    expect(compilePathPattern('/a/*').match('/a')).toEqual({});
    expect(compilePathPattern('/a/*').match('/ab')).toBeUndefined();
  });

  it('keeps a malformed percent-encoding as written', () => {
    expect(compilePathPattern('/f/:name').match('/f/100%')).toEqual({ name: '100%' });
  });

  it('accepts a RegExp with named groups, ignoring a g flag', () => {
    const p = compilePathPattern(/^\/api\/urls\/(?<id>\d+)\/$/g);
    expect(p.params).toEqual(['id']);
    expect(p.match('/api/urls/12/')).toEqual({ id: '12' });
    expect(p.match('/api/urls/12/')).toEqual({ id: '12' });
    expect(p.match('/api/urls/x/')).toBeUndefined();
  });

  it('matches letters ignoring case when asked, keeping the params as spelled', () => {
    const p = compilePathPattern('/api/Items/:id');
    expect(p.match('/API/ITEMS/Ab')).toBeUndefined();
    expect(p.match('/API/ITEMS/Ab', true)).toEqual({ id: 'Ab' });
    expect(p.match('/api/itemz/1', true)).toBeUndefined();
    const re = compilePathPattern(/^\/api\/(?<id>\d+)$/);
    expect(re.match('/API/12')).toBeUndefined();
    expect(re.match('/API/12', true)).toEqual({ id: '12' });
  });

  it('rejects bad patterns with a message naming the option', () => {
    expect(() => compilePathPattern('api/x', 'rules[0].path')).toThrow(
      /rules\[0\]\.path must start with '\/'/,
    );
    expect(() => compilePathPattern('/a/:1x', 'p')).toThrow(/invalid param name/);
    expect(() => compilePathPattern('/a/:id/:id', 'p')).toThrow(/twice/);
    expect(() => compilePathPattern(42 as unknown as string, 'p')).toThrow(TypeError);
  });
});
