// The admin API in a Nest app on the Express platform: mounted with `app.use` as Express middleware
// (`expressAdmin`), over the manager LarderModule provides, before the app starts listening.
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { CacheManager } from '../../src/cache/types.js';
import { expressAdmin } from '../../src/http/express.js';
import { LarderModule } from '../../src/nestjs/module.js';
import { InjectCacheManager, LARDER_CACHE_MANAGER } from '../../src/nestjs/tokens.js';
import { rawRequest } from '../http/helpers/server.js';

const KEY = 'nest-admin-key-0123456789abcdef';

@Controller('items')
class ItemsController {
  constructor(@InjectCacheManager() private readonly caches: CacheManager) {}

  @Get()
  list(): Promise<string> {
    return this.caches.get('items').getOrSet('all', async () => 'every item');
  }
}

@Module({
  imports: [LarderModule.forRoot({ caches: { items: { ttl: '5m' } } })],
  controllers: [ItemsController],
})
class AppModule {}

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

describe('admin API in a Nest app', () => {
  it('mounts with app.use over the injected manager: stats with the key, 401 without, invalidate works', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    const caches = app.get<CacheManager>(LARDER_CACHE_MANAGER);
    const admin = expressAdmin({ caches, apiKey: KEY });
    app.use('/api/cache', admin);
    await app.listen(0, '127.0.0.1');
    close = async () => {
      admin.close();
      await app.close();
    };
    const { port } = (app.getHttpServer() as { address(): AddressInfo }).address();
    const url = `http://127.0.0.1:${port}`;

    expect((await rawRequest(`${url}/items`)).text).toBe('every item');
    const stats = await rawRequest(`${url}/api/cache/stats`, { 'x-api-key': KEY });
    expect(stats.status).toBe(200);
    const body = JSON.parse(stats.text) as { caches: Record<string, { size: number }> };
    expect(body.caches.items!.size).toBe(1);
    expect((await rawRequest(`${url}/api/cache/stats`)).status).toBe(401);
    const cleared = await rawRequest(`${url}/api/cache/clear/items`, { 'x-api-key': KEY }, 'POST');
    expect(cleared.status).toBe(200);
    expect(caches.get('items').entries()).toEqual([]);
    // Routes of the app are untouched by the mount.
    expect((await rawRequest(`${url}/items`)).text).toBe('every item');
  });
});
