// Shared by the HTTP examples: reads one cached route twice and checks the second answer came from the
// cache without running the handler again. Not an example of its own.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** GETs `path` twice on `server` and throws unless the second answer is an X-Cache HIT. */
export async function readTwice(server: Server, path: string, handlerCalls: () => number): Promise<void> {
  if (!server.listening) await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}${path}`;
  const first = await fetch(url);
  await first.text();
  const second = await fetch(url);
  const body = await second.text();
  const seen = [first.headers.get('x-cache'), second.headers.get('x-cache')];
  console.log(`GET ${path}: X-Cache ${seen.join(' then ')}, handler ran ${handlerCalls()}x: ${body}`);
  if (seen[1] !== 'HIT' || handlerCalls() !== 1)
    throw new Error(`expected a MISS then a HIT, got ${seen.join(', ')}`);
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}
