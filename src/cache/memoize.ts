// memoize: caches a function's results in a Cache through getOrSet, so concurrent calls with the same
// arguments share one call (single-flight) and results follow the cache's TTL, tags and invalidation
// (a function's or a method's results cached by their arguments). The memoized function always returns a promise.
//
// Default keys name their owner: `fnName:` for memoize(fn), `ClassName.method:` for @memoizeMethod, then a
// stable key of the arguments. A name is readable and the same in every process, so instances behind
// one shared tier share their entries. Two distinct owners with one name in one cache would share
// entries too; the second one gets `name#2` (a counter, never reused) and a process warning telling
// the user to pass a prefix. Across processes only a unique name or an explicit `prefix`/`key` is safe.
import type { CacheKey } from '../engine/types.js';
import { stableKey } from './stable-key.js';
import { GET_OR_SET_OPTION_NAMES, resolveCall } from './options.js';
import { SYNC_ACCESS, type SyncAccess } from './sync-view.js';
import { keepNamespace } from './namespace-keys.js';
import { assertKnownOptions, optionNames } from '../util/validate.js';
import type { Cache, GetOrSetOptions } from './types.js';

/** Options of {@link memoize}: where to cache, how to key, plus any getOrSet option (ttl, grace, retry, …). */
export interface MemoizeOptions<This, A extends unknown[], R> extends Omit<GetOrSetOptions<R>, 'tags'> {
  /** The cache that holds the results. */
  cache: Cache<any>;
  /** Derives the key from the arguments (called with the same `this`); default: prefix + a stable key of the arguments. */
  key?: (this: This, ...args: A) => CacheKey;
  /**
   * Key prefix for the default key, used as given (not with `key`, which it would not reach: refused). Default: the owner's name — the function's name
   * (`memoized` for anonymous ones) or `ClassName.method` — with `#2`, `#3`, … added when a second
   * distinct owner of that name memoizes into the same cache. Give one whenever keys must be shared
   * across processes through a shared tier and the default name is not unique in the application.
   */
  prefix?: string;
  /** Tags for the cached result, fixed or derived from the arguments. */
  tags?: readonly string[] | ((this: This, ...args: A) => readonly string[]);
}

/** The code of the process warning emitted when two owners of one name memoize into one cache. */
export const NAME_CLASH_WARNING = 'LARDER_MEMOIZE_NAME_CLASH';

/** The prefixes handed out under one default name in one cache. */
interface NameClaims {
  /** Live owners and their prefixes; an owner that was garbage collected is pruned. */
  owners: { owner: WeakRef<object>; prefix: string }[];
  /** The next disambiguator; numbers are never reused, so a new owner never reads a dead one's entries. */
  next: number;
  warned: boolean;
}

// Per cache object (a namespace is its own object, and its keys are prefixed anyway).
const claimsByCache = new WeakMap<object, Map<string, NameClaims>>();

/** Starts `cache`'s claims; a namespace view is kept by its parent from then on, so they are not lost. */
function newClaims(cache: object, names: Map<string, NameClaims>): void {
  claimsByCache.set(cache, names);
  keepNamespace(cache);
}

/**
 * The numbered default prefixes (`name#2`, …) handed out in a cache, with their owners, so that an
 * explicit prefix finds whether a live owner took it without scanning every name's claims. An entry
 * leaves when its owner is found dead by claimPrefix's pruning.
 */
const numberedByCache = new WeakMap<object, Map<string, WeakRef<object>>>();

/**
 * The default prefix for `owner` under `name` in `cache`: `name` for the first owner, `name#N` for
 * each further distinct one (with a warning, once per name and cache). The same owner always gets
 * the same prefix.
 */
function claimPrefix(cache: object, name: string, owner: object, what = `functions named '${name}'`): string {
  let names = claimsByCache.get(cache);
  if (names === undefined) newClaims(cache, (names = new Map()));
  const claims = names.get(name);
  if (claims === undefined) {
    names.set(name, { owners: [{ owner: new WeakRef(owner), prefix: name }], next: 2, warned: false });
    return name;
  }
  let mine: string | undefined;
  let numbered = numberedByCache.get(cache);
  claims.owners = claims.owners.filter((claim) => {
    const live = claim.owner.deref();
    if (live === owner) mine = claim.prefix;
    if (live === undefined && numbered?.get(claim.prefix) === claim.owner) numbered.delete(claim.prefix);
    return live !== undefined;
  });
  if (mine !== undefined) return mine;
  // A number whose prefix an explicit prefix (or another name) holds is skipped: its keys are taken.
  let prefix: string;
  do prefix = `${name}#${claims.next++}`;
  while (names.has(prefix));
  const ref = new WeakRef(owner);
  claims.owners.push({ owner: ref, prefix });
  if (numbered === undefined) numberedByCache.set(cache, (numbered = new Map()));
  numbered.set(prefix, ref);
  if (!claims.warned) {
    claims.warned = true;
    process.emitWarning(
      `Two different ${what} are memoized into cache '${cacheName(cache)}'; the later one ` +
        `keys its results as '${prefix}:…' so they stay apart in this process, but other processes may ` +
        `number them differently. Pass a distinct \`prefix\` (or \`key\`) to each.`,
      { code: NAME_CLASH_WARNING },
    );
  }
  return prefix;
}

/** The owner of a name that an explicit `prefix` took: lives as long as the module, so the claim never lapses. */
const EXPLICIT_PREFIX = {};

/**
 * Records that an explicit `prefix` uses `prefix` in `cache`, so a default name equal to it (a function
 * or `ClassName.method` of that name memoized later without a prefix) is numbered apart instead of
 * sharing its keys, and no second owner of a name is numbered onto it (`getUser#2`). Explicit prefixes
 * themselves are used as given: equal ones share on purpose.
 */
function claimExplicitPrefix(cache: object, prefix: string): void {
  let names = claimsByCache.get(cache);
  if (names === undefined) newClaims(cache, (names = new Map()));
  const claims = names.get(prefix);
  if (claims === undefined) {
    // A default name numbered earlier (`name#2`) has this prefix: too late to renumber, so say so.
    const numbered = numberedByCache.get(cache)?.get(prefix)?.deref() !== undefined;
    names.set(prefix, {
      owners: [{ owner: new WeakRef(EXPLICIT_PREFIX), prefix }],
      next: 2,
      warned: numbered,
    });
    if (numbered) {
      process.emitWarning(
        `The memoize prefix '${prefix}' equals the numbered default prefix of a function or method memoized ` +
          `earlier into cache '${cacheName(cache)}': both key their results as '${prefix}:…' and answer ` +
          `each other's calls. Pass a distinct \`prefix\` (or \`key\`) to each.`,
        { code: NAME_CLASH_WARNING },
      );
    }
  } else if (!claims.owners.some((claim) => claim.owner.deref() === EXPLICIT_PREFIX)) {
    claims.owners.push({ owner: new WeakRef(EXPLICIT_PREFIX), prefix });
    // A default name took it first: its keys and this prefix's are one key space. Too late to renumber.
    if (
      !claims.warned &&
      claims.owners.some(
        (claim) =>
          claim.prefix === prefix &&
          claim.owner.deref() !== EXPLICIT_PREFIX &&
          claim.owner.deref() !== undefined,
      )
    ) {
      claims.warned = true;
      process.emitWarning(
        `The memoize prefix '${prefix}' equals the default name of a function or method memoized earlier ` +
          `into cache '${cacheName(cache)}': both key their results as '${prefix}:…' and answer each ` +
          `other's calls. Pass a distinct \`prefix\` (or \`key\`) to each.`,
        { code: NAME_CLASH_WARNING },
      );
    }
  }
}

/** {@link claimPrefix} for a decorated method: the name is `ClassName.method`, the owner the method itself. */
function claimMethodPrefix(cache: object, className: string, method: string, owner: object): string {
  const name = `${className}.${method}`;
  return claimPrefix(cache, name, owner, `classes' methods named '${name}'`);
}

function cacheName(cache: object): string {
  const name = (cache as { name?: unknown }).name;
  return typeof name === 'string' ? name : '?';
}

/**
 * Wraps `fn` so its results are cached. Works for sync and async functions and for methods (`this` is
 * passed through, but is not part of the default key — give a `key` function that uses it if results
 * differ per instance). A sync function's memoized form returns a promise. The default key is
 * `<fn name>:<arguments>`; see {@link MemoizeOptions.prefix} for when to name it yourself. Bad options
 * (an unknown one, or a getOrSet option the cache would refuse: ttl, grace, fixed tags, retry, …) throw
 * a TypeError or RangeError here, prefixed `memoize:`.
 */
export function memoize<This, A extends unknown[], R>(
  fn: (this: This, ...args: A) => R,
  options: MemoizeOptions<This, A, Awaited<R>>,
): (this: This, ...args: A) => Promise<Awaited<R>> {
  if (typeof fn !== 'function') throw new TypeError('memoize: fn must be a function');
  checkOptions(options);
  let prefix: string | undefined = options.prefix;
  if (prefix !== undefined && options.key === undefined) claimExplicitPrefix(options.cache, prefix);
  if (prefix === undefined && options.key === undefined) {
    prefix =
      fn.name === ''
        ? claimPrefix(options.cache, 'memoized', fn, 'anonymous functions')
        : claimPrefix(options.cache, fn.name, fn);
  }
  return wrap(fn, options, () => prefix!);
}

// getOrSet's options, and memoize's own (tags is both: memoize's may also be a function).
const MEMOIZE_OPTIONS: ReadonlySet<string> = new Set([
  ...GET_OR_SET_OPTION_NAMES,
  ...optionNames<Omit<MemoizeOptions<unknown, unknown[], unknown>, keyof Omit<GetOrSetOptions, 'tags'>>>({
    cache: true,
    key: true,
    prefix: true,
    tags: true,
  }),
]);

/** Throws a TypeError naming the first bad memoize option. */
function checkOptions(options: unknown): asserts options is MemoizeOptions<unknown, unknown[], unknown> {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('memoize: options must be an object');
  assertKnownOptions(options, MEMOIZE_OPTIONS, 'memoize');
  const { cache, key, prefix, tags } = options as MemoizeOptions<unknown, unknown[], unknown>;
  if (cache === null || typeof cache !== 'object' || typeof cache.getOrSet !== 'function') {
    throw new TypeError('memoize: options.cache must be a Cache (createCache or manager.get(name))');
  }
  if (key !== undefined && typeof key !== 'function')
    throw new TypeError('memoize: options.key must be a function');
  if (prefix !== undefined && typeof prefix !== 'string')
    throw new TypeError('memoize: options.prefix must be a string');
  // The prefix belongs to the default key only: beside a key function it would be ignored, and two
  // functions told apart by their prefixes alone would share every entry.
  if (prefix !== undefined && key !== undefined) {
    throw new TypeError(
      'memoize: options.prefix is used only by the default key and would be ignored beside options.key; ' +
        'put the prefix into the key function',
    );
  }
  if (tags !== undefined && typeof tags !== 'function' && !Array.isArray(tags)) {
    throw new TypeError('memoize: options.tags must be an array of strings or a function');
  }
  checkCallOptions(options as MemoizeOptions<unknown, unknown[], unknown>);
}

/**
 * Checks the getOrSet options every call will pass (ttl, grace, fixed tags, retry, …) against the
 * cache's settings now, so a bad one throws here, naming it, instead of rejecting every call. A tags
 * function is checked per call (its tags are known only then). Skipped for a Cache not made by
 * createCache or a manager, whose settings are not known.
 */
function checkCallOptions(options: MemoizeOptions<unknown, unknown[], unknown>): void {
  const { cache, key: _key, prefix: _prefix, tags, ...call } = options;
  const door = (cache as { [SYNC_ACCESS]?: () => SyncAccess })[SYNC_ACCESS];
  if (typeof door !== 'function') return;
  try {
    resolveCall(
      door.call(cache).settings(),
      typeof tags === 'function' ? call : { ...call, tags },
      'memoize',
    );
  } catch (error) {
    if (error instanceof RangeError) throw new RangeError(`memoize: ${error.message}`, { cause: error });
    if (error instanceof TypeError) throw new TypeError(`memoize: ${error.message}`, { cause: error });
    throw error;
  }
}

/** The memoized function; `prefixFor(self)` gives the default key's prefix (resolved on first use). */
function wrap<This, A extends unknown[], R>(
  fn: (this: This, ...args: A) => R,
  options: MemoizeOptions<This, A, Awaited<R>>,
  prefixFor: (self: This) => string,
): (this: This, ...args: A) => Promise<Awaited<R>> {
  const { cache, key, prefix: _prefix, tags, ...callOptions } = options;
  const fixedOptions: GetOrSetOptions<Awaited<R>> =
    typeof tags === 'function' || tags === undefined ? callOptions : { ...callOptions, tags };
  let keyPrefix: string | undefined;

  return function memoized(this: This, ...args: A): Promise<Awaited<R>> {
    let cacheKey: CacheKey;
    let callOptions = fixedOptions;
    try {
      cacheKey =
        key === undefined ? (keyPrefix ??= `${prefixFor(this)}:`) + stableKey(args) : key.apply(this, args);
      // Object.assign, not a spread with an extra property: that is ~20x slower on Node 20.
      if (typeof tags === 'function')
        callOptions = Object.assign({}, fixedOptions, { tags: tags.apply(this, args) });
    } catch (error) {
      return Promise.reject(error);
    }
    const load = async (): Promise<Awaited<R>> => (await fn.apply(this, args)) as Awaited<R>;
    return cache.getOrSet<Awaited<R>>(cacheKey, load, callOptions);
  };
}

/** A method of `This` returning `R`. */
type Method<This, A extends unknown[], R> = (this: This, ...args: A) => R;

/** What `@memoizeMethod(options)` returns: usable as a TC39 (TypeScript 5) or a legacy (`experimentalDecorators`) method decorator. */
export interface MemoizedDecorator<This, A extends unknown[], R> {
  /** TC39 standard decorator: gets the method and its context, returns the replacement. */
  (
    method: Method<This, A, R>,
    context: ClassMethodDecoratorContext<This, Method<This, A, R>>,
  ): Method<This, A, R>;
  /** Legacy decorator: gets the prototype (or the class, for a static method), the name and the descriptor. */
  (
    target: object,
    propertyKey: string | symbol,
    descriptor: TypedPropertyDescriptor<Method<This, A, R>>,
  ): TypedPropertyDescriptor<Method<This, A, R>>;
}

/**
 * Method decorator: `@memoizeMethod({ cache, ttl: '5m' })` on an async method. Works with TypeScript 5's
 * standard decorators and with `experimentalDecorators` (NestJS and most existing codebases), told
 * apart by the arguments. The default key is `ClassName.method:<arguments>` — the class that declares
 * the method, so two classes with a method of one name never share results (see
 * {@link MemoizeOptions.prefix}); `this` is not part of it.
 */
export function memoizeMethod<This, A extends unknown[], R extends Promise<unknown>>(
  options: MemoizeOptions<This, A, Awaited<R>>,
): MemoizedDecorator<This, A, R> {
  checkOptions(options);
  if (options.prefix !== undefined && options.key === undefined) {
    claimExplicitPrefix(options.cache, options.prefix);
  }
  function decorate(
    first: Method<This, A, R> | object,
    second: ClassMethodDecoratorContext<This, Method<This, A, R>> | string | symbol,
    descriptor?: TypedPropertyDescriptor<Method<This, A, R>>,
  ): Method<This, A, R> | TypedPropertyDescriptor<Method<This, A, R>> {
    if (typeof second === 'object' && second !== null && 'kind' in second) {
      return decorateStandard(first as Method<This, A, R>, second, options);
    }
    if (typeof second === 'string' || typeof second === 'symbol') {
      return decorateLegacy(first, second, descriptor, options);
    }
    throw new TypeError('@memoizeMethod must decorate a class method');
  }
  return decorate as MemoizedDecorator<This, A, R>;
}

function decorateStandard<This, A extends unknown[], R extends Promise<unknown>>(
  method: Method<This, A, R>,
  context: ClassMethodDecoratorContext<This, Method<This, A, R>>,
  options: MemoizeOptions<This, A, Awaited<R>>,
): Method<This, A, R> {
  if (context.kind !== 'method') {
    throw new TypeError(`@memoizeMethod decorates methods only, not a ${String(context.kind)}`);
  }
  const name = String(context.name);
  let prefix = options.prefix;
  // The declaring class is not known until an instance (or, for a static method, the class) exists:
  // resolve it then, in registration order, or at the first call on an unexpected `this`.
  const resolve = (self: unknown): string =>
    (prefix ??= claimMethodPrefix(options.cache, declaringClassName(self, replacement, name), name, method));
  const replacement = wrap(method, options, resolve) as unknown as Method<This, A, R>;
  if (prefix === undefined && options.key === undefined) {
    context.addInitializer(function (this: This) {
      if (prefix === undefined) resolve(this);
    });
  }
  return replacement;
}

function decorateLegacy<This, A extends unknown[], R extends Promise<unknown>>(
  target: object,
  propertyKey: string | symbol,
  descriptor: TypedPropertyDescriptor<Method<This, A, R>> | undefined,
  options: MemoizeOptions<This, A, Awaited<R>>,
): TypedPropertyDescriptor<Method<This, A, R>> {
  const method = descriptor?.value;
  if (typeof method !== 'function') {
    throw new TypeError(`@memoizeMethod decorates methods only; ${String(propertyKey)} is not a method`);
  }
  // For a static method the target is the class itself, otherwise its prototype.
  const owner = typeof target === 'function' ? target : (target as { constructor?: unknown }).constructor;
  const className = typeof owner === 'function' && owner.name !== '' ? owner.name : '(anonymous class)';
  let prefix = options.prefix;
  if (prefix === undefined && options.key === undefined) {
    prefix = claimMethodPrefix(options.cache, className, String(propertyKey), method);
  }
  const value = wrap(method, options, () => prefix!) as unknown as Method<This, A, R>;
  return { ...descriptor, value };
}

/**
 * The name of the class that declares `method` under `name`, found from `self` (an instance, or the
 * class for a static method) by walking its prototype chain to the object that owns the method.
 */
function declaringClassName(self: unknown, method: unknown, name: string): string {
  for (let o = self; o !== null && (typeof o === 'object' || typeof o === 'function');) {
    if (Object.getOwnPropertyDescriptor(o, name)?.value === method) {
      const cls = typeof o === 'function' ? o : (o as { constructor?: unknown }).constructor;
      return typeof cls === 'function' && cls.name !== '' ? cls.name : '(anonymous class)';
    }
    o = Object.getPrototypeOf(o) as unknown;
  }
  // A private method, or a call on a foreign `this`: the instance's class is the best name left.
  const cls = typeof self === 'function' ? self : (self as { constructor?: unknown } | null)?.constructor;
  return typeof cls === 'function' && cls.name !== '' ? cls.name : '(anonymous class)';
}
