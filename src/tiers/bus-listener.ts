// What a shared tier does with what it hears on the bus: an invalidation from another instance (read
// through the invalidation table, then told to the cache's bindings), a resync after the transport
// was deaf (drop what may be stale, learn the fences missed), and dropped messages (logged, rate-limited).
import { errorMessage } from '../observability/log-sink.js';
import type { BusMessage, InvalidationBus } from './bus.js';
import { fromBusMessage } from './invalidations.js';
import type { Invalidation, Invalidator } from './invalidations.js';
import type { BoundCache } from './tier-binding.js';
import type { TierLog } from './tier-log.js';

/** At most one warn line per this many ms about dropped bus messages. */
const INVALID_LOG_EVERY_MS = 60_000;

/** What the listener needs of its tier. */
export interface BusListenerParts {
  bus: InvalidationBus;
  /** The tier's bound caches by name. */
  caches: ReadonlyMap<string, BoundCache>;
  invalidator: Invalidator;
  log: TierLog;
  clock: () => number;
  /** The tier's name, for log lines. */
  tier: string;
}

/** Listens on a tier's bus once the first cache binds. */
export class BusListener {
  readonly #parts: BusListenerParts;
  #started = false;
  #invalidLoggedAt = 0;
  #invalidSinceLog = 0;

  constructor(parts: BusListenerParts) {
    this.#parts = parts;
  }

  /** Starts listening (once); a failure to start is logged, never thrown. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#parts.bus
      .start({
        message: (message) => this.#onMessage(message),
        resync: () => this.#onResync(),
        invalid: (problem, untimely) => this.#onInvalid(problem, untimely),
      })
      .catch((error: unknown) =>
        this.#parts.log.error('bus failed to start', { error: errorMessage(error) }),
      );
  }

  #onMessage(message: BusMessage): void {
    const cache = this.#parts.caches.get(message.cache);
    if (cache === undefined) return;
    const { invalidator, clock } = this.#parts;
    const inv = fromBusMessage(message, clock);
    invalidator.heard(cache, inv);
    // Its tags' times are noted (heard()): a read out whose entry carries one checks them again.
    if (inv.kind === 'tags') cache.tagsChanged(inv.tags);
    else raced(cache, inv);
    cache.tellAll(invalidator.eventOf(inv));
  }

  #evict(message: BusMessage): void {
    const cache = this.#parts.caches.get(message.cache);
    if (cache === undefined) return;
    const { invalidator, clock } = this.#parts;
    // Its tag time is not noted, but the ones held here may predate what the sender stored in L2:
    // forgetting them (always safe) has the next read ask L2. A clear may stand for tags (see heard()).
    if (message.kind === 'clear' || message.kind === 'tags') cache.tags.forget();
    const inv = fromBusMessage(message, clock);
    raced(cache, inv);
    cache.tellAll(invalidator.eventOf(inv));
  }

  #onResync(): void {
    const { caches, invalidator, log, tier } = this.#parts;
    log.warn('bus reconnected; dropping L1 entries that may have missed invalidations', { tier });
    for (const cache of caches.values()) {
      cache.tags.forget();
      cache.epoch++;
      cache.tellAll({ kind: 'resync' });
    }
    // Bulk invalidations announced while the bus was deaf: their fences are in L2.
    invalidator.refreshFences([...caches.values()]).catch(() => {});
    invalidator.backlog.schedule(0);
  }

  /**
   * A dropped bus message: one warn line, then at most one a minute (with the count since the last). A
   * sound one dropped for its time only (a skewed or replayed sender) still evicts what it names from
   * L1: never applied as an invalidation (no fence, no tag time), but otherwise this instance would
   * serve what the sender removed for a whole TTL.
   */
  #onInvalid(problem: string, untimely?: BusMessage): void {
    if (untimely !== undefined) this.#evict(untimely);
    this.#invalidSinceLog++;
    const now = this.#parts.clock();
    if (this.#invalidLoggedAt !== 0 && now - this.#invalidLoggedAt < INVALID_LOG_EVERY_MS) return;
    this.#parts.log.warn('bus message dropped (malformed, out of bounds or not signed with the bus secret)', {
      tier: this.#parts.tier,
      problem,
      dropped: this.#invalidSinceLog,
    });
    this.#invalidLoggedAt = now;
    this.#invalidSinceLog = 0;
  }
}

/** The L2 reads of `cache` that are out and may have raced `inv` read again (see BoundCache.epoch). */
function raced(cache: BoundCache, inv: Invalidation): void {
  if (inv.kind === 'set' || inv.kind === 'delete') cache.keysChanged(inv.keys);
  else cache.epoch++;
}
