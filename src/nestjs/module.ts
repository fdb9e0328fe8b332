// LarderModule: Larder's caches as Nest providers (the manager and each named cache by injection),
// closed when the application shuts down, and the HTTP response cache as an interceptor.
import type { DynamicModule, OnApplicationShutdown, Provider } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import type { Request, Response } from 'express';
import { createCacheManager, isCacheManager } from '../cache/manager.js';
import type { Cache, CacheManager, CacheManagerOptions, CacheOptions } from '../cache/types.js';
import { createHttpCache, type HttpCacheMiddleware, type HttpCacheOptions } from '../http/http-cache.js';
import { LarderHttpInterceptor } from './interceptor.js';
import { assertKnownOptions, optionNames } from '../util/validate.js';
import { getCacheToken, LARDER_CACHE_MANAGER, LARDER_HTTP_CACHE } from './tokens.js';

/**
 * The HTTP response cache of {@link LarderModuleOptions.http}: `createHttpCache`'s options, with `user`
 * and key functions receiving Express's `Request`/`Response` (name your own request type for what
 * your guard sets: `LarderModule.forRoot<AuthedRequest>(…)`).
 */
export interface LarderHttpOptions<
  Req extends Request = Request,
  Res extends Response = Response,
> extends Omit<HttpCacheOptions<Req, Res>, 'cache'> {
  /**
   * The module's cache that holds responses, by name. Default: the only cache when there is one;
   * otherwise every rule names its cache (`cache: 'pages'`).
   */
  cache?: string;
  /**
   * Register {@link LarderHttpInterceptor} for every route (`APP_INTERCEPTOR`). Default `true`; with
   * `false`, bind it yourself with `@UseInterceptors(LarderHttpInterceptor)`.
   */
  global?: boolean;
}

/** Options of {@link LarderModule.forRoot}. */
export interface LarderModuleOptions<Req extends Request = Request, Res extends Response = Response> {
  /**
   * The caches: `{ name: CacheOptions }` (the module creates a manager from them) or a `CacheManager`
   * you created, whose caches at `forRoot` time become injectable by name.
   */
  caches: Readonly<Record<string, CacheOptions>> | CacheManager;
  /** With a `caches` record: the rest of `createCacheManager`'s options (`defaults`, `l2`, `logger`, `clock`, `persist`). */
  manager?: Omit<CacheManagerOptions, 'caches'>;
  /** The HTTP response cache, run as {@link LarderHttpInterceptor}. */
  http?: LarderHttpOptions<Req, Res>;
  /** Provide the manager and caches to every module without importing LarderModule there. Default `true`. */
  isGlobal?: boolean;
  /**
   * Close the caches (`manager.close()`: timers stopped, snapshots written, shared-tier connections
   * closed) in `onApplicationShutdown`, after Nest stopped the HTTP server. Default `true`, also for a
   * manager you passed in; set `false` when something outside Nest still uses it.
   */
  closeOnShutdown?: boolean;
}

const MODULE_OPTIONS = optionNames<LarderModuleOptions>({
  caches: true,
  manager: true,
  http: true,
  isGlobal: true,
  closeOnShutdown: true,
});

/** Closes the manager on application shutdown; a provider so Nest calls its hook. */
class LarderShutdown implements OnApplicationShutdown {
  constructor(
    private readonly manager: CacheManager,
    private readonly close: boolean,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.close) await this.manager.close();
  }
}

/**
 * Larder in Nest: `imports: [LarderModule.forRoot({ caches: { users: { ttl: '5m' } }, http: { rules } })]`.
 * Provides the `CacheManager` (`@InjectCacheManager()`), each named cache (`@InjectCache('users')`),
 * closes them on application shutdown (`app.close()`, or a signal with `enableShutdownHooks()`), and,
 * with `http`, caches responses through {@link LarderHttpInterceptor}.
 */
export class LarderModule {
  /**
   * The module for `options`; see {@link LarderModuleOptions}. Bad options throw a `TypeError`: here,
   * or for the HTTP rules and cache options when Nest creates the providers (`app.init()`).
   */
  static forRoot<Req extends Request = Request, Res extends Response = Response>(
    options: LarderModuleOptions<Req, Res>,
  ): DynamicModule {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError('LarderModule.forRoot: options must be an object');
    }
    assertKnownOptions(options, MODULE_OPTIONS, 'LarderModule.forRoot');
    const { caches, manager: managerOptions, http } = options;
    const isGlobal = options.isGlobal ?? true;
    const close = options.closeOnShutdown ?? true;
    if (typeof isGlobal !== 'boolean')
      throw new TypeError('LarderModule.forRoot: isGlobal must be a boolean');
    if (typeof close !== 'boolean')
      throw new TypeError('LarderModule.forRoot: closeOnShutdown must be a boolean');
    let names: string[];
    let makeManager: () => CacheManager;
    if (isCacheManager(caches)) {
      if (managerOptions !== undefined) {
        throw new TypeError(
          'LarderModule.forRoot: `manager` options apply to a `caches` record, not a manager',
        );
      }
      names = caches.names();
      makeManager = () => caches;
    } else if (typeof caches === 'object' && caches !== null && !Array.isArray(caches)) {
      names = Object.keys(caches);
      // Created when Nest instantiates the providers, not when the module is declared.
      makeManager = () => createCacheManager({ ...managerOptions, caches: { ...caches } });
    } else {
      throw new TypeError(
        'LarderModule.forRoot: caches must be a { name: CacheOptions } record or a CacheManager',
      );
    }
    if (names.length === 0) throw new TypeError('LarderModule.forRoot: caches must name at least one cache');

    const providers: Provider[] = [
      { provide: LARDER_CACHE_MANAGER, useFactory: makeManager },
      ...names.map((name): Provider => ({
        provide: getCacheToken(name),
        useFactory: (manager: CacheManager): Cache<unknown> => manager.get(name),
        inject: [LARDER_CACHE_MANAGER],
      })),
      {
        provide: LarderShutdown,
        useFactory: (manager: CacheManager) => new LarderShutdown(manager, close),
        inject: [LARDER_CACHE_MANAGER],
      },
    ];
    const exports: DynamicModule['exports'] = [LARDER_CACHE_MANAGER, ...names.map(getCacheToken)];

    if (http !== undefined) {
      if (typeof http !== 'object' || http === null) {
        throw new TypeError('LarderModule.forRoot: http must be an object');
      }
      const { cache: cacheName, global = true, ...httpOptions } = http;
      if (typeof global !== 'boolean')
        throw new TypeError('LarderModule.forRoot: http.global must be a boolean');
      if (cacheName !== undefined && !names.includes(cacheName)) {
        throw new TypeError(
          `LarderModule.forRoot: http.cache names an unknown cache ${JSON.stringify(cacheName)} (known: ${names.join(', ')})`,
        );
      }
      const responseCache = cacheName ?? (names.length === 1 ? names[0] : undefined);
      providers.push(
        {
          provide: LARDER_HTTP_CACHE,
          useFactory: (manager: CacheManager): HttpCacheMiddleware<Req, Res> =>
            createHttpCache<Req, Res>({
              ...httpOptions,
              cache: responseCache === undefined ? manager : manager.get(responseCache),
            }),
          inject: [LARDER_CACHE_MANAGER],
        },
        {
          provide: LarderHttpInterceptor,
          useFactory: (core: HttpCacheMiddleware<Request, Response>) => new LarderHttpInterceptor(core),
          inject: [LARDER_HTTP_CACHE],
        },
      );
      if (global) providers.push({ provide: APP_INTERCEPTOR, useExisting: LarderHttpInterceptor });
      exports.push(LARDER_HTTP_CACHE, LarderHttpInterceptor);
    }
    return { module: LarderModule, global: isGlobal, providers, exports };
  }
}
