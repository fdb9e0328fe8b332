// Subpath export `larder/redis`: the shared tier (Redis L2 + invalidation bus) and its building blocks,
// for users who scale past one process. See README "Scaling out with Redis".
export { redisTier, memoryTier } from '../tiers/redis-tier.js';
export type { RedisTierOptions, MemoryTierOptions } from '../tiers/redis-tier.js';
export { SharedTier, TierBinding, SHARED_TIER } from '../tiers/shared-tier.js';
export type { SharedTierOptions, SharedTierSettings, LockSettings } from '../tiers/shared-tier.js';
export { RedisDriver } from '../tiers/redis-driver.js';
export type { RedisDriverOptions } from '../tiers/redis-driver.js';
export type { RedisConnectionOptions, RedisClient } from '../tiers/redis-connection.js';
export { MemoryDriver } from '../tiers/memory-driver.js';
export type { MemoryDriverOptions } from '../tiers/memory-driver.js';
export type { TierDriver, DriverValue } from '../tiers/driver.js';
export { RedisBus } from '../tiers/redis-bus.js';
export { MemoryBus, MemoryBusHub } from '../tiers/bus.js';
export type { InvalidationBus, BusMessage, BusMessageKind, BusHealth, BusSecret } from '../tiers/bus.js';
export { BUS_LIMITS } from '../tiers/bus.js';
export { msgpackSerializer, jsonSerializer } from '../tiers/serializer.js';
export type { Serializer } from '../tiers/serializer.js';
export type { CompressionOptions, CompressionAlgorithm } from '../tiers/codec.js';
export type { BreakerOptions } from '../tiers/breaker.js';
export type { TierEntry, RemoteInvalidation, TierHealth } from '../tiers/types.js';
