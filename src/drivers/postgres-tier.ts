// postgresTier(): the shared tier over PostgreSQL as users configure it — the Postgres driver and,
// unless turned off, the LISTEN/NOTIFY bus on the same pool — so a Postgres-only shop needs no Redis.
import { checkInstanceId } from '../tiers/bus.js';
import type { BusSecret } from '../tiers/bus.js';
import { SHARED_TIER_SETTING_NAMES, SharedTier } from '../tiers/shared-tier.js';
import type { SharedTierSettings } from '../tiers/shared-tier.js';
import { PostgresBus } from './postgres-bus.js';
import { POSTGRES_DRIVER_OPTION_NAMES, PostgresDriver } from './postgres-driver.js';
import type { PostgresDriverOptions } from './postgres-driver.js';
import { assertKnownOptions, optionNames } from '../util/validate.js';

/** Options of {@link postgresTier}: the driver's, the bus's channel and secret, and tier settings. */
export interface PostgresTierOptions extends PostgresDriverOptions, Omit<SharedTierSettings, 'clock'> {
  /** Carry invalidations between instances over LISTEN/NOTIFY (default true). */
  bus?: boolean;
  /** NOTIFY channel (default `larder_bus`). */
  channel?: string;
  /** Id of this instance on the bus, 1 to 256 characters (default: random). */
  instanceId?: string;
  /** Shared secret (at least 16 bytes) signing bus messages, as on Redis. */
  busSecret?: BusSecret;
}

const POSTGRES_TIER_OPTIONS: ReadonlySet<string> = new Set([
  ...SHARED_TIER_SETTING_NAMES,
  ...POSTGRES_DRIVER_OPTION_NAMES,
  ...optionNames<Omit<PostgresTierOptions, keyof SharedTierSettings | keyof PostgresDriverOptions>>({
    bus: true,
    channel: true,
    instanceId: true,
    busSecret: true,
  }),
]);

/** The shared tier over PostgreSQL; pass it as `createCache({ l2 })`. */
export function postgresTier(options: PostgresTierOptions): SharedTier {
  if (options === null || typeof options !== 'object')
    throw new TypeError('postgresTier options are required');
  assertKnownOptions(options, POSTGRES_TIER_OPTIONS, 'postgresTier');
  if (options.bus !== undefined && typeof options.bus !== 'boolean')
    throw new TypeError('bus must be a boolean');
  // Checked before the driver opens its pool, so a bad id leaves nothing open.
  const instanceId = checkInstanceId(options.instanceId);
  const driver = new PostgresDriver(options);
  try {
    const bus =
      options.bus === false
        ? undefined
        : new PostgresBus({
            pool: driver.pool,
            channel: options.channel,
            instanceId,
            secret: options.busSecret,
          });
    return new SharedTier({ ...options, driver, bus, name: 'postgres' });
  } catch (error) {
    void driver.disconnect();
    throw error;
  }
}
