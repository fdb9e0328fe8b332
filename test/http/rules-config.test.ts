import { describe, expect, it } from 'vitest';
import { rulesFromConfig } from '../../src/http/rules-config.js';
import { compileCacheRules, matchCacheRule } from '../../src/http/rules.js';

describe('rulesFromConfig', () => {
  // Seed 004's settings.CACHE_RULES, verbatim apart from Python's r'' prefixes.
  const CACHE_RULES = {
    '^/api/urls/$': { cache_type: 'url', ttl: 300, vary_by_user: true, vary_by_method: false },
    '^/api/urls/stats/$': { cache_type: 'analytics', ttl: 900, vary_by_user: true, vary_by_method: false },
  };

  it("reads seed 004's CACHE_RULES: regex paths, seconds, snake_case names", () => {
    const rules = compileCacheRules(rulesFromConfig(CACHE_RULES));
    expect(rules.map((r) => [r.cache, r.ttl, r.perUser])).toEqual([
      ['url', 300_000, true],
      ['analytics', 900_000, true],
    ]);
    expect(matchCacheRule(rules, 'GET', '/api/urls/stats/')!.rule.cache).toBe('analytics');
    expect(matchCacheRule(rules, 'GET', '/api/urls/stats')).toBeUndefined();
  });

  it('accepts camelCase options, string durations and path patterns', () => {
    const [rule] = compileCacheRules(
      rulesFromConfig({ '/s/:org/providers': { ttl: '5m', tags: ['org:{org}'], varyQuery: ['page'] } }),
    );
    expect(rule!.ttl).toBe(300_000);
    expect(rule!.varyQuery).toEqual(['page']);
  });

  it('names the bad entry', () => {
    expect(() => rulesFromConfig({ '^/a(': {} })).toThrow(
      /rules\["\^\/a\("\] is not a valid regular expression/,
    );
    expect(() => rulesFromConfig({ '/a': 5 as never })).toThrow(/rules\["\/a"\] must be an object/);
    expect(() => rulesFromConfig({ '/a': { vary_by_method: 'no' } })).toThrow(
      /vary_by_method must be a boolean/,
    );
    expect(() => compileCacheRules(rulesFromConfig({ '/a': { ttl: -3 } }))).toThrow(
      /ttl must not be negative/,
    );
  });

  it('reads status_ttl numbers as seconds, per status', () => {
    const [rule] = compileCacheRules(
      rulesFromConfig({ '/a/:id': { ttl: 600, status_ttl: { 404: 10, 410: '1h' } } }),
    );
    expect(rule!.statusTtl).toEqual(
      new Map([
        [404, 10_000],
        [410, 3_600_000],
      ]),
    );
    expect(rule!.statuses.has(404)).toBe(true);
  });
});
