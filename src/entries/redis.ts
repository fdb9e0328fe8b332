// Subpath export `larder-cache/redis`: the Redis shared tier (L2 + invalidation bus) and its options, for
// users who scale past one process. Driver and bus authors find the building blocks in `larder-cache/tiers`.
export { redisTier } from '../tiers/redis-tier.js';
export type { RedisTierOptions } from '../tiers/redis-tier.js';
export type { RedisConnectionOptions, RedisClient } from '../tiers/redis-connection.js';
export type { BusSecret } from '../tiers/bus.js';
export { msgpackSerializer, jsonSerializer } from '../codec/serializer.js';
export type { Serializer } from '../codec/serializer.js';
export type { CompressionOptions, CompressionAlgorithm } from '../codec/codec.js';
export type { BreakerOptions } from '../tiers/breaker.js';
export type { LockSettings } from '../tiers/shared-tier.js';
export type { TierHealth } from '../tiers/types.js';
