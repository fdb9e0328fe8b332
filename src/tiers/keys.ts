// The L2 key layout, in one place. Every key a shared tier writes to its store is built here, so the
// layout can be read (and changed) without hunting string templates through the tier's files.
//   e:<cache>:<key>     an entry (or its tombstone)
//   t:{<cache>}:<tag>   a tag's last invalidation time (the braces keep a cache's tags on one cluster slot)
//   f:<cache>           the cache's latest bulk-invalidation fence
//   l:<cache>:<key>     the distributed lock of one load
//   p:probe             never written: read to see whether the store answers (drivers without ping)

/** The store key of `key`'s entry in `cache`. */
export function entryKey(cache: string, key: string): string {
  return `e:${cache}:${key}`;
}

/** The prefix every entry key of `cache` starts with (a glob or prefix is appended to it). */
export function cachePrefix(cache: string): string {
  return `e:${cache}:`;
}

/** The store key of `tag`'s invalidation time in `cache`. */
export function tagKey(cache: string, tag: string): string {
  return `t:{${cache}}:${tag}`;
}

/** The store key of `cache`'s bulk-invalidation fence. */
export function fenceKey(cache: string): string {
  return `f:${cache}`;
}

/** The store key of the distributed lock on `key` of `cache`. */
export function lockKey(cache: string, key: string): string {
  return `l:${cache}:${key}`;
}

/** The key a recovery probe reads on a driver without `ping` (never written, so always a miss). */
export const PROBE_KEY = 'p:probe';
