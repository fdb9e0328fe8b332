// The demo service's configuration, read from environment variables and validated in one place: a
// bad value stops start-up with an error that names the variable. Tests build a config directly.
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDuration } from '../src/util/duration.js';

/** Every named cache of the demo, i.e. the suffixes of the `LARDER_TTL_<NAME>` overrides. */
export const CACHE_NAMES = [
  // seed 000: provider resources, one cache per resource kind
  'plans',
  'images',
  'marketplace',
  'regions',
  // seed 001: polled stats
  'stats',
  // seed 002: per-user integrations
  'integrations',
  // seed 003: subscription plan lists
  'subscriptions',
  // seed 004: the URL shortener's cache types
  'url',
  'user',
  'analytics',
  'session',
  'general',
] as const;

/** The name of one of the demo's caches. */
export type CacheName = (typeof CACHE_NAMES)[number];

/**
 * Seed 001's per-key TTL variables (its first enhancement): `LARDER_TTL_STATS_TOTAL`,
 * `LARDER_TTL_ORCHESTRATOR_STATUS` and `LARDER_TTL_VPN_STATUS` set one key's TTL each (the seed's
 * 3 s / 2 s / 3 s by default); `LARDER_TTL_STATS` still sets all three.
 */
export const STATS_KEY_TTL_VARS = {
  LARDER_TTL_STATS_TOTAL: 'stats:total',
  LARDER_TTL_ORCHESTRATOR_STATUS: 'orchestrator:status',
  LARDER_TTL_VPN_STATUS: 'vpn:status',
} as const;

/** One of seed 001's cache keys. */
export type StatsKeyName = (typeof STATS_KEY_TTL_VARS)[keyof typeof STATS_KEY_TTL_VARS];

/** How cache log lines are written: Larder's own `Cache HIT` or seed 000's `[Cache HIT] …`. */
export type LogFormat = 'plain' | 'bracketed';

/** The demo's settings. */
export interface DemoConfig {
  /** TCP port; 0 picks a free one (tests). */
  port: number;
  /** Interface to listen on. */
  host: string;
  /** The admin API key (`X-API-Key`). */
  apiKey: string;
  /** True when the key was generated because none was configured (it is then printed at start). */
  apiKeyGenerated: boolean;
  /** Redis for the shared tier and invalidation bus; undefined = memory only. */
  redisUrl: string | undefined;
  /** Per-cache TTL overrides in ms. */
  ttl: Partial<Record<CacheName, number>>;
  /** Per-key TTL overrides of the stats cache in ms (seed 001), over `ttl.stats`. */
  statsKeyTtl?: Partial<Record<StatsKeyName, number>>;
  /** Multiplies the fake upstreams' latencies (0 in tests). */
  latencyScale: number;
  /** Fraction of integration calls that fail (seed 002's flaky upstream). */
  integrationFailureRate: number;
  /** Run the load generator in-process after start, for this many ms (0 = off). */
  loadMs: number;
  /**
   * Log cache operations to the console: `LARDER_LOG=debug`, `LOG_LEVEL=debug` (any case, seed 003) or
   * `CACHE_LOGGING=True` (seed 004's switch; on/off, true/false, 1/0, any case).
   */
  logCacheOps: boolean;
  /** `LARDER_LOG_FORMAT`: `plain` (default) or `bracketed` (seed 000's `[Cache HIT] plans uuid-1`). */
  logFormat?: LogFormat;
  /** Absolute folder of the caches' snapshot files (warm restarts); undefined = persistence off. */
  snapshotDir: string | undefined;
  /** ms between background snapshots (0 = only the one taken at shutdown). */
  snapshotIntervalMs: number;
  /** Run the sizing advisor on the caches the demo advises on (see demo/app.ts). */
  advisor: boolean;
}

/** Where snapshots go when LARDER_SNAPSHOT_DIR is unset (below the current folder, git-ignored). */
export const DEFAULT_SNAPSHOT_DIR = '.larder-snapshots';

/** A configuration problem; the message names the variable. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Reads the configuration from `env` (default `process.env`) and command-line `args`:
 * `PORT` (default 8000), `HOST` (default 127.0.0.1), `LARDER_API_KEY` (generated when absent),
 * `REDIS_URL`, `LARDER_TTL_<CACHE>` (e.g. `LARDER_TTL_URL=30m`), `DEMO_LATENCY_SCALE` (default 1),
 * `LARDER_TTL_STATS_TOTAL` / `LARDER_TTL_ORCHESTRATOR_STATUS` / `LARDER_TTL_VPN_STATUS` (seed 001's
 * per-key TTLs), `DEMO_FAILURE_RATE` (default 0.2), `DEMO_LOAD` / `--load[=duration]`, `LARDER_LOG=debug`
 * or `LOG_LEVEL=DEBUG` (seed 003's switch; any other level leaves cache logging off), `CACHE_LOGGING`
 * (seed 004's switch: `True`/`False`, on/off, 1/0),
 * `LARDER_LOG_FORMAT` (`plain` or `bracketed`),
 * `LARDER_SNAPSHOT_DIR` (default `.larder-snapshots`, `off` disables warm restarts),
 * `LARDER_SNAPSHOT_INTERVAL` (default 1m) and `LARDER_ADVISOR` (`on` by default, `off`).
 */
export function readConfig(env: NodeJS.ProcessEnv = process.env, args: readonly string[] = []): DemoConfig {
  // An empty value counts as unset, so `LARDER_API_KEY= npm start` still gets a generated key.
  const apiKey = env.LARDER_API_KEY?.trim() || undefined;
  if (apiKey !== undefined && apiKey.length < 8) {
    throw new ConfigError('LARDER_API_KEY must be at least 8 characters long');
  }
  const ttl: DemoConfig['ttl'] = {};
  const statsKeyTtl: DemoConfig['statsKeyTtl'] = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('LARDER_TTL_') || value === undefined) continue;
    if (Object.hasOwn(STATS_KEY_TTL_VARS, name)) {
      statsKeyTtl[STATS_KEY_TTL_VARS[name as keyof typeof STATS_KEY_TTL_VARS]] = readDuration(name, value);
      continue;
    }
    const cache = name.slice('LARDER_TTL_'.length).toLowerCase();
    if (!(CACHE_NAMES as readonly string[]).includes(cache)) {
      throw new ConfigError(`${name} names no cache; the caches are ${CACHE_NAMES.join(', ')}`);
    }
    ttl[cache as CacheName] = readDuration(name, value);
  }
  return {
    port: readInteger(env, 'PORT', 8000, 0, 65_535),
    host: env.HOST?.trim() || '127.0.0.1',
    apiKey: apiKey ?? randomBytes(18).toString('base64url'),
    apiKeyGenerated: apiKey === undefined,
    redisUrl: readRedisUrl(env.REDIS_URL),
    ttl,
    statsKeyTtl,
    latencyScale: readNumber(env, 'DEMO_LATENCY_SCALE', 1, 0, 100),
    integrationFailureRate: readNumber(env, 'DEMO_FAILURE_RATE', 0.2, 0, 1),
    loadMs: readLoad(env.DEMO_LOAD, args),
    logCacheOps:
      env.LARDER_LOG === 'debug' ||
      env.LOG_LEVEL?.trim().toLowerCase() === 'debug' ||
      readSwitch(env, 'CACHE_LOGGING', false),
    logFormat: readLogFormat(env.LARDER_LOG_FORMAT),
    snapshotDir: readSnapshotDir(env.LARDER_SNAPSHOT_DIR),
    snapshotIntervalMs: readDuration(
      'LARDER_SNAPSHOT_INTERVAL',
      env.LARDER_SNAPSHOT_INTERVAL?.trim() || '1m',
    ),
    advisor: readSwitch(env, 'LARDER_ADVISOR', true),
  };
}

function readLogFormat(raw: string | undefined): LogFormat {
  const value = raw?.trim().toLowerCase() || 'plain';
  if (value !== 'plain' && value !== 'bracketed') {
    throw new ConfigError(`LARDER_LOG_FORMAT must be 'plain' or 'bracketed', got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** `off` disables persistence; anything else is a folder, relative to the current one. */
function readSnapshotDir(raw: string | undefined): string | undefined {
  const value = raw?.trim() || DEFAULT_SNAPSHOT_DIR;
  if (value.toLowerCase() === 'off') return undefined;
  if (value.includes('\0')) throw new ConfigError('LARDER_SNAPSHOT_DIR must not contain a NUL character');
  const dir = resolve(value);
  // A missing folder is created at start; an existing file in its place would fail every snapshot.
  const stat = statSync(dir, { throwIfNoEntry: false });
  if (stat !== undefined && !stat.isDirectory()) {
    throw new ConfigError(
      `LARDER_SNAPSHOT_DIR must be a folder, but ${dir} is a file (use 'off' to disable)`,
    );
  }
  return dir;
}

/** An on/off variable: `on`/`off` (also `true`/`false`, `1`/`0`); empty means the default. */
function readSwitch(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'on' || raw === 'true' || raw === '1') return true;
  if (raw === 'off' || raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${name} must be on or off, got ${JSON.stringify(env[name])}`);
}

function readDuration(name: string, value: string): number {
  try {
    return parseDuration(value, name);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}

function readNumber(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a number between ${min} and ${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function readInteger(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const value = readNumber(env, name, fallback, min, max);
  if (!Number.isInteger(value))
    throw new ConfigError(`${name} must be an integer, got ${JSON.stringify(env[name])}`);
  return value;
}

function readRedisUrl(raw: string | undefined): string | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`REDIS_URL is not a URL: ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new ConfigError(`REDIS_URL must start with redis:// or rediss://, got ${JSON.stringify(raw)}`);
  }
  return raw;
}

/** `--load` / `DEMO_LOAD=1` run the default 60 s; `--load=2m` / `DEMO_LOAD=2m` choose the duration. */
function readLoad(envValue: string | undefined, args: readonly string[]): number {
  const flag = args.find((a) => a === '--load' || a.startsWith('--load='));
  const [name, raw] = flag !== undefined ? ['--load', flag.slice('--load='.length)] : ['DEMO_LOAD', envValue];
  if (raw === undefined || raw === '' || raw === 'true' || raw === '1') {
    return flag !== undefined || raw === 'true' || raw === '1' ? 60_000 : 0;
  }
  if (raw === '0' || raw === 'false') return 0;
  return readDuration(name, raw);
}
