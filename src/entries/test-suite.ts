// Subpath export `larder-cache/test-suite`: the conformance suite every L2 driver must pass. It needs
// vitest (an optional peer dependency: `npm i -D vitest`) and runs only inside a vitest run, from an ESM
// test file; vitest itself refuses require() and loading outside its runner.
// Usage: `registerDriverSuite({ name: 'my-driver', create: (prefix) => new MyDriver({ prefix }) })`.
export { registerDriverSuite } from '../tiers/conformance.js';
export type { DriverSuiteOptions } from '../tiers/conformance.js';
export type { TierDriver, DriverValue } from '../tiers/driver.js';
