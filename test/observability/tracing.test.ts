import diagnosticsChannel from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import { LOADER_CHANNEL } from '../../src/observability/tracing.js';

describe('larder:loader tracing channel', () => {
  it('publishes start/asyncEnd with the cache, key, attempt and result around loader calls', async () => {
    const seen: string[] = [];
    const channel = diagnosticsChannel.tracingChannel(LOADER_CHANNEL);
    const handlers = {
      start: (ctx: any) => seen.push(`start ${ctx.cache} ${ctx.key} ${ctx.attempt}`),
      end: () => {},
      asyncStart: () => {},
      asyncEnd: (ctx: any) => seen.push(`asyncEnd ${ctx.result ?? ''}${ctx.error ? 'error' : ''}`),
      error: (ctx: any) => seen.push(`error ${ctx.error.message}`),
    };
    channel.subscribe(handlers);
    try {
      const cache = createCache<string>({ name: 'traced', retry: false });
      await cache.getOrSet('k', () => 'v');
      await cache.getOrSet('k', () => 'v');
      await expect(
        cache.getOrSet('bad', () => {
          throw new Error('nope');
        }),
      ).rejects.toThrow();
    } finally {
      channel.unsubscribe(handlers);
    }
    expect(seen).toEqual([
      'start traced k 0',
      'asyncEnd v',
      'start traced bad 0',
      'error nope',
      'asyncEnd error',
    ]);
  });
});
