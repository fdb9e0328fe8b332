// redisTier(): the shared tier over Redis, as users configure it — a Redis driver, a Redis pub/sub
// bus on a dedicated subscriber connection, and the settings of SharedTier. memoryTier() builds the
// same tier over an in-process driver and bus hub (tests, or several caches in one process).
import { parseDuration } from '../util/duration.js';
import { assertKnownOptions, optionNames } from '../util/validate.js';
import { MemoryBusHub, busKey, checkInstanceId } from './bus.js';
import type { BusSecret } from './bus.js';
import { MemoryDriver } from './memory-driver.js';
import type { MemoryDriverOptions } from './memory-driver.js';
import { RedisBus } from './redis-bus.js';
import { connectionCause, isCluster } from './redis-connection.js';
import { RedisDriver } from './redis-driver.js';
import type { RedisDriverOptions } from './redis-driver.js';
import { SHARED_TIER_SETTING_NAMES, SharedTier } from './shared-tier.js';
import type { SharedTierSettings } from './shared-tier.js';

/** Options of {@link redisTier}: a connection (url, client, redis, sentinels or cluster), a prefix, and tier settings. */
export interface RedisTierOptions extends RedisDriverOptions, SharedTierSettings {
  /** Carry invalidations between instances over pub/sub (default true). */
  bus?: boolean;
  /** Id of this instance on the bus, 1 to 256 characters (default: random). */
  instanceId?: string;
  /**
   * Shared secret (at least 16 bytes) of every instance: bus messages are signed with HMAC-SHA256 and
   * unsigned or wrongly signed ones are refused, so a client with Redis access but no secret cannot
   * invalidate (or clear) the caches. Default: none (messages are only checked for shape and bounds).
   */
  busSecret?: BusSecret;
}

const REDIS_TIER_OPTIONS: ReadonlySet<string> = new Set([
  ...SHARED_TIER_SETTING_NAMES,
  ...optionNames<Omit<RedisTierOptions, keyof SharedTierSettings>>({
    bus: true,
    instanceId: true,
    busSecret: true,
    scanCount: true,
    url: true,
    client: true,
    redis: true,
    sentinels: true,
    sentinelName: true,
    cluster: true,
    clusterOptions: true,
    connectTimeout: true,
    reconnectMaxDelay: true,
    prefix: true,
  }),
]);

/** The shared tier over Redis (standalone, Sentinel or Cluster); pass it as `createCache({ l2 })`. */
export function redisTier(options: RedisTierOptions): SharedTier {
  if (options === null || typeof options !== 'object') throw new TypeError('redisTier options are required');
  assertKnownOptions(options, REDIS_TIER_OPTIONS, 'redisTier');
  if (options.bus !== undefined && typeof options.bus !== 'boolean')
    throw new TypeError('bus must be a boolean');
  // Validate every tier setting before a connection is opened, so bad options leave nothing behind.
  const timeoutMs = parseDuration(options.timeout ?? '50ms', 'timeout');
  const connectTimeoutMs = parseDuration(options.connectTimeout ?? '1s', 'connectTimeout');
  if (options.busSecret !== undefined) busKey(options.busSecret);
  const instanceId = checkInstanceId(options.instanceId);
  const prefix = options.prefix ?? 'larder:';
  const driver = new RedisDriver({ ...options, prefix });
  try {
    const bus =
      options.bus === false
        ? undefined
        : new RedisBus({
            client: driver.client,
            channel: `${prefix}bus`,
            instanceId,
            timeoutMs,
            connectTimeoutMs,
            secret: options.busSecret,
            beforePublish: () => driver.flushWrites(),
          });
    const tier = new SharedTier({
      ...options,
      driver,
      bus,
      name: 'redis',
      // On one standalone connection, commands run in the order sent; a cluster routes them to different nodes.
      publishInOrder: !isCluster(driver.client),
    });
    // Reconnected after an outage: probe and replay now rather than when the breaker next would.
    driver.client.on('ready', () => tier.driver.nudge());
    // A server that restarted (maybe from an older snapshot) or took over may hold what was removed.
    driver.onServerChange((previous, current) =>
      tier.storeReset(`Redis run_id changed from ${previous} to ${current} (restarted, or failed over)`),
    );
    // A refused connection, unknown host or bad password: one log line per outage, naming the cause.
    driver.client.on('error', (error: unknown) => tier.driver.reportUnreachable(connectionCause(error)));
    return tier;
  } catch (error) {
    void driver.disconnect();
    throw error;
  }
}

/** Options of {@link memoryTier}. */
export interface MemoryTierOptions extends SharedTierSettings {
  /** The store; share one driver between tiers to make them "instances" of one L2. */
  driver?: MemoryDriver;
  /** Options of a new driver when none is given. */
  store?: MemoryDriverOptions;
  /** The bus hub; share one between tiers so they hear each other's invalidations. */
  hub?: MemoryBusHub;
  /** Id of this instance on the hub. */
  instanceId?: string;
}

const MEMORY_TIER_OPTIONS: ReadonlySet<string> = new Set([
  ...SHARED_TIER_SETTING_NAMES,
  ...optionNames<Omit<MemoryTierOptions, keyof SharedTierSettings>>({
    driver: true,
    store: true,
    hub: true,
    instanceId: true,
  }),
]);

/** The shared tier over process memory: same behaviour as {@link redisTier}, no server. */
export function memoryTier(options: MemoryTierOptions = {}): SharedTier {
  if (options === null || typeof options !== 'object')
    throw new TypeError('memoryTier options must be an object');
  assertKnownOptions(options, MEMORY_TIER_OPTIONS, 'memoryTier');
  const instanceId = checkInstanceId(options.instanceId);
  const driver = options.driver ?? new MemoryDriver({ clock: options.clock, ...options.store });
  const bus = options.hub?.connect(instanceId);
  return new SharedTier({ ...options, driver, bus, publishInOrder: true });
}
