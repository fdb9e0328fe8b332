// Stored responses through a shared tier: two instances (each a cache over one in-process L2 and bus,
// the same code path as Redis minus the network) behind two HTTP servers. A response stored by one is
// served by the other from L2, byte for byte, and a write on one invalidates both.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCache } from '../../src/cache/create-cache.js';
import type { Cache } from '../../src/cache/types.js';
import { createHttpCache } from '../../src/http/http-cache.js';
import { MemoryBusHub } from '../../src/tiers/bus.js';
import { MemoryDriver } from '../../src/tiers/memory-driver.js';
import { memoryTier } from '../../src/tiers/redis-tier.js';
import { listen, type TestServer } from './helpers/server.js';

const opened: { cache: Cache; server: TestServer }[] = [];
afterEach(async () => {
  for (const { cache, server } of opened.splice(0)) {
    await server.close();
    await cache.close();
  }
});

describe('HTTP responses over a shared tier', () => {
  it('one instance serves what the other stored, and a write on either invalidates both', async () => {
    const driver = new MemoryDriver();
    const hub = new MemoryBusHub();
    let calls = 0;
    const app = (req: IncomingMessage, res: ServerResponse) => {
      if (req.method === 'POST') return void res.end('ok');
      res.writeHead(200, { 'content-type': 'application/octet-stream', link: ['</a>', '</b>'] });
      res.end(Buffer.from([0xff, 0x00, 0xc3, ++calls]));
    };
    const instance = async (id: string) => {
      const cache = createCache({ name: 'http', l2: memoryTier({ driver, hub, instanceId: id }) });
      const mw = createHttpCache({
        cache,
        rules: [{ path: '/orgs/:org/report', ttl: '1m', tags: ['org:{org}'] }],
        invalidate: [{ method: 'POST', path: '/orgs/:org/*', tags: ['org:{org}'] }],
      });
      // Behind one load balancer both instances see the public Host, which the default key holds.
      const server = await listen((req, res) => {
        req.headers.host = 'api.example';
        void mw(req, res, () => app(req, res));
      });
      opened.push({ cache, server });
      return server.url;
    };
    const a = await instance('A');
    const b = await instance('B');

    const first = await fetch(`${a}/orgs/acme/report`);
    const bytes = Buffer.from(await first.arrayBuffer());
    expect(first.headers.get('x-cache')).toBe('MISS');
    const fromL2 = await fetch(`${b}/orgs/acme/report`);
    expect(fromL2.headers.get('x-cache')).toBe('HIT');
    expect(fromL2.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(fromL2.headers.get('link')).toBe('</a>, </b>');
    expect(Buffer.from(await fromL2.arrayBuffer()).equals(bytes)).toBe(true);
    expect(calls).toBe(1);

    await fetch(`${b}/orgs/acme/plans`, { method: 'POST' });
    // The bus delivers the tag invalidation to A's L1 (by microtask on the memory bus).
    await vi.waitFor(() => expect(opened[0]!.cache.entries()).toHaveLength(0));
    const afterWrite = await fetch(`${a}/orgs/acme/report`);
    expect(afterWrite.headers.get('x-cache')).toBe('MISS');
    expect(calls).toBe(2);
  });
});
