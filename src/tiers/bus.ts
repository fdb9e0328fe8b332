// The invalidation bus: how a write on one instance reaches every other instance's L1. Messages say
// what to drop (never carry values); an instance ignores its own. When the transport reconnects the
// bus emits `resync`, because messages sent while it was deaf are lost and its L1 may be stale.
import { randomUUID } from 'node:crypto';

/** What a bus message asks receivers to drop. `set` is an invalidation: receivers re-read L2. */
export type BusMessageKind = 'set' | 'delete' | 'tags' | 'pattern' | 'clear' | 'namespace-clear';

/** One invalidation, as published. */
export interface BusMessage {
  /** Instance id of the publisher (receivers drop their own messages). */
  source: string;
  /** Name of the cache it concerns. */
  cache: string;
  kind: BusMessageKind;
  /** For `set`/`delete`: the keys. */
  keys?: string[];
  /** For `tags`: the tags, and when they were invalidated (ms since the epoch). */
  tags?: string[];
  at?: number;
  /** For `pattern`: the glob; for `namespace-clear`: the key prefix. */
  pattern?: string;
}

/** Bus health: `ok` while subscribed, `down` while disconnected. */
export interface BusHealth {
  status: 'ok' | 'degraded' | 'down';
  reason?: string;
  /** Number of reconnections so far (each one dropped L1s). */
  resyncs: number;
  [k: string]: unknown;
}

/** Listeners a bus calls. */
export interface BusListeners {
  /** A message from another instance. */
  message(message: BusMessage): void;
  /** The bus reconnected after a disconnection: messages may have been missed. */
  resync(): void;
}

/** A transport for invalidation messages between instances. */
export interface InvalidationBus {
  /** This instance's id, stamped on every published message. */
  readonly instanceId: string;
  /** Starts listening (idempotent); resolves once subscribed or once the first attempt failed. */
  start(listeners: BusListeners): Promise<void>;
  /** Publishes to every other instance; rejects when the transport is down. */
  publish(message: Omit<BusMessage, 'source'>): Promise<void>;
  health(): BusHealth;
  /** Stops listening and releases the connection. Idempotent. */
  close(): Promise<void>;
}

/** A fresh random instance id. */
export function newInstanceId(): string {
  return randomUUID();
}

const KINDS = new Set<string>(['set', 'delete', 'tags', 'pattern', 'clear', 'namespace-clear']);

/** Encodes a message for the wire (JSON, so other languages can read and publish them). */
export function encodeBusMessage(message: BusMessage): string {
  // `source` first: a receiver recognises its own messages from their first bytes (see RedisBus).
  // Object.assign keeps `source` where it was put first (a rest/spread pair costs ~2 µs on Node 20).
  return JSON.stringify(Object.assign({ source: message.source }, message));
}

/** Decodes a wire message; `undefined` for anything malformed (a stranger on the channel). */
export function decodeBusMessage(raw: string | Buffer): BusMessage | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch {
    return undefined;
  }
  const m = parsed as Partial<BusMessage> | null;
  if (m === null || typeof m !== 'object') return undefined;
  if (typeof m.source !== 'string' || typeof m.cache !== 'string' || !KINDS.has(m.kind as string))
    return undefined;
  if (m.keys !== undefined && !isStringArray(m.keys)) return undefined;
  if (m.tags !== undefined && !isStringArray(m.tags)) return undefined;
  if (m.pattern !== undefined && typeof m.pattern !== 'string') return undefined;
  if (m.at !== undefined && typeof m.at !== 'number') return undefined;
  return m as BusMessage;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/**
 * An in-process bus hub: every bus made by {@link MemoryBusHub.connect} hears the others. For tests
 * and for several caches in one process; `disconnect()`/`reconnect()` simulate a transport outage.
 */
export class MemoryBusHub {
  readonly #members = new Set<MemoryBus>();

  /** A new member bus. */
  connect(instanceId: string = newInstanceId()): MemoryBus {
    const bus = new MemoryBus(instanceId, this.#members);
    return bus;
  }
}

/** One member of a {@link MemoryBusHub}. */
export class MemoryBus implements InvalidationBus {
  /** @inheritdoc */
  readonly instanceId: string;
  readonly #members: Set<MemoryBus>;
  #listeners: BusListeners | undefined;
  #connected = true;
  #resyncs = 0;

  constructor(instanceId: string, members: Set<MemoryBus>) {
    this.instanceId = instanceId;
    this.#members = members;
  }

  async start(listeners: BusListeners): Promise<void> {
    this.#listeners = listeners;
    this.#members.add(this);
  }

  async publish(message: Omit<BusMessage, 'source'>): Promise<void> {
    if (!this.#connected) throw new Error('memory bus is disconnected');
    const wire = encodeBusMessage(Object.assign({ source: this.instanceId }, message) as BusMessage);
    for (const member of this.#members) if (member !== this) member.#deliver(wire);
  }

  /** Simulates losing the transport: messages to and from this member are dropped. */
  disconnect(): void {
    this.#connected = false;
  }

  /** Simulates the transport coming back: listeners get `resync`. */
  reconnect(): void {
    if (this.#connected) return;
    this.#connected = true;
    this.#resyncs++;
    this.#listeners?.resync();
  }

  health(): BusHealth {
    return this.#connected
      ? { status: 'ok', resyncs: this.#resyncs }
      : { status: 'down', reason: 'disconnected', resyncs: this.#resyncs };
  }

  async close(): Promise<void> {
    this.#members.delete(this);
    this.#listeners = undefined;
  }

  #deliver(wire: string): void {
    if (!this.#connected || this.#listeners === undefined) return;
    const message = decodeBusMessage(wire);
    // Delivery is asynchronous on a real transport; keep it so here, so tests see the same ordering.
    if (message !== undefined) queueMicrotask(() => this.#listeners?.message(message));
  }
}
