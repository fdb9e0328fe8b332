import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CREDENTIAL_HEADERS } from '../../src/http/cacheability.js';
import { credentialDigest, deriveKey, normaliseQuery, splitTarget } from '../../src/http/cache-key.js';
import { compileCacheRules, type CacheRule } from '../../src/http/rules.js';

const req = (url: string, headers: Record<string, string> = {}) =>
  ({ url, headers }) as unknown as IncomingMessage;

function keyOf(rule: CacheRule, url: string, headers: Record<string, string> = {}, user?: string): string {
  const [compiled] = compileCacheRules([rule]);
  const target = splitTarget(url);
  const params = compiled!.pattern.match(target.path)!;
  return deriveKey(compiled!, req(url, headers), target, params, user, DEFAULT_CREDENTIAL_HEADERS);
}

describe('splitTarget / normaliseQuery', () => {
  it('splits path and query', () => {
    expect(splitTarget('/a/b?x=1&y=2')).toEqual({ path: '/a/b', query: 'x=1&y=2' });
    expect(splitTarget(undefined)).toEqual({ path: '/', query: '' });
  });

  it('is order-independent across names but keeps the order of repeated values', () => {
    expect(normaliseQuery('b=2&a=1', true)).toBe(normaliseQuery('a=1&b=2', true));
    expect(normaliseQuery('a=2&b=1&a=1', true)).toBe('a=2&a=1&b=1');
    expect(normaliseQuery('a=%41', true)).toBe(normaliseQuery('a=A', true));
  });

  it('keeps only the varied params', () => {
    expect(normaliseQuery('page=2&utm=x&sort=d', ['sort', 'page'])).toBe('page=2&sort=d');
    expect(normaliseQuery('page=2', false)).toBe('');
  });
});

describe('deriveKey', () => {
  it('defaults to GET + path + canonical query', () => {
    expect(keyOf({ path: '/p' }, '/p?z=1&a=2')).toBe('GET /p?a=2&z=1');
    expect(keyOf({ path: '/p', varyQuery: ['page'] }, '/p?utm=1&page=3')).toBe('GET /p?page=3');
    expect(keyOf({ path: '/p' }, '/p')).toBe('GET /p');
  });

  it('holds the Host, lower-cased, encoded unless plainly a host and port', () => {
    expect(keyOf({ path: '/p' }, '/p?b=1', { host: 'API.example:8080' })).toBe(
      'GET /p?b=1 host=api.example:8080',
    );
    expect(keyOf({ path: '/p', perUser: true }, '/p', { host: 'a.example user=bob' }, 'eve')).toBe(
      'GET /p host=a.example%20user%3Dbob user=eve',
    );
    // A key template names what it holds: no Host unless varyHeaders lists it.
    expect(keyOf({ path: '/p', key: 'p' }, '/p', { host: 'a.example' })).toBe('p');
    expect(keyOf({ path: '/p', key: 'p', varyHeaders: ['host'] }, '/p', { host: 'a.example' })).toBe(
      'p host=a.example',
    );
  });

  it('holds an X-Forwarded-Host other than the Host, which a framework trusting its proxy builds the URI from', () => {
    expect(
      keyOf({ path: '/p', perUser: true }, '/p', { host: 'app:3000', 'x-forwarded-host': 'A.example' }, 'u'),
    ).toBe('GET /p host=app:3000 x-forwarded-host=a.example user=u');
    expect(keyOf({ path: '/p' }, '/p', { host: 'app:3000', 'x-forwarded-host': 'b.example, x' })).toBe(
      'GET /p host=app:3000 x-forwarded-host=b.example%2C%20x',
    );
    // The same host as the Host (a proxy that keeps it) leaves the key as it was.
    expect(keyOf({ path: '/p' }, '/p', { host: 'a.example', 'x-forwarded-host': 'A.example' })).toBe(
      'GET /p host=a.example',
    );
  });

  it('appends varied headers and the user, encoded so they cannot forge separators', () => {
    const rule: CacheRule = { path: '/p', perUser: true, varyHeaders: ['Accept-Language'] };
    expect(keyOf(rule, '/p', { 'accept-language': 'de' }, 'u 1')).toBe(
      'GET /p accept-language=de user=u%201',
    );
    expect(keyOf(rule, '/p', {}, undefined)).toBe('GET /p accept-language= user=');
    expect(keyOf(rule, '/p', {}, 'a user=b')).not.toBe(keyOf(rule, '/p', {}, 'a'));
  });

  it('keys a varied credential header by its digest, never its value', () => {
    const rule: CacheRule = { path: '/p', key: 'p', varyHeaders: ['Authorization', 'X-Tenant'] };
    const alice = keyOf(rule, '/p', { authorization: 'Bearer alice-token', 'x-tenant': 't 1' });
    const bob = keyOf(rule, '/p', { authorization: 'Bearer bob-token', 'x-tenant': 't 1' });
    expect(alice).toMatch(/^p authorization=~[0-9a-f]{32} x-tenant=t%201$/);
    expect(alice).not.toContain('alice');
    expect(bob).not.toBe(alice);
    expect(keyOf(rule, '/p', { authorization: 'Bearer alice-token', 'x-tenant': 't 1' })).toBe(alice);
    // A value spelled like a digest is still its own value (digests are only made of credential headers).
    const digest = alice.split(' ')[1]!.slice('authorization='.length);
    const tenant: CacheRule = { path: '/p', key: 'p', varyHeaders: ['X-Tenant'] };
    expect(keyOf(tenant, '/p', { 'x-tenant': digest })).toBe(`p x-tenant=${digest}`);
  });

  it('renders a key template from params then query values', () => {
    const rule: CacheRule = {
      path: '/subscriptions/:org/providers/:provider/plans',
      key: 'plans_list_{org}_{provider}_{include_disabled}',
    };
    expect(keyOf(rule, '/subscriptions/acme/providers/slack/plans?include_disabled=true')).toBe(
      'plans_list_acme_slack_true',
    );
    expect(keyOf(rule, '/subscriptions/acme/providers/slack/plans')).toBe('plans_list_acme_slack_');
  });

  it('uses a key function and still appends the user of a per-user rule', () => {
    const rule: CacheRule = { path: '/u/:id', perUser: true, key: (_req, params) => `profile:${params.id}` };
    expect(keyOf(rule, '/u/4', {}, 'alice')).toBe('profile:4 user=alice');
    expect(() => keyOf({ path: '/u', key: () => '' }, '/u')).toThrow(
      /rules\[0\]\.key must return a non-empty string/,
    );
  });
});

describe('deriveKey: credentials and encoded templates', () => {
  const perUser: CacheRule = { path: '/me', perUser: true };

  it('binds a per-user key to the credentials the request carries, the user staying last', () => {
    const withToken = keyOf(perUser, '/me', { authorization: 'Bearer a' }, 'alice');
    expect(withToken).toMatch(/^GET \/me cred=[0-9a-f]{32} user=alice$/);
    expect(keyOf(perUser, '/me', { authorization: 'Bearer a' }, 'alice')).toBe(withToken);
    expect(keyOf(perUser, '/me', { authorization: 'Bearer b' }, 'alice')).not.toBe(withToken);
    // No credential header: no digest, so an id alone never reaches an entry stored with credentials.
    expect(keyOf(perUser, '/me', {}, 'alice')).toBe('GET /me user=alice');
    // Header names count too: the same value in another header is another credential.
    expect(keyOf(perUser, '/me', { cookie: 'Bearer a' }, 'alice')).not.toBe(withToken);
    // Shared rules have no digest: they never serve a request with credentials in the first place.
    expect(keyOf({ path: '/p', shared: true }, '/p', { authorization: 'Bearer a' })).toBe('GET /p');
  });

  it('digests only the configured credential headers', () => {
    const names = ['authorization', 'x-api-key'];
    const r = (headers: Record<string, string>) => req('/me', headers);
    expect(credentialDigest(r({}), names)).toBeUndefined();
    expect(credentialDigest(r({ cookie: 'sid=1' }), names)).toBeUndefined();
    expect(credentialDigest(r({ 'x-api-key': 'k1' }), names)).toMatch(/^[0-9a-f]{32}$/);
    expect(credentialDigest(r({ 'x-api-key': 'k1' }), names)).not.toBe(
      credentialDigest(r({ 'x-api-key': 'k2' }), names),
    );
  });

  it('percent-encodes template values, so two param splits never share a key', () => {
    const rule: CacheRule = {
      path: '/subscriptions/:org/providers/:provider/plans',
      key: 'plans_list_{org}_{provider}_{include_disabled}',
    };
    const a = keyOf(rule, '/subscriptions/a_b/providers/c/plans?include_disabled=x');
    const b = keyOf(rule, '/subscriptions/a/providers/b_c/plans?include_disabled=x');
    expect(a).toBe('plans_list_a%5Fb_c_x');
    expect(b).toBe('plans_list_a_b%5Fc_x');
    // Query values are encoded as well, and a percent-encoded param is decoded once, then encoded.
    expect(keyOf(rule, '/subscriptions/a/providers/c/plans?include_disabled=x_y')).toBe(
      'plans_list_a_c_x%5Fy',
    );
    expect(keyOf(rule, '/subscriptions/%2A/providers/c/plans')).toBe('plans_list_%2A_c_');
  });
});
