// Where a shared tier writes its log lines (outages, recovery, bus resyncs): its own logger when
// redisTier() got one, else the log sink of a cache bound to it, so `createCache({ logger, l2 })`
// logs outages without naming the logger twice. Each line goes to one sink, however many caches share
// the tier, so an outage is logged once, not once per cache.
import { LogSink } from '../observability/log-sink.js';
import type { Logger } from '../observability/logger.js';

/** The log methods the tier's parts write through: a LogSink, or a {@link TierLog} that picks one. */
export type TierLogWriter = Pick<LogSink, 'error' | 'warn' | 'info' | 'debug'>;

type LevelFlag = 'errorOn' | 'warnOn' | 'infoOn' | 'debugOn';

/** The tier's log: its own sink, or the first sink offered by a bound cache that has the level on. */
export class TierLog implements TierLogWriter {
  /** The sink of the logger given to the tier itself, if any. */
  readonly tierLogger: LogSink | undefined;
  /** Offered sinks in bind order; read at each line, so a cache's `configure({ logger })` applies. */
  readonly #offered = new Map<object, () => LogSink>();

  constructor(logger?: Logger) {
    this.tierLogger = logger === undefined ? undefined : new LogSink(logger);
  }

  /** Offers `owner`'s sink (used only while the tier has no logger of its own). */
  offer(owner: object, sink: () => LogSink): void {
    this.#offered.set(owner, sink);
  }

  /** Takes back what `owner` offered (when its cache closes). */
  revoke(owner: object): void {
    this.#offered.delete(owner);
  }

  /** Writes an error line to one sink. */
  error(message: string, fields: Record<string, unknown>): void {
    this.#pick('errorOn')?.error(message, fields);
  }

  /** Writes a warn line to one sink. */
  warn(message: string, fields: Record<string, unknown>): void {
    this.#pick('warnOn')?.warn(message, fields);
  }

  /** Writes an info line to one sink. */
  info(message: string, fields: Record<string, unknown>): void {
    this.#pick('infoOn')?.info(message, fields);
  }

  /** Writes a debug line to one sink. */
  debug(message: string, fields: Record<string, unknown>): void {
    this.#pick('debugOn')?.debug(message, fields);
  }

  #pick(level: LevelFlag): LogSink | undefined {
    if (this.tierLogger !== undefined) return this.tierLogger;
    for (const offered of this.#offered.values()) {
      const sink = offered();
      if (sink[level]) return sink;
    }
    return undefined;
  }
}
