import { describe, expect, it } from 'vitest';
import { compileTemplate, encodeKeyValue } from '../../src/http/template.js';

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

describe('key encoding', () => {
  it('keeps letters, digits, - and . and percent-encodes everything else, % included', () => {
    expect(encodeKeyValue('acme-corp.v2')).toBe('acme-corp.v2');
    expect(encodeKeyValue('a_b')).toBe('a%5Fb');
    expect(encodeKeyValue("*?:/ %!~'()")).toBe('%2A%3F%3A%2F%20%25%21%7E%27%28%29');
    expect(encodeKeyValue('[^\\]')).toBe('%5B%5E%5C%5D');
    expect(encodeKeyValue('é')).toBe('%C3%A9');
    // Never throws, not even on a string that is not well-formed UTF-16.
    expect(encodeKeyValue('\uD800')).toBe('%EF%BF%BD');
  });

  it("a 'key' template cannot render one key for two different splits of its values", () => {
    const t = compileTemplate('plans_list_{org}_{provider}_{x}', 't', undefined, 'key');
    const a = t.render({ org: 'a_b', provider: 'c', x: 'd' });
    const b = t.render({ org: 'a', provider: 'b_c', x: 'd' });
    expect(a).toBe('plans_list_a%5Fb_c_d');
    expect(b).toBe('plans_list_a_b%5Fc_d');
    // A raw template, as tags use, renders the values as they are.
    expect(compileTemplate('org:{org}', 't').render({ org: 'a_b*' })).toBe('org:a_b*');
  });

  it("a 'key' pattern keeps its own wildcards but a value's are literal", () => {
    const t = compileTemplate('plans_list_{org}_*', 't', ['org'], 'key');
    expect(t.render({ org: '*' })).toBe('plans_list_%2A_*');
    expect(t.render({ org: 'a?' })).toBe('plans_list_a%3F_*');
  });
});
