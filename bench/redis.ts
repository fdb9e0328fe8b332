// The two-tier benchmark: Larder (L1 + Redis L2 + bus) beside bentocache (memory + Redis + bus, its
// Redis driver is ioredis) and cache-manager 7 (a memory Keyv + a @keyv/redis Keyv), all against one
// redis-server this script starts. Rows: get on an L1 hit, get from L2 alone, getOrSet on an L1 miss
// that L2 answers, set, and set without a bus. cache-manager has no bus (other instances' L1s are never
// told of a write), so its set does less than the others': the no-bus row compares all three doing the
// same work (L1 + L2, no invalidation message). Each row reports ops/s (median of rotated rounds after
// an unmeasured warm-up pass, C concurrent callers), Larder's ratio to each peer, client CPU per
// operation, Redis CPU per operation, and Redis commands and round trips per operation, from the deltas
// of INFO cpu, INFO commandstats and INFO stats' total_reads_processed (one server read = one client
// round trip). Before every pass the process settles: bus messages still in flight are delivered and
// a full GC runs, so no library's numbers include the garbage or the pub/sub backlog of the one
// measured before it (bentocache's bus row leaves thousands of messages and much garbage behind).
// The numbers catch regressions and show the shape of the costs; on a shared machine they are noisy.
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisBusDriver, redisDriver } from 'bentocache/drivers/redis';
import { createCache as createCacheManager } from 'cache-manager';
import { Redis } from 'ioredis';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import KeyvRedis from '@keyv/redis';
import { Keyv } from 'keyv';
import { createCache } from '../src/index.js';
import type { Cache } from '../src/index.js';
import { redisTier } from '../src/tiers/redis-tier.js';
import { RedisServer } from '../test/helpers/redis-server.js';
import { formatOps, formatRatio, markdownTable } from './lib/table.js';

/** What one library must offer for the rows. */
interface Subject {
  name: string;
  /** Two-tier read (answers from L1 once warm). */
  get(key: string): Promise<unknown>;
  /** Two-tier read-through. */
  getOrSet(key: string, load: () => Promise<unknown>): Promise<unknown>;
  /** Two-tier write (and, where the library has one, its invalidation message on the bus). */
  set(key: string, value: unknown): Promise<unknown>;
  /** Two-tier write on an instance configured without a bus (L1 + L2 only, as cache-manager always is). */
  setNoBus(key: string, value: unknown): Promise<unknown>;
  /** A second instance over the same Redis (writes keys the first has never seen in L1). */
  peerSet(key: string, value: unknown): Promise<unknown>;
  /** A read that goes to Redis every time (the library configured with the remote store only). */
  l2Get(key: string): Promise<unknown>;
  l2Set(key: string, value: unknown): Promise<unknown>;
  /** False when the library noticed a Redis failure during the row (only Larder reports it). */
  healthy?: () => boolean;
  close(): Promise<void>;
}

const quick = process.argv.includes('--quick');
/** `--row <text>`: run only the rows whose name contains it (e.g. `--row set`). */
const rowFilter = ((i) => (i === -1 ? undefined : process.argv[i + 1]))(process.argv.indexOf('--row'));
const CONCURRENCY = 32;
/** `--rounds <n>`: measured rounds per row (more give a steadier median on a busy machine). */
const ROUNDS = ((i) => (i === -1 ? (quick ? 3 : 5) : Number(process.argv[i + 1])))(
  process.argv.indexOf('--rounds'),
);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new RangeError('--rounds must be a positive integer');
// `gc` without --expose-gc on the command line: the flag is set before a fresh context asks for it.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** Lets the previous pass's leftovers (bus deliveries, timers) run out, then collects its garbage. */
async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 100));
  collectGarbage();
}

/** True during each row's warm-up pass: every library runs the row once, unmeasured, at a quarter of the ops. */
let warming = false;
const HOT_KEYS = 1000;
const TTL_MS = 3_600_000;
const VALUE = {
  id: 42,
  name: 'Pro plan',
  regions: ['fra1', 'ams3', 'nyc1'],
  prices: { monthly: 24, hourly: 0.036 },
  features: ['backups', 'monitoring', 'ipv6', 'private-networking'],
};

// The peers have no per-call timeout; Larder's default (50 ms) is about failing fast on a sick Redis,
// and on a machine this loaded a burst can exceed it and open the breaker, which would measure the
// fallback instead of Redis. So the bench gives it 1 s and checks after every row that L2 stayed up.
const LARDER_TIMEOUT = '1s';

async function larder(url: string): Promise<Subject> {
  const tier = (prefix: string, bus = true) => redisTier({ url, prefix, bus, timeout: LARDER_TIMEOUT });
  const tiered = (): Cache =>
    createCache({ name: 'bench', ttl: TTL_MS, maxEntries: 100_000, l2: tier('lb:') });
  const main = tiered();
  const peer = tiered();
  const quiet = createCache({ name: 'bench', ttl: TTL_MS, maxEntries: 100_000, l2: tier('lb3:', false) });
  const l2 = tier('lb2:', false).bind('bench');
  const entry = (value: unknown) => {
    const now = Date.now();
    return { value, createdAt: now, staleAt: now + TTL_MS, expiresAt: now + TTL_MS, tags: [] };
  };
  return {
    name: 'larder',
    get: (key) => main.get(key),
    getOrSet: (key, load) => main.getOrSet(key, load),
    set: (key, value) => main.set(key, value),
    setNoBus: (key, value) => quiet.set(key, value),
    peerSet: (key, value) => peer.set(key, value),
    l2Get: async (key) => (await l2.get(key))?.value,
    l2Set: (key, value) => l2.set(key, entry(value)),
    healthy: () =>
      main.health().status === 'ok' &&
      peer.health().status === 'ok' &&
      quiet.health().status === 'ok' &&
      l2.health().l2.status === 'ok',
    close: async () => {
      await main.close();
      await peer.close();
      await quiet.close();
      await l2.close();
    },
  };
}

async function bento(port: number): Promise<Subject> {
  const connection = { host: '127.0.0.1', port };
  const tiered = (): BentoCache<{ c: ReturnType<typeof bentostore> }> =>
    new BentoCache({
      default: 'c',
      stores: {
        c: bentostore()
          .useL1Layer(memoryDriver({ maxItems: 100_000 }))
          .useL2Layer(redisDriver({ connection, prefix: 'bb' }))
          .useBus(redisBusDriver({ connection })),
      },
    });
  const main = tiered();
  const peer = tiered();
  const quiet = new BentoCache({
    default: 'c',
    stores: {
      c: bentostore()
        .useL1Layer(memoryDriver({ maxItems: 100_000 }))
        .useL2Layer(redisDriver({ connection, prefix: 'bb3' })),
    },
  });
  const l2 = new BentoCache({
    default: 'c',
    stores: { c: bentostore().useL2Layer(redisDriver({ connection, prefix: 'bb2' })) },
  });
  return {
    name: 'bentocache',
    get: (key) => main.get({ key }),
    getOrSet: (key, load) => main.getOrSet({ key, factory: load, ttl: TTL_MS }),
    set: (key, value) => main.set({ key, value, ttl: TTL_MS }),
    setNoBus: (key, value) => quiet.set({ key, value, ttl: TTL_MS }),
    peerSet: (key, value) => peer.set({ key, value, ttl: TTL_MS }),
    l2Get: (key) => l2.get({ key }),
    l2Set: (key, value) => l2.set({ key, value, ttl: TTL_MS }),
    close: async () => {
      await main.disconnectAll();
      await peer.disconnectAll();
      await quiet.disconnectAll();
      await l2.disconnectAll();
    },
  };
}

async function cacheManager(url: string): Promise<Subject> {
  const redisStores: KeyvRedis<unknown>[] = [];
  const redisKeyv = (namespace: string): Keyv => {
    const store = new KeyvRedis(url);
    redisStores.push(store);
    return new Keyv({ store, namespace, useKeyPrefix: false });
  };
  const tiered = () => createCacheManager({ stores: [new Keyv(), redisKeyv('cm')] });
  const main = tiered();
  const peer = tiered();
  const l2 = createCacheManager({ stores: [redisKeyv('cm2')] });
  return {
    name: 'cache-manager',
    get: (key) => main.get(key),
    getOrSet: (key, load) => main.wrap(key, load, TTL_MS),
    set: (key, value) => main.set(key, value, TTL_MS),
    // It has no bus: its one kind of write is this one (other keys, so the rows do not share them).
    setNoBus: (key, value) => main.set(key, value, TTL_MS),
    peerSet: (key, value) => peer.set(key, value, TTL_MS),
    l2Get: (key) => l2.get(key),
    l2Set: (key, value) => l2.set(key, value, TTL_MS),
    close: async () => {
      await main.disconnect();
      await peer.disconnect();
      await l2.disconnect();
      for (const store of redisStores) await store.disconnect().catch(() => {});
    },
  };
}

/** Sums INFO commandstats calls, total_reads_processed and the server's CPU time (µs). */
async function serverCounters(admin: Redis): Promise<{ commands: number; reads: number; cpu: number }> {
  const commandstats = await admin.info('commandstats');
  let commands = 0;
  for (const match of commandstats.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) {
    if (match[1] !== 'info') commands += Number(match[2]);
  }
  const stats = await admin.info('stats');
  const reads = Number(/total_reads_processed:(\d+)/.exec(stats)?.[1] ?? 0);
  const cpu = await admin.info('cpu');
  const seconds = (name: string): number => Number(new RegExp(`${name}:([\\d.]+)`).exec(cpu)?.[1] ?? 0);
  return { commands, reads, cpu: (seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1e6 };
}

interface RowResult {
  opsPerSec: number;
  /** Client-side CPU (user + system) per operation, µs: steadier than wall time on a busy machine. */
  cpuMicrosPerOp: number;
  /** Redis CPU (user + system) per operation, µs: what the server spends, whoever waits for it. */
  serverMicrosPerOp: number;
  commandsPerOp: number;
  roundTripsPerOp: number;
}

/** Runs `ops` operations from CONCURRENCY callers; returns ops/s and server counters per op. */
async function measure(
  admin: Redis,
  rowOps: number,
  op: (i: number) => Promise<unknown>,
): Promise<RowResult> {
  const ops = warming ? Math.ceil(rowOps / 4) : rowOps;
  await settle();
  const before = await serverCounters(admin);
  // The admin client's own INFO reads show up in total_reads_processed: two per serverCounters call.
  const started = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, worker) => {
      for (let i = worker; i < ops; i += CONCURRENCY) await op(i);
    }),
  );
  const elapsed = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const after = await serverCounters(admin);
  return {
    opsPerSec: (ops * 1000) / elapsed,
    cpuMicrosPerOp: (used.user + used.system) / ops,
    serverMicrosPerOp: (after.cpu - before.cpu) / ops,
    commandsPerOp: (after.commands - before.commands) / ops,
    roundTripsPerOp: Math.max(0, after.reads - before.reads - 2) / ops,
  };
}

type RowName =
  | 'get, L1 hit (two-tier)'
  | 'get, L2 only'
  | 'getOrSet, L1 miss / L2 hit'
  | 'set (two-tier)'
  | 'set, no bus (two-tier)';
const ROWS: RowName[] = [
  'get, L1 hit (two-tier)',
  'get, L2 only',
  'getOrSet, L1 miss / L2 hit',
  'set (two-tier)',
  'set, no bus (two-tier)',
];

/** One round of one row for one subject. */
async function runRow(row: RowName, subject: Subject, admin: Redis, round: number): Promise<RowResult> {
  const hot = (i: number): string => `hot:${i % HOT_KEYS}`;
  const load = (): Promise<unknown> => Promise.resolve(VALUE);
  switch (row) {
    case 'get, L1 hit (two-tier)': {
      for (let i = 0; i < HOT_KEYS; i++) await subject.set(hot(i), VALUE);
      const check = await subject.get(hot(7));
      if (check === undefined) throw new Error(`${subject.name}: warm-up get missed`);
      return measure(admin, quick ? 50_000 : 200_000, (i) => subject.get(hot(i)));
    }
    case 'get, L2 only': {
      for (let i = 0; i < HOT_KEYS; i++) await subject.l2Set(hot(i), VALUE);
      return measure(admin, quick ? 5_000 : 20_000, (i) => subject.l2Get(hot(i)));
    }
    case 'getOrSet, L1 miss / L2 hit': {
      const ops = quick ? 5_000 : 20_000;
      const key = (i: number): string => `r${round}:${i}`;
      // In batches: a burst of thousands of writes would trip any per-call timeout on a busy loop.
      for (let i = 0; i < ops; i += 100) {
        await Promise.all(
          Array.from({ length: Math.min(100, ops - i) }, (_, j) => subject.peerSet(key(i + j), VALUE)),
        );
      }
      // Let the peer's bus messages drain before timing the reader.
      await new Promise((resolve) => setTimeout(resolve, 200));
      let loads = 0;
      const result = await measure(admin, ops, (i) =>
        subject.getOrSet(key(i), () => {
          loads++;
          return load();
        }),
      );
      if (loads > ops * 0.01)
        console.warn(`  ${subject.name}: ${loads} of ${ops} getOrSet calls ran the loader`);
      return result;
    }
    case 'set (two-tier)':
      return measure(admin, quick ? 5_000 : 20_000, (i) => subject.set(`w:${i % 5000}`, VALUE));
    case 'set, no bus (two-tier)':
      return measure(admin, quick ? 5_000 : 20_000, (i) => subject.setNoBus(`n:${i % 5000}`, VALUE));
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const server = await RedisServer.start();
  const admin = new Redis(server.url);
  const port = server.port;
  const subjects = [await larder(server.url), await bento(port), await cacheManager(server.url)];
  console.log(
    `redis-server ${port}, ${CONCURRENCY} concurrent callers, a warm-up pass then ${ROUNDS} rounds per row (median), value ${JSON.stringify(VALUE).length} B JSON${quick ? ', --quick' : ''}`,
  );
  const table: string[][] = [];
  try {
    for (const row of ROWS.filter((name) => rowFilter === undefined || name.includes(rowFilter))) {
      const runs = new Map<string, RowResult[]>(subjects.map((s) => [s.name, []]));
      // An unmeasured pass first, so no library's first measured round is also its JIT warm-up.
      warming = true;
      for (const subject of subjects) await runRow(row, subject, admin, -1);
      warming = false;
      for (let round = 0; round < ROUNDS; round++) {
        // Rotate the order so no library always runs first (JIT, Redis memory, machine noise).
        const order = subjects.map((_, i) => subjects[(i + round) % subjects.length]!);
        for (const subject of order) {
          runs.get(subject.name)!.push(await runRow(row, subject, admin, round));
          if (subject.healthy?.() === false)
            console.warn(`  ${subject.name}: L2 reported a failure during "${row}"`);
        }
      }
      const summary = subjects.map((s) => {
        const results = runs.get(s.name)!;
        return {
          name: s.name,
          ops: median(results.map((r) => r.opsPerSec)),
          cpu: median(results.map((r) => r.cpuMicrosPerOp)),
          server: median(results.map((r) => r.serverMicrosPerOp)),
          commands: median(results.map((r) => r.commandsPerOp)),
          trips: median(results.map((r) => r.roundTripsPerOp)),
        };
      });
      const [l, b, c] = summary as [(typeof summary)[0], (typeof summary)[0], (typeof summary)[0]];
      table.push([
        row,
        formatOps(l.ops),
        formatOps(b.ops),
        formatOps(c.ops),
        formatRatio(l.ops / b.ops),
        formatRatio(l.ops / c.ops),
        summary.map((s) => s.cpu.toFixed(1)).join(' / '),
        summary.map((s) => s.server.toFixed(1)).join(' / '),
        summary.map((s) => s.commands.toFixed(2)).join(' / '),
        summary.map((s) => s.trips.toFixed(2)).join(' / '),
      ]);
      console.log(`  ${row}: ${summary.map((s) => `${s.name} ${formatOps(s.ops)}`).join(', ')}`);
    }
  } finally {
    for (const subject of subjects) await subject.close();
    admin.disconnect();
    await server.destroy();
  }
  console.log('');
  console.log(
    markdownTable(
      [
        'operation',
        'larder ops/s',
        'bentocache ops/s',
        'cache-manager ops/s',
        'vs bentocache',
        'vs cache-manager',
        'client CPU µs/op (L/B/C)',
        'Redis CPU µs/op (L/B/C)',
        'Redis cmds/op (L/B/C)',
        'round trips/op (L/B/C)',
      ],
      table,
      ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    ),
  );
  console.log(
    '\ncache-manager has no bus: its "set (two-tier)" writes L1 and L2 only, which is what every library does in "set, no bus".',
  );
  console.log(
    "Larder's Redis commands per write count the SET its versioned-write script runs per key (plus one script call and one MGET per batch of up to 16 writes).",
  );
}

await main();
