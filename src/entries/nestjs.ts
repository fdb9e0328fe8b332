// Subpath export `larder-cache/nestjs`: Larder in NestJS 11 — LarderModule (named caches by injection, the
// HTTP response cache as an interceptor) and a Keyv store for @nestjs/cache-manager's CacheModule.
// Needs the optional peers @nestjs/common, @nestjs/core, rxjs and reflect-metadata; `larder` alone
// never loads them.
export { LarderModule } from '../nestjs/module.js';
export type { LarderModuleOptions, LarderHttpOptions } from '../nestjs/module.js';
export { LarderHttpInterceptor } from '../nestjs/interceptor.js';
export {
  InjectCache,
  InjectCacheManager,
  getCacheToken,
  LARDER_CACHE_MANAGER,
  LARDER_HTTP_CACHE,
} from '../nestjs/tokens.js';
export { larderKeyvStore } from '../nestjs/keyv-store.js';
export type { LarderKeyvStore, LarderKeyvStoreOptions } from '../nestjs/keyv-store.js';
export type { CacheRule, InvalidationRule } from './http.js';
