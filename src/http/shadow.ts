// A response that has been answered but whose handler still has to run: a stale-while-revalidate
// answer goes to the client first, then the handler revalidates the entry through the same `res`
// (node:http, Express and Fastify all write through the response object they were given). Shadowing
// gives the handler a fresh, unsent response to write into: its headers live in a private table and
// `headersSent`/`writableEnded` read as for a response not yet written, so frameworks that check them
// (Express's `res.set`, Fastify's `reply.send`) behave as on any request. The capture then takes what
// the handler writes, and nothing reaches the socket.
import type { OutgoingHttpHeader, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { SHADOW_ENDED } from './capture.js';

/** Gives an already-answered `res` a private header table and unsent state for a background handler run. */
export function shadowResponse(res: ServerResponse): void {
  const headers = new Map<string, { name: string; value: OutgoingHttpHeader }>();
  let ended = false;
  const own = res as unknown as Record<string, unknown>;
  own.setHeader = function setHeader(name: string, value: OutgoingHttpHeader) {
    headers.set(name.toLowerCase(), { name, value });
    return res;
  };
  own.appendHeader = function appendHeader(name: string, value: string | readonly string[]) {
    const key = name.toLowerCase();
    const prev = headers.get(key)?.value;
    const add = Array.isArray(value) ? [...(value as string[])] : [String(value)];
    const list = prev === undefined ? add : [...(Array.isArray(prev) ? prev : [String(prev)]), ...add];
    headers.set(key, { name, value: list });
    return res;
  };
  own.getHeader = (name: string) => headers.get(name.toLowerCase())?.value;
  own.getHeaders = () => {
    const out: OutgoingHttpHeaders = Object.create(null) as OutgoingHttpHeaders;
    for (const [key, { value }] of headers) out[key] = value;
    return out;
  };
  own.getHeaderNames = () => [...headers.keys()];
  own.getRawHeaderNames = () => [...headers.values()].map((h) => h.name);
  own.hasHeader = (name: string) => headers.has(name.toLowerCase());
  own.removeHeader = (name: string) => void headers.delete(name.toLowerCase());
  // The handler starts from a blank response, as on any request.
  res.statusCode = 200;
  // Streams piped into it (stream.pipeline) check these too: an ended or destroyed target aborts them.
  // Node itself still assigns some of them when the real connection ends (`destroyed`): those writes
  // are kept aside, and never reach what the handler reads.
  const shadow = (name: string, read: () => boolean): void => {
    let assigned: unknown;
    Object.defineProperty(res, name, {
      configurable: true,
      get: read,
      set: (value: unknown) => {
        assigned = value;
      },
    });
    void assigned;
  };
  shadow('headersSent', () => false);
  shadow('writableEnded', () => ended);
  shadow('finished', () => ended);
  shadow('writableFinished', () => ended);
  shadow('writable', () => !ended);
  shadow('destroyed', () => false);
  shadow('closed', () => false);
  // The capture replaces end(); this marks the shadow ended once the handler's end() has run through it.
  res.once(SHADOW_ENDED, () => (ended = true));
}

/** Marks a shadowed response as ended (the background handler finished writing). */
export function endShadow(res: ServerResponse): void {
  res.emit(SHADOW_ENDED);
}
