// The bus behind the tier's circuit breaker. Publishing shares the store's connection (and fate): while
// the breaker is open a publish fails at once instead of waiting for its timeout (the write it
// announces failed too and is kept for replay), so a hung Redis costs a miss nothing. Health reports
// what the bus can really do, not only whether its subscription is up.
// Time source: the guarded driver's clock (the tier's; default `Date.now`, as everywhere in tiers/).
import { CacheError } from '../errors.js';
import { errorMessage } from '../observability/log-sink.js';
import type { BusHealth, BusListeners, BusMessage, InvalidationBus } from './bus.js';
import type { GuardedDriver } from './guarded-driver.js';
import { busPublishChannel, busReceiveChannel, type BusTraceContext } from '../observability/tracing.js';

/** How long a failed publish keeps health `degraded` once the store itself looks fine, ms. */
const FAILURE_SHOWN_MS = 30_000;

/** An {@link InvalidationBus} whose publishes pass only while the driver's breaker lets calls through. */
export class GuardedBus implements InvalidationBus {
  /** @inheritdoc */
  readonly instanceId: string;
  /** The bus underneath. */
  readonly inner: InvalidationBus;
  readonly #driver: GuardedDriver;
  #lastFailure: string | undefined;
  #lastFailureAt = 0;

  constructor(inner: InvalidationBus, driver: GuardedDriver) {
    this.inner = inner;
    this.instanceId = inner.instanceId;
    this.#driver = driver;
  }

  start(listeners: BusListeners): Promise<void> {
    // Each message heard is traced in `larder:bus:receive` while anyone subscribes (tracing.ts).
    return this.inner.start({
      message: (message) => {
        if (!busReceiveChannel.hasSubscribers) return listeners.message(message);
        busReceiveChannel.traceSync(
          () => listeners.message(message),
          busContext('bus.receive', message.cache, message.kind, message.keys),
        );
      },
      resync: () => listeners.resync(),
      invalid:
        listeners.invalid === undefined
          ? undefined
          : (problem, untimely) => listeners.invalid?.(problem, untimely),
    });
  }

  publish(message: Omit<BusMessage, 'source'>): Promise<void> {
    if (!busPublishChannel.hasSubscribers) return this.#publish(message);
    const context = busContext('bus.publish', message.cache, message.kind, message.keys);
    return busPublishChannel.tracePromise(() => this.#publish(message), context);
  }

  async #publish(message: Omit<BusMessage, 'source'>): Promise<void> {
    // Only `open` refuses: a half-open breaker lets the publish ride along with the probe.
    if (this.#driver.breaker.state === 'open') {
      throw new CacheError('TIER_UNAVAILABLE', `bus publish skipped: ${this.#driver.name} circuit is open`);
    }
    try {
      // While the store's first connection opens, calls wait for it (up to connectTimeout): so does a
      // publish, which would otherwise fail at once and leave the write it announces to be replayed as
      // a delete of the value it just stored.
      const ready = this.#driver.whenReady();
      if (ready !== undefined) await ready;
      await this.inner.publish(message);
      this.#lastFailure = undefined;
    } catch (error) {
      this.#lastFailure = errorMessage(error);
      this.#lastFailureAt = this.#driver.clock();
      throw error;
    }
  }

  health(): BusHealth {
    const own = this.inner.health();
    if (own.status !== 'ok') return own;
    const breaker = this.#driver.breaker.state;
    if (breaker === 'open') {
      // Subscribed, but a hung or unreachable store delivers nothing either way.
      const reason = `not publishing: ${this.#driver.name} circuit open (${this.#driver.lastError})`;
      return { ...own, status: 'down', reason };
    }
    // A failed publish marks the bus degraded while the store is failing, or for a while after it.
    const recent = this.#driver.failing || this.#driver.clock() - this.#lastFailureAt < FAILURE_SHOWN_MS;
    if (this.#lastFailure !== undefined && recent) {
      return { ...own, status: 'degraded', reason: `last publish failed: ${this.#lastFailure}` };
    }
    if (breaker === 'half-open') return { ...own, status: 'degraded', reason: 'circuit half-open' };
    return own;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** A `larder:bus:*` context: the cache, the message kind and how many keys it names (never the keys). */
function busContext(
  operation: BusTraceContext['operation'],
  cache: string,
  kind: string,
  keys: readonly string[] | undefined,
): BusTraceContext {
  const context: BusTraceContext = { operation, cache, kind };
  if (keys !== undefined) context.keyCount = keys.length;
  return context;
}
