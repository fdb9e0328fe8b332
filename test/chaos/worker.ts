// One cache instance of the chaos test, in its own Node process (forked by the harness with
// `--import tsx`): L1 + redisTier, persisted to its own snapshot dir. It runs the operations the
// controller sends over IPC; its loader asks the controller for the value (a fresh version).
import { join } from 'node:path';
import { createCache } from '../../src/index.js';
import { redisTier } from '../../src/entries/redis.js';

/** Arguments of the worker, passed as one JSON argv entry. */
export interface WorkerConfig {
  url: string;
  instance: string;
  dir: string;
  /** Snapshot period, ms. */
  snapshotInterval: number;
}

/** A value as the chaos test stores it. */
export interface ChaosValue {
  key: string;
  version: number;
}

/** A request from the controller. */
export type WorkerRequest =
  | { type: 'op'; id: number; op: 'getOrSet' | 'get' | 'delete'; key: string; tags?: string[] }
  | { type: 'op'; id: number; op: 'set'; key: string; tags: string[]; value: ChaosValue }
  | { type: 'op'; id: number; op: 'invalidateTags'; tags: string[] }
  | { type: 'op'; id: number; op: 'invalidatePattern'; pattern: string }
  | { type: 'loaded'; loadId: number; value: ChaosValue }
  | { type: 'close' };

/** A message to the controller. */
export type WorkerReply =
  | { type: 'ready' }
  | { type: 'done'; id: number; result?: unknown; error?: string }
  | { type: 'load'; loadId: number; opId: number; key: string };

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;
const send = (message: WorkerReply): void => {
  process.send?.(message);
};
const log =
  (level: string) =>
  (message: unknown, ...rest: unknown[]) =>
    process.stderr.write(
      `${new Date().toISOString()} ${level} ${String(message)} ${rest.map((r) => JSON.stringify(r)).join(' ')}\n`,
    );

const cache = createCache<ChaosValue>({
  name: 'chaos',
  ttl: '1m',
  retry: false,
  maxEntries: 10_000,
  logger: { debug: () => {}, info: log('info'), warn: log('warn'), error: log('error') },
  l2: redisTier({
    url: config.url,
    prefix: 'chaos:',
    instanceId: config.instance,
    timeout: 100,
    breaker: { threshold: 3, resetAfter: 200 },
    reconnectMaxDelay: 100,
  }),
  persist: { path: join(config.dir, 'chaos.snap'), interval: config.snapshotInterval },
});

let nextLoad = 0;
const loads = new Map<number, (value: ChaosValue) => void>();

function run(request: Extract<WorkerRequest, { type: 'op' }>): Promise<unknown> {
  switch (request.op) {
    case 'getOrSet':
      return cache.getOrSet(
        request.key,
        () =>
          new Promise<ChaosValue>((resolve) => {
            const loadId = nextLoad++;
            loads.set(loadId, resolve);
            send({ type: 'load', loadId, opId: request.id, key: request.key });
          }),
        { tags: request.tags },
      );
    case 'get':
      return cache.get(request.key);
    case 'set':
      return cache.set(request.key, request.value, { tags: request.tags });
    case 'delete':
      return cache.delete(request.key);
    case 'invalidateTags':
      return cache.invalidateTags(request.tags);
    case 'invalidatePattern':
      return cache.invalidatePattern(request.pattern);
  }
}

process.on('message', (request: WorkerRequest) => {
  if (request.type === 'loaded') {
    loads.get(request.loadId)?.(request.value);
    loads.delete(request.loadId);
  } else if (request.type === 'close') {
    // A graceful exit: close() takes the shutdown snapshot (and, where supported, persists the outbox).
    void cache.close().finally(() => process.exit(0));
  } else {
    run(request).then(
      (result) => send({ type: 'done', id: request.id, result }),
      (error: unknown) =>
        send({ type: 'done', id: request.id, error: error instanceof Error ? error.message : String(error) }),
    );
  }
});

// The restore from the snapshot ran synchronously inside createCache; serving may start.
void Promise.resolve(cache.ready).then(() => send({ type: 'ready' }));
