// Coalesces key invalidations (`set`/`delete`) published in one turn of the event loop into one bus
// message per cache and kind: a burst of writes then costs one PUBLISH, not one per key. Messages are
// flushed with setImmediate, after the writes of the same turn were sent, so on one connection each
// PUBLISH still reaches Redis after the writes it announces. Every message is first fitted to the
// bus bounds (fitBusMessage), so receivers, which drop what exceeds them, never miss a real write.
import { BUS_LIMITS, fitBusMessage } from './bus.js';
import type { BusMessage, InvalidationBus } from './bus.js';

interface Batch {
  message: Omit<BusMessage, 'source'> & { keys: string[] };
  /** Characters of key text in the message. */
  chars: number;
  resolve: Array<() => void>;
  reject: Array<(error: unknown) => void>;
}

/** Most keys carried by one message; bigger batches are split. */
const MAX_KEYS = 500;

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

  #publishOne(message: Omit<BusMessage, 'source'>): Promise<void> {
    if ((message.kind !== 'set' && message.kind !== 'delete') || message.keys === undefined) {
      return this.#bus.publish(message);
    }
    const id = `${message.kind}\u0000${message.cache}`;
    let chars = 0;
    for (const key of message.keys) chars += key.length;
    let batch = this.#batches.get(id);
    if (
      batch === undefined ||
      batch.message.keys.length + message.keys.length > MAX_KEYS ||
      batch.chars + chars > BUS_LIMITS.maxItemChars
    ) {
      if (batch !== undefined) this.#send(batch);
      batch = {
        message: { cache: message.cache, kind: message.kind, keys: [] },
        chars: 0,
        resolve: [],
        reject: [],
      };
      this.#batches.set(id, batch);
    }
    for (const key of message.keys) batch.message.keys.push(key);
    batch.chars += chars;
    const current = batch;
    const done = new Promise<void>((resolve, reject) => {
      current.resolve.push(resolve);
      current.reject.push(reject);
    });
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#flush);
    }
    return done;
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    const batches = this.#batches;
    this.#batches = new Map();
    for (const batch of batches.values()) this.#send(batch);
  };

  #send(batch: Batch): void {
    this.#bus.publish(batch.message).then(
      () => {
        for (const resolve of batch.resolve) resolve();
      },
      (error: unknown) => {
        for (const reject of batch.reject) reject(error);
      },
    );
  }
}
