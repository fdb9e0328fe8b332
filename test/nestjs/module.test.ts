// LarderModule's providers: the manager and named caches by injection (in modules that do not import
// it), closing on app.close(), and the options it refuses.
import { Controller, Get, Inject, Injectable, Module, Param } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { describe, expect, it, vi } from 'vitest';
import { createCacheManager } from '../../src/cache/manager.js';
import type { Cache, CacheManager } from '../../src/cache/types.js';
import { LarderModule } from '../../src/nestjs/module.js';
import {
  getCacheToken,
  InjectCache,
  InjectCacheManager,
  LARDER_CACHE_MANAGER,
} from '../../src/nestjs/tokens.js';
import { rawRequest } from '../http/helpers/server.js';
import { serve } from './helpers.js';

@Injectable()
class UserService {
  loads = 0;
  constructor(
    @InjectCache('users') readonly users: Cache<string>,
    @InjectCacheManager() readonly manager: CacheManager,
  ) {}

  name(id: string): Promise<string> {
    return this.users.getOrSet(id, async () => `user ${id} (load ${++this.loads})`);
  }
}

@Controller('users')
class UserController {
  constructor(@Inject(UserService) private readonly service: UserService) {}

  @Get(':id')
  get(@Param('id') id: string): Promise<string> {
    return this.service.name(id);
  }
}

/** A feature module that does not import LarderModule: the global module provides the caches. */
@Module({ providers: [UserService], controllers: [UserController] })
class UsersModule {}

describe('LarderModule.forRoot: caches by injection', () => {
  it('injects each named cache and the manager into a feature module’s providers', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [LarderModule.forRoot({ caches: { users: { ttl: '5m' }, orders: {} } }), UsersModule],
    }).compile();
    const service = moduleRef.get(UserService);
    const manager = moduleRef.get<CacheManager>(LARDER_CACHE_MANAGER);
    expect(manager.names().sort()).toEqual(['orders', 'users']);
    expect(service.manager).toBe(manager);
    expect(service.users).toBe(manager.get('users'));
    expect(moduleRef.get(getCacheToken('orders'))).toBe(manager.get('orders'));
    expect(service.users.stats().ttl).toBe(300_000);
    await moduleRef.close();
  });

  it('serves through an injected cache in a real app: one load per key', async () => {
    const { app, url } = await serve({
      imports: [LarderModule.forRoot({ caches: { users: {} } }), UsersModule],
    });
    try {
      expect((await rawRequest(`${url}/users/7`)).text).toBe('user 7 (load 1)');
      expect((await rawRequest(`${url}/users/7`)).text).toBe('user 7 (load 1)');
      expect((await rawRequest(`${url}/users/8`)).text).toBe('user 8 (load 2)');
      expect(
        app
          .get<CacheManager>(LARDER_CACHE_MANAGER)
          .get('users')
          .entries()
          .map((e) => e.key)
          .sort(),
      ).toEqual(['7', '8']);
    } finally {
      await app.close();
    }
  });

  it('provides the caches of a manager passed in, and names a cache it does not have', async () => {
    const manager = createCacheManager({ caches: { users: {} } });
    const moduleRef = await Test.createTestingModule({
      imports: [LarderModule.forRoot({ caches: manager }), UsersModule],
    }).compile();
    expect(moduleRef.get(UserService).users).toBe(manager.get('users'));
    await moduleRef.close();

    @Injectable()
    class WantsMissing {
      constructor(@InjectCache('sessions') readonly sessions: Cache) {}
    }
    await expect(
      Test.createTestingModule({
        imports: [LarderModule.forRoot({ caches: { users: {} } })],
        providers: [WantsMissing],
      }).compile(),
    ).rejects.toThrow(/larder:cache:sessions/);
  });

  it('is global unless told otherwise', async () => {
    await expect(
      Test.createTestingModule({
        imports: [LarderModule.forRoot({ caches: { users: {} }, isGlobal: false }), UsersModule],
      }).compile(),
    ).rejects.toThrow(/larder:cache:users/);
  });
});

describe('LarderModule: shutdown', () => {
  it('closes the caches it created on app.close(), after the server stopped', async () => {
    const { app, url } = await serve({
      imports: [LarderModule.forRoot({ caches: { users: {} } }), UsersModule],
    });
    const manager = app.get<CacheManager>(LARDER_CACHE_MANAGER);
    const users = manager.get('users');
    await rawRequest(`${url}/users/1`);
    expect(users.health().status).toBe('ok');
    const server = app.getHttpServer() as { listening: boolean };
    const listeningAtClose: boolean[] = [];
    const realClose = manager.close.bind(manager);
    const close = vi.spyOn(manager, 'close').mockImplementation(() => {
      listeningAtClose.push(server.listening);
      return realClose();
    });
    await app.close();
    expect(close).toHaveBeenCalledTimes(1);
    expect(listeningAtClose).toEqual([false]);
    expect(users.health()).toMatchObject({ status: 'degraded', reason: 'closed' });
  });

  it('closes a manager passed in too, unless closeOnShutdown is false', async () => {
    const closes: string[] = [];
    for (const closeOnShutdown of [true, false]) {
      const manager = createCacheManager({ caches: { users: {} } });
      const moduleRef = await Test.createTestingModule({
        imports: [LarderModule.forRoot({ caches: manager, closeOnShutdown })],
      }).compile();
      const app = moduleRef.createNestApplication({ logger: false });
      await app.init();
      await app.close();
      closes.push(`${closeOnShutdown}: ${manager.get('users').health().status}`);
    }
    expect(closes).toEqual(['true: degraded', 'false: ok']);
  });
});

describe('LarderModule.forRoot: options it refuses', () => {
  it('throws a TypeError naming the option', () => {
    const manager = createCacheManager({ caches: { users: {} } });
    const forRoot = (options: unknown) => () => LarderModule.forRoot(options as never);
    expect(forRoot(undefined)).toThrow(/options must be an object/);
    expect(forRoot({ caches: [] })).toThrow(
      /caches must be a \{ name: CacheOptions \} record or a CacheManager/,
    );
    expect(forRoot({ caches: {} })).toThrow(/at least one cache/);
    expect(forRoot({ caches: manager, manager: {} })).toThrow(/`manager` options apply to a `caches` record/);
    expect(forRoot({ caches: { a: {} }, isGlobal: 'yes' })).toThrow(/isGlobal must be a boolean/);
    expect(forRoot({ caches: { a: {} }, global: false })).toThrow(
      new TypeError('LarderModule.forRoot: unknown option "global"'),
    );
    expect(forRoot({ caches: { a: {} }, closeOnShutdown: 1 })).toThrow(/closeOnShutdown must be a boolean/);
    expect(forRoot({ caches: { a: {} }, http: 'rules' })).toThrow(/http must be an object/);
    expect(forRoot({ caches: { a: {} }, http: { cache: 'b' } })).toThrow(
      /http.cache names an unknown cache "b" \(known: a\)/,
    );
    expect(forRoot({ caches: { a: {} }, http: { global: 0 } })).toThrow(/http.global must be a boolean/);
  });

  it('refuses bad HTTP rules when Nest creates the providers, and a rule without a cache when there are several', async () => {
    await expect(
      Test.createTestingModule({
        imports: [
          LarderModule.forRoot({ caches: { a: {} }, http: { rules: [{ path: '/x', ttl: 'soon' }] } }),
        ],
      }).compile(),
    ).rejects.toThrow(/ttl/);
    await expect(
      Test.createTestingModule({
        imports: [LarderModule.forRoot({ caches: { a: {}, b: {} }, http: { rules: [{ path: '/x' }] } })],
      }).compile(),
    ).rejects.toThrow(/must name a cache/);
  });
});
