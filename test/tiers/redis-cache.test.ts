// createCache({ l2: redisTier() }) against a real redis-server started here: several Cache instances
// (and one in a separate Node process) invalidating each other; chaos — Redis killed under a steady
// getOrSet load and restarted — counting failed requests, stale answers and time to recover; and
// Redis down at startup.
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createCache } from '../../src/index.js';
import type { Cache } from '../../src/index.js';
import { redisTier } from '../../src/tiers/redis-tier.js';
import { RedisServer, freePort } from '../helpers/redis-server.js';
import { describeWithRedis } from './describe-with-redis.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const fast = { timeout: 100, breaker: { threshold: 3, resetAfter: 200 }, reconnectMaxDelay: 100 } as const;
const inL1 = (cache: Cache): string[] => cache.entries().map((e) => e.key);

/** Drives the child-process instance over JSON lines. */
class ChildInstance {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #waiting = new Map<number, (reply: { result?: unknown; error?: string }) => void>();
  readonly ready: Promise<void>;
  #next = 0;

  constructor(url: string) {
    const script = fileURLToPath(new URL('./fixtures/cache-instance.ts', import.meta.url));
    this.#child = spawn(process.execPath, ['--import', 'tsx', script, url], { stdio: 'pipe' });
    let markReady: () => void = () => {};
    this.ready = new Promise((resolve) => (markReady = resolve));
    createInterface({ input: this.#child.stdout }).on('line', (line) => {
      const reply = JSON.parse(line) as { id?: number; ready?: boolean; result?: unknown; error?: string };
      if (reply.ready) return markReady();
      this.#waiting.get(reply.id!)?.(reply);
      this.#waiting.delete(reply.id!);
    });
  }

  async call(op: string, key?: string, value?: unknown): Promise<unknown> {
    const id = this.#next++;
    const reply = await new Promise<{ result?: unknown; error?: string }>((resolve) => {
      this.#waiting.set(id, resolve);
      this.#child.stdin.write(`${JSON.stringify({ id, op, key, value })}\n`);
    });
    if (reply.error !== undefined) throw new Error(reply.error);
    return reply.result;
  }

  /** Ends stdin; resolves with the exit code, or 'killed' when the process had to be killed. */
  async stop(): Promise<number | 'killed'> {
    if (this.#child.exitCode !== null) return this.#child.exitCode;
    const exited = new Promise<number | null>((resolve) => this.#child.once('exit', resolve));
    this.#child.stdin.end();
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      this.#child.kill('SIGKILL');
    }, 5000);
    const code = await exited;
    clearTimeout(timer);
    return killed ? 'killed' : (code ?? 'killed');
  }
}

describeWithRedis('createCache with redisTier (real redis-server)', () => {
  let server: RedisServer;
  const caches: Cache[] = [];
  const open = (name: string, id: string, prefix = 'rc:'): Cache => {
    const cache = createCache({
      name,
      ttl: '1m',
      retry: false,
      l2: redisTier({ url: server.url, prefix, instanceId: id, ...fast }),
    });
    caches.push(cache);
    return cache;
  };
  const busUp = (cache: Cache): Promise<void> =>
    vi.waitFor(() => expect(cache.health().bus?.status).toBe('ok'), { timeout: 5000 });

  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(async () => {
    await Promise.all(caches.map((cache) => cache.close()));
    await server.destroy();
  });

  it('three instances: every kind of write on one evicts the others’ L1 copies', async () => {
    const [a, b, c] = ['A', 'B', 'C'].map((id) => open('multi', id)) as [Cache, Cache, Cache];
    await Promise.all([a, b, c].map(busUp));
    await a.set('k', 'v1', { tags: ['org:acme'] });
    await a.set('p:1', 1);
    await a.namespace('ns').set('x', 2);
    for (const cache of [b, c]) {
      expect(await cache.get('k')).toBe('v1');
      expect(await cache.get('p:1')).toBe(1);
      expect(await cache.namespace('ns').get('x')).toBe(2);
    }
    await a.set('k', 'v2', { tags: ['org:acme'] });
    await vi.waitFor(() => expect(inL1(b)).not.toContain('k'));
    expect(await b.get('k')).toBe('v2');
    await a.invalidateTags(['org:acme']);
    await vi.waitFor(() => expect(inL1(c)).not.toContain('k'));
    await a.invalidatePattern('p:*');
    await vi.waitFor(() => expect(inL1(c)).not.toContain('p:1'));
    await a.namespace('ns').clear();
    await vi.waitFor(() => expect(inL1(b)).not.toContain('ns:x'));
    expect(await b.get('k')).toBeUndefined();
    expect(await c.get('p:1')).toBeUndefined();
    expect(await c.namespace('ns').get('x')).toBeUndefined();
    expect(inL1(a)).toEqual([]); // A's own invalidations emptied A; A's messages did not come back to it
  });

  it('a second Node process sees this process’s writes and invalidations', async () => {
    const child = new ChildInstance(server.url);
    try {
      await child.ready;
      await vi.waitFor(
        async () => expect(await child.call('health')).toMatchObject({ bus: { status: 'ok' } }),
        {
          timeout: 10_000,
        },
      );
      const parent = open('shared', 'parent', 'mp:');
      await busUp(parent);
      expect(await child.call('getOrSet', 'k', 'from child')).toBe('from child');
      expect(await parent.get('k')).toBe('from child');
      await parent.set('k', 'from parent');
      await vi.waitFor(async () => expect(await child.call('l1')).toEqual([]));
      expect(await child.call('get', 'k')).toBe('from parent');
      await parent.delete('k');
      await vi.waitFor(async () => expect(await child.call('get', 'k')).toBeNull());
      expect(await child.call('close')).toBe('closed');
      // close() released the connections, the bus and every timer: the process ends by itself.
      expect(await child.stop()).toBe(0);
    } finally {
      await child.stop();
    }
  }, 30_000);

  it('chaos: Redis killed under steady getOrSet load — no failed request, no stale answer after recovery', async () => {
    const a = open('chaos', 'A');
    const b = open('chaos', 'B');
    await Promise.all([a, b].map(busUp));
    const keys = Array.from({ length: 40 }, (_, i) => `item:${i}`);
    const version = new Map<string, number>(keys.map((k) => [k, 1]));
    const load = (key: string) => () => ({ key, version: version.get(key)! });
    for (const key of keys) await a.getOrSet(key, load(key));
    let requests = 0;
    let failures = 0;
    let slowestMs = 0;
    let running = true;
    const worker = async (cache: Cache, offset: number): Promise<void> => {
      for (let i = offset; running; i++) {
        const key = keys[i % keys.length]!;
        const started = performance.now();
        try {
          const value = (await cache.getOrSet(key, load(key))) as { key: string };
          if (value.key !== key) failures++;
        } catch {
          failures++;
        }
        slowestMs = Math.max(slowestMs, performance.now() - started);
        requests++;
        if (i % 20 === 0) await sleep(1); // paces the load generator; it waits for nothing
      }
    };
    const load$ = Promise.all([worker(a, 0), worker(a, 7), worker(b, 3), worker(b, 11)]);
    await vi.waitFor(() => expect(requests).toBeGreaterThan(50)); // the load is steady
    await server.kill();
    const atKill = requests;
    // Writes during the outage, once both instances see it: L2 and the bus miss them; they are
    // replayed when Redis is back.
    await vi.waitFor(() => [a, b].forEach((cache) => expect(cache.health().l2?.status).not.toBe('ok')), {
      timeout: 5000,
    });
    for (const key of keys.slice(0, 10)) {
      version.set(key, 2);
      await a.delete(key);
    }
    // The load goes on while Redis is gone (within the half second it had before).
    await vi.waitFor(() => expect(requests - atKill).toBeGreaterThan(50), { timeout: 500 });
    const duringOutage = requests - atKill;
    const restarted = performance.now();
    await server.restart();
    await vi.waitFor(
      () => {
        for (const cache of [a, b]) {
          expect(cache.health().status).toBe('ok');
          expect(cache.health().l2).toMatchObject({ pending: 0 });
        }
      },
      { timeout: 10_000, interval: 20 },
    );
    const recoveryMs = performance.now() - restarted;
    running = false;
    await load$;
    // After recovery, a write on A must never leave B answering the old version.
    for (const key of keys.slice(10, 20)) {
      version.set(key, 3);
      await a.set(key, { key, version: 3 });
    }
    // B has heard the writes (its L1 dropped them) within the 100 ms it was given before.
    await vi.waitFor(() => expect(inL1(b).filter((key) => keys.slice(10, 20).includes(key))).toEqual([]), {
      timeout: 100,
      interval: 5,
    });
    let stale = 0;
    for (const key of keys) {
      const value = (await b.getOrSet(key, load(key))) as { version: number };
      if (value.version !== version.get(key)) stale++;
    }
    console.log(
      `chaos: ${requests} requests (${duringOutage} while Redis was down), ${failures} failed, ` +
        `${stale} stale after recovery, slowest ${slowestMs.toFixed(0)} ms, ` +
        `recovered in ${recoveryMs.toFixed(0)} ms after restart`,
    );
    expect(requests).toBeGreaterThan(100);
    // The load kept being answered (from L1 and the loader) while Redis was gone.
    expect(duringOutage).toBeGreaterThan(50);
    expect(failures).toBe(0);
    expect(stale).toBe(0);
    // A getOrSet of these untagged keys makes at most three L2 calls in a row (the read, one re-read
    // if an invalidation raced it, the write), each cut off at the tier timeout; 50 ms is for the rest.
    expect(slowestMs).toBeLessThan(3 * fast.timeout + 50);
    expect(recoveryMs).toBeLessThan(5000);
  }, 30_000);

  it('outages reach the caches’ logger: one error line per outage and one info line on recovery', async () => {
    const own = await RedisServer.start();
    const lines: Array<{ level: string; message: string }> = [];
    const logger = Object.fromEntries(
      ['debug', 'info', 'warn', 'error'].map((level) => [
        level,
        (message: string) => lines.push({ level, message }),
      ]),
    );
    const at = (level: string): string[] => lines.filter((l) => l.level === level).map((l) => l.message);
    // One tier without a logger of its own, shared by two caches that have one.
    const tier = redisTier({ url: own.url, prefix: 'log:', ...fast });
    const users = createCache({ name: 'users', logger, retry: false, l2: tier });
    const plans = createCache({ name: 'plans', logger, retry: false, l2: tier });
    try {
      await Promise.all([users, plans].map(busUp));
      for (let outage = 1; outage <= 2; outage++) {
        await own.kill();
        for (let i = 0; i < 50; i++) {
          for (const cache of [users, plans])
            expect(await cache.getOrSet(`o${outage}:${i}`, () => i)).toBe(i);
        }
        expect(at('error')).toHaveLength(outage);
        expect(at('info')).toHaveLength(outage - 1);
        await own.restart();
        await vi.waitFor(
          async () => {
            await users.get(`probe:${outage}`);
            expect(at('info')).toHaveLength(outage);
          },
          { timeout: 10_000, interval: 50 },
        );
        await Promise.all([users, plans].map(busUp));
      }
      expect(at('error')).toEqual([
        expect.stringMatching(/^L2 redis unavailable/),
        expect.stringMatching(/^L2 redis unavailable/),
      ]);
      expect(at('info')).toEqual([
        expect.stringMatching(/^L2 redis recovered/),
        expect.stringMatching(/^L2 redis recovered/),
      ]);
      // Per outage: the circuit opening and the bus resync, each once for the tier, not per cache.
      const warns = at('warn');
      expect(warns.filter((m) => m.startsWith('L2 redis circuit opened'))).toHaveLength(2);
      expect(warns.filter((m) => m.startsWith('bus reconnected'))).toHaveLength(2);
      expect(warns).toHaveLength(4);
    } finally {
      await users.close();
      await plans.close();
      await own.destroy();
    }
  }, 30_000);

  it('Redis down at startup: the app starts, answers from the loader, and recovers when Redis appears', async () => {
    const port = await freePort();
    const cache = createCache({
      name: 'late',
      retry: false,
      l2: redisTier({ url: `redis://127.0.0.1:${port}`, ...fast, connectTimeout: 500 }),
    });
    caches.push(cache);
    let started = performance.now();
    expect(await cache.getOrSet('k', () => 'loaded')).toBe('loaded');
    expect(performance.now() - started).toBeLessThan(3000);
    started = performance.now();
    for (let i = 0; i < 20; i++) expect(await cache.getOrSet(`k${i}`, () => i)).toBe(i);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(cache.health().status).toBe('degraded');
    const late = await RedisServer.start({ port });
    try {
      await vi.waitFor(
        async () => {
          await cache.set('probe', 1);
          expect(cache.health().status).toBe('ok');
          expect(cache.health().l2).toMatchObject({ pending: 0 });
        },
        { timeout: 10_000, interval: 50 },
      );
      // A failed write of 'probe' above left a pending delete, whose replay may have landed after the
      // write that succeeded: with nothing pending any more, this write is the last word.
      await cache.set('probe', 1);
      // A patient timeout: on a loaded machine a fresh client's first GET can take over the default 50 ms.
      const other = createCache({ name: 'late', l2: redisTier({ url: late.url, timeout: 2000 }) });
      expect(await other.get('probe')).toBe(1);
      await other.close();
    } finally {
      await cache.close();
      await late.destroy();
    }
  }, 30_000);
});
