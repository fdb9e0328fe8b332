// The invalidation bus: how a write on one instance reaches every other instance's L1. Messages say
// what to drop (never carry values); an instance ignores its own. When the transport reconnects the
// bus emits `resync`, because messages sent while it was deaf are lost and its L1 may be stale.
// Inbound messages are untrusted (anyone with access to Redis can PUBLISH): they are checked against
// BUS_LIMITS and, with a shared secret, must carry a valid HMAC-SHA256 signature.
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { countStars, MAX_GLOB_LENGTH, MAX_GLOB_STARS } from '../util/glob.js';

/**
 * What a bus message asks receivers to drop. `set` is an invalidation: receivers re-read L2.
 * `namespace-clear` (its prefix in `pattern`) is what Larder sent before `prefix`: still accepted on
 * receive, so instances can be upgraded one at a time; never sent.
 */
export type BusMessageKind = 'set' | 'delete' | 'tags' | 'pattern' | 'prefix' | 'clear' | 'namespace-clear';

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
  /** For `pattern`: the glob (for the legacy `namespace-clear`: the key prefix). */
  pattern?: string;
  /** For `prefix`: the key prefix. */
  prefix?: string;
  /** When a signed message was sent (ms since the epoch); receivers with the secret refuse old ones. */
  sentAt?: number;
}

/**
 * Bus health: `ok` while subscribed and publishing; `down` while disconnected or while the tier's
 * circuit is open (a hung or unreachable Redis carries nothing); `degraded` after a failed publish.
 */
export interface BusHealth {
  status: 'ok' | 'degraded' | 'down';
  reason?: string;
  /** Number of reconnections so far (each one dropped L1s). */
  resyncs: number;
  /** Inbound messages dropped as malformed, out of bounds or wrongly signed (Redis bus). */
  rejected?: number;
  /** Whether messages are signed with a shared secret (Redis bus). */
  signed?: boolean;
  [k: string]: unknown;
}

/** Listeners a bus calls. */
export interface BusListeners {
  /** A message from another instance. */
  message(message: BusMessage): void;
  /** The bus reconnected after a disconnection: messages may have been missed. */
  resync(): void;
  /**
   * A message was dropped as malformed, out of bounds or wrongly signed (`problem` says which). With
   * `untimely`: it was sound (and rightly signed) but its time is outside the accepted window; it is
   * not applied as an invalidation (no fence, no tag time), but what it names may still be evicted
   * locally, which is always safe.
   */
  invalid?(problem: string, untimely?: BusMessage): void;
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

/**
 * Checks an `instanceId` option against what receivers accept as a message's `source` (a non-empty
 * string of at most {@link BUS_LIMITS}.maxNameLength characters): every message from an id they refuse
 * would be dropped by every peer. Returns it, or a random one when it is undefined.
 */
export function checkInstanceId(instanceId: unknown): string {
  if (instanceId === undefined) return newInstanceId();
  if (typeof instanceId !== 'string') {
    throw new TypeError(
      `instanceId must be a string, got ${instanceId === null ? 'null' : typeof instanceId}`,
    );
  }
  if (instanceId.length === 0 || instanceId.length > BUS_LIMITS.maxNameLength) {
    throw new RangeError(
      `instanceId must be 1 to ${BUS_LIMITS.maxNameLength} characters (receivers drop messages from any other), got ${instanceId.length}`,
    );
  }
  return instanceId;
}

const KINDS = new Set<string>(['set', 'delete', 'tags', 'pattern', 'prefix', 'clear', 'namespace-clear']);

/**
 * Bounds on one bus message. Receivers drop what exceeds them; senders split or widen what would
 * (see {@link fitBusMessage}), so a legitimate write is never lost to a bound.
 */
export const BUS_LIMITS = {
  /** Largest message on the wire, bytes. */
  maxBytes: 8 * 1024 * 1024,
  /** Most keys or tags in one message. */
  maxItems: 1000,
  /** Longest key or tag, characters. */
  maxItemLength: 64 * 1024,
  /** Most characters of key text a sender puts in one message (keeps maxBytes out of reach). */
  maxItemChars: 1024 * 1024,
  /** Longest cache name or instance id, characters. */
  maxNameLength: 256,
  /** Longest glob or namespace prefix, characters (the glob matcher's own bound). */
  maxPatternLength: MAX_GLOB_LENGTH,
  /** Most `*` in one glob (the glob matcher's own bound). */
  maxPatternStars: MAX_GLOB_STARS,
  /** How far in the future a tag invalidation time (or a signed message's send time) may be, ms. */
  maxFutureMs: 60_000,
  /** How old a signed message may be, ms (bounds how long a captured one can be replayed). */
  maxAgeMs: 5 * 60_000,
} as const;

/** A bus shared secret as given (`busSecret`); checked by {@link busKey}. */
export type BusSecret = string | Uint8Array;

/** Validates a shared secret and returns it as bytes; a TypeError/RangeError names what is wrong. */
export function busKey(secret: BusSecret): Buffer {
  if (typeof secret !== 'string' && !(secret instanceof Uint8Array)) {
    throw new TypeError('busSecret must be a string or a Uint8Array');
  }
  const key = Buffer.from(secret);
  if (key.length < 16) throw new RangeError(`busSecret must be at least 16 bytes, got ${key.length}`);
  return key;
}

const SIGNATURE_BYTES = 32;
/** Separates the JSON body from its signature (JSON.stringify never writes a raw newline). */
const SIGNATURE_SEPARATOR = 0x0a;

function sign(key: Buffer, body: string | Buffer): string {
  return createHmac('sha256', key).update(body).digest('hex');
}

/**
 * Encodes a message for the wire (JSON, so other languages can read and publish them). With a key the
 * message gets `sentAt` and is followed by a newline and its HMAC-SHA256 (hex) over the JSON bytes.
 */
export function encodeBusMessage(message: BusMessage, key?: Buffer, now: number = Date.now()): string {
  // `source` first: a receiver recognises its own messages from their first bytes (see RedisBus).
  // Object.assign keeps `source` where it was put first (a rest/spread pair costs ~2 µs on Node 20).
  if (key === undefined) return JSON.stringify(Object.assign({ source: message.source }, message));
  const body = JSON.stringify(Object.assign({ source: message.source }, message, { sentAt: now }));
  return `${body}\n${sign(key, body)}`;
}

/**
 * What a receiver makes of raw bytes: the message, or why it was dropped; `untimely` when only its
 * time (`at`, or a signed message's `sentAt`) is outside the accepted window.
 */
export type BusDecoding =
  | { message: BusMessage; problem?: undefined; untimely?: undefined }
  | { message?: undefined; problem: string; untimely?: undefined }
  | { message: BusMessage; problem: string; untimely: true };

/** Options of {@link inspectBusMessage}. */
export interface BusDecodeOptions {
  /** The shared secret's bytes: unsigned or wrongly signed messages are refused. */
  key?: Buffer;
  /** Now, ms since the epoch (timestamps are checked against it). */
  now?: number;
}

/** Decodes and checks a wire message; says what is wrong with anything malformed or unsigned. */
export function inspectBusMessage(raw: string | Buffer, options: BusDecodeOptions = {}): BusDecoding {
  const bytes = typeof raw === 'string' ? Buffer.from(raw) : raw;
  if (bytes.length > BUS_LIMITS.maxBytes) return { problem: `message of ${bytes.length} bytes is too large` };
  const cut = bytes.lastIndexOf(SIGNATURE_SEPARATOR);
  const body = cut === -1 ? bytes : bytes.subarray(0, cut);
  if (options.key !== undefined) {
    if (cut === -1) return { problem: 'message is not signed' };
    const given = Buffer.from(bytes.subarray(cut + 1).toString('latin1'), 'hex');
    const expected = createHmac('sha256', options.key).update(body).digest();
    if (given.length !== SIGNATURE_BYTES || !timingSafeEqual(given, expected)) {
      return { problem: 'message signature is wrong' };
    }
  }
  // JSON.parse of deeply nested brackets takes seconds for a few MB; a sound message nests 2 deep.
  if (nestsDeeperThan(body, MAX_NESTING)) return { problem: `message nests deeper than ${MAX_NESTING}` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return { problem: 'message is not JSON' };
  }
  const now = options.now ?? Date.now();
  const problem = shapeProblem(parsed);
  if (problem !== undefined) return { problem };
  const message = parsed as BusMessage;
  if (options.key !== undefined) {
    const sentAt = message.sentAt;
    if (sentAt === undefined) return { problem: 'signed message has no sentAt' };
    if (sentAt > now + BUS_LIMITS.maxFutureMs || sentAt < now - BUS_LIMITS.maxAgeMs) {
      return {
        message,
        problem: `signed message sent at ${sentAt} is outside the accepted window`,
        untimely: true,
      };
    }
  }
  const late = timeProblem(message, now);
  return late === undefined ? { message } : { message, problem: late, untimely: true };
}

/** Deepest nesting of arrays and objects a message may have (a sound one: an object holding arrays). */
const MAX_NESTING = 4;

/**
 * Whether the JSON text in `bytes` opens more than `max` arrays or objects inside each other, brackets
 * inside strings aside. One pass over the bytes, stopping at the first level too deep (UTF-8 continuation
 * bytes are never ASCII, so a byte-wise scan cannot mistake one for a bracket or a quote).
 */
function nestsDeeperThan(bytes: Uint8Array, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash: the next byte is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** Decodes a wire message; `undefined` for anything malformed (a stranger on the channel). */
export function decodeBusMessage(raw: string | Buffer, options?: BusDecodeOptions): BusMessage | undefined {
  return inspectBusMessage(raw, options).message;
}

/** What is wrong with a parsed message (shape, bounds, timestamps), or undefined when it is sound. */
export function busMessageProblem(parsed: unknown, now: number): string | undefined {
  return shapeProblem(parsed) ?? timeProblem(parsed as BusMessage, now);
}

/** Whether a sound message's times are in the accepted window (a tag time at most 60 s ahead). */
function timeProblem(message: BusMessage, now: number): string | undefined {
  const at = message.at;
  return at !== undefined && at > now + BUS_LIMITS.maxFutureMs ? `at ${at} is in the future` : undefined;
}

/** What is wrong with a parsed message's shape and bounds, its times aside. */
function shapeProblem(parsed: unknown): string | undefined {
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    return 'message is not an object';
  const m = parsed as Record<string, unknown>;
  if (!isName(m.source)) return 'source must be a non-empty string of at most 256 characters';
  if (!isName(m.cache)) return 'cache must be a non-empty string of at most 256 characters';
  if (typeof m.kind !== 'string' || !KINDS.has(m.kind)) return `unknown kind ${JSON.stringify(m.kind)}`;
  if (m.sentAt !== undefined && !isTime(m.sentAt)) return 'sentAt must be a time in ms';
  if (m.keys !== undefined) {
    const problem = itemsProblem(m.keys, 'keys');
    if (problem !== undefined) return problem;
  }
  if (m.tags !== undefined) {
    const problem = itemsProblem(m.tags, 'tags');
    if (problem !== undefined) return problem;
  }
  if (m.at !== undefined && !isTime(m.at)) return 'at must be a time in ms';
  if (m.pattern !== undefined) {
    if (typeof m.pattern !== 'string') return 'pattern must be a string';
    const problem = patternProblem(m.pattern);
    if (problem !== undefined) return problem;
  }
  if (m.prefix !== undefined) {
    if (typeof m.prefix !== 'string') return 'prefix must be a string';
    const problem = patternProblem(m.prefix);
    if (problem !== undefined) return problem;
  }
  switch (m.kind) {
    case 'set':
    case 'delete':
      return m.keys === undefined ? `${m.kind} needs keys` : undefined;
    case 'tags':
      return m.tags === undefined || m.at === undefined ? 'tags needs tags and at' : undefined;
    case 'pattern':
    case 'namespace-clear':
      return m.pattern === undefined ? `${m.kind} needs a pattern` : undefined;
    case 'prefix':
      return m.prefix === undefined ? 'prefix needs a prefix' : undefined;
    default:
      return undefined;
  }
}

/** Why a glob or prefix cannot go on the bus, or undefined. */
export function patternProblem(pattern: string): string | undefined {
  if (pattern.length > BUS_LIMITS.maxPatternLength) {
    return `pattern of ${pattern.length} characters exceeds ${BUS_LIMITS.maxPatternLength}`;
  }
  const stars = countStars(pattern);
  if (stars > BUS_LIMITS.maxPatternStars) {
    return `pattern has ${stars} '*', more than ${BUS_LIMITS.maxPatternStars}`;
  }
  return undefined;
}

function itemsProblem(items: unknown, what: string): string | undefined {
  if (!Array.isArray(items)) return `${what} must be an array`;
  if (items.length > BUS_LIMITS.maxItems)
    return `${what} has ${items.length} items, more than ${BUS_LIMITS.maxItems}`;
  for (const item of items) {
    if (typeof item !== 'string') return `${what} must be strings`;
    if (item.length > BUS_LIMITS.maxItemLength)
      return `${what} has an item longer than ${BUS_LIMITS.maxItemLength}`;
  }
  return undefined;
}

function isName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= BUS_LIMITS.maxNameLength;
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/**
 * What a sender publishes for `message` so that every piece passes {@link busMessageProblem}: key
 * and tag lists are split into several messages; a key, tag or pattern beyond the bounds widens the
 * message to a `clear` of its cache (always correct, only colder).
 */
export function fitBusMessage(message: Omit<BusMessage, 'source'>): Array<Omit<BusMessage, 'source'>> {
  const items = message.keys ?? message.tags;
  const widen = (): Array<Omit<BusMessage, 'source'>> => [{ cache: message.cache, kind: 'clear' }];
  if (message.pattern !== undefined && patternProblem(message.pattern) !== undefined) return widen();
  if (message.prefix !== undefined && patternProblem(message.prefix) !== undefined) return widen();
  if (items === undefined) return [message];
  const field = message.keys !== undefined ? 'keys' : 'tags';
  const out: Array<Omit<BusMessage, 'source'>> = [];
  let chunk: string[] = [];
  let chars = 0;
  for (const item of items) {
    if (item.length > BUS_LIMITS.maxItemLength) return widen();
    if (chunk.length === BUS_LIMITS.maxItems || chars + item.length > BUS_LIMITS.maxItemChars) {
      out.push({ ...message, [field]: chunk });
      chunk = [];
      chars = 0;
    }
    chunk.push(item);
    chars += item.length;
  }
  if (out.length === 0) return [message];
  out.push({ ...message, [field]: chunk });
  return out;
}

/**
 * An in-process bus hub: every bus made by {@link MemoryBusHub.connect} hears the others. For tests
 * and for several caches in one process; `disconnect()`/`reconnect()` simulate a transport outage.
 */
export class MemoryBusHub {
  readonly #members = new Set<MemoryBus>();

  /** A new member bus. */
  connect(instanceId?: string): MemoryBus {
    const bus = new MemoryBus(checkInstanceId(instanceId), this.#members);
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
