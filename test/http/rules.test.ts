import { describe, expect, it } from 'vitest';
import {
  compileCacheRules,
  compileInvalidationRules,
  matchCacheRule,
  matchInvalidationRules,
  type CacheRule,
} from '../../src/http/rules.js';

describe('compileCacheRules', () => {
  it('compiles durations, tags, vary lists and default statuses', () => {
    const [rule] = compileCacheRules([
      {
        path: '/s/:org/providers',
        ttl: '5m',
        grace: 2000,
        tags: ['org:{org}'],
        varyHeaders: ['Accept-Language'],
      },
    ]);
    expect(rule!.ttl).toBe(300_000);
    expect(rule!.grace).toBe(2000);
    expect(rule!.tags[0]!.render({ org: 'acme' })).toBe('org:acme');
    expect(rule!.varyHeaders).toEqual(['accept-language']);
    expect(rule!.varyQuery).toBe(true);
    expect([...rule!.statuses].sort()).toEqual([200, 203, 204, 301, 308]);
  });

  it('takes layer-wide statuses unless the rule names its own', () => {
    const [a, b] = compileCacheRules([{ path: '/a' }, { path: '/b', statuses: [200] }], {
      statuses: [200, 404],
    });
    expect([...a!.statuses]).toEqual([200, 404]);
    expect([...b!.statuses]).toEqual([200]);
  });

  it('picks the first matching rule', () => {
    const rules = compileCacheRules([{ path: '/api/urls/stats', perUser: true }, { path: '/api/urls/:id' }]);
    expect(matchCacheRule(rules, 'GET', '/api/urls/stats')!.rule.perUser).toBe(true);
    expect(matchCacheRule(rules, 'GET', '/api/urls/9')!.params).toEqual({ id: '9' });
    expect(matchCacheRule(rules, 'GET', '/other')).toBeUndefined();
  });

  it('honours the method: GET covers HEAD, HEAD alone matches only HEAD', () => {
    const rules = compileCacheRules([
      { method: 'HEAD', path: '/a', ttl: '1m' },
      { path: '/a', ttl: '5m' },
      { method: ['get'] as unknown as 'GET', path: '/b' },
    ]);
    expect(matchCacheRule(rules, 'GET', '/a')!.rule.ttl).toBe(300_000);
    expect(matchCacheRule(rules, 'HEAD', '/a')!.rule.ttl).toBe(60_000);
    expect(matchCacheRule(rules, 'HEAD', '/b')!.rule.what).toBe('rules[2]');
    expect(matchCacheRule(rules, 'POST', '/b')).toBeUndefined();
    expect([...rules[1]!.methods].sort()).toEqual(['GET', 'HEAD']);
  });

  it.each<[CacheRule, RegExp]>([
    [{ path: '/a', method: 'POST' as 'GET' }, /rules\[0\]\.method must be GET or HEAD/],
    [{ path: '/a', method: ['GET', 'DELETE'] as unknown as 'GET' }, /rules\[0\]\.method must be GET or HEAD/],
    [{ path: '/a', ttl: -1 }, /rules\[0\]\.ttl must not be negative/],
    [{ path: '/a', perUser: true, shared: true }, /cannot be both perUser and shared/],
    [{ path: '/a', storePrivate: true }, /storePrivate needs perUser/],
    [{ path: '/a/:id', tags: ['x:{org}'] }, /rules\[0\]\.tags\[0\] uses \{org\}/],
    [{ path: '/a', statuses: [200, 700] }, /rules\[0\]\.statuses must hold HTTP statuses/],
    [{ path: '/a', statusTtl: { 700: '1s' } }, /rules\[0\]\.statusTtl must be keyed by HTTP statuses/],
    [{ path: '/a', statusTtl: { 404: 'soon' } as never }, /rules\[0\]\.statusTtl\[404\]/],
    [{ path: '/a', statusTtl: [10] as never }, /rules\[0\]\.statusTtl must be an object/],
    [{ path: '/a', tag: ['x'] } as unknown as CacheRule, /unknown option "tag"/],
    [{ ttl: 5 } as unknown as CacheRule, /rules\[0\]\.path is required/],
    [{ path: '/a', maxResponseBytes: 0 }, /rules\[0\]\.maxResponseBytes must be a positive integer/],
    [{ path: '/a', perUser: 'yes' as unknown as boolean }, /rules\[0\]\.perUser must be a boolean/],
  ])('rejects %j', (rule, message) => {
    expect(() => compileCacheRules([rule])).toThrow(message);
  });
});

describe('compileInvalidationRules', () => {
  const seed003 = compileInvalidationRules([
    {
      method: ['POST', 'PUT', 'DELETE'],
      path: '/subscriptions/:org/providers/:provider/plans/*',
      tags: ['org:{org}'],
      patterns: ['plans_list_{org}_{provider}_*'],
    },
    { method: 'POST', path: '/engines', keys: ['stats:total'] },
  ]);

  it('matches writes by method and path, all matching rules applying', () => {
    const hits = matchInvalidationRules(seed003, 'PUT', '/subscriptions/acme/providers/slack/plans/sub_1');
    expect(hits).toHaveLength(1);
    expect(hits[0]!.params).toEqual({ org: 'acme', provider: 'slack' });
    expect(
      matchInvalidationRules(seed003, 'PATCH', '/subscriptions/acme/providers/slack/plans/1'),
    ).toHaveLength(0);
    expect(matchInvalidationRules(seed003, 'POST', '/engines')).toHaveLength(1);
  });

  it('encodes params in keys and patterns as cache keys do, and leaves tags raw', () => {
    const [rule] = compileInvalidationRules([
      { path: '/o/:org', tags: ['org:{org}'], patterns: ['list_{org}_*'], keys: ['one_{org}'] },
    ]);
    const params = { org: 'a_*' };
    expect(rule!.tags[0]!.render(params)).toBe('org:a_*');
    expect(rule!.patterns[0]!.render(params)).toBe('list_a%5F%2A_*');
    expect(rule!.keys[0]!.render(params)).toBe('one_a%5F%2A');
  });

  it('defaults to every write method', () => {
    const [rule] = compileInvalidationRules([{ path: '/x', tags: ['x'] }]);
    expect([...rule!.methods]).toEqual(['POST', 'PUT', 'PATCH', 'DELETE']);
  });

  it('rejects rules that invalidate nothing, read methods or unknown params', () => {
    expect(() => compileInvalidationRules([{ path: '/x' }])).toThrow(
      /invalidate\[0\] must name at least one/,
    );
    expect(() => compileInvalidationRules([{ path: '/x', method: 'GET', tags: ['a'] }])).toThrow(
      /invalidate\[0\]\.method must be one of POST/,
    );
    expect(() => compileInvalidationRules([{ path: '/x/:id', patterns: ['p_{org}_*'] }])).toThrow(
      /uses \{org\}/,
    );
    expect(() => compileInvalidationRules({} as never)).toThrow(/invalidate must be an array/);
  });
});

describe('shadowed rules', () => {
  it("refuses a rule an earlier one always wins over, naming both (the README's /:id before /stats)", () => {
    expect(() =>
      compileCacheRules([
        { path: '/api/urls/:id', ttl: '5m', tags: ['url:{id}'] },
        { path: '/api/urls/stats', ttl: '15m', perUser: true },
      ]),
    ).toThrow(
      /rules\[1\] \(GET\/HEAD \/api\/urls\/stats\) can never match: rules\[0\] \(GET\/HEAD \/api\/urls\/:id\)/,
    );
  });

  it('accepts the specific rule first, and rules that only overlap', () => {
    expect(
      compileCacheRules([
        { path: '/api/urls/stats', perUser: true },
        { path: '/api/urls/:id' },
        { path: '/api/urls/:id/clicks' }, // longer than /:id: not covered
        { path: '/a/:x/c' },
        { path: '/a/b/*' }, // a rest is wider than one segment
        { path: '/a/:y' }, // overlaps /a/b/* on /a/b only
      ]),
    ).toHaveLength(6);
  });

  it('detects rests, one-segment wildcards and repeats; methods must all be covered', () => {
    expect(() => compileCacheRules([{ path: '/files/*' }, { path: '/files/a/b' }])).toThrow(
      /rules\[1\].*rules\[0\]/,
    );
    expect(() => compileCacheRules([{ path: '/files/*' }, { path: '/files' }])).toThrow(/can never match/);
    expect(() => compileCacheRules([{ path: '/x/*/y' }, { path: '/x/:id/y' }])).toThrow(/can never match/);
    expect(() => compileCacheRules([{ path: /^\/r$/ }, { path: /^\/r$/ }])).toThrow(/can never match/);
    // A HEAD-only rule first leaves GET to the later rule; a GET rule first shadows a HEAD-only one.
    expect(compileCacheRules([{ path: '/h', method: 'HEAD' }, { path: '/h' }])).toHaveLength(2);
    expect(() => compileCacheRules([{ path: '/h' }, { path: '/h', method: 'HEAD' }])).toThrow(
      /rules\[1\] \(HEAD \/h\)/,
    );
    // Different RegExps are not compared (undecidable in general), so they pass.
    expect(compileCacheRules([{ path: /^\/r/ }, { path: /^\/r$/ }])).toHaveLength(2);
  });
});
