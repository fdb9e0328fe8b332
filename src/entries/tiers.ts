// Subpath export `larder-cache/tiers`: the building blocks of a shared tier, for driver and bus authors —
// the tier itself, the driver interface, the in-memory driver and bus (tests, single host), the Redis
// driver and bus, and the serializers. `larder-cache/test-suite` checks a driver against the same suite.
export { SharedTier } from '../tiers/shared-tier.js';
export type { SharedTierOptions, SharedTierSettings, LockSettings } from '../tiers/shared-tier.js';
export { memoryTier } from '../tiers/redis-tier.js';
export type { MemoryTierOptions } from '../tiers/redis-tier.js';
export type { TierDriver, DriverValue } from '../tiers/driver.js';
export { MemoryDriver } from '../tiers/memory-driver.js';
export type { MemoryDriverOptions } from '../tiers/memory-driver.js';
export { RedisDriver } from '../tiers/redis-driver.js';
export type { RedisDriverOptions } from '../tiers/redis-driver.js';
export { RedisBus } from '../tiers/redis-bus.js';
export { MemoryBus, MemoryBusHub, BUS_LIMITS } from '../tiers/bus.js';
export type { InvalidationBus, BusMessage, BusMessageKind, BusHealth, BusSecret } from '../tiers/bus.js';
export { msgpackSerializer, jsonSerializer } from '../codec/serializer.js';
export type { Serializer } from '../codec/serializer.js';
export type { CompressionOptions, CompressionAlgorithm } from '../codec/codec.js';
export type { BreakerOptions } from '../tiers/breaker.js';
export type { TierEntry, RemoteInvalidation, TierHealth } from '../tiers/types.js';
