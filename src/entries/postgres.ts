// Subpath export `larder-cache/postgres`: the shared tier over PostgreSQL through `pg` (an optional peer
// dependency, loaded only from here) — the driver, the LISTEN/NOTIFY invalidation bus, and both together.
export { postgresDriver, PostgresDriver } from '../drivers/postgres-driver.js';
export type { PostgresDriverOptions } from '../drivers/postgres-driver.js';
export { postgresBus, PostgresBus, NOTIFY_MAX_BYTES } from '../drivers/postgres-bus.js';
export type { PostgresBusOptions } from '../drivers/postgres-bus.js';
export { postgresTier } from '../drivers/postgres-tier.js';
export type { PostgresTierOptions } from '../drivers/postgres-tier.js';
