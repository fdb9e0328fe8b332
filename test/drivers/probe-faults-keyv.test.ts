// The Keyv bridge under faults: a store that throws or hangs (a Map behind a switch), and
// @keyv/redis over a redis-server that is paused (SIGSTOP) with calls in flight when the cache closes.
import KeyvRedis from '@keyv/redis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCache } from '../../src/index.js';
import type { Cache } from '../../src/index.js';
import { keyvDriver } from '../../src/entries/keyv.js';
import { SharedTier } from '../../src/entries/tiers.js';
import { RedisServer } from '../helpers/redis-server.js';
import { describeWithRedis } from '../tiers/describe-with-redis.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => {});
});

/** A Map store that, per `mode`, works, throws, or never answers. */
class SwitchStore extends Map<string, unknown> {
  mode: 'up' | 'throw' | 'hang' = 'up';
  #gate<T>(run: () => T): T {
    if (this.mode === 'throw') throw new Error('store down');
    if (this.mode === 'hang') return new Promise<never>(() => {}) as T;
    return run();
  }
  override get(key: string): unknown {
    return this.#gate(() => super.get(key));
  }
  override set(key: string, value: unknown): this {
    return this.#gate(() => super.set(key, value));
  }
  override delete(key: string): boolean {
    return this.#gate(() => super.delete(key));
  }
}

describe('keyvDriver over a store that throws or hangs', () => {
  const store = new SwitchStore();
  const open = (): Cache => {
    const driver = keyvDriver({ store, prefix: 'sw:' });
    const cache = createCache({
      name: 's',
      ttl: '1h',
      l2: new SharedTier({ driver, timeout: '50ms', breaker: { threshold: 1, resetAfter: '100ms' } }),
    });
    cleanups.push(() => cache.close());
    return cache;
  };

  for (const mode of ['throw', 'hang'] as const) {
    it(`a delete made while the store ${mode === 'throw' ? 'throws' : 'hangs'} is replayed once it answers; no call waits past the timeout`, async () => {
      const a = open();
      await a.set(`k-${mode}`, 'old');
      store.mode = mode;
      try {
        const started = performance.now();
        expect(await a.getOrSet(`miss-${mode}`, () => 'loaded')).toBe('loaded');
        await a.delete(`k-${mode}`);
        expect(performance.now() - started).toBeLessThan(500);
        expect(a.health().l2?.pending).toBeGreaterThan(0);
        expect(await a.get(`k-${mode}`)).toBeUndefined();
      } finally {
        store.mode = 'up';
      }
      await vi.waitFor(() => expect(a.health().l2?.pending).toBe(0), { timeout: 3000, interval: 20 });
      expect(await open().get(`k-${mode}`)).toBeUndefined();
    });
  }
});

describeWithRedis('keyvDriver over @keyv/redis while redis-server is paused', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(async () => {
    server?.resume();
    await server?.destroy();
  });

  it('close() returns while calls hang', async () => {
    const driver = keyvDriver({ store: new KeyvRedis(server.url), prefix: 'kv:' });
    const cache = createCache({
      name: 'c',
      ttl: '1h',
      l2: new SharedTier({ driver, breaker: { threshold: 2, resetAfter: '100ms' } }),
    });
    cleanups.push(() => cache.close());
    await cache.set('k', 'v');
    server.pause();
    try {
      for (let i = 0; i < 3; i++) expect(await cache.getOrSet(`m${i}`, () => 'loaded')).toBe('loaded');
      const closed = cache.close().then(() => 'closed');
      const late = new Promise((resolve) => setTimeout(() => resolve('still closing'), 3000));
      // Before: Keyv's disconnect waited for the replies of the calls in flight, for as long as the
      // server hung.
      expect(await Promise.race([closed, late])).toBe('closed');
    } finally {
      server.resume();
    }
  });
});
