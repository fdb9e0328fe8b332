// larderKeyvStore: a Keyv 5 store over a Larder cache, on its own and as the store of
// @nestjs/cache-manager's CacheModule (CacheInterceptor and @Inject(CACHE_MANAGER)) in a real Nest app.
import { CACHE_MANAGER, CacheInterceptor, CacheModule, CacheTTL } from '@nestjs/cache-manager';
import { Controller, Get, Inject, Param, UseInterceptors } from '@nestjs/common';
import type { Cache as CacheManagerCache } from 'cache-manager';
import Keyv, { type KeyvStoreAdapter } from 'keyv';
import { beforeEach, describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import type { Cache } from '../../src/cache/types.js';
import { larderKeyvStore } from '../../src/nestjs/keyv-store.js';
import { deferred } from '../helpers/deferred.js';
import { rawRequest } from '../http/helpers/server.js';
import { serve } from './helpers.js';

let now: number;
let cache: Cache;

beforeEach(() => {
  now = 3_000_000;
  cache = createCache({ name: 'nest', ttl: '10m', clock: () => now });
});

describe('larderKeyvStore under Keyv', () => {
  it('is a KeyvStoreAdapter', () => {
    const store: KeyvStoreAdapter = larderKeyvStore(cache);
    expect(typeof store.on).toBe('function');
  });

  it('round-trips values through Keyv, keyed under its namespace, with its TTL as the Larder TTL', async () => {
    const keyv = new Keyv({ store: larderKeyvStore(cache) });
    await keyv.set('greeting', { text: 'hi' }, 60_000);
    await keyv.set('forever', 42);
    expect(await keyv.get('greeting')).toEqual({ text: 'hi' });
    expect(await keyv.get('missing')).toBeUndefined();
    expect(
      cache
        .entries()
        .map((e) => e.key)
        .sort(),
    ).toEqual(['keyv:forever', 'keyv:greeting']);
    expect(await cache.ttlRemaining('keyv:greeting')).toBe(60_000);
    // No TTL from Keyv: the Larder cache's own default.
    expect(await cache.ttlRemaining('keyv:forever')).toBe(600_000);
    expect(await keyv.has('greeting')).toBe(true);
    expect(await keyv.get(['greeting', 'missing', 'forever'])).toEqual([{ text: 'hi' }, undefined, 42]);
    expect(await keyv.delete('greeting')).toBe(true);
    expect(await keyv.delete('greeting')).toBe(false);
    expect(await cache.has('keyv:greeting')).toBe(false);
  });

  it('expires entries on the Larder clock', async () => {
    const keyv = new Keyv({ store: larderKeyvStore(cache) });
    await keyv.set('k', 'v', 1_000);
    now += 1_001;
    expect(await cache.get('keyv:k')).toBeUndefined();
    expect(await keyv.get('k')).toBeUndefined();
  });

  it('clears only its namespace, and the whole cache without one', async () => {
    const a = new Keyv({ store: larderKeyvStore(cache), namespace: 'a' });
    const b = new Keyv({ store: larderKeyvStore(cache), namespace: 'b' });
    await a.set('k', 1);
    await b.set('k', 2);
    await cache.set('own', 3);
    await a.clear();
    expect([await a.get('k'), await b.get('k'), await cache.get('own')]).toEqual([undefined, 2, 3]);
    const bare = new Keyv({ store: larderKeyvStore(cache), namespace: undefined });
    await bare.clear();
    expect(cache.entries()).toEqual([]);
  });

  it('sets and deletes many, and closes the cache on disconnect only when asked', async () => {
    const store = larderKeyvStore(cache);
    await store.setMany([
      { key: 'x', value: 'X', ttl: 5_000 },
      { key: 'y', value: 'Y' },
    ]);
    expect(await store.getMany(['x', 'y', 'z'])).toEqual(['X', 'Y', undefined]);
    expect(await cache.ttlRemaining('x')).toBe(5_000);
    expect(await store.deleteMany(['x', 'z'])).toBe(false);
    expect(await store.has('x')).toBe(false);
    await store.disconnect();
    expect(cache.health().status).toBe('ok');
    await larderKeyvStore(cache, { closeOnDisconnect: true }).disconnect();
    expect(cache.health()).toMatchObject({ status: 'degraded', reason: 'closed' });
  });

  it('refuses what is not a Larder cache', () => {
    expect(() => larderKeyvStore(new Map() as never)).toThrow(/must be a Larder Cache/);
    expect(() => larderKeyvStore(cache, { closeOnDisconnect: 'yes' as never })).toThrow(/closeOnDisconnect/);
  });
});

describe('larderKeyvStore as the store of @nestjs/cache-manager’s CacheModule', () => {
  let loads: number;

  @Controller()
  class CachedController {
    constructor(@Inject(CACHE_MANAGER) private readonly manager: CacheManagerCache) {}

    @Get('report')
    @UseInterceptors(CacheInterceptor)
    @CacheTTL(30_000)
    report(): { loads: number } {
      return { loads: ++loads };
    }

    @Get('remember/:word')
    async remember(@Param('word') word: string): Promise<string> {
      await this.manager.set('word', word, 45_000);
      return (await this.manager.get<string>('word')) ?? 'lost';
    }
  }

  // A bare store is wrapped in a Keyv without a namespace (CacheModule passes its own, unset), so its keys are unprefixed.
  it.each([
    ['a Keyv instance', () => new Keyv({ store: larderKeyvStore(cache) }), 'keyv:'],
    ['the bare store', () => larderKeyvStore(cache), ''],
  ])(
    'serves CacheInterceptor and CACHE_MANAGER from the Larder cache (%s)',
    async (_label, makeStore, prefix) => {
      loads = 0;
      const { app, url } = await serve({
        imports: [CacheModule.register({ stores: [makeStore()] })],
        controllers: [CachedController],
      });
      try {
        // CacheInterceptor stores after the response is on its way: wait for the Larder write itself.
        const stored = deferred<string>();
        cache.on('cache:set', ({ key }) => stored.resolve(String(key)));
        const first = await rawRequest(`${url}/report`);
        expect([first.text, first.headers['x-cache']]).toEqual(['{"loads":1}', 'MISS']);
        expect(await stored.promise).toBe(`${prefix}/report`);
        const second = await rawRequest(`${url}/report`);
        expect([second.text, second.headers['x-cache']]).toEqual(['{"loads":1}', 'HIT']);
        expect(loads).toBe(1);
        expect(await cache.ttlRemaining(`${prefix}/report`)).toBe(30_000);

        // The Larder side's expiry and invalidation reach Nest's cache manager.
        now += 30_001;
        expect((await rawRequest(`${url}/report`)).text).toBe('{"loads":2}');
        expect(await cache.invalidatePattern(`${prefix}/rep*`)).toBe(1);
        expect((await rawRequest(`${url}/report`)).text).toBe('{"loads":3}');

        expect((await rawRequest(`${url}/remember/plum`)).text).toBe('plum');
        expect(await cache.ttlRemaining(`${prefix}word`)).toBe(45_000);
        const manager = app.get<CacheManagerCache>(CACHE_MANAGER);
        expect(await manager.get('word')).toBe('plum');
        await manager.del('word');
        expect(await cache.has(`${prefix}word`)).toBe(false);
      } finally {
        await app.close();
      }
      // CacheModule disconnects its stores when destroyed; the Larder cache is its creator's to close.
      expect(cache.health().status).toBe('ok');
    },
  );
});
