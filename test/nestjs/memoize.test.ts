// @memoizeMethod on a Nest provider, compiled the way Nest apps are (experimentalDecorators, this
// folder's tsconfig.json), with its cache from the manager LarderModule provides.
import { Controller, Get, Inject, Injectable, Param, ParseIntPipe } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { createCacheManager } from '../../src/cache/manager.js';
import { memoizeMethod } from '../../src/cache/memoize.js';
import type { CacheManager } from '../../src/cache/types.js';
import { LarderModule } from '../../src/nestjs/module.js';
import { LARDER_CACHE_MANAGER } from '../../src/nestjs/tokens.js';
import { deferred } from '../helpers/deferred.js';
import { rawRequest } from '../http/helpers/server.js';
import { serve } from './helpers.js';

// The decorator needs its cache when the class is defined, before Nest's DI runs: create the manager
// first and hand it to LarderModule, which provides it (and closes it on shutdown).
const caches = createCacheManager({ caches: { stats: { ttl: '5m' } }, clock: () => 9_000_000 });
let gate = deferred();

@Injectable()
class StatsService {
  loads = 0;
  factor = 10;

  @memoizeMethod({ cache: caches.get('stats'), ttl: '1m' })
  async score(id: number): Promise<number> {
    this.loads++;
    await gate.promise;
    return id * this.factor;
  }
}

@Controller('scores')
class ScoreController {
  constructor(@Inject(StatsService) private readonly stats: StatsService) {}

  @Get(':id')
  async get(@Param('id', ParseIntPipe) id: number): Promise<string> {
    return String(await this.stats.score(id));
  }
}

describe('@memoizeMethod under Nest (experimentalDecorators)', () => {
  it('is compiled as a legacy decorator here', () => {
    const seen: unknown[] = [];
    const spy = (...args: unknown[]) => void seen.push(args.length);
    class Probe {
      @spy
      m(): void {}
    }
    expect(new Probe()).toBeInstanceOf(Probe);
    expect(seen).toEqual([3]);
  });

  it('memoizes a provider method: concurrent requests share one load, `this` is the Nest instance', async () => {
    gate = deferred();
    const { app, url } = await serve({
      imports: [LarderModule.forRoot({ caches })],
      controllers: [ScoreController],
      providers: [StatsService],
    });
    const service = app.get(StatsService);
    try {
      const both = Promise.all([rawRequest(`${url}/scores/4`), rawRequest(`${url}/scores/4`)]);
      // Both requests reached the method before the load was let go: one load between them.
      const reached = () => {
        const { misses, coalesced } = caches.get('stats').stats();
        return misses + coalesced;
      };
      while (reached() < 2) await new Promise<void>((r) => setImmediate(r));
      expect(caches.get('stats').stats()).toMatchObject({ misses: 1, coalesced: 1 });
      gate.resolve();
      expect((await both).map((r) => r.text)).toEqual(['40', '40']);
      expect(service.loads).toBe(1);
      expect((await rawRequest(`${url}/scores/5`)).text).toBe('50');
      expect(service.loads).toBe(2);
      expect(
        caches
          .get('stats')
          .entries()
          .map((e) => e.key)
          .sort(),
      ).toEqual(['StatsService.score:[4]', 'StatsService.score:[5]']);
      expect(await caches.get('stats').ttlRemaining('StatsService.score:[4]')).toBe(60_000);
      expect(app.get<CacheManager>(LARDER_CACHE_MANAGER)).toBe(caches);
    } finally {
      await app.close();
    }
  });
});
