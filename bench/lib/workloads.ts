// The four throughput workloads of issue 2: get-hit on 100k entries, set with eviction, Zipf(0.99)
// read-through, and get-hit with per-entry 60 s TTLs. Keys and traces are generated once per run from
// a seed and shared by every library.

import { uniformTrace, zipfTrace } from './zipf.js';
import type { Random } from './prng.js';
import type { WorkloadPlan } from './runner.js';
import type { Subject, SyncStore, TtlStore } from './subjects.js';

/** Names accepted by `--only`. */
export const workloadNames = ['get-hit', 'get-hit-fresh-keys', 'set-evict', 'zipf', 'get-hit-ttl'] as const;

/** One workload's identity and its plan. */
export interface Workload {
  name: (typeof workloadNames)[number];
  title: string;
  /** Report hits / operations as a hit ratio. */
  hitRatio: boolean;
  /** Every operation of the kernel must hit (a miss means the subject was set up wrongly). */
  expectAllHits: boolean;
  plan: WorkloadPlan;
}

/** Sizes of a full and a `--quick` run. */
export interface WorkloadSizes {
  /** Entries of the get-hit workloads. */
  hitEntries: number;
  /** Reads per round of the get-hit workloads. */
  hitOps: number;
  /** Capacity of the eviction workloads. */
  evictCapacity: number;
  /** New keys (= sets) per round of set-evict. */
  evictOps: number;
  /** Key universe of the Zipf workload. */
  zipfKeys: number;
  /** Accesses per round of the Zipf workload. */
  zipfOps: number;
  warmup: number;
  rounds: number;
}

/** Full-size run: the sizes issue 2 names. */
export const fullSizes: WorkloadSizes = {
  hitEntries: 100_000,
  hitOps: 1_000_000,
  evictCapacity: 10_000,
  evictOps: 1_000_000,
  zipfKeys: 1_000_000,
  zipfOps: 1_000_000,
  // One warm-up call of a million operations is enough for V8 to optimise the kernel (on-stack
  // replacement happens within it); five rounds keep `npm run bench` within ~3 minutes on a busy box.
  warmup: 1,
  rounds: 5,
};

/** Quick run for iterating: same shapes, fewer operations and rounds. */
export const quickSizes: WorkloadSizes = {
  ...fullSizes,
  hitOps: 200_000,
  evictOps: 200_000,
  zipfOps: 300_000,
  rounds: 3,
};

const TTL_MS = 60_000;

// Kernels are cloned per subject (see runner.ts), so they must not reference anything outside
// their parameters.

/** Reads every traced key; returns the number of hits. */
function getKernel(cache: SyncStore, keys: readonly string[], trace: Uint32Array, _value: unknown): number {
  let hits = 0;
  for (let i = 0; i < trace.length; i++) {
    if (cache.get(keys[trace[i]!]!) !== undefined) hits++;
  }
  return hits;
}

/**
 * Reads every traced key, building each key string anew (`'user:' + suffix`) as a service does per
 * request. Unlike reusing one string object, this makes every lookup hash the key again and makes a
 * dictionary-object index internalize it again; returns the number of hits.
 */
function freshKeyGetKernel(
  cache: SyncStore,
  suffixes: readonly string[],
  trace: Uint32Array,
  _value: unknown,
): number {
  let hits = 0;
  for (let i = 0; i < trace.length; i++) {
    if (cache.get('user:' + suffixes[trace[i]!]!) !== undefined) hits++;
  }
  return hits;
}

/** Writes every traced key; returns the count of writes so the loop has an observable result. */
function setKernel(cache: SyncStore, keys: readonly string[], trace: Uint32Array, value: unknown): number {
  let writes = 0;
  for (let i = 0; i < trace.length; i++) {
    cache.set(keys[trace[i]!]!, value);
    writes++;
  }
  return writes;
}

/** Read-through: get, and set on a miss; returns the number of hits. */
function readThroughKernel(
  cache: SyncStore,
  keys: readonly string[],
  trace: Uint32Array,
  value: unknown,
): number {
  let hits = 0;
  for (let i = 0; i < trace.length; i++) {
    const key = keys[trace[i]!]!;
    if (cache.get(key) !== undefined) hits++;
    else cache.set(key, value);
  }
  return hits;
}

/** `count` distinct string keys shaped like real ones (`user:<n>`), never array-index-like strings. */
export function makeKeys(count: number, prefix: string): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}:${keySuffix(i)}`);
}

/** The part of key `i` after its prefix. */
function keySuffix(i: number): string {
  return i.toString(36);
}

function fill(store: SyncStore, keys: readonly string[], value: unknown): SyncStore {
  for (const key of keys) store.set(key, value);
  return store;
}

/** Builds the workloads named in `only` (all when empty), generating their keys and traces. */
export function buildWorkloads(sizes: WorkloadSizes, random: Random, only: readonly string[]): Workload[] {
  const want = (name: string): boolean => only.length === 0 || only.includes(name);
  const value = { payload: 'v' };
  const out: Workload[] = [];
  const common = { value, warmup: sizes.warmup, rounds: sizes.rounds };
  if (want('get-hit') || want('get-hit-fresh-keys') || want('get-hit-ttl')) {
    const keys = makeKeys(sizes.hitEntries, 'user');
    const trace = uniformTrace(sizes.hitOps, keys.length, random);
    const capacity = sizes.hitEntries;
    if (want('get-hit')) {
      out.push({
        name: 'get-hit',
        title: `get-hit: random reads of ${capacity.toLocaleString('en')} cached string keys`,
        hitRatio: false,
        expectAllHits: true,
        plan: {
          ...common,
          keys,
          trace,
          kernel: getKernel,
          prepare: (s) => fill(s.create(capacity), keys, value),
        },
      });
    }
    if (want('get-hit-fresh-keys')) {
      const suffixes = Array.from({ length: keys.length }, (_, i) => keySuffix(i));
      out.push({
        name: 'get-hit-fresh-keys',
        title: `get-hit-fresh-keys: the same reads, each key string built per call ('user:' + id) as in a service`,
        hitRatio: false,
        expectAllHits: true,
        plan: {
          ...common,
          keys: suffixes,
          trace,
          kernel: freshKeyGetKernel,
          prepare: (s) => fill(s.create(capacity), keys, value),
        },
      });
    }
    if (want('get-hit-ttl')) {
      // Entries are re-put before every round: on a busy machine the run can outlast the TTL, and a
      // read of an expired entry would measure a miss instead of a hit.
      const putters = new WeakMap<SyncStore, TtlStore['put']>();
      const putAll = (store: SyncStore): void => {
        const put = putters.get(store)!;
        for (const key of keys) put(key, value);
      };
      const prepare = (s: Subject): SyncStore | undefined => {
        const made = s.createWithTtl?.(capacity, TTL_MS);
        if (made === undefined) return undefined;
        putters.set(made.store, made.put);
        putAll(made.store);
        return made.store;
      };
      out.push({
        name: 'get-hit-ttl',
        title: `get-hit-ttl: the same reads, every entry set with a ${TTL_MS / 1000} s TTL`,
        hitRatio: false,
        expectAllHits: true,
        plan: { ...common, keys, trace, kernel: getKernel, prepare, beforeRound: putAll },
      });
    }
  }
  if (want('set-evict')) {
    const keys = makeKeys(sizes.evictOps, 'item');
    const trace = Uint32Array.from({ length: keys.length }, (_, i) => i);
    out.push({
      name: 'set-evict',
      title: `set-evict: ${keys.length.toLocaleString('en')} new keys into capacity ${sizes.evictCapacity.toLocaleString('en')}`,
      hitRatio: false,
      expectAllHits: false,
      plan: { ...common, keys, trace, kernel: setKernel, prepare: (s) => s.create(sizes.evictCapacity) },
    });
  }
  if (want('zipf')) {
    const keys = makeKeys(sizes.zipfKeys, 'page');
    const trace = zipfTrace(sizes.zipfOps, keys.length, 0.99, random);
    out.push({
      name: 'zipf',
      title: `zipf: Zipf(0.99) read-through over ${keys.length.toLocaleString('en')} keys, capacity ${sizes.evictCapacity.toLocaleString('en')} (get; set on miss)`,
      hitRatio: true,
      expectAllHits: false,
      plan: {
        ...common,
        keys,
        trace,
        kernel: readThroughKernel,
        prepare: (s) => s.create(sizes.evictCapacity),
      },
    });
  }
  return out;
}
