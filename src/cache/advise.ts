// The facade's side of the advisor: builds one from the `advisor` option of createCache, and answers
// `cache.advise()` with the cache's measured hit ratio and its mean entry size, so src/cache only holds
// one-line delegations.
import type { Envelope } from './envelope.js';
import { estimateSize } from '../engine/size-of.js';
import type { CacheKey, EngineStats, EntryInfo, EvictionPolicy } from '../engine/types.js';
import { SizingAdvisor } from '../advisor/advisor.js';
import type { Advice, AdvisorOptions } from '../advisor/types.js';
import { chooseSize, type AutoSizeOptions } from '../advisor/auto-size.js';
import type { SharedCacheState } from './shared-state.js';

/** Entries measured to estimate the mean entry size when the cache does not account bytes. */
const SIZE_SAMPLE = 64;

/**
 * The advisor for a cache with these bounds, or undefined when the option is off (the default: it
 * costs memory and a little time on every request, so it is turned on where sizing is in question).
 */
export function createCacheAdvisor(
  option: boolean | AdvisorOptions | undefined,
  maxEntries: number | undefined,
): SizingAdvisor | undefined {
  if (option === undefined || option === false) return undefined;
  if (option !== true && (typeof option !== 'object' || option === null)) {
    throw new TypeError('advisor must be a boolean or an object like { rate, minSampledEntries }');
  }
  if (maxEntries === undefined) {
    throw new TypeError(
      'advisor needs maxEntries: it models an entry bound, and this cache has only maxBytes',
    );
  }
  return new SizingAdvisor(maxEntries, option === true ? {} : option);
}

/** `cache.advise()`: the advisor's curve anchored on the cache's measured hit ratio, priced in bytes. */
export function adviseCache(
  advisor: SizingAdvisor,
  name: string,
  policy: EvictionPolicy,
  stats: Pick<EngineStats, 'hitRate' | 'totalRequests' | 'bytes' | 'size'>,
  entries: () => Iterable<EntryInfo<CacheKey, Envelope>>,
): Advice {
  const measured = stats.totalRequests > 0 ? stats.hitRate : undefined;
  return advisor.advise({
    cache: name,
    policy,
    hitRatio: measured,
    bytesPerEntry: meanEntryBytes(stats, entries),
  });
}

// The engine's own accounting when it measures bytes; otherwise an estimate over a few entries.
function meanEntryBytes(
  stats: Pick<EngineStats, 'bytes' | 'size'>,
  entries: () => Iterable<EntryInfo<CacheKey, Envelope>>,
): number {
  if (stats.size === 0) return 0;
  if (stats.bytes > 0) return stats.bytes / stats.size;
  let total = 0;
  let n = 0;
  for (const info of entries()) {
    total += estimateSize(info.value.value, info.key);
    if (++n === SIZE_SAMPLE) break;
  }
  return n === 0 ? 0 : total / n;
}

/**
 * Entries one resize of adaptive sizing may evict at once. Evicting is synchronous and the period ends
 * inside a request (about 1 µs an entry: 750,000 evictions held the event loop for 0.7 s), so a larger
 * shrink goes in steps of this many, one per turn of the event loop.
 */
export const MAX_EVICTIONS_PER_STEP = 10_000;

/**
 * Adaptive sizing: after every period of sampled requests, asks the advisor where the cache should be
 * (auto-size.ts), resizes the in-memory tier there (a shrink in steps of at most
 * {@link MAX_EVICTIONS_PER_STEP} evictions), re-centres the advisor on the new size and logs
 * `Cache RESIZE`. A bound changed by configure() in between is adopted as the new centre (and ends a
 * shrink under way).
 */
export function attachAutoSize(
  advisor: SizingAdvisor,
  bounds: AutoSizeOptions,
  state: Pick<SharedCacheState, 'tiers' | 'log' | 'closed'>,
  name: string,
): void {
  let stepping = false;
  // Moves the bound from `from` toward `target`, evicting at most MAX_EVICTIONS_PER_STEP entries per call.
  // The advisor is centred on `target` first; configure() re-centres it on its own bound, so a bound
  // configured meanwhile stands even when it equals the step the shrink had reached.
  const step = (from: number, target: number): void => {
    stepping = false;
    if (state.closed) return;
    const { size, maxEntries } = state.tiers.stats();
    if (maxEntries !== from || advisor.capacity !== target) return; // configure() moved it meanwhile
    const bound = Math.max(target, size - MAX_EVICTIONS_PER_STEP);
    state.tiers.resize({ maxEntries: bound });
    if (bound === target) return;
    stepping = true;
    setImmediate(() => step(bound, target));
  };
  advisor.onPeriod = () => {
    if (stepping) return; // the advisor is already centred on the shrink's target
    const stats = state.tiers.stats();
    const bound = stats.maxEntries;
    if (bound === undefined) return;
    if (bound !== advisor.capacity) {
      advisor.rebase(bound);
      return;
    }
    const advice = adviseCache(advisor, name, stats.policy, stats, () => state.tiers.entries());
    const next = chooseSize(advice, bounds, stats.policy);
    if (next === undefined || next === bound) return;
    advisor.rebase(next);
    step(bound, next);
    const here = advice.curve.find((p) => p.multiplier === 1)?.[stats.policy];
    const there = advice.curve.find((p) => p.capacity === next)?.[stats.policy];
    state.log.info('Cache RESIZE', {
      cache: name,
      from: bound,
      to: next,
      predictedHitRatio: { from: here, to: there },
      bytesPerEntry: Math.round(advice.bytesPerEntry),
      memoryBudget: bounds.memoryBudget,
    });
  };
}
