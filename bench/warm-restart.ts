// `npm run bench:warm`: what predictive warming buys after a restart. A service reads keys drawn from
// Zipf(0.99) over 100k keys through a 5k-entry cache (getOrSet, 10-minute TTL), shuts down writing its
// snapshot, and starts again 9 minutes later, when the hottest keys, loaded first, have gone stale.
// The next start is measured three ways over the same request stream: cold (no snapshot), restore
// only (fresh entries come back, stale ones are dropped) and restore plus `persist.warm` (the
// snapshot's hottest keys that went stale are fetched again at start), with two values of `top`. Printed: the hit ratio of the
// first K requests, and the upstream calls warming itself made. Time runs on a manual clock (1 ms per
// request), so the figures depend only on the seed; they are for catching regressions.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCacheManager, type CacheManager, type PersistOptions } from '../src/index.js';
import { createZipf } from './lib/zipf.js';
import { createRandom, shuffle } from './lib/prng.js';
import { formatPercent, markdownTable } from './lib/table.js';

const KEYS = 100_000;
const SKEW = 0.99;
const CAPACITY = 5_000;
const TTL = 10 * 60_000;
const BEFORE = 200_000;
const DOWNTIME = 9 * 60_000;
const FIRST = [1_000, 10_000, 50_000];
const WARM_TOP = CAPACITY;

const random = createRandom(20261204);
// One popularity order for both runs: the same keys are hot before and after the restart.
const keyOf = shuffle(
  random,
  Array.from({ length: KEYS }, (_, i) => `url:${i}`),
);
const sample = createZipf(KEYS, SKEW, random);
const trace = (length: number): string[] => Array.from({ length }, () => keyOf[sample()]!);
const beforeTrace = trace(BEFORE);
const afterTrace = trace(Math.max(...FIRST));

const dir = mkdtempSync(join(tmpdir(), 'larder-warm-bench-'));
const path = join(dir, 'caches.snap');
let now = 1_700_000_000_000;
const clock = (): number => now;
const upstream = (key: string): string => `https://example.com/${key}`;

function manager(persist?: PersistOptions): CacheManager {
  return createCacheManager({
    clock,
    defaults: { ttl: TTL, cleanupInterval: 0 },
    caches: { url: { maxEntries: CAPACITY } },
    ...(persist === undefined ? {} : { persist }),
  });
}

// Replays `keys` through getOrSet; answers the cumulative hit count after each of FIRST requests.
async function replay(m: CacheManager, keys: readonly string[]): Promise<number[]> {
  const url = m.get<string>('url');
  let misses = 0;
  const hits: number[] = [];
  for (let i = 0; i < keys.length; i++) {
    now += 1;
    await url.getOrSet(keys[i]!, (ctx) => {
      misses++;
      return upstream(String(ctx.key));
    });
    if (FIRST.includes(i + 1)) hits.push(i + 1 - misses);
  }
  return hits;
}

// The previous process: runs, then shuts down writing the snapshot.
const previous = manager({ path, onShutdown: true });
await replay(previous, beforeTrace);
await previous.close();
const restartAt = now + DOWNTIME;

interface Row {
  name: string;
  hits: number[];
  warmCalls: number;
}
// undefined: no snapshot; 0: restore only; otherwise persist.warm.top.
const VARIANTS: readonly { name: string; top: number | undefined }[] = [
  { name: 'cold', top: undefined },
  { name: 'restore', top: 0 },
  { name: `restore + warm, top ${WARM_TOP / 10}`, top: WARM_TOP / 10 },
  { name: `restore + warm, top ${WARM_TOP}`, top: WARM_TOP },
];
const rows: Row[] = [];
for (const variant of VARIANTS) {
  now = restartAt;
  let warmCalls = 0;
  const loader = (key: unknown): string => {
    warmCalls++;
    return upstream(String(key));
  };
  const top = variant.top;
  const m = manager(
    top === undefined
      ? undefined
      : { path, onShutdown: false, ...(top > 0 ? { warm: { top, concurrency: 16, loader } } : {}) },
  );
  await m.ready;
  rows.push({ name: variant.name, hits: await replay(m, afterTrace), warmCalls });
  await m.close();
}
rmSync(dir, { recursive: true, force: true });

console.log(
  `Warm restart: Zipf(${SKEW}) over ${KEYS} keys, ${CAPACITY}-entry cache, TTL ${TTL / 60_000} min, ` +
    `${BEFORE} requests before a ${DOWNTIME / 60_000} min restart.\n`,
);
console.log(
  markdownTable(
    ['start', ...FIRST.map((k) => `hit ratio, first ${k}`), 'upstream calls while warming'],
    rows.map((r) => [r.name, ...r.hits.map((h, i) => formatPercent(h / FIRST[i]!)), String(r.warmCalls)]),
    ['left', ...FIRST.map(() => 'right' as const), 'right'],
  ),
);
