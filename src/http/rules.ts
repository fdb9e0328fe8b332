// The HTTP rules: which GET responses are cached (and how they are keyed, tagged and kept), and which
// writes (answered 2xx or 3xx) invalidate what. Rules are validated and compiled once, at start-up, so
// a typo in a rule fails loudly there and a request only walks a short list of compiled matchers.
import type { IncomingMessage } from 'node:http';
import { parseDuration, type Duration } from '../util/duration.js';
import { assertBoolean, assertKnownOptions, assertPositiveInteger, optionNames } from '../util/validate.js';
import { encodeUserId } from './cache-key.js';
import { compilePathPattern, type PathParams, type PathPattern } from './path-pattern.js';
import { compileTemplate, encodeKeyValue, type Template, type TemplateEncoding } from './template.js';

/**
 * Statuses cached by default: the successful ones RFC 9110 §15.1 calls heuristically cacheable (200, 203,
 * 204; not the partial 206) and the permanent redirects (301, 308). Errors are not: a 404 for an id about
 * to be created would hide it for a whole TTL. A rule opts in to others with `statusTtl`.
 */
export const DEFAULT_CACHEABLE_STATUSES: readonly number[] = [200, 203, 204, 301, 308];

/** Targeted Cache-Control fields (RFC 9213) obeyed when `targetedCacheControl` names none. */
export const DEFAULT_TARGETED_FIELDS: readonly string[] = ['cdn-cache-control'];

/** The methods a write rule listens to when it names none. */
export const WRITE_METHODS: readonly string[] = ['POST', 'PUT', 'PATCH', 'DELETE'];

/** Builds a cache key for a request (the framework's own request object); receives the route params. */
export type KeyFunction<Req = IncomingMessage> = (req: Req, params: PathParams) => string;

/** A response-caching rule; `Req` is the request type its key function receives. */
export interface CacheRule<Req = IncomingMessage> {
  /**
   * The methods the rule matches: `'GET'` (default), which covers HEAD too (a HEAD is answered from
   * the GET entry), or `'HEAD'` alone (HEAD requests only, answered from the GET entry another rule
   * stores). Any other method is refused at start-up: only GET and HEAD answers are cacheable.
   */
  method?: 'GET' | 'HEAD' | readonly ('GET' | 'HEAD')[];
  /** Path pattern with `:params` and `*`, or a RegExp with named groups. */
  path: string | RegExp;
  /**
   * Freshness of a stored response that states none itself (no `max-age`, `s-maxage` or `Expires`): the
   * heuristic of RFC 9111 §4.2.2, chosen by the rule; default: the cache's TTL. A response's own
   * freshness always wins unless `originFreshness: 'ignore'`.
   */
  ttl?: Duration;
  /**
   * `'honour'` (default): freshness, Age and revalidation follow the response's headers, and `ttl` only
   * fills in for responses that state no freshness. `'ignore'`: every stored response lives for `ttl`,
   * whatever its Cache-Control or Expires say (like nginx's `proxy_ignore_headers`); `private`,
   * `no-store` and `Set-Cookie` still keep a response out of the cache.
   */
  originFreshness?: 'honour' | 'ignore';
  /**
   * Which responses that state no freshness get the heuristic: `true` (default) every one, for `ttl`;
   * `'last-modified'` only those with a `Last-Modified`, for a tenth of the time since then (RFC 9111
   * §4.2.2) and at most `ttl` — what a shared proxy does; `false` none (only responses that state
   * their freshness are stored).
   */
  heuristic?: boolean | 'last-modified';
  /**
   * How long a stale response that has a validator (the handler's ETag or Last-Modified) is kept, so the
   * next request revalidates it with a conditional request instead of a full run; default: `ttl`.
   */
  keep?: Duration;
  /** After expiry, serve the stale response (X-Cache: STALE) this long while the handler fails. */
  grace?: Duration;
  /**
   * The Cache-Control that clients and downstream caches are told, in place of the handler's (which
   * still decides how long Larder keeps the response): `'public, max-age=60'`, `'no-store'`.
   */
  clientCacheControl?: string;
  /**
   * What a client's `Cache-Control: no-cache` (or `Pragma: no-cache`, or `max-age=0`) does:
   * `'revalidate'` revalidates with the handler (one run per key at a time, like a miss), `'ignore'`
   * answers from the cache. Default: `'ignore'` for shared entries (a client must not be able to make
   * every request run the handler), `'revalidate'` for `perUser` ones.
   */
  requestNoCache?: 'ignore' | 'revalidate';
  /** Tags for the stored response, filled from route params: `'org:{org}'`. */
  tags?: readonly string[];
  /** One stored response per user (the `user(req)` option); anonymous requests share one. */
  perUser?: boolean;
  /** Store and serve one shared response even for requests with a user or credential headers. */
  shared?: boolean;
  /** With `perUser`: store responses marked `Cache-Control: private` or `no-store` too. */
  storePrivate?: boolean;
  /** Request headers whose values are part of the key (e.g. `accept-language`). */
  varyHeaders?: readonly string[];
  /** Query params that are part of the key (order-independent); `true` (default) = all, `false` = none. */
  varyQuery?: readonly string[] | boolean;
  /**
   * The key: a template over params and query values (`'plans_list_{org}_{provider}'`; values are
   * percent-encoded, see `encodeKeyValue`), or a function (whose result is used as it is).
   */
  key?: string | KeyFunction<Req>;
  /** Statuses that may be stored, with the rule's `ttl`; default {@link DEFAULT_CACHEABLE_STATUSES}. */
  statuses?: readonly number[];
  /**
   * More statuses to store, each with its own TTL: `{ 404: '10s', 410: '1h' }` (an opt-in, for answers
   * such as a 404 that a later write may turn into a 200; keep their TTL short).
   */
  statusTtl?: Readonly<Record<number, Duration>>;
  /** The named cache to use when the HTTP layer is given a manager (`cache_type` in a rules config). */
  cache?: string;
  /** Responses with a larger body pass through uncached (bytes; default: the layer's `maxResponseBytes`). */
  maxResponseBytes?: number;
}

/**
 * A rule that invalidates cached entries after a write that did not fail: answered 2xx, or 3xx (a
 * form's post-redirect-get: Express's `res.redirect()` answers 302) other than 304, which reports that
 * nothing changed. A 4xx or 5xx invalidates nothing.
 */
export interface InvalidationRule {
  /** Write methods it listens to; default POST, PUT, PATCH and DELETE. */
  method?: string | readonly string[];
  /** Path pattern with `:params` and `*`, or a RegExp with named groups. */
  path: string | RegExp;
  /**
   * Tags to invalidate, filled from route params: `'org:{org}'`. In tags, keys and patterns, `{user}`
   * (when the path captures no `:user` of its own) is the writer's `user()`: raw in tags; in keys and
   * patterns percent-encoded as a per-user cache key holds it (`… user={user}`), a `*` in it widened to
   * `?` in patterns (globs have no escape). A target naming `{user}` is skipped for anonymous writes.
   */
  tags?: readonly string[];
  /**
   * Key patterns to invalidate (`*` and `?` wildcards), filled from route params percent-encoded as in
   * a cache rule's `key` template, so a param can neither match another key's values nor add a wildcard.
   */
  patterns?: readonly string[];
  /** Exact keys to delete, filled from route params (encoded as in a `key` template). */
  keys?: readonly string[];
  /** The named cache(s) to invalidate in; default: every cache the layer knows. */
  cache?: string | readonly string[];
}

/** A validated, compiled {@link CacheRule}. */
export interface CompiledCacheRule {
  /** `rules[i]`, for messages. */
  readonly what: string;
  /** Upper-cased request methods it matches; HEAD is in it whenever GET is. */
  readonly methods: ReadonlySet<string>;
  readonly pattern: PathPattern;
  readonly ttl: number | undefined;
  readonly ignoreOrigin: boolean;
  readonly heuristic: 'always' | 'last-modified' | 'never';
  readonly keep: number | undefined;
  readonly grace: number | undefined;
  readonly clientCacheControl: string | undefined;
  readonly requestNoCache: 'ignore' | 'revalidate';
  /** Targeted Cache-Control fields this cache obeys (RFC 9213), lower-cased, in order of precedence. */
  readonly targetedFields: readonly string[];
  readonly tags: readonly Template[];
  readonly perUser: boolean;
  readonly shared: boolean;
  readonly storePrivate: boolean;
  /** Lower-cased header names. */
  readonly varyHeaders: readonly string[];
  readonly varyQuery: readonly string[] | boolean;
  readonly key: Template | KeyFunction<never> | undefined;
  readonly statuses: ReadonlySet<number>;
  /** TTLs in ms of the statuses `statusTtl` opted in (they are in `statuses` too). */
  readonly statusTtl: ReadonlyMap<number, number>;
  readonly cache: string | undefined;
  readonly maxResponseBytes: number | undefined;
}

/** A validated, compiled {@link InvalidationRule}. */
export interface CompiledInvalidationRule {
  readonly what: string;
  readonly methods: ReadonlySet<string>;
  readonly pattern: PathPattern;
  readonly tags: readonly Template[];
  readonly patterns: readonly Template[];
  readonly keys: readonly Template[];
  readonly caches: readonly string[] | undefined;
  /** Whether a target names `{user}`, the writer's `user()` (so the write's user must be known). */
  readonly usesUser: boolean;
}

/** The placeholder of the writer's `user()` in invalidation targets. */
export const USER_PLACEHOLDER = 'user';

/**
 * A key or pattern template where `{user}` is written as a per-user cache key holds the user
 * ({@link encodeUserId}) and every route param as {@link encodeKeyValue} writes it.
 */
function userKeyTemplate(source: string, what: string, params: readonly string[], glob: boolean): Template {
  const raw = compileTemplate(source, what, [...params, USER_PLACEHOLDER], 'raw');
  return {
    source: raw.source,
    names: raw.names,
    render(values) {
      const encoded: Record<string, string> = {};
      for (const name of raw.names) {
        const value = values[name] ?? '';
        if (name !== USER_PLACEHOLDER) encoded[name] = encodeKeyValue(value);
        else {
          const user = encodeUserId(value);
          // encodeURIComponent keeps `*`; in a glob it would reach every user, `?` reaches one character.
          encoded[name] = glob ? user.replaceAll('*', '?') : user;
        }
      }
      return raw.render(encoded);
    },
  };
}

/** Compiles invalidation targets: `{user}` is the writer's user unless the path captures `:user`. */
function readTargets(
  value: readonly string[] | undefined,
  what: string,
  params: readonly string[],
  kind: 'tag' | 'key' | 'pattern',
): Template[] {
  const byUser = !params.includes(USER_PLACEHOLDER);
  return readStrings(value, what).map((source, i) => {
    const at = `${what}[${i}]`;
    const usesUser = byUser && source.includes(`{${USER_PLACEHOLDER}}`);
    if (!usesUser) return compileTemplate(source, at, params, kind === 'tag' ? 'raw' : 'key');
    if (kind === 'tag') return compileTemplate(source, at, [...params, USER_PLACEHOLDER], 'raw');
    return userKeyTemplate(source, at, params, kind === 'pattern');
  });
}

const CACHE_RULE_OPTIONS = optionNames<CacheRule>({
  method: true,
  path: true,
  ttl: true,
  originFreshness: true,
  heuristic: true,
  keep: true,
  grace: true,
  clientCacheControl: true,
  requestNoCache: true,
  tags: true,
  perUser: true,
  shared: true,
  storePrivate: true,
  varyHeaders: true,
  varyQuery: true,
  key: true,
  statuses: true,
  statusTtl: true,
  cache: true,
  maxResponseBytes: true,
});
const INVALIDATION_RULE_OPTIONS = optionNames<InvalidationRule>({
  method: true,
  path: true,
  tags: true,
  patterns: true,
  keys: true,
  cache: true,
});

/** Validates and compiles the response-caching rules; `defaults.statuses` applies where a rule names none. */
export function compileCacheRules<Req>(
  rules: readonly CacheRule<Req>[],
  defaults: { statuses?: readonly number[]; targetedFields?: readonly string[] } = {},
): CompiledCacheRule[] {
  if (!Array.isArray(rules)) throw new TypeError(`rules must be an array of rules, got ${typeof rules}`);
  const defaultStatuses = readStatuses(defaults.statuses ?? DEFAULT_CACHEABLE_STATUSES, 'statuses');
  const targeted = defaults.targetedFields ?? DEFAULT_TARGETED_FIELDS;
  const compiled = rules.map((rule, i) => compileCacheRule(rule, `rules[${i}]`, defaultStatuses, targeted));
  refuseShadowed(compiled);
  return compiled;
}

/**
 * Throws when a rule can never match because earlier rules match every path it matches for each of its
 * methods (first match wins): `/api/urls/:id` listed before `/api/urls/stats` would send the stats to
 * the `:id` rule's cache and keying. Listing the specific rule first is the fix.
 */
function refuseShadowed(rules: readonly CompiledCacheRule[]): void {
  rules.forEach((rule, i) => {
    const earlier = rules.slice(0, i);
    let by: CompiledCacheRule | undefined;
    for (const method of rule.methods) {
      const covering = earlier.find((e) => e.methods.has(method) && e.pattern.covers(rule.pattern));
      if (covering === undefined) return;
      by ??= covering;
    }
    if (by === undefined) return;
    throw new TypeError(
      `${rule.what} (${describe(rule)}) can never match: ${by.what} (${describe(by)}) comes first and ` +
        `matches every path it does; list ${rule.what} before ${by.what}`,
    );
  });
}

function describe(rule: CompiledCacheRule): string {
  return `${[...rule.methods].join('/')} ${rule.pattern.source}`;
}

function compileCacheRule<Req>(
  rule: CacheRule<Req>,
  what: string,
  defaultStatuses: ReadonlySet<number>,
  targetedFields: readonly string[],
): CompiledCacheRule {
  checkShape(rule, what, CACHE_RULE_OPTIONS);
  const methods = new Set(readMethods(rule.method ?? 'GET', `${what}.method`));
  for (const m of methods) {
    if (m !== 'GET' && m !== 'HEAD') {
      throw new TypeError(`${what}.method must be GET or HEAD (only safe requests are cached), got ${m}`);
    }
  }
  // A HEAD is answered from the GET entry, so a rule that caches GET serves HEAD as well.
  if (methods.has('GET')) methods.add('HEAD');
  const pattern = compilePathPattern(rule.path, `${what}.path`);
  const perUser = optionalFlag(rule.perUser, `${what}.perUser`);
  const shared = optionalFlag(rule.shared, `${what}.shared`);
  const storePrivate = optionalFlag(rule.storePrivate, `${what}.storePrivate`);
  if (perUser && shared) throw new TypeError(`${what} cannot be both perUser and shared`);
  if (storePrivate && !perUser) throw new TypeError(`${what}.storePrivate needs perUser: true`);
  const statuses =
    rule.statuses === undefined ? defaultStatuses : readStatuses(rule.statuses, `${what}.statuses`);
  const statusTtl = readStatusTtl(rule.statusTtl, `${what}.statusTtl`);
  let key: Template | KeyFunction<never> | undefined;
  if (typeof rule.key === 'function') key = rule.key;
  else if (rule.key !== undefined) key = compileTemplate(rule.key, `${what}.key`, undefined, 'key');
  return {
    what,
    methods,
    pattern,
    ttl: rule.ttl === undefined ? undefined : parseDuration(rule.ttl, `${what}.ttl`),
    ignoreOrigin:
      readChoice(rule.originFreshness, ['honour', 'ignore'], `${what}.originFreshness`) === 'ignore',
    heuristic: readHeuristic(rule.heuristic, `${what}.heuristic`),
    keep: rule.keep === undefined ? undefined : parseDuration(rule.keep, `${what}.keep`),
    grace: rule.grace === undefined ? undefined : parseDuration(rule.grace, `${what}.grace`),
    clientCacheControl: readHeaderValue(rule.clientCacheControl, `${what}.clientCacheControl`),
    requestNoCache:
      readChoice(rule.requestNoCache, ['ignore', 'revalidate'], `${what}.requestNoCache`) ??
      (perUser ? 'revalidate' : 'ignore'),
    targetedFields,
    tags: readTemplates(rule.tags, `${what}.tags`, pattern.params, 'raw'),
    perUser,
    shared,
    storePrivate,
    varyHeaders: readHeaderNames(rule.varyHeaders, `${what}.varyHeaders`),
    varyQuery: readVaryQuery(rule.varyQuery, `${what}.varyQuery`),
    key,
    statuses: statusTtl.size === 0 ? statuses : new Set([...statuses, ...statusTtl.keys()]),
    statusTtl,
    cache: readOptionalName(rule.cache, `${what}.cache`),
    maxResponseBytes:
      rule.maxResponseBytes === undefined
        ? undefined
        : assertPositiveInteger(rule.maxResponseBytes, `${what}.maxResponseBytes`, 'number of bytes'),
  };
}

/** Validates and compiles the invalidation rules. */
export function compileInvalidationRules(rules: readonly InvalidationRule[]): CompiledInvalidationRule[] {
  if (!Array.isArray(rules)) throw new TypeError(`invalidate must be an array of rules, got ${typeof rules}`);
  return rules.map((rule, i) => {
    const what = `invalidate[${i}]`;
    checkShape(rule, what, INVALIDATION_RULE_OPTIONS);
    const methods = readMethods(rule.method ?? WRITE_METHODS, `${what}.method`);
    for (const m of methods) {
      if (!WRITE_METHODS.includes(m)) {
        throw new TypeError(`${what}.method must be one of ${WRITE_METHODS.join(', ')}, got ${m}`);
      }
    }
    const pattern = compilePathPattern(rule.path, `${what}.path`);
    // Tags are matched exactly, so their values stay raw (`org:{org}` stays what the app invalidates);
    // keys and patterns name cache keys, so they encode like a cache rule's `key` template.
    // `{user}` (the writer) encodes as a per-user key holds it; see userKeyTemplate.
    const tags = readTargets(rule.tags, `${what}.tags`, pattern.params, 'tag');
    const patterns = readTargets(rule.patterns, `${what}.patterns`, pattern.params, 'pattern');
    const keys = readTargets(rule.keys, `${what}.keys`, pattern.params, 'key');
    const byUser = !pattern.params.includes(USER_PLACEHOLDER);
    const compiled: CompiledInvalidationRule = {
      what,
      methods: new Set(methods),
      pattern,
      tags,
      patterns,
      keys,
      caches:
        rule.cache === undefined
          ? undefined
          : readStrings(typeof rule.cache === 'string' ? [rule.cache] : rule.cache, `${what}.cache`),
      usesUser: byUser && [...tags, ...patterns, ...keys].some((t) => t.names.includes(USER_PLACEHOLDER)),
    };
    if (!compiled.tags.length && !compiled.patterns.length && !compiled.keys.length) {
      throw new TypeError(`${what} must name at least one of tags, patterns or keys`);
    }
    return compiled;
  });
}

/** The first cache rule matching a request's method and path (letter case ignored if asked), with its params. */
export function matchCacheRule(
  rules: readonly CompiledCacheRule[],
  method: string,
  path: string,
  ignoreCase = false,
): { rule: CompiledCacheRule; params: PathParams } | undefined {
  for (const rule of rules) {
    if (!rule.methods.has(method)) continue;
    const params = rule.pattern.match(path, ignoreCase);
    if (params) return { rule, params };
  }
  return undefined;
}

/**
 * Whether `path`, once letter case is ignored, also matches a rule listed before `matched` or a
 * `perUser` rule that it does not match as spelled. A framework that routes case-insensitively
 * (Express, Nest) may hand such a request to that rule's handler, whose answer `matched` must not
 * store or serve: `/ME/DASHBOARD` under a shared catch-all would share a user's dashboard.
 */
export function matchesOtherRuleIgnoringCase(
  rules: readonly CompiledCacheRule[],
  method: string,
  path: string,
  matched: CompiledCacheRule,
): boolean {
  let after = false;
  for (const rule of rules) {
    if (rule === matched) after = true;
    else if (!rule.methods.has(method) || (after && !rule.perUser)) continue;
    // Rules before `matched` do not match as spelled (the first match wins), so only later ones are checked.
    else if (rule.pattern.match(path, true) && (!after || !rule.pattern.match(path))) return true;
  }
  return false;
}

/** Whether a rule's pattern has upper-case letters, so a lower-case path could match it only ignoring case. */
export function hasUpperCase(rule: CompiledCacheRule): boolean {
  return rule.pattern.source !== rule.pattern.source.toLowerCase();
}

/**
 * Every invalidation rule matching a write (all of them apply, in order), ignoring letter case: a
 * framework that routes case-insensitively acts on `/API/ITEMS/1` as on `/api/items/1`, and
 * invalidating too much is safe where too little is not.
 */
export function matchInvalidationRules(
  rules: readonly CompiledInvalidationRule[],
  method: string,
  path: string,
): { rule: CompiledInvalidationRule; params: PathParams }[] {
  const out: { rule: CompiledInvalidationRule; params: PathParams }[] = [];
  for (const rule of rules) {
    if (!rule.methods.has(method)) continue;
    const params = rule.pattern.match(path, true);
    if (params) out.push({ rule, params });
  }
  return out;
}

function checkShape(rule: unknown, what: string, known: ReadonlySet<string>): void {
  if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) {
    throw new TypeError(`${what} must be an object, got ${rule === null ? 'null' : typeof rule}`);
  }
  assertKnownOptions(rule, known, what);
  if (!('path' in rule)) throw new TypeError(`${what}.path is required`);
}

function readMethods(value: string | readonly string[], what: string): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0)
    throw new TypeError(`${what} must be a method or a non-empty list`);
  return list.map((m) => {
    if (typeof m !== 'string') throw new TypeError(`${what} must hold method names, got ${typeof m}`);
    return m.toUpperCase();
  });
}

// An optional flag: absent means false.
function optionalFlag(value: unknown, what: string): boolean {
  return value === undefined ? false : assertBoolean(value, what);
}

function readStrings(value: readonly string[] | undefined, what: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new TypeError(`${what} must be an array of strings, got ${typeof value}`);
  for (const s of value) {
    if (typeof s !== 'string' || s === '') throw new TypeError(`${what} must hold non-empty strings`);
  }
  return [...value];
}

function readTemplates(
  value: readonly string[] | undefined,
  what: string,
  params: readonly string[],
  encoding: TemplateEncoding,
): Template[] {
  return readStrings(value, what).map((s, i) => compileTemplate(s, `${what}[${i}]`, params, encoding));
}

function readVaryQuery(value: CacheRule['varyQuery'], what: string): readonly string[] | boolean {
  if (value === undefined) return true;
  if (typeof value === 'boolean') return value;
  return readStrings(value, what);
}

function readStatuses(value: readonly number[], what: string): ReadonlySet<number> {
  if (!Array.isArray(value)) throw new TypeError(`${what} must be an array of HTTP statuses`);
  for (const s of value) {
    if (!Number.isInteger(s) || s < 100 || s > 599) {
      throw new RangeError(`${what} must hold HTTP statuses (100-599), got ${String(s)}`);
    }
  }
  return new Set(value);
}

function readStatusTtl(value: unknown, what: string): ReadonlyMap<number, number> {
  const out = new Map<number, number>();
  if (value === undefined) return out;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${what} must be an object of status: ttl, e.g. { 404: '10s' }`);
  }
  for (const [name, ttl] of Object.entries(value)) {
    const status = Number(name);
    if (!/^[1-5]\d\d$/.test(name))
      throw new RangeError(`${what} must be keyed by HTTP statuses (100-599), got ${JSON.stringify(name)}`);
    out.set(status, parseDuration(ttl as Duration, `${what}[${name}]`));
  }
  return out;
}

function readOptionalName(value: unknown, what: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new TypeError(`${what} must be a cache name`);
  return value;
}

function readChoice<C extends string>(value: unknown, choices: readonly C[], what: string): C | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw new TypeError(
      `${what} must be ${choices.map((c) => `'${c}'`).join(' or ')}, got ${JSON.stringify(value)}`,
    );
  }
  return value as C;
}

// A header value the cache writes as it is: printable ASCII only, so it cannot split the response.
function readHeaderValue(value: unknown, what: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^[\x20-\x7e]*$/.test(value) || value.length > 1024) {
    throw new TypeError(
      `${what} must be a header value of printable ASCII (at most 1024 chars), got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** Reads the `targetedCacheControl` option: lower-cased field names, or none for `false`. */
export function readTargetedFields(value: unknown): readonly string[] {
  if (value === undefined) return DEFAULT_TARGETED_FIELDS;
  if (value === false) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || !HEADER_NAME.test(v))) {
    throw new TypeError(
      `targetedCacheControl must be a list of header names (e.g. ['larder-cache-control', 'cdn-cache-control']) or false, got ${JSON.stringify(value)}`,
    );
  }
  return (value as string[]).map((v) => v.toLowerCase());
}

/** A header field name: an RFC 9110 §5.6.2 token. */
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/i;

/**
 * Reads a list of header names as node:http holds them (lower-cased, each once); a name that is not
 * an RFC 9110 token (`' cookie'` from a split on `', '`) throws, since it would never match a request.
 */
export function readHeaderNames(value: unknown, what: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value))
    throw new TypeError(`${what} must be an array of header names, got ${typeof value}`);
  value.forEach((name: unknown, i) => {
    if (typeof name !== 'string' || !HEADER_NAME.test(name)) {
      throw new TypeError(
        `${what}[${i}] must be a header name (an RFC 9110 token, no spaces), got ${JSON.stringify(name)}`,
      );
    }
  });
  return [...new Set((value as string[]).map((name) => name.toLowerCase()))];
}

function readHeuristic(value: unknown, what: string): 'always' | 'last-modified' | 'never' {
  if (value === undefined || value === true) return 'always';
  if (value === false) return 'never';
  if (value === 'last-modified') return value;
  throw new TypeError(`${what} must be true, false or 'last-modified', got ${JSON.stringify(value)}`);
}
