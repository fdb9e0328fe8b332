// Response capture for node:http: while a handler runs on a cache miss, its writeHead/write/end are
// intercepted and the response is buffered instead of sent, so the cache can decide what to store and
// what to send (ETag, X-Cache, a 304, or a stale answer instead of a 500). A body that grows past
// `maxResponseBytes` switches the capture to pass-through: what was buffered is sent, the rest streams as
// usual, and nothing is stored — memory per request is bounded by the limit. So does flushing the headers
// early, and writing to a stream of records (server-sent events, NDJSON, JSON text sequences, multipart
// x-mixed-replace, or a response sent with `X-Accel-Buffering: no`), whose records must not wait for an end.
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { CapturedResponse } from './stored-response.js';

/** Emitted on a shadowed response when the background handler has ended it (see shadow.ts). */
export const SHADOW_ENDED = 'larder:shadow-ended';

/** How a capture ended. */
export type CaptureResult =
  /** The handler ended the response within the limit; nothing has been sent yet. */
  | { outcome: 'captured'; response: CapturedResponse }
  /** The body outgrew the limit and was sent as it came; there is nothing left to do. */
  | { outcome: 'passed-through' }
  /** The handler threw, or the connection closed before the response ended. */
  | { outcome: 'failed'; error: unknown };

/** A capture in progress. */
export interface Capture {
  /** Settles (never rejects) when the handler has ended, outgrown the limit, or failed. */
  readonly result: Promise<CaptureResult>;
  /** Marks the handler as failed (it threw); restores the response so an error handler can use it. */
  fail(error: unknown): void;
  /**
   * Hands a captured response back to its own methods, for the cache to send its answer. Until then,
   * what the handler writes after its end (`res.end(a); res.write(b)`, a second `end`) goes nowhere:
   * on the real response it would send headers and a body of its own before the cache's answer.
   */
  release(): void;
}

/** Headers as a framework holds them for its reply (Fastify's `reply.getHeaders()`). */
export type ReplyHeaders = Readonly<Record<string, string | number | readonly string[] | undefined>>;

/** The client went away before the handler ended its response. */
export class ConnectionClosedError extends Error {
  constructor() {
    super('connection closed before the response ended');
    this.name = 'ConnectionClosedError';
  }
}

type Callback = (error?: Error | null) => void;
type Chunk = string | Uint8Array;

/**
 * Starts capturing `res`; call before the handler runs. A `detached` capture runs after the client was
 * already answered (a background revalidation): the connection closing does not fail it, and a body
 * past the limit is dropped instead of sent.
 */
export function captureResponse(
  res: ServerResponse,
  maxResponseBytes: number,
  detached = false,
  preset?: ReplyHeaders,
): Capture {
  const own = { writeHead: res.writeHead, write: res.write, end: res.end, flushHeaders: res.flushHeaders };
  // What was set before the handler ran: this request's own (see CapturedResponse.preset).
  const before = headersBefore(res, preset);
  const chunks: Buffer[] = [];
  let size = 0;
  let statusMessage: string | undefined;
  let settled = false;
  let settle!: (result: CaptureResult) => void;
  const result = new Promise<CaptureResult>((resolve) => (settle = resolve));

  /** Makes whatever the handler still writes go nowhere. */
  const swallow = (): void => {
    res.writeHead = function swallowWriteHead(this: ServerResponse) {
      return this;
    } as ServerResponse['writeHead'];
    res.write = swallowWrite as ServerResponse['write'];
    res.end = swallowEnd as ServerResponse['end'];
    res.flushHeaders = () => undefined;
  };
  const restore = (): void => {
    res.writeHead = own.writeHead;
    res.write = own.write;
    res.end = own.end;
    res.flushHeaders = own.flushHeaders;
  };
  let held = false;
  // A real response's headers go out at its first writeHead or write, and frameworks read
  // `headersSent` to tell whether an error may still replace the response (Express's finalhandler,
  // Fastify's stream errors, Nest's StreamableFile): one that reads false after part of the body was
  // captured would append an error page to that part under the page's own Content-Length, breaking
  // the connection's framing. So while capturing it reads true from then on, and they end the
  // response the way they end one whose headers went out (the client's connection closes).
  const ownHeadersSent = Object.getOwnPropertyDescriptor(res, 'headersSent');
  let begun = false;
  const begin = (): void => {
    if (begun || detached) return;
    begun = true;
    Object.defineProperty(res, 'headersSent', { configurable: true, get: () => true });
  };
  const finish = (outcome: CaptureResult): void => {
    if (settled) return;
    settled = true;
    if (begun) {
      if (ownHeadersSent === undefined) Reflect.deleteProperty(res, 'headersSent');
      else Object.defineProperty(res, 'headersSent', ownHeadersSent);
    }
    if (!detached) res.off('close', onClose);
    // The client has its answer (detached), or the cache has yet to send its own (captured, until
    // release()): either way what the handler writes after its end must not reach the client.
    if (detached || outcome.outcome === 'captured') swallow();
    else restore();
    held = !detached && outcome.outcome === 'captured';
    settle(outcome);
  };
  const release = (): void => {
    if (!held) return;
    held = false;
    restore();
  };
  const onClose = (): void => finish({ outcome: 'failed', error: new ConnectionClosedError() });
  if (!detached) res.once('close', onClose);

  // Sends what was buffered and hands the response back to its own methods.
  const passThrough = (): void => {
    finish({ outcome: 'passed-through' });
    if (detached) {
      chunks.length = 0;
      return;
    }
    res.writeHead(res.statusCode, statusMessage);
    if (size > 0) res.write(Buffer.concat(chunks, size));
    chunks.length = 0;
  };
  const append = (chunk: Chunk | undefined | null, encoding: BufferEncoding | undefined): boolean => {
    if (chunk === undefined || chunk === null) return true;
    // Measured first, so a chunk past the limit is never copied.
    const length =
      typeof chunk === 'string' ? Buffer.byteLength(chunk, encoding ?? 'utf8') : chunk.byteLength;
    if (size + length > maxResponseBytes) return false;
    // A copy: once its callback ran, a writer may reuse the buffer it wrote (Node allows it), and a
    // view of it would hold what the buffer reads later instead.
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, encoding ?? 'utf8') : Buffer.from(chunk);
    chunks.push(buf);
    size += buf.length;
    return true;
  };

  res.writeHead = function captureWriteHead(
    this: ServerResponse,
    status: number,
    reasonOrHeaders?: string | OutgoingHttpHeaders | readonly unknown[],
    headers?: OutgoingHttpHeaders | readonly unknown[],
  ) {
    if (typeof reasonOrHeaders === 'string') statusMessage = reasonOrHeaders;
    else headers = reasonOrHeaders;
    res.statusCode = status;
    if (headers) applyHeaders(res, headers);
    begin();
    return res;
  } as ServerResponse['writeHead'];

  res.write = function captureWrite(
    chunk: Chunk,
    encoding?: BufferEncoding | Callback,
    cb?: Callback,
  ): boolean {
    if (typeof encoding === 'function') [cb, encoding] = [encoding, undefined];
    begin();
    // A stream of records never ends into an answer to store: they go out as they are written.
    if (!isStreamed(res) && append(chunk, encoding)) {
      if (cb) process.nextTick(cb);
      return true;
    }
    passThrough();
    return res.write(chunk, encoding as BufferEncoding, cb);
  } as ServerResponse['write'];

  res.end = function captureEnd(
    chunk?: Chunk | Callback,
    encoding?: BufferEncoding | Callback,
    cb?: Callback,
  ) {
    if (typeof chunk === 'function') [cb, chunk] = [chunk, undefined];
    if (typeof encoding === 'function') [cb, encoding] = [encoding, undefined];
    if (!append(chunk, encoding)) {
      passThrough();
      return res.end(chunk as Chunk, encoding as BufferEncoding, cb);
    }
    if (cb) {
      if (detached) process.nextTick(cb);
      else res.once('finish', () => cb());
    }
    // A shadowed response (see shadow.ts) now reads as ended to whoever checks.
    if (detached) res.emit(SHADOW_ENDED);
    const headers = res.getHeaders();
    finish({
      outcome: 'captured',
      response: {
        status: res.statusCode,
        headers,
        body: Buffer.concat(chunks, size),
        preset: unchangedSince(before, headers),
      },
    });
    return res;
  } as ServerResponse['end'];

  // Flushing headers early means the handler is streaming: let it stream.
  res.flushHeaders = function captureFlushHeaders() {
    passThrough();
    res.flushHeaders();
  };

  return { result, fail: (error) => finish({ outcome: 'failed', error }), release };
}

// Media types of bodies that are streams of records, each to be read as it comes: server-sent events,
// NDJSON / JSON Lines (`application/x-ndjson`, `application/ndjson`, `application/jsonl`,
// `application/x-jsonlines`), JSON text sequences (RFC 7464) and multipart x-mixed-replace (a frame
// after another).
const STREAMED_TYPE =
  /^\s*(?:text\/event-stream|application\/(?:x-)?ndjson|application\/(?:x-)?json-?lines|application\/jsonl|application\/json-seq|multipart\/x-mixed-replace)\s*(;|$)/i;

/**
 * Whether `res` is a stream its client reads as it is written: a streamed media type (above), or a
 * response that asks proxies not to buffer it (`X-Accel-Buffering: no`, nginx's header for that).
 */
function isStreamed(res: ServerResponse): boolean {
  const type = res.getHeader('content-type');
  if (typeof type === 'string' && STREAMED_TYPE.test(type)) return true;
  const buffering = res.getHeader('x-accel-buffering');
  return typeof buffering === 'string' && buffering.trim().toLowerCase() === 'no';
}

/**
 * The headers `res` carries before its handler runs, with `preset` (a framework's reply headers that
 * reach `res` only when the reply is sent, as Fastify's do) over them; values copied, as a handler may
 * append to an array in place.
 */
function headersBefore(res: ServerResponse, preset: ReplyHeaders | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const headers of [res.getHeaders(), preset ?? {}])
    for (const [name, value] of Object.entries(headers))
      if (value !== undefined) out.set(name.toLowerCase(), headerText(value));
  return out;
}

/** The names in `before` that `headers` still carries with the same value. */
function unchangedSince(before: Map<string, string>, headers: OutgoingHttpHeaders): ReadonlySet<string> {
  const out = new Set<string>();
  for (const [name, value] of before) {
    const now = headers[name];
    if (now !== undefined && headerText(now) === value) out.add(name);
  }
  return out;
}

// One header value as comparable text (a repeated header's values joined by a line break, which no
// header value can hold).
function headerText(value: string | number | readonly string[]): string {
  return Array.isArray(value) ? value.join('\n') : String(value);
}

/** A `write` that sends nothing (its callback still runs, on the next tick). */
export function swallowWrite(this: ServerResponse, _chunk: unknown, ...rest: unknown[]): boolean {
  const cb = rest.find((a) => typeof a === 'function') as Callback | undefined;
  if (cb) process.nextTick(cb);
  return true;
}

function swallowEnd(this: ServerResponse, ...args: unknown[]): ServerResponse {
  const cb = args.find((a) => typeof a === 'function') as Callback | undefined;
  if (cb) process.nextTick(cb);
  return this;
}

/** Applies writeHead's headers argument (an object, or a flat/paired array) through setHeader. */
function applyHeaders(res: ServerResponse, headers: OutgoingHttpHeaders | readonly unknown[]): void {
  if (!Array.isArray(headers)) {
    for (const [name, value] of Object.entries(headers as OutgoingHttpHeaders)) {
      if (value !== undefined) res.setHeader(name, value);
    }
    return;
  }
  // Raw arrays may repeat a name (two Set-Cookie lines); setHeader would keep only the last one.
  const grouped = new Map<string, string[]>();
  const add = (name: unknown, value: unknown): void => {
    const key = String(name).toLowerCase();
    const list = grouped.get(key);
    if (list) list.push(String(value));
    else grouped.set(key, [String(value)]);
  };
  if (Array.isArray(headers[0]))
    for (const pair of headers as readonly (readonly unknown[])[]) add(pair[0], pair[1]);
  else for (let i = 0; i + 1 < headers.length; i += 2) add(headers[i], headers[i + 1]);
  for (const [name, values] of grouped) res.setHeader(name, values.length === 1 ? values[0]! : values);
}
