// Subpath export `larder-cache/test-suite`: the conformance suite every L2 driver must pass, for vitest.
// Usage: `registerDriverSuite({ name: 'my-driver', create: (prefix) => new MyDriver({ prefix }) })`.
export { registerDriverSuite } from '../tiers/conformance.js';
export type { DriverSuiteOptions } from '../tiers/conformance.js';
export type { TierDriver, DriverValue } from '../tiers/driver.js';
