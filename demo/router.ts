// The demo's small node:http router: method + path pattern (Larder's own pattern syntax, trailing
// slash optional) → handler, JSON in and out with a bounded body, and errors mapped to statuses.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { compilePathPattern, type PathParams, type PathPattern } from '../src/http/path-pattern.js';

/** The largest JSON body a demo endpoint reads. */
export const MAX_BODY_BYTES = 64 * 1024;

/** An error with the HTTP status to answer. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** What a handler receives. */
export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: PathParams;
  query: URLSearchParams;
  /** The JSON body as an object (`{}` when empty); 400 when malformed, 413 when too large. */
  body(): Promise<Record<string, unknown>>;
}

/** A route handler: answers through `res`, or returns a value to send as JSON (status: `res.statusCode`). */
export type Handler = (ctx: RequestContext) => Promise<unknown> | unknown;

interface Route {
  method: string;
  pattern: PathPattern;
  handler: Handler;
}

/** Routes requests to handlers; unmatched requests go to `next`. */
export class Router {
  readonly #routes: Route[] = [];

  /** Adds a route. */
  on(method: string, path: string, handler: Handler): this {
    this.#routes.push({ method, pattern: compilePathPattern(path, `${method} ${path}`), handler });
    return this;
  }

  /** Handles a request, or calls `next` when no route matches. */
  async handle(req: IncomingMessage, res: ServerResponse, next: () => void): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://demo.local');
    let pathMatched = false;
    for (const route of this.#routes) {
      const params = route.pattern.match(url.pathname);
      if (!params) continue;
      pathMatched = true;
      if (route.method !== req.method && !(route.method === 'GET' && req.method === 'HEAD')) continue;
      try {
        const result = await route.handler({
          req,
          res,
          params,
          query: url.searchParams,
          body: () => readJson(req),
        });
        // A handler may set res.statusCode (e.g. 201) and return the body.
        if (!res.headersSent && !res.writableEnded) sendJson(res, res.statusCode, result ?? {});
      } catch (error) {
        const status = error instanceof HttpError ? error.status : 500;
        const message = error instanceof Error ? error.message : String(error);
        if (!res.headersSent)
          sendJson(res, status, { error: status === 500 ? `internal error: ${message}` : message });
        else res.end();
      }
      return;
    }
    if (pathMatched) sendJson(res, 405, { error: `${req.method} is not allowed on ${url.pathname}` });
    else next();
  }
}

/** Sends `data` as JSON. */
export function sendJson(
  res: ServerResponse,
  status: number,
  data: unknown,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify(data);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES)
      throw new HttpError(413, `request body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'request body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(400, 'request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/** Reads an optional string field of a body; 400 naming the field when it has another type. */
export function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '')
    throw new HttpError(400, `${field} must be a non-empty string`);
  return value;
}

/** Reads an optional non-negative number field; 400 naming the field otherwise. */
export function optionalNumber(body: Record<string, unknown>, field: string): number | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new HttpError(400, `${field} must be a non-negative number`);
  }
  return value;
}
