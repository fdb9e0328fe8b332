// Subpath export `larder-cache/sqlite`: the shared tier's driver over a SQLite file through `better-sqlite3`
// (an optional peer dependency, loaded only from here), for processes of one host sharing a cache.
// SQLite has no invalidation bus: pair the driver with one (e.g. `larder-cache/postgres`'s) or keep L1 short.
export { sqliteDriver, SqliteDriver } from '../drivers/sqlite-driver.js';
export type { SqliteDriverOptions } from '../drivers/sqlite-driver.js';
