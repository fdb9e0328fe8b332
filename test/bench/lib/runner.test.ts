// The harness itself: rounds, order rotation, per-subject kernel copies, disposal, and the subject
// adapters' set-up (a misconfigured peer would make every table wrong).
import { describe, expect, it } from 'vitest';
import {
  cloneKernel,
  rotatedOrder,
  runWorkload,
  startClocks,
  type Kernel,
} from '../../../bench/lib/runner.js';
import { createRandom } from '../../../bench/lib/prng.js';
import { peerSubjects, type Subject, type SyncStore } from '../../../bench/lib/subjects.js';
import { buildWorkloads, makeKeys, quickSizes } from '../../../bench/lib/workloads.js';
import { parseBenchArgs, matchesFilter } from '../../../bench/lib/args.js';
import { markdownTable, formatOps } from '../../../bench/lib/table.js';

function countingKernel(
  cache: SyncStore,
  keys: readonly string[],
  trace: Uint32Array,
  _value: unknown,
): number {
  let hits = 0;
  for (let i = 0; i < trace.length; i++) if (cache.get(keys[trace[i]!]!) !== undefined) hits++;
  return hits;
}

function mapSubject(name: string, log: string[], disposed: string[]): Subject {
  return {
    name,
    kind: 'peer',
    create: () => {
      const m = new Map<string, unknown>();
      return {
        get: (k: string) => {
          if (k === 'k0') log.push(name); // once per kernel call: the trace reads k0 once
          return m.get(k);
        },
        set: (k: string, v: unknown) => m.set(k, v),
      };
    },
    dispose: () => disposed.push(name),
  };
}

describe('cloneKernel', () => {
  it('returns a distinct function that computes the same result', () => {
    const copy = cloneKernel(countingKernel as Kernel);
    expect(copy).not.toBe(countingKernel);
    const store = new Map([['a', 1]]) as unknown as SyncStore;
    expect(copy(store, ['a', 'b'], Uint32Array.of(0, 1, 0), null)).toBe(2);
  });
});

describe('runWorkload', () => {
  it('measures every round of every subject, rotates the order, and disposes the instances', () => {
    const log: string[] = [];
    const disposed: string[] = [];
    const subjects = ['a', 'b', 'c'].map((n) => mapSubject(n, log, disposed));
    const keys = ['k0', 'k1'];
    const runs = runWorkload(
      {
        keys,
        trace: Uint32Array.of(0, 1, 1),
        value: 1,
        kernel: countingKernel,
        // 'c' lacks the feature: left out, as a peer without TTL is on the TTL workload.
        prepare: (s) => (s.name === 'c' ? undefined : s.create(2)),
        warmup: 1,
        rounds: 4,
      },
      subjects,
      createRandom(1),
    );
    expect(runs.map((r) => r.subject.name).sort()).toEqual(['a', 'b']);
    for (const run of runs) {
      expect(run.opsPerSec).toHaveLength(4);
      expect(run.opsPerSec.every((x) => x > 0)).toBe(true);
    }
    // 1 warm-up each, then 4 rounds alternating which subject goes first.
    expect(log).toHaveLength(2 + 8);
    const firstOfRound = [2, 4, 6, 8].map((i) => log[i]);
    expect(firstOfRound[0]).not.toBe(firstOfRound[1]);
    expect(firstOfRound[0]).toBe(firstOfRound[2]);
    expect(disposed.sort()).toEqual(['a', 'b']);
  });

  it('runs the untimed beforeRound hook before every measured call', () => {
    const refreshed: number[] = [];
    const [run] = runWorkload(
      {
        keys: ['x'],
        trace: Uint32Array.of(0),
        value: 1,
        kernel: countingKernel,
        prepare: (s) => s.create(1),
        // Without the hook the entry is never there; with it, every round hits.
        beforeRound: (store) => {
          refreshed.push(1);
          store.set('x', 1);
        },
        warmup: 0,
        rounds: 3,
      },
      [mapSubject('m', [], [])],
      createRandom(1),
    );
    expect(refreshed).toHaveLength(3);
    expect(run!.results).toEqual([1, 1, 1]);
  });

  it('reports the kernel results so misses are visible', () => {
    const subject = mapSubject('m', [], []);
    const [run] = runWorkload(
      {
        keys: ['x', 'y'],
        trace: Uint32Array.of(0, 1),
        value: 1,
        kernel: countingKernel,
        prepare: (s) => {
          const store = s.create(2);
          store.set('x', 1);
          return store;
        },
        warmup: 0,
        rounds: 2,
      },
      [subject],
      createRandom(1),
    );
    expect(run!.results).toEqual([1, 1]);
  });
});

describe('peer subjects', () => {
  for (const subject of peerSubjects) {
    it(`${subject.name}: holds its capacity and evicts beyond it`, () => {
      const keys = makeKeys(300, 't');
      const store = subject.create(100);
      for (const k of keys.slice(0, 100)) store.set(k, 1);
      expect(keys.slice(0, 100).every((k) => store.get(k) === 1)).toBe(true);
      for (const k of keys.slice(100)) store.set(k, 1);
      // Even quick-lru, which may hold two generations, has dropped the first hundred by now.
      expect(keys.slice(0, 100).some((k) => store.get(k) === 1)).toBe(false);
      expect(store.get(keys[299]!)).toBe(1);
    });
    if (subject.createWithTtl) {
      it(`${subject.name}: TTL entries are readable before they expire`, () => {
        const made = subject.createWithTtl!(10, 60_000);
        made.put('a', 5);
        expect(made.store.get('a')).toBe(5);
      });
    }
  }

  it('the Map floor evicts in insertion order across many evictions and re-insertions', () => {
    const map = peerSubjects.find((s) => s.kind === 'floor')!.create(3);
    for (const k of ['a', 'b', 'c', 'd']) map.set(k, k);
    expect(map.get('a')).toBeUndefined();
    map.set('b', 'B'); // update in place: no eviction, keeps its age
    map.set('e', 'e'); // evicts b, the oldest
    expect(['b', 'c', 'd', 'e'].map((k) => map.get(k))).toEqual([undefined, 'c', 'd', 'e']);
    for (let i = 0; i < 1000; i++) map.set(`n${i}`, i);
    expect(['n997', 'n998', 'n999'].map((k) => map.get(k))).toEqual([997, 998, 999]);
    expect((map as unknown as Map<string, unknown>).size).toBe(3);
  });
});

describe('buildWorkloads', () => {
  it('builds only the named workloads with shared, in-range traces', () => {
    const built = buildWorkloads(
      { ...quickSizes, hitOps: 1000, zipfOps: 1000, zipfKeys: 5000 },
      createRandom(1),
      ['get-hit', 'zipf'],
    );
    expect(built.map((w) => w.name)).toEqual(['get-hit', 'zipf']);
    for (const w of built) expect(Math.max(...w.plan.trace)).toBeLessThan(w.plan.keys.length);
  });
});

describe('workload kernels', () => {
  it('every get-hit variant hits on every read of a filled cache', () => {
    const sizes = { ...quickSizes, hitEntries: 500, hitOps: 2000, warmup: 0, rounds: 1 };
    const built = buildWorkloads(sizes, createRandom(3), ['get-hit', 'get-hit-fresh-keys', 'get-hit-ttl']);
    expect(built.map((w) => w.name)).toEqual(['get-hit', 'get-hit-fresh-keys', 'get-hit-ttl']);
    const lru = peerSubjects.filter((s) => s.name === 'lru-cache');
    for (const w of built) {
      const [run] = runWorkload(w.plan, lru, createRandom(1));
      expect(run!.results).toEqual([2000]);
    }
  });
});

describe('parseBenchArgs', () => {
  it('reads every flag', () => {
    expect(
      parseBenchArgs(['--quick', '--only=zipf,get-hit', '--libs=Larder', '--rounds=3', '--seed=9']),
    ).toEqual({
      quick: true,
      only: ['zipf', 'get-hit'],
      libs: ['larder'],
      rounds: 3,
      seed: 9,
    });
  });
  it('names a bad or unknown flag', () => {
    expect(() => parseBenchArgs(['--rounds=0'])).toThrow(/--rounds/);
    expect(() => parseBenchArgs(['--fast'])).toThrow(/unknown option '--fast'/);
  });
  it('filters library names case-insensitively by substring', () => {
    expect(matchesFilter('Larder lru', ['larder'])).toBe(true);
    expect(matchesFilter('lru-cache', ['larder'])).toBe(false);
    expect(matchesFilter('anything', [])).toBe(true);
  });
});

describe('table', () => {
  it('pads columns and right-aligns numbers', () => {
    const out = markdownTable(
      ['lib', 'ops'],
      [
        ['a', '1'],
        ['long-name', '22'],
      ],
      ['left', 'right'],
    );
    expect(out.split('\n')).toEqual([
      '| lib       | ops |',
      '| --------- | --: |',
      '| a         |   1 |',
      '| long-name |  22 |',
    ]);
  });
  it('scales ops/s', () => {
    expect(formatOps(23_456_000)).toBe('23.46M');
    expect(formatOps(812_300)).toBe('812k');
  });
});

describe('startClocks', () => {
  it('measures wall and CPU time of busy work', () => {
    const clock = startClocks();
    const until = performance.now() + 30;
    let spin = 0;
    while (performance.now() < until) spin++;
    const { wallMs, cpuMs } = clock();
    expect(spin).toBeGreaterThan(0);
    expect(wallMs).toBeGreaterThanOrEqual(30);
    // Busy waiting burns CPU; allow for a loaded machine descheduling the test.
    expect(cpuMs).toBeGreaterThan(1);
  });
});

describe('rotatedOrder', () => {
  it('visits every item once per round, starting one later each round', () => {
    expect(rotatedOrder(['a', 'b', 'c'], 2)).toEqual(['a', 'b', 'c', 'b', 'c', 'a']);
  });
});
