// Request bodies of the admin API: read with a byte limit (413 past it, without buffering the
// rest), decoded as strict UTF-8 and parsed as JSON (400 when either fails), and validated into typed commands whose errors name
// the offending field. A body already parsed by a framework (Express's json()) is used as it is.
import type { IncomingMessage } from 'node:http';
import type { Duration } from '../../util/duration.js';
import { parseDuration } from '../../util/duration.js';
import { checkGlob } from '../../util/glob.js';
import { isWellFormed } from '../../util/validate.js';
import { SCOPED_TAG_MARK } from '../../cache/tag-scope.js';

/** A request the admin API refuses, with the status and message to answer. */
export class AdminRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'AdminRequestError';
  }
}

/** Default limit of an admin request body. */
export const DEFAULT_MAX_REQUEST_BYTES = 16 * 1024;

const MAX_LIST = 1000;
/** Strict: a malformed byte sequence throws rather than decoding to U+FFFD; a leading BOM is dropped. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });
const MAX_ITEM = 1024;

/** Reads and parses a JSON body of at most `limit` bytes; an empty body is `undefined`. */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const parsed = (req as IncomingMessage & { body?: unknown }).body;
  // Express 4's json() (body-parser 1.x) and Koa's body parsers leave `{}` for a content type they
  // do not parse (curl -d sends application/x-www-form-urlencoded) and the stream unread: read it here.
  if (parsed !== undefined && !(isEmptyPlaceholder(parsed) && !req.readableEnded)) return parsed;
  const declared = Number(req.headers['content-length']);
  if (declared > limit) throw new AdminRequestError(413, `request body exceeds ${limit} bytes`);
  if (req.readableEnded) return undefined;
  const text = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        // Stop reading; the 413 answer closes the connection rather than draining an unknown amount.
        req.pause();
        reject(new AdminRequestError(413, `request body exceeds ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => {
      try {
        resolve(UTF8.decode(Buffer.concat(chunks)));
      } catch {
        // Buffer#toString would turn each bad byte into U+FFFD: a key the client never named.
        reject(new AdminRequestError(400, 'request body is not valid UTF-8 (JSON must be sent as UTF-8)'));
      }
    });
    // A client that closes the connection mid-body is a bad request, not a failure of the admin API.
    const cutOff = (): void =>
      reject(new AdminRequestError(400, 'request body was cut off: the connection closed before it ended'));
    req.once('error', cutOff);
    req.once('close', () => {
      if (!req.complete) cutOff();
    });
  });
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new AdminRequestError(400, `request body is not valid JSON: ${(error as Error).message}`);
  }
}

function isEmptyPlaceholder(body: unknown): boolean {
  return (
    typeof body === 'object' &&
    body !== null &&
    Object.getPrototypeOf(body) === Object.prototype &&
    Object.keys(body).length === 0
  );
}

/** A validated `POST invalidate` body. */
export interface InvalidateCommand {
  cache?: string;
  /** Keys as typed in the JSON: `123` is the number key, `"123"` the string key. */
  keys: (string | number)[];
  tags: string[];
  patterns: string[];
}

/** A validated `POST config/:cache` body. */
export interface ConfigCommand {
  ttl?: Duration;
  enabled?: boolean;
}

function objectBody(body: unknown, allowed: readonly string[], example: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new AdminRequestError(400, `request body must be a JSON object like ${example}`);
  }
  for (const name of Object.keys(body)) {
    if (!allowed.includes(name)) {
      throw new AdminRequestError(400, `unknown field "${name}" (expected ${allowed.join(', ')})`);
    }
  }
  return body as Record<string, unknown>;
}

function stringList(body: Record<string, unknown>, name: string): string[] {
  return list(body, name, false) as string[];
}

/**
 * A list of non-empty strings (or, with `numbers`, also finite JSON numbers: cache keys may be numbers,
 * and `123` and `"123"` are different keys).
 */
function list(body: Record<string, unknown>, name: string, numbers: boolean): (string | number)[] {
  const value = body[name];
  const kinds = numbers ? 'strings or numbers' : 'strings';
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new AdminRequestError(400, `"${name}" must be an array of ${kinds}`);
  if (value.length > MAX_LIST)
    throw new AdminRequestError(400, `"${name}" may hold at most ${MAX_LIST} items`);
  for (const item of value) {
    if (numbers && typeof item === 'number') {
      // JSON.parse reads 1e999 as Infinity, which no key can be.
      if (!Number.isFinite(item)) throw new AdminRequestError(400, `"${name}" holds a non-finite number`);
      continue;
    }
    if (typeof item !== 'string' || item === '' || item.length > MAX_ITEM) {
      throw new AdminRequestError(
        400,
        `"${name}" must hold ${numbers ? 'numbers or ' : ''}non-empty strings of at most ${MAX_ITEM} characters`,
      );
    }
    // JSON may spell a lone surrogate ("\ud800"), which a shared tier refuses mid-request: refuse it here.
    if (!isWellFormed(item)) {
      throw new AdminRequestError(
        400,
        `"${name}" holds a string that is not well-formed UTF-16 (a lone surrogate)`,
      );
    }
  }
  return value as (string | number)[];
}

/** The `tags` list; a tag starting with U+E000 (reserved for namespaces' scoped tags) is refused here. */
function tagList(body: Record<string, unknown>): string[] {
  const tags = stringList(body, 'tags');
  if (tags.some((tag) => tag.startsWith(SCOPED_TAG_MARK)))
    throw new AdminRequestError(400, '"tags" holds a tag starting with U+E000 (reserved for namespaces)');
  return tags;
}

/**
 * The `patterns` list, each within the glob limits: a pattern the cache would refuse must be a 400
 * here, before the request's keys and tags are invalidated, not a 500 half-way through.
 */
function patternList(body: Record<string, unknown>): string[] {
  const patterns = stringList(body, 'patterns');
  patterns.forEach((pattern, i) => {
    try {
      checkGlob(pattern, `"patterns"[${i}]`);
    } catch (error) {
      throw new AdminRequestError(400, (error as Error).message);
    }
  });
  return patterns;
}

/** Validates `{ cache?, keys?, tags?, patterns? }` (keys may be JSON numbers); at least one list must be non-empty. */
export function parseInvalidate(body: unknown): InvalidateCommand {
  const example = '{ "tags": ["org:acme"] }';
  if (body === undefined) throw new AdminRequestError(400, `request body is required, e.g. ${example}`);
  const obj = objectBody(body, ['cache', 'keys', 'tags', 'patterns'], example);
  const command: InvalidateCommand = {
    keys: list(obj, 'keys', true),
    tags: tagList(obj),
    patterns: patternList(obj),
  };
  if (obj.cache !== undefined) {
    if (typeof obj.cache !== 'string' || obj.cache === '')
      throw new AdminRequestError(400, '"cache" must be a cache name');
    command.cache = obj.cache;
  }
  if (!command.keys.length && !command.tags.length && !command.patterns.length) {
    throw new AdminRequestError(400, 'name at least one of "keys", "tags" or "patterns"');
  }
  return command;
}

/** Validates `{ ttl?, enabled? }`; `ttl` is a duration (ms number or '5m'). */
export function parseConfig(body: unknown): ConfigCommand {
  const example = '{ "ttl": "5m", "enabled": true }';
  if (body === undefined) throw new AdminRequestError(400, `request body is required, e.g. ${example}`);
  const obj = objectBody(body, ['ttl', 'enabled'], example);
  const command: ConfigCommand = {};
  if (obj.ttl !== undefined) {
    try {
      parseDuration(obj.ttl as Duration, '"ttl"');
    } catch (error) {
      throw new AdminRequestError(400, (error as Error).message);
    }
    command.ttl = obj.ttl as Duration;
  }
  if (obj.enabled !== undefined) {
    if (typeof obj.enabled !== 'boolean') throw new AdminRequestError(400, '"enabled" must be true or false');
    command.enabled = obj.enabled;
  }
  if (command.ttl === undefined && command.enabled === undefined) {
    throw new AdminRequestError(400, 'name at least one of "ttl" or "enabled"');
  }
  return command;
}
