// Coalesces key invalidations (`set`/`delete`) published in one turn of the event loop into one bus
// message per cache and kind: a burst of writes then costs one PUBLISH, not one per key. Messages are
// flushed with setImmediate, after the writes of the same turn were sent, so on one connection each
// PUBLISH still reaches Redis after the writes it announces. Every message is first fitted to the
// bus bounds (fitBusMessage), so receivers, which drop what exceeds them, never miss a real write.
// A batch settles once for all its callers: the write path (publishKey) adds one key to it without
// building a message, a promise or a closure of its own.
import { BUS_LIMITS, fitBusMessage } from './bus.js';
import type { BusMessage, InvalidationBus } from './bus.js';

/** How a publish ended: undefined when it was sent, else the error it failed with. */
export type PublishOutcome = { error: unknown } | undefined;

interface Batch {
  message: Omit<BusMessage, 'source'> & { keys: string[] };
  /** Characters of key text in the message. */
  chars: number;
  /** Settles when the batch has been published (never rejects). */
  outcome: Promise<PublishOutcome>;
  settle: (outcome: PublishOutcome) => void;
}

/** Most keys carried by one message; bigger batches are split. */
const MAX_KEYS = 500;

function rethrow(outcome: PublishOutcome): void {
  if (outcome !== undefined) throw outcome.error;
}

const SENT = (): PublishOutcome => undefined;
const FAILED = (error: unknown): PublishOutcome => ({ error });

/** Batches `set`/`delete` messages per cache; other kinds go out at once. */
export class PublishBatcher {
  readonly #bus: InvalidationBus;
  #batches = new Map<string, Batch>();
  #scheduled = false;

  constructor(bus: InvalidationBus) {
    this.#bus = bus;
  }

  /** Publishes `message` (batched with others of its cache and kind in this turn when it carries keys). */
  publish(message: Omit<BusMessage, 'source'>): Promise<void> {
    const parts = fitBusMessage(message);
    if (parts.length === 1) return this.#publishOne(parts[0]!);
    return Promise.all(parts.map((part) => this.#publishOne(part))).then(() => undefined);
  }

  /**
   * Publishes that `key` of `cache` was written (`set`) or deleted, batched like {@link publish}.
   * Resolves how it went instead of rejecting, and is shared by every key of the batch.
   */
  publishKey(cache: string, kind: 'set' | 'delete', key: string): Promise<PublishOutcome> {
    // A key beyond the bounds widens the message (fitBusMessage); that rare case takes the long way.
    if (key.length > BUS_LIMITS.maxItemLength)
      return this.publish({ cache, kind, keys: [key] }).then(SENT, FAILED);
    const batch = this.#batchFor(cache, kind, 1, key.length);
    batch.message.keys.push(key);
    batch.chars += key.length;
    return batch.outcome;
  }

  #publishOne(message: Omit<BusMessage, 'source'>): Promise<void> {
    if ((message.kind !== 'set' && message.kind !== 'delete') || message.keys === undefined) {
      return this.#bus.publish(message);
    }
    let chars = 0;
    for (const key of message.keys) chars += key.length;
    const batch = this.#batchFor(message.cache, message.kind, message.keys.length, chars);
    for (const key of message.keys) batch.message.keys.push(key);
    batch.chars += chars;
    return batch.outcome.then(rethrow);
  }

  /** The open batch of `cache` and `kind` with room for `count` more keys of `chars` characters. */
  #batchFor(cache: string, kind: 'set' | 'delete', count: number, chars: number): Batch {
    const id = `${kind}\u0000${cache}`;
    let batch = this.#batches.get(id);
    if (
      batch === undefined ||
      batch.message.keys.length + count > MAX_KEYS ||
      batch.chars + chars > BUS_LIMITS.maxItemChars
    ) {
      if (batch !== undefined) this.#send(batch);
      let settle!: (outcome: PublishOutcome) => void;
      const outcome = new Promise<PublishOutcome>((resolve) => (settle = resolve));
      batch = { message: { cache, kind, keys: [] }, chars: 0, outcome, settle };
      this.#batches.set(id, batch);
    }
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#flush);
    }
    return batch;
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    const batches = this.#batches;
    this.#batches = new Map();
    for (const batch of batches.values()) this.#send(batch);
  };

  #send(batch: Batch): void {
    this.#bus.publish(batch.message).then(
      () => batch.settle(undefined),
      (error: unknown) => batch.settle({ error }),
    );
  }
}
