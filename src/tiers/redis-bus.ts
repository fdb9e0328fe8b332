// The invalidation bus over Redis pub/sub. Publishing uses the tier's command connection; listening
// needs a dedicated subscriber connection (a subscribed connection can run no other command).
// Reconnect policy: whenever the subscription comes back after a gap, listeners get `resync` and drop
// their L1, because pub/sub does not replay what was published while this instance was deaf.
// Whatever arrives on the channel is untrusted: malformed, out-of-bounds or (with a secret) unsigned
// messages are dropped and counted, and listeners hear of each drop (the tier logs them, rate-limited).
import { CacheError } from '../errors.js';
import { Deadlines } from './deadlines.js';
import { heartbeat, withTimeout } from './guarded-driver.js';
import type { BusHealth, BusListeners, BusMessage, BusSecret, InvalidationBus } from './bus.js';
import { busKey, checkInstanceId, encodeBusMessage, inspectBusMessage } from './bus.js';
import { isCluster, sendNow } from './redis-connection.js';
import type { RedisClient } from './redis-connection.js';

/** Options of {@link RedisBus}. */
export interface RedisBusOptions {
  /** The command connection used to PUBLISH (also duplicated for the subscriber). */
  client: RedisClient;
  /** Channel name (the tier uses `${prefix}bus`). */
  channel: string;
  /** Id of this instance, 1 to 256 characters; random by default. */
  instanceId?: string;
  /** Timeout of one PUBLISH, ms. */
  timeoutMs: number;
  /** How long `start()` waits for the first subscription, ms. */
  connectTimeoutMs: number;
  /** Shared secret: messages are signed (HMAC-SHA256) and unsigned or wrongly signed ones refused. */
  secret?: BusSecret;
  /**
   * Called before each PUBLISH: the driver sharing the connection sends the writes it holds back for
   * batching, so a message never reaches Redis before a write issued ahead of it.
   */
  beforePublish?: () => void;
  /**
   * How often the subscriber is checked with a PING, ms (default 5,000; 0: never). A connection
   * lost without a word (a NAT or firewall dropping it, a partition) is not noticed by the client,
   * and this instance would stay deaf to invalidations, serving what others removed, for as long as
   * the process lives; a PING unanswered within the interval drops the connection, and the
   * subscription that comes back resyncs.
   */
  heartbeatMs?: number;
}

/** Default interval of the subscriber's PING. */
const HEARTBEAT_MS = 5_000;

/** An {@link InvalidationBus} over Redis pub/sub. */
export class RedisBus implements InvalidationBus {
  /** @inheritdoc */
  readonly instanceId: string;
  readonly #options: RedisBusOptions;
  readonly #ownPrefix: Buffer;
  readonly #key: Buffer | undefined;
  /** Publish timeouts, swept by one interval while publishes are out (no timer per PUBLISH). */
  readonly #deadlines: Deadlines;
  #rejected = 0;
  #subscriber: RedisClient | undefined;
  #listeners: BusListeners | undefined;
  #subscribed = false;
  #everSubscribed = false;
  #startupDone = false;
  #resyncs = 0;
  #closed = false;
  #starting: Promise<void> | undefined;
  /** Stops the subscriber's heartbeat. */
  #stopHeartbeat: (() => void) | undefined;

  constructor(options: RedisBusOptions) {
    if (typeof options.channel !== 'string' || options.channel === '') {
      throw new TypeError('bus channel must be a non-empty string');
    }
    this.#key = options.secret === undefined ? undefined : busKey(options.secret);
    this.#options = options;
    this.#deadlines = new Deadlines(options.timeoutMs);
    this.instanceId = checkInstanceId(options.instanceId);
    this.#ownPrefix = Buffer.from(`{"source":${JSON.stringify(this.instanceId)},`);
  }

  start(listeners: BusListeners): Promise<void> {
    this.#listeners = listeners;
    this.#starting ??= this.#open();
    return this.#starting;
  }

  async publish(message: Omit<BusMessage, 'source'>): Promise<void> {
    const client = this.#options.client;
    if (client.status !== 'ready') {
      throw new CacheError('TIER_UNAVAILABLE', `bus cannot publish: Redis is ${client.status}`);
    }
    this.#options.beforePublish?.();
    const wire = encodeBusMessage(
      Object.assign({ source: this.instanceId }, message) as BusMessage,
      this.#key,
    );
    // At once when nothing issued earlier waits in the auto-pipeline (see sendNow), else behind it.
    const sent =
      sendNow(client, 'publish', [this.#options.channel, wire]) ??
      client.publish(this.#options.channel, wire);
    await this.#deadlines.run(sent, 'bus publish');
  }

  /** Messages dropped so far as malformed, out of bounds or wrongly signed. */
  get rejected(): number {
    return this.#rejected;
  }

  health(): BusHealth {
    const counts = { resyncs: this.#resyncs, rejected: this.#rejected, signed: this.#key !== undefined };
    if (this.#closed) return { status: 'down', reason: 'closed', ...counts };
    if (this.#subscribed) return { status: 'ok', ...counts };
    const status = this.#subscriber?.status ?? 'not started';
    return { status: 'down', reason: `subscriber is ${status}`, ...counts };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#subscribed = false;
    this.#listeners = undefined;
    // The publish deadlines are left running: a publish still out fails on time, then the sweep stops.
    // disconnect() rather than quit(): quit would wait on a server that may be gone.
    this.#stopHeartbeat?.();
    this.#subscriber?.disconnect();
  }

  async #open(): Promise<void> {
    const { client } = this.#options;
    const subscriber = isCluster(client)
      ? client.duplicate(undefined, { enableOfflineQueue: true })
      : client.duplicate({ enableOfflineQueue: true, enableAutoPipelining: false });
    this.#subscriber = subscriber;
    subscriber.on('error', () => {
      // Outages are reported by the tier's guard once; the subscriber reconnects by itself.
    });
    subscriber.on('messageBuffer', (from: Buffer, payload: Buffer) => this.#onMessage(from, payload));
    subscriber.on('close', () => (this.#subscribed = false));
    subscriber.on('ready', () => void this.#subscribe());
    await withTimeout(this.#subscribe(), this.#options.connectTimeoutMs, 'bus subscribe').catch(() => {
      // Redis down at startup: the subscriber keeps retrying and `resync` fires when it gets through.
    });
    this.#startupDone = true;
    const every = this.#options.heartbeatMs ?? HEARTBEAT_MS;
    // A cluster's subscriber is its own set of node connections, which a PING through it may not reach.
    if (every > 0 && !this.#closed && !isCluster(subscriber)) {
      // Pinged only while subscribed (a reconnection under way is already a gap); a PING unanswered
      // within the interval drops the connection, and #subscribe then tells listeners to resync.
      this.#stopHeartbeat = heartbeat(
        () => (this.#subscribed ? subscriber.ping() : Promise.resolve()),
        every,
        every,
        'bus heartbeat',
        () => {
          if (this.#closed || this.#subscriber !== subscriber) return;
          this.#subscribed = false;
          subscriber.disconnect(true);
        },
      );
    }
  }

  /** (Re)subscribes; after any gap in the subscription, tells listeners to resync. */
  async #subscribe(): Promise<void> {
    const subscriber = this.#subscriber;
    if (subscriber === undefined || this.#closed || this.#subscribed) return;
    try {
      await subscriber.subscribe(this.#options.channel);
    } catch {
      return;
    }
    if (this.#closed || this.#subscribed) return;
    this.#subscribed = true;
    // A first subscription that lands after start() gave up waiting also follows a deaf period.
    if (this.#everSubscribed || this.#startupDone) {
      this.#resyncs++;
      this.#listeners?.resync();
    }
    this.#everSubscribed = true;
  }

  #onMessage(from: Buffer, payload: Buffer): void {
    if (from.toString() !== this.#options.channel) return;
    // Our own messages come back too; their first bytes name us, so skip them before parsing.
    if (
      payload.length > this.#ownPrefix.length &&
      payload.subarray(0, this.#ownPrefix.length).equals(this.#ownPrefix)
    ) {
      return;
    }
    const decoded = inspectBusMessage(payload, { key: this.#key });
    if (decoded.problem !== undefined) {
      this.#rejected++;
      const untimely = decoded.untimely === true && decoded.message.source !== this.instanceId;
      this.#listeners?.invalid?.(decoded.problem, untimely ? decoded.message : undefined);
      return;
    }
    if (decoded.message.source === this.instanceId) return;
    this.#listeners?.message(decoded.message);
  }
}
