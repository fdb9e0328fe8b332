// Injection tokens of `LarderModule` and the parameter decorators that name them. Tokens are strings,
// so Nest's "can't resolve dependencies" errors name the missing cache.
import { Inject } from '@nestjs/common';

/** Token of the `CacheManager` that `LarderModule` provides. */
export const LARDER_CACHE_MANAGER = 'larder:cache-manager';

/** Token of the HTTP response cache core that {@link LarderHttpInterceptor} runs. */
export const LARDER_HTTP_CACHE = 'larder:http-cache';

/** Token of the named cache `name`: inject it with `@Inject(getCacheToken(name))` or `@InjectCache(name)`. */
export function getCacheToken(name: string): string {
  if (typeof name !== 'string' || name === '') throw new TypeError('cache name must be a non-empty string');
  return `larder:cache:${name}`;
}

/**
 * Injects the Larder cache `name` that `LarderModule.forRoot({ caches })` declares:
 * `constructor(@InjectCache('users') private readonly users: Cache<User>) {}`.
 */
export function InjectCache(name: string): PropertyDecorator & ParameterDecorator {
  return Inject(getCacheToken(name));
}

/** Injects the `CacheManager` of `LarderModule`. */
export function InjectCacheManager(): PropertyDecorator & ParameterDecorator {
  return Inject(LARDER_CACHE_MANAGER);
}
