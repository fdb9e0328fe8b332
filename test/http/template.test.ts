import { describe, expect, it } from 'vitest';
import { compileTemplate } from '../../src/http/template.js';

describe('compileTemplate', () => {
  it('fills placeholders from values, missing ones as empty', () => {
    const t = compileTemplate('plans_list_{org}_{provider}_*', 't');
    expect(t.names).toEqual(['org', 'provider']);
    expect(t.render({ org: 'acme', provider: 'slack' })).toBe('plans_list_acme_slack_*');
    expect(t.render({ org: 'acme' })).toBe('plans_list_acme__*');
  });

  it('returns a constant template unchanged', () => {
    expect(compileTemplate('stats:total', 't').render({ org: 'x' })).toBe('stats:total');
  });

  it('refuses a placeholder the path does not capture, naming the option and the params', () => {
    expect(() => compileTemplate('org:{orgg}', 'invalidate[0].tags[0]', ['org'])).toThrow(
      /invalidate\[0\]\.tags\[0\] uses \{orgg\}.*\{org\}/,
    );
    expect(() => compileTemplate('', 'x')).toThrow(/x must be a non-empty string/);
  });
});
