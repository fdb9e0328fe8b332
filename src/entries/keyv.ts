// Subpath export `larder-cache/keyv`: a shared-tier driver over any Keyv 5 store (`keyv` is an optional
// peer dependency, loaded only from here), so the Keyv ecosystem can serve as Larder's L2.
export { keyvDriver, KeyvDriver } from '../drivers/keyv-driver.js';
export type { KeyvDriverOptions } from '../drivers/keyv-driver.js';
