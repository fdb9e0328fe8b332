// The reference policy models of bench/sim, on short request sequences worked out by hand (each
// derivation is in the comments), on random sequences (structural invariants), and against the
// published figures they must reproduce (when the traces are present).
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ArcModel } from '../../bench/sim/arc.js';
import { LruModel } from '../../bench/sim/lru.js';
import { simulate, type PolicyModel } from '../../bench/sim/model.js';
import { S3FifoModel } from '../../bench/sim/s3fifo.js';
import { SieveModel } from '../../bench/sim/sieve.js';
import { BUNDLED_TRACES, readReferences, readTrace, tracesDir } from '../../bench/sim/traces.js';
import { seededRandom } from '../helpers/random.js';

/** Feeds `keys` (one character each) and returns the hits as a string of H (hit) and . (miss). */
function run(model: PolicyModel<string>, keys: string): string {
  return [...keys].map((k) => (model.access(k) ? 'H' : '.')).join('');
}

describe('LruModel', () => {
  it('evicts the least recently used key, not the oldest inserted', () => {
    const lru = new LruModel<string>(2);
    // A B: misses. A: hit, so B is now the LRU. C evicts B (a FIFO would evict A). B evicts A.
    expect(run(lru, 'ABACB')).toBe('..H..');
    expect(lru.order()).toEqual(['C', 'B']);
    expect(run(lru, 'CA')).toBe('H.');
  });
});

describe('SieveModel', () => {
  it('moves nothing on a hit and resumes the hand where it stopped', () => {
    const sieve = new SieveModel<string>(3);
    // 1-3 A B C miss: [A B C]. 4 A hit: A visited.
    // 5 D: the hand starts at the oldest (A): visited, cleared; B unvisited -> evicted; hand -> C.
    // 6 A hit (visited again). 7 E: hand at C, unvisited -> evicted; hand -> D. [A D E]
    // 8 D hit. 9 F: hand at D visited, cleared; E evicted; hand passes the newest -> back to the
    //   oldest. A kept its bit, since the hand never reached it. [A D F]
    // 10 G: hand at A visited, cleared; D evicted. [A F G]
    expect(run(sieve, 'ABCADAEDFG')).toBe('...H.H.H..');
    expect(sieve.state().queue).toEqual([
      ['A', false],
      ['F', false],
      ['G', false],
    ]);
    expect(sieve.state().hand).toBe('F');
    // A SIEVE whose hand restarted at the oldest key every time would have cleared A at step 9 and
    // evicted it at step 10.
    expect(sieve.has('A')).toBe(true);
    expect(sieve.has('D')).toBe(false);
  });

  it('keeps an old key that was hit while LRU lets it age out', () => {
    // Capacity 3: A B C, A hit. D: SIEVE clears A, evicts B, hand -> C; LRU evicts B too.
    // E: SIEVE evicts C (hand), LRU evicts C (its LRU). F: SIEVE's hand is on D: evicted; A stays,
    // though it was last touched before D and E. LRU evicts A, its least recently used key.
    const sieve = new SieveModel<string>(3);
    const lru = new LruModel<string>(3);
    expect(run(sieve, 'ABCADEF')).toBe('...H...');
    expect(run(lru, 'ABCADEF')).toBe('...H...');
    expect(sieve.has('A')).toBe(true);
    expect(sieve.has('D')).toBe(false);
    expect(lru.has('A')).toBe(false);
    expect(lru.has('D')).toBe(true);
  });
});

describe('ArcModel', () => {
  it('adapts p on ghost hits by the ratio of the ghost lists, and applies the B2 tie rule', () => {
    const arc = new ArcModel<string>(3);
    const ps: number[] = [];
    const states: ReturnType<typeof arc.lists>[] = [];
    const hits = [...'ABCABCDEEFDABF'].map((k) => {
      const hit = arc.access(k);
      ps.push(arc.p);
      states.push(arc.lists());
      return hit ? 'H' : '.';
    });
    // 1-3 A B C: T1=[A B C]. 4-6 A B C hit: T2=[A B C].
    // 7 D: |L1|=0 < 3, total 3 >= c: REPLACE, T1 empty so T2's LRU A -> B2. T1=[D].
    // 8 E: REPLACE, |T1|=1 > p=0: D -> B1. T1=[E]. 9 E hit: T2=[B C E].
    // 10 F: REPLACE, T1 empty: B -> B2. T1=[F], T2=[C E], B1=[D], B2=[A B].
    // 11 D (in B1): |B1|=1 < |B2|=2, so p += 2/1 -> 2. REPLACE: |T1|=1 not > 2: C -> B2. T2=[E D].
    // 12 A (in B2): |B2|=3 >= |B1|=0, p -= 1 -> 1. REPLACE with x in B2 and |T1| = p: F -> B1.
    // 13 B (in B2): |B2|=2 >= |B1|=1, p -> 0. REPLACE: T1 empty: E -> B2. T2=[D A B].
    // 14 F (in B1): |B1|=1 < |B2|=2, p += 2 -> 2. REPLACE: T1 empty: D -> B2. T2=[A B F].
    expect(hits.join('')).toBe('...HHH..H.....');
    expect(ps).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 1, 0, 2]);
    expect(states[10]).toEqual({ t1: ['F'], t2: ['E', 'D'], b1: [], b2: ['A', 'B', 'C'] });
    // Step 12: without the tie rule (x in B2 and |T1| = p takes from T1) E would have gone to B2.
    expect(states[11]).toEqual({ t1: [], t2: ['E', 'D', 'A'], b1: ['F'], b2: ['B', 'C'] });
    expect(arc.lists()).toEqual({ t1: [], t2: ['A', 'B', 'F'], b1: [], b2: ['C', 'E', 'D'] });
  });

  it('caps p at the capacity', () => {
    const arc = new ArcModel<string>(2);
    // A B, A hit (T2=[A]), C: B -> B1. B (in B1): p 0 -> 1; REPLACE: |T1|=1 not > 1: A -> B2.
    // A (in B2): p -> 0; C (T1) -> B1. C (in B1): p -> 1. D, E, ... keep |L1| small; p never exceeds 2.
    expect(run(arc, 'ABACBAC')).toBe('..H....');
    for (const k of 'DCEFCGHCIJC') {
      arc.access(k);
      expect(arc.p).toBeLessThanOrEqual(2);
      expect(arc.p).toBeGreaterThanOrEqual(0);
    }
  });
});

describe('S3FifoModel', () => {
  it('filters through the small queue, promotes on one hit, reinserts in main by frequency', () => {
    const s3 = new S3FifoModel<string>(4); // small target 1, ghost of 3
    // 1-4 a b c d miss: S=[a b c d]. 5-8 hits: each frequency 1.
    // 9 e: full. Evict from S (4 >= 1): a, b, c, d were hit, so each moves to M with frequency 0;
    //   S is empty, still full, so evict from M: a (frequency 0) leaves (not into G). S=[e], M=[b c d].
    // 10 b hit (frequency 1). 11 f: evict from S: e unhit -> G. S=[f].
    // 12 e: in G. Evict from S: f -> G; e goes to M. M=[b c d e], S=[].
    // 13 a (evicted from M, so not in G): evict from M: b has frequency 1 -> reinserted with 0;
    //   c has 0 -> evicted. S=[a], M=[d e b].
    // 14 c: not in G (M's evictions skip G): evict from S: a -> G. S=[c].
    // 15 f: in G: c -> G, f to M. M=[d e b f].
    expect(run(s3, 'abcdabcdebfeacf')).toBe('....HHHH.H.....');
    const q = s3.queues();
    expect(q.small).toEqual([]);
    expect(q.main).toEqual(['d', 'e', 'b', 'f']);
    expect(q.ghost).toEqual(['a', 'c']);
    // Frequencies restart at 0 on the move to M, so d, promoted at step 9, is at 0.
    expect(q.freq.get('d')).toBe(0);
  });

  it('caps the frequency at 3', () => {
    const s3 = new S3FifoModel<string>(4);
    expect(run(s3, 'aaaaaa')).toBe('.HHHHH');
    expect(s3.queues().freq.get('a')).toBe(3);
  });

  it('keeps a key in the ghost for as many ghost insertions as M may hold', () => {
    const s3 = new S3FifoModel<string>(10); // small target 1, ghost of 9
    // Fill with 0-9, then every new key pushes the oldest unhit small key into G.
    for (let k = 0; k < 10; k++) s3.access(`k${k}`);
    for (let k = 10; k < 19; k++) s3.access(`k${k}`); // 9 ghost insertions: k0 .. k8
    expect(s3.queues().ghost).toEqual(Array.from({ length: 9 }, (_, i) => `k${i}`));
    s3.access('k19'); // the 10th insertion pushes k0 out of G
    expect(s3.queues().ghost[0]).toBe('k1');
    // A miss evicts before it looks in G: k2's miss first pushes k10 into G (and k1 out), then finds
    // k2 there and puts it in M. k1's miss then finds nothing in G and goes to S.
    expect(s3.access('k2')).toBe(false);
    expect(s3.queues().main).toEqual(['k2']);
    expect(s3.queues().ghost).toEqual(['k3', 'k4', 'k5', 'k6', 'k7', 'k8', 'k9', 'k10']);
    s3.access('k1');
    expect(s3.queues().main).toEqual(['k2']);
    expect(s3.queues().small).toContain('k1');
  });
});

describe('every model', () => {
  const models: [string, (c: number) => PolicyModel<number>][] = [
    ['LRU', (c) => new LruModel(c)],
    ['ARC', (c) => new ArcModel(c)],
    ['S3-FIFO', (c) => new S3FifoModel(c)],
    ['SIEVE', (c) => new SieveModel(c)],
  ];
  it.each(models)(
    '%s: a hit iff resident, never more than the capacity, fills before evicting',
    (_, make) => {
      for (const capacity of [1, 2, 3, 7, 50]) {
        const random = seededRandom(capacity);
        const model = make(capacity);
        const seen = new Set<number>();
        for (let i = 0; i < 5000; i++) {
          // Skewed keys so there are hits.
          const key = Math.floor(Math.pow(random(), 3) * 4 * capacity);
          const resident = model.has(key);
          expect(model.access(key)).toBe(resident);
          expect(model.has(key)).toBe(true);
          seen.add(key);
          expect(model.size).toBeLessThanOrEqual(capacity);
          // Until the capacity is reached nothing is evicted.
          if (seen.size <= capacity) expect(model.size).toBe(seen.size);
        }
      }
    },
  );
});

const shared = tracesDir();
const haveShared = shared !== BUNDLED_TRACES && existsSync(shared);

describe('published figures', () => {
  it('LRU and ARC reproduce the README figures of the bundled trace to 0.01 point', () => {
    for (const row of readReferences(BUNDLED_TRACES)) {
      const keys = readTrace(row.trace, BUNDLED_TRACES);
      expect(Math.abs(simulate(keys, new LruModel(row.size)) - row.lru)).toBeLessThanOrEqual(0.01);
      expect(Math.abs(simulate(keys, new ArcModel(row.size)) - row.arc)).toBeLessThanOrEqual(0.01);
    }
  });

  it.skipIf(!haveShared)('LRU and ARC reproduce the shared README figures (P3 excluded for time)', () => {
    for (const row of readReferences(shared).filter((r) => r.trace !== 'P3')) {
      const keys = readTrace(row.trace, shared);
      expect(Math.abs(simulate(keys, new LruModel(row.size)) - row.lru)).toBeLessThanOrEqual(0.01);
      expect(Math.abs(simulate(keys, new ArcModel(row.size)) - row.arc)).toBeLessThanOrEqual(0.01);
    }
  });

  // Issue 13's S3-FIFO figures. Readings of the paper that differ from this model's were measured
  // 0.2-0.8 point away: promoting on frequency > 1 (sprite@512 -0.42, web12@5000 -0.40), keeping the
  // frequency on promotion (sprite@512 -0.77, OLTP@2000 -0.81), a ghost sized by live keys (P3 +0.75).
  it.skipIf(!haveShared)('S3-FIFO reproduces the figures quoted in issue 13 to 0.01 point', () => {
    const figures: [string, number, number][] = [
      ['sprite', 512, 79.42],
      ['sprite', 1000, 89.51],
      ['cpp', 100, 76.48],
      ['web12', 1000, 68.77],
      ['web12', 5000, 81.91],
      ['OLTP', 2000, 46.87],
    ];
    for (const [trace, size, expected] of figures) {
      const ratio = simulate(readTrace(trace, shared), new S3FifoModel(size));
      expect(Math.abs(ratio - expected), `${trace}@${size}: ${ratio}`).toBeLessThanOrEqual(0.01);
    }
  });
});
