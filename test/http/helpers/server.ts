// Test helper: starts a node:http server on an ephemeral port and closes it after the test.
import { createServer, request as httpRequest, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, vi } from 'vitest';

/** A running server and its base URL. */
export interface TestServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 with an ephemeral port. */
export async function listen(handler: RequestListener | Server): Promise<TestServer> {
  const server = typeof handler === 'function' ? createServer(handler) : handler;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A response read with node:http, so no header is added behind the test's back. */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * Sends a request with exactly the given headers. `fetch` adds `Cache-Control: no-cache` to any
 * request that sets If-None-Match itself (Fetch standard, cache mode "no-store"), which would turn
 * every conditional request of a test into a revalidation.
 */
export function rawRequest(
  url: string,
  headers: Record<string, string> = {},
  method = 'GET',
  target?: string,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    // `target`: the request line's target as sent, in place of the url's path (the absolute-form, say).
    const options = target === undefined ? { method, headers } : { method, headers, path: target };
    const req = httpRequest(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: Buffer.concat(chunks).toString(),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Opens `url` and resolves with what has arrived once `text` is part of it, while the response is still
 * open (it is destroyed then): a streamed body must reach its client as it is written, not at its end.
 */
export async function receivedWhileOpen(url: string, text: string): Promise<string> {
  let got = '';
  const req = httpRequest(url, (res) => res.on('data', (chunk: Buffer) => (got += chunk.toString())));
  req.on('error', () => undefined); // destroyed below, mid-response
  req.end();
  try {
    await vi.waitFor(() => expect(got).toContain(text));
    return got;
  } finally {
    req.destroy();
  }
}
