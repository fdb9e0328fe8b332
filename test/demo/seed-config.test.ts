// Seed-fidelity settings of the demo: seed 001's per-key TTL variables, seed 003's LOG_LEVEL and
// seed 000's bracketed log lines (LARDER_LOG_FORMAT).
import { describe, expect, it } from 'vitest';
import { startDemo } from '../../demo/app.js';
import { ConfigError, readConfig } from '../../demo/config.js';
import { seededRandom } from '../../demo/upstreams/simulate.js';
import { consoleLogger } from '../helpers/logger.js';
import { startTestDemo } from './helpers.js';

const BASE = {
  PORT: '0',
  LARDER_API_KEY: 'test-admin-key-123',
  DEMO_LATENCY_SCALE: '0',
  LARDER_SNAPSHOT_DIR: 'off',
};

describe('seed 001: per-key TTLs from the environment', () => {
  it('reads one variable per key, beside the cache-wide LARDER_TTL_STATS', () => {
    const config = readConfig({
      LARDER_TTL_STATS_TOTAL: '3s',
      LARDER_TTL_ORCHESTRATOR_STATUS: '2000',
      LARDER_TTL_VPN_STATUS: '3s',
      LARDER_TTL_STATS: '10s',
    });
    expect(config.statsKeyTtl).toEqual({
      'stats:total': 3000,
      'orchestrator:status': 2000,
      'vpn:status': 3000,
    });
    expect(config.ttl).toEqual({ stats: 10_000 });
    expect(readConfig({}).statsKeyTtl).toEqual({});
    expect(() => readConfig({ LARDER_TTL_VPN_STATUS: 'soon' })).toThrow(/LARDER_TTL_VPN_STATUS/);
  });

  it('gives each stats key its own TTL in the running demo, over LARDER_TTL_STATS', async () => {
    const { demo, clock, call } = await startTestDemo({
      ttl: { stats: 10_000 },
      statsKeyTtl: { 'orchestrator:status': 1000, 'vpn:status': 5000 },
    });
    try {
      for (const path of ['/engines/stats/total', '/orchestrator/status', '/vpn/status']) {
        expect((await call(path)).status).toBe(200);
      }
      const stats = demo.seeds.stats.cache;
      expect(await stats.ttlRemaining('orchestrator:status')).toBe(1000);
      expect(await stats.ttlRemaining('vpn:status')).toBe(5000);
      expect(await stats.ttlRemaining('stats:total')).toBe(10_000);
      clock.advance(1001);
      expect(await stats.has('orchestrator:status')).toBe(false);
      expect(await stats.has('vpn:status')).toBe(true);
    } finally {
      await demo.close();
    }
  });
});

describe('seed 003: LOG_LEVEL', () => {
  it('turns cache logging on at DEBUG (any case) and leaves it off at other levels', () => {
    expect(readConfig({ LOG_LEVEL: 'DEBUG' }).logCacheOps).toBe(true);
    expect(readConfig({ LOG_LEVEL: 'debug' }).logCacheOps).toBe(true);
    expect(readConfig({ LOG_LEVEL: 'INFO' }).logCacheOps).toBe(false);
    expect(readConfig({}).logCacheOps).toBe(false);
    expect(readConfig({ LARDER_LOG: 'debug' }).logCacheOps).toBe(true);
  });
});

describe('seed 000: LARDER_LOG_FORMAT', () => {
  it('parses plain and bracketed and refuses anything else', () => {
    expect(readConfig({}).logFormat).toBe('plain');
    expect(readConfig({ LARDER_LOG_FORMAT: 'Bracketed' }).logFormat).toBe('bracketed');
    expect(() => readConfig({ LARDER_LOG_FORMAT: 'json' })).toThrow(ConfigError);
  });

  it('writes the provider routes’ cache lines in the bracketed form', async () => {
    const { logger, lines } = consoleLogger();
    const config = readConfig({ ...BASE, LOG_LEVEL: 'DEBUG', LARDER_LOG_FORMAT: 'bracketed' });
    const demo = await startDemo(config, { logger, random: seededRandom(1) });
    try {
      const providers = demo.seeds.providers;
      await providers.get('uuid-1', 'plans', async () => ['nanode']);
      await providers.get('uuid-1', 'plans', async () => ['nanode']);
      await providers.invalidateProvider('uuid-1');
      const messages = lines.map((l) => l.message);
      expect(messages).toContain('[Cache MISS] plans uuid-1');
      expect(messages).toContain('[Cache HIT] plans uuid-1');
      expect(messages).toContain('[Cache INVALIDATE] plans tags=provider:uuid-1 count=1');
      expect(messages.some((m) => m.startsWith('Cache '))).toBe(false);
    } finally {
      await demo.close();
    }
  });
});
