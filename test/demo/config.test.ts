// The demo's environment variables: defaults, parsing, and a ConfigError naming the variable for
// every bad value.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_SNAPSHOT_DIR, readConfig } from '../../demo/config.js';

describe('demo configuration', () => {
  it('has working defaults and generates an API key when none is set', () => {
    const config = readConfig({});
    expect(config).toMatchObject({ port: 8000, host: '127.0.0.1', redisUrl: undefined, ttl: {}, loadMs: 0 });
    expect(config.apiKeyGenerated).toBe(true);
    expect(config.apiKey.length).toBeGreaterThanOrEqual(20);
    expect(readConfig({}).apiKey).not.toBe(config.apiKey);
  });

  it('reads PORT, the key, REDIS_URL and per-cache TTL overrides', () => {
    const config = readConfig({
      PORT: '9000',
      LARDER_API_KEY: 'secret-key-1',
      REDIS_URL: 'redis://127.0.0.1:6390/0',
      LARDER_TTL_URL: '30m',
      LARDER_TTL_STATS: '5s',
      DEMO_LATENCY_SCALE: '0.5',
    });
    expect(config).toMatchObject({
      port: 9000,
      apiKey: 'secret-key-1',
      apiKeyGenerated: false,
      redisUrl: 'redis://127.0.0.1:6390/0',
      ttl: { url: 1_800_000, stats: 5000 },
      latencyScale: 0.5,
    });
  });

  it.each([
    [{ PORT: '80a' }, /^PORT must be a number/],
    [{ PORT: '70000' }, /^PORT must be a number between 0 and 65535/],
    [{ PORT: '80.5' }, /^PORT must be an integer/],
    [{ LARDER_API_KEY: 'short' }, /^LARDER_API_KEY must be at least 8/],
    [{ REDIS_URL: 'http://x' }, /^REDIS_URL must start with redis:\/\//],
    [{ REDIS_URL: 'nope' }, /^REDIS_URL is not a URL/],
    [{ LARDER_TTL_URL: 'soon' }, /^LARDER_TTL_URL is not a readable duration/],
    [{ LARDER_TTL_URL: '-5s' }, /^LARDER_TTL_URL/],
    [{ LARDER_TTL_NOPE: '5s' }, /^LARDER_TTL_NOPE names no cache/],
    [{ DEMO_FAILURE_RATE: '2' }, /^DEMO_FAILURE_RATE must be a number between 0 and 1/],
    [{ DEMO_LOAD: 'lots' }, /^DEMO_LOAD is not a readable duration/],
    [{ LARDER_SNAPSHOT_INTERVAL: 'hourly' }, /^LARDER_SNAPSHOT_INTERVAL is not a readable duration/],
    [{ LARDER_SNAPSHOT_INTERVAL: '-1m' }, /^LARDER_SNAPSHOT_INTERVAL/],
    [{ LARDER_SNAPSHOT_DIR: 'a\0b' }, /^LARDER_SNAPSHOT_DIR must not contain a NUL/],
    [{ LARDER_ADVISOR: 'maybe' }, /^LARDER_ADVISOR must be on or off, got "maybe"/],
  ])('rejects %j naming the variable', (env, message) => {
    expect(() => readConfig(env)).toThrow(ConfigError);
    expect(() => readConfig(env)).toThrow(message);
  });

  it('persists into .larder-snapshots every minute by default; LARDER_SNAPSHOT_DIR=off turns it off', () => {
    expect(readConfig({})).toMatchObject({
      snapshotDir: resolve(DEFAULT_SNAPSHOT_DIR),
      snapshotIntervalMs: 60_000,
    });
    expect(readConfig({ LARDER_SNAPSHOT_DIR: '' }).snapshotDir).toBe(resolve(DEFAULT_SNAPSHOT_DIR));
    expect(readConfig({ LARDER_SNAPSHOT_DIR: 'off' }).snapshotDir).toBeUndefined();
    expect(readConfig({ LARDER_SNAPSHOT_DIR: 'OFF' }).snapshotDir).toBeUndefined();
    const dir = join(tmpdir(), 'larder-demo-snapshots-that-need-not-exist');
    expect(readConfig({ LARDER_SNAPSHOT_DIR: dir, LARDER_SNAPSHOT_INTERVAL: '30s' })).toMatchObject({
      snapshotDir: dir,
      snapshotIntervalMs: 30_000,
    });
    // 0: no background snapshots, only the one taken at shutdown.
    expect(readConfig({ LARDER_SNAPSHOT_INTERVAL: '0' }).snapshotIntervalMs).toBe(0);
  });

  it('refuses a LARDER_SNAPSHOT_DIR that is a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'larder-demo-config-'));
    try {
      const file = join(dir, 'snapshots');
      writeFileSync(file, '');
      expect(() => readConfig({ LARDER_SNAPSHOT_DIR: file })).toThrow(ConfigError);
      expect(() => readConfig({ LARDER_SNAPSHOT_DIR: file })).toThrow(
        /^LARDER_SNAPSHOT_DIR must be a folder, but .* is a file/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs the advisor unless LARDER_ADVISOR is off', () => {
    expect(readConfig({}).advisor).toBe(true);
    expect(readConfig({ LARDER_ADVISOR: 'on' }).advisor).toBe(true);
    expect(readConfig({ LARDER_ADVISOR: 'off' }).advisor).toBe(false);
    expect(readConfig({ LARDER_ADVISOR: 'false' }).advisor).toBe(false);
  });

  it('turns load on with --load, --load=2m or DEMO_LOAD', () => {
    expect(readConfig({}, ['--load']).loadMs).toBe(60_000);
    expect(readConfig({}, ['--load=2m']).loadMs).toBe(120_000);
    expect(readConfig({ DEMO_LOAD: '1' }).loadMs).toBe(60_000);
    expect(readConfig({ DEMO_LOAD: '30s' }).loadMs).toBe(30_000);
    expect(readConfig({ DEMO_LOAD: '0' }).loadMs).toBe(0);
    expect(() => readConfig({}, ['--load=forever'])).toThrow(/^--load is not a readable duration/);
  });
});
