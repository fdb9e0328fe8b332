// Cross-instance invalidation latency: the time from `delete` (or `set`, or `invalidateTags`) on
// instance A until instance B's L1 no longer holds the key, over Redis pub/sub on a redis-server this
// script starts. B reports the moment through its `cache:evict` event. Both instances live in this
// process (one event loop), which adds no network hop but shares the CPU; p50/p99/max per kind.
import { createCache } from '../src/index.js';
import type { Cache } from '../src/index.js';
import { redisTier } from '../src/tiers/redis-tier.js';
import { RedisServer } from '../test/helpers/redis-server.js';
import { markdownTable } from './lib/table.js';

const quick = process.argv.includes('--quick');
const SAMPLES = quick ? 300 : 2000;
const KEYS = 100;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Resolves when B's L1 drops `key`, with the time it happened. */
function evicted(b: Cache, key: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      b.off('cache:evict', listener);
      reject(new Error(`B never dropped ${key}`));
    }, 2000);
    const listener = (event: { key: unknown }): void => {
      if (event.key !== key) return;
      clearTimeout(timer);
      b.off('cache:evict', listener);
      resolve(performance.now());
    };
    b.on('cache:evict', listener);
  });
}

type Kind = 'delete' | 'set' | 'invalidateTags';

async function measure(a: Cache, b: Cache, kind: Kind): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const key = `k${i % KEYS}`;
    const tag = `tag:${key}`;
    await a.set(key, { i }, { tags: [tag] });
    if ((await b.get(key)) === undefined) throw new Error(`B could not read ${key} from L2`);
    const dropped = evicted(b, key);
    const started = performance.now();
    if (kind === 'delete') void a.delete(key);
    else if (kind === 'set') void a.set(key, { i: -i }, { tags: [tag] });
    else void a.invalidateTags([tag]);
    samples.push((await dropped) - started);
  }
  return samples.sort((x, y) => x - y);
}

async function main(): Promise<void> {
  const server = await RedisServer.start();
  const open = (id: string): Cache =>
    createCache({
      name: 'latency',
      ttl: '1h',
      l2: redisTier({ url: server.url, instanceId: id, timeout: '1s' }),
    });
  const a = open('A');
  const b = open('B');
  const rows: string[][] = [];
  try {
    const deadline = Date.now() + 5000;
    while ([a, b].some((c) => c.health().bus?.status !== 'ok')) {
      if (Date.now() > deadline) throw new Error('bus did not come up');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (const kind of ['delete', 'set', 'invalidateTags'] as const) {
      await measure(a, b, kind); // warm-up pass, same length
      const samples = await measure(a, b, kind);
      rows.push([
        kind,
        String(samples.length),
        percentile(samples, 50).toFixed(3),
        percentile(samples, 99).toFixed(3),
        samples[samples.length - 1]!.toFixed(3),
      ]);
      console.log(`  ${kind}: p50 ${rows.at(-1)![2]} ms, p99 ${rows.at(-1)![3]} ms`);
    }
  } finally {
    await a.close();
    await b.close();
    await server.destroy();
  }
  console.log('');
  console.log(
    `Cross-instance invalidation latency (A's call until B's L1 drops the key), ${SAMPLES} samples per kind`,
  );
  console.log(
    markdownTable(['operation on A', 'samples', 'p50 ms', 'p99 ms', 'max ms'], rows, [
      'left',
      'right',
      'right',
      'right',
      'right',
    ]),
  );
}

await main();
