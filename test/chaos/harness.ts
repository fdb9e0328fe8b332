// The controller of the coherence chaos test: starts a redis-server and three cache instances in
// separate processes (test/chaos/worker.ts), drives a seeded mix of operations at them while injecting
// faults, records the history and hands it to the checker. Used by the CI test and the soak runner.
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { RedisServer } from '../helpers/redis-server.js';
import { causeOf, check, describeViolation, emptyHistory, OTHER_INSTANCE_LAG_MS } from './checker.js';
import type { History, ReadRecord, Violation, WriteRecord } from './checker.js';
import type { ChaosValue, WorkerConfig, WorkerReply, WorkerRequest } from './worker.js';
import { seededRandom } from '../helpers/random.js';

/** Keys, tags and patterns of the scripted key space. */
export const KEY_COUNT = 40;
export const TAG_COUNT = 5;
export const PATTERNS = ['g0:*', 'g1:*'] as const;
/** An operation not answered within this long is counted as stuck (and the client moves on). */
export const STUCK_MS = 5_000;

/** The fault kinds the harness injects. */
export const FAULT_KINDS = [
  'redis-kill',
  'redis-pause',
  'redis-restart-empty',
  'instance-kill',
  'partition-exit',
] as const;
/** One fault kind. */
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Options of {@link runChaos}. */
export interface ChaosOptions {
  /** Seed of every scripted choice (operations, instances, keys, faults). */
  seed: number;
  /** How long operations run, ms (faults stop `quietMs` before the end). */
  durationMs: number;
  /** A fault starts every this many ms. */
  faultEveryMs?: number;
  /** Fault-free tail, so reads bounded by the other-instance lag are checked after the last fault. */
  quietMs?: number;
  /** Concurrent client loops. */
  clients?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** What a run did and found. */
export interface ChaosResult {
  seed: number;
  durationMs: number;
  /** Acknowledged operations by kind. */
  ops: Record<string, number>;
  /** Injected faults by kind. */
  faults: Record<string, number>;
  violations: Violation[];
  /** Violations grouped by probable cause. */
  causes: Record<string, number>;
  /** Operations that failed (error message → count). */
  errors: Record<string, number>;
  /** Operations in flight on an instance that was killed or closed. */
  lost: number;
  /** Operations not answered within STUCK_MS. */
  stuck: number;
  /** Race scenarios run (load in flight, write, read on one instance). */
  races: number;
  history: History;
  /** Worker logs and snapshot dirs (kept when there are violations). */
  dir: string;
}

/** The i-th key, its tag and its pattern group. */
export const keyOf = (i: number): string => `g${i % 2}:k${i}`;
const tagOfIndex = (i: number): string => `t${i % TAG_COUNT}`;
const indexOf = (key: string): number => Number(key.slice(key.indexOf(':k') + 2));
/** The fixed tag of a key. */
export const tagOf = (key: string): string => tagOfIndex(indexOf(key));
const keysWithTag = (tag: string): string[] =>
  Array.from({ length: KEY_COUNT }, (_, i) => i)
    .filter((i) => tagOfIndex(i) === tag)
    .map(keyOf);
const keysMatching = (pattern: string): string[] =>
  Array.from({ length: KEY_COUNT }, (_, i) => keyOf(i)).filter((k) => k.startsWith(pattern.slice(0, -1)));

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Deferred<T = void> {
  promise: Promise<T>;
  resolve: (value: T) => void;
}
function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

class Lost extends Error {}

type OpRequest = Extract<WorkerRequest, { type: 'op' }>;
type OpBody = OpRequest extends infer R ? (R extends OpRequest ? Omit<R, 'id' | 'type'> : never) : never;

/** One cache instance (a worker process) as the controller sees it; restartable on the same dir. */
class Instance {
  readonly name: string;
  up = false;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly #config: WorkerConfig;
  readonly #logPath: string;
  readonly #onLoad: (instance: Instance, message: Extract<WorkerReply, { type: 'load' }>) => void;

  constructor(
    name: string,
    config: WorkerConfig,
    logPath: string,
    onLoad: (instance: Instance, message: Extract<WorkerReply, { type: 'load' }>) => void,
  ) {
    this.name = name;
    this.#config = config;
    this.#logPath = logPath;
    this.#onLoad = onLoad;
  }

  /** Forks the worker and waits for its cache to exist (restored from the snapshot dir). */
  async start(): Promise<void> {
    const script = fileURLToPath(new URL('./worker.ts', import.meta.url));
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const logFd = openSync(this.#logPath, 'a');
    const child = fork(script, [JSON.stringify(this.#config)], {
      cwd: root,
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', logFd, logFd, 'ipc'],
    });
    closeSync(logFd);
    this.#child = child;
    const ready = deferred();
    const exited = deferred();
    this.#exited = exited.promise;
    child.on('message', (message: WorkerReply) => {
      if (message.type === 'ready') ready.resolve();
      else if (message.type === 'load') this.#onLoad(this, message);
      else {
        const waiter = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        if (message.error !== undefined) waiter?.reject(new Error(message.error));
        else waiter?.resolve(message.result);
      }
    });
    child.once('exit', () => {
      this.up = false;
      for (const waiter of this.#pending.values()) waiter.reject(new Lost(`${this.name} exited`));
      this.#pending.clear();
      ready.resolve();
      exited.resolve();
    });
    await ready.promise;
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${this.name} exited at start`);
    this.up = true;
  }

  /** Sends one operation; rejects with Lost when the process goes away first. */
  call(id: number, body: OpBody): Promise<unknown> {
    const child = this.#child;
    if (!this.up || child === undefined) return Promise.reject(new Lost(`${this.name} is down`));
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      child.send({ type: 'op', id, ...body } as WorkerRequest);
    });
  }

  /** Answers a loader call. */
  loaded(loadId: number, value: ChaosValue): void {
    if (this.up) this.#child?.send({ type: 'loaded', loadId, value } satisfies WorkerRequest);
  }

  /** SIGKILL, mid-operation. */
  async kill(): Promise<void> {
    this.up = false;
    this.#child?.kill('SIGKILL');
    await this.#exited;
  }

  /** Graceful exit through cache.close(); SIGKILL when it takes over 5 s. Resolves true when graceful. */
  async close(): Promise<boolean> {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return true;
    this.up = false;
    child.send({ type: 'close' } satisfies WorkerRequest);
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await this.#exited;
    clearTimeout(timer);
    return child.signalCode === null;
  }
}

/** Runs one chaos session and checks its history. */
export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const log = options.log ?? (() => {});
  const faultEvery = options.faultEveryMs ?? 3_000;
  const quiet = options.quietMs ?? OTHER_INSTANCE_LAG_MS + 2_000;
  const clients = options.clients ?? 6;
  const dir = mkdtempSync(join(tmpdir(), 'larder-chaos-'));
  const history = emptyHistory();
  const t0 = performance.now();
  const now = (): number => performance.now() - t0;
  const ops: Record<string, number> = {};
  const faults: Record<string, number> = {};
  const errors: Record<string, number> = {};
  let lost = 0;
  let stuck = 0;
  let races = 0;
  let version = 0;
  let opCounter = 0;
  const loadRandom = seededRandom(options.seed ^ 0x5eed);
  // Loads of these ops wait for the deferred (race scenarios); loadSeen signals the loader call.
  const holds = new Map<number, Promise<void>>();
  const loadSeen = new Map<number, Deferred>();
  // Versions made by each getOrSet's loader, to stamp when that getOrSet was answered.
  const loadsOf = new Map<number, number[]>();

  const onLoad = (instance: Instance, message: Extract<WorkerReply, { type: 'load' }>): void => {
    const v = ++version;
    history.producers.set(v, {
      version: v,
      key: message.key,
      kind: 'load',
      instance: instance.name,
      opId: message.opId,
      issuedAt: now(),
    });
    loadSeen.get(message.opId)?.resolve();
    loadsOf.set(message.opId, [...(loadsOf.get(message.opId) ?? []), v]);
    const hold = holds.get(message.opId);
    const r = loadRandom();
    // Mostly quick loads, some slow ones so that writes meet loads in flight.
    const delay = r < 0.8 ? Math.floor(r * 10) : r < 0.97 ? 30 + Math.floor(r * 50) : 250;
    void (hold ?? sleep(delay)).then(() => instance.loaded(message.loadId, { key: message.key, version: v }));
  };

  const server = await RedisServer.start({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
  const names = ['A', 'B', 'C'];
  const instances = names.map((name) => {
    const instanceDir = join(dir, name);
    mkdirSync(instanceDir);
    return new Instance(
      name,
      { url: server.url, instance: name, dir: instanceDir, snapshotInterval: 250 },
      join(dir, `${name}.log`),
      onLoad,
    );
  });
  const bump = (table: Record<string, number>, key: string): void => {
    table[key] = (table[key] ?? 0) + 1;
  };

  /** Runs one operation on an instance and records it; resolves when answered, lost or stuck. */
  const exec = async (instance: Instance, body: OpBody, id = ++opCounter): Promise<void> => {
    let setVersion: number | undefined;
    if (body.op === 'set') {
      setVersion = ++version;
      body.value.version = setVersion;
      history.producers.set(setVersion, {
        version: setVersion,
        key: body.key,
        kind: 'set',
        instance: instance.name,
        opId: id,
        issuedAt: now(),
      });
    }
    const issuedAt = now();
    const done = instance.call(id, body).then(
      (result) => {
        const ackedAt = now();
        bump(ops, body.op);
        if (body.op === 'getOrSet') {
          for (const v of loadsOf.get(id) ?? []) history.producers.get(v)!.settledAt = ackedAt;
          loadsOf.delete(id);
        }
        if (body.op === 'get' || body.op === 'getOrSet') {
          const read: ReadRecord = {
            opId: id,
            kind: body.op,
            instance: instance.name,
            key: body.key,
            startedAt: issuedAt,
            endedAt: ackedAt,
            value: result as ChaosValue | undefined,
          };
          history.reads.push(read);
          return;
        }
        const write: WriteRecord = {
          opId: id,
          kind: 'set',
          instance: instance.name,
          keys: [],
          target: '',
          issuedAt,
          ackedAt,
        };
        if (body.op === 'set' || body.op === 'delete') {
          Object.assign(write, { kind: body.op, keys: [body.key], target: body.key, version: setVersion });
          if (setVersion !== undefined) history.producers.get(setVersion)!.ackedAt = ackedAt;
        } else if (body.op === 'invalidateTags') {
          Object.assign(write, {
            kind: 'tags',
            keys: body.tags.flatMap(keysWithTag),
            target: body.tags.join(','),
          });
        } else if (body.op === 'invalidatePattern') {
          Object.assign(write, { kind: 'pattern', keys: keysMatching(body.pattern), target: body.pattern });
        }
        history.writes.push(write);
      },
      (error: unknown) => {
        if (error instanceof Lost) lost++;
        else bump(errors, `${body.op}: ${error instanceof Error ? error.message : String(error)}`);
      },
    );
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'stuck'>((resolve) => (timer = setTimeout(() => resolve('stuck'), STUCK_MS)));
    if ((await Promise.race([done, late])) === 'stuck') stuck++;
    clearTimeout(timer);
  };

  const randomWrite = (random: () => number, key: string): OpBody => {
    const r = random();
    if (r < 0.4) return { op: 'delete', key };
    if (r < 0.7) return { op: 'set', key, tags: [tagOf(key)], value: { key, version: 0 } };
    if (r < 0.9) return { op: 'invalidateTags', tags: [tagOf(key)] };
    return { op: 'invalidatePattern', pattern: key.startsWith('g0:') ? 'g0:*' : 'g1:*' };
  };

  /** A load held in flight on X, a write on X reaching its key, then a read on X. */
  const race = async (instance: Instance, random: () => number, key: string): Promise<void> => {
    races++;
    // A delete first, so the first getOrSet misses and its load is really in flight during the write.
    await exec(instance, { op: 'delete', key });
    const firstId = ++opCounter;
    const release = deferred();
    const seen = deferred();
    holds.set(firstId, release.promise);
    loadSeen.set(firstId, seen);
    const first = exec(instance, { op: 'getOrSet', key, tags: [tagOf(key)] }, firstId);
    await Promise.race([seen.promise, first, sleep(300)]);
    await exec(instance, randomWrite(random, key));
    const secondId = ++opCounter;
    const secondSeen = deferred();
    loadSeen.set(secondId, secondSeen);
    const second = exec(instance, { op: 'getOrSet', key, tags: [tagOf(key)] }, secondId);
    // Either the second call started its own load, or it joined the held one (then it waits for it).
    await Promise.race([secondSeen.promise, second, sleep(150)]);
    release.resolve();
    await Promise.all([first, second]);
    holds.delete(firstId);
    loadSeen.delete(firstId);
    loadSeen.delete(secondId);
  };

  // Set once the instances are up: operations run for durationMs from then.
  let end = Infinity;
  const client = async (index: number): Promise<void> => {
    const random = seededRandom(options.seed * 31 + index + 1);
    while (now() < end) {
      const up = instances.filter((i) => i.up);
      const pickInstance = Math.floor(random() * instances.length);
      const key = keyOf(Math.floor(random() * KEY_COUNT));
      const r = random();
      const gap = Math.floor(random() * 4);
      const instance = instances[pickInstance]!.up
        ? instances[pickInstance]!
        : up[pickInstance % Math.max(1, up.length)];
      if (instance === undefined) {
        await sleep(20);
        continue;
      }
      if (r < 0.38) await exec(instance, { op: 'getOrSet', key, tags: [tagOf(key)] });
      else if (r < 0.55) await exec(instance, { op: 'get', key });
      else if (r < 0.7)
        await exec(instance, { op: 'set', key, tags: [tagOf(key)], value: { key, version: 0 } });
      else if (r < 0.82) await exec(instance, { op: 'delete', key });
      else if (r < 0.87) await exec(instance, { op: 'invalidateTags', tags: [tagOf(key)] });
      else if (r < 0.9)
        await exec(instance, { op: 'invalidatePattern', pattern: PATTERNS[Math.floor(random() * 2)]! });
      else await race(instance, random, key);
      if (gap > 0) await sleep(gap);
    }
  };

  const faultRandom = seededRandom(options.seed ^ 0xfa17);
  const outage = (kind: string, subject: string, start: number): void => {
    history.outages.push({ kind, subject, start, end: now() });
  };
  const inject = async (kind: FaultKind): Promise<void> => {
    const down = 400 + Math.floor(faultRandom() * 1100);
    const victim = instances[Math.floor(faultRandom() * instances.length)]!;
    const start = now();
    log(
      `${(start / 1000).toFixed(1)}s fault ${kind}${kind.startsWith('instance') || kind === 'partition-exit' ? ` (${victim.name})` : ''}, ${down} ms`,
    );
    bump(faults, kind);
    switch (kind) {
      case 'redis-kill':
        await server.kill();
        await sleep(down);
        await server.restart();
        return outage(kind, 'redis', start);
      case 'redis-pause':
        server.pause();
        await sleep(down);
        server.resume();
        return outage(kind, 'redis', start);
      case 'redis-restart-empty':
        await server.kill();
        await sleep(down);
        await server.restartEmpty();
        return outage(kind, 'redis', start);
      case 'instance-kill':
        await victim.kill();
        await sleep(down);
        await victim.start();
        return outage(kind, victim.name, start);
      case 'partition-exit': {
        // Redis goes away, writes pile up in the outbox, then one instance shuts down gracefully.
        await server.kill();
        await sleep(down / 2);
        const closedAt = now();
        if (!(await victim.close())) bump(errors, 'close: took over 5 s, killed');
        await sleep(down / 2);
        await server.restart();
        outage(kind, 'redis', start);
        await victim.start();
        return outage(kind, victim.name, closedAt);
      }
    }
  };
  const faultLoop = async (): Promise<void> => {
    // The first fault once every instance has written a periodic snapshot or two.
    let next = end - options.durationMs + Math.min(2_500, faultEvery);
    let deck: FaultKind[] = [];
    // A fault lasts up to about 2 s (restarts included); it must end before the quiet tail.
    while (next + 2_000 < end - quiet) {
      await sleep(Math.max(0, next - now()));
      if (deck.length === 0) deck = shuffle([...FAULT_KINDS], faultRandom);
      await inject(deck.shift()!);
      next = Math.max(next + faultEvery, now() + 300);
    }
  };

  try {
    await Promise.all(instances.map((i) => i.start()));
    log(`instances up at ${(now() / 1000).toFixed(1)}s; redis on port ${server.port}; logs in ${dir}`);
    const started = now();
    end = started + options.durationMs;
    await Promise.all([faultLoop(), ...Array.from({ length: clients }, (_, i) => client(i))]);
    const violations = check(history);
    const causes: Record<string, number> = {};
    for (const v of violations) bump(causes, causeOf(v));
    return {
      seed: options.seed,
      durationMs: Math.round(now() - started),
      ops,
      faults,
      violations,
      causes,
      errors,
      lost,
      stuck,
      races,
      history,
      dir,
    };
  } finally {
    server.resume();
    await Promise.all(instances.map((i) => i.close()));
    await server.destroy();
  }
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** The result as the report prints it: counts, then the first `detail` violations in full. */
export function formatResult(result: ChaosResult, detail = 5): string {
  const total = (table: Record<string, number>): number => Object.values(table).reduce((a, b) => a + b, 0);
  const table = (t: Record<string, number>): string =>
    Object.entries(t)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `    ${k}: ${n}`)
      .join('\n');
  const lines = [
    `chaos run: seed ${result.seed}, ${(result.durationMs / 1000).toFixed(1)} s, bound for other instances ${OTHER_INSTANCE_LAG_MS} ms`,
    `  operations acknowledged: ${total(result.ops)} (${Object.entries(result.ops)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}); race scenarios ${result.races}`,
    `  reads checked: ${result.history.reads.length}, of which values: ${result.history.reads.filter((r) => r.value !== undefined).length}`,
    `  faults injected: ${total(result.faults)} (${Object.entries(result.faults)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')})`,
    `  lost with a killed instance: ${result.lost}; stuck > ${STUCK_MS} ms: ${result.stuck}; failed: ${total(result.errors)}`,
  ];
  if (total(result.errors) > 0) lines.push(table(result.errors));
  lines.push(`  violations: ${result.violations.length}`);
  if (result.violations.length > 0) {
    lines.push(
      '  by probable cause:',
      table(result.causes),
      `  first ${Math.min(detail, result.violations.length)}, then the first of each other cause:`,
    );
    // The first few, then the first of every cause not shown yet.
    const shown = result.violations.slice(0, detail);
    const causes = new Set(shown.map(causeOf));
    for (const v of result.violations) {
      if (!causes.has(causeOf(v))) {
        causes.add(causeOf(v));
        shown.push(v);
      }
    }
    for (const v of shown) lines.push(describeViolation(v).replace(/^/gm, '    '));
    lines.push(`  worker logs and snapshot dirs: ${result.dir}`);
  }
  return lines.join('\n');
}
