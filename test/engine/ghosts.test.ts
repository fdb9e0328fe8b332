// ARC mode's ghost history (ghosts.ts): the hashes of the last `capacity` evictions, each with the list
// it left, found in O(1) and forgotten in eviction order.
import { describe, expect, it } from 'vitest';
import { GHOST_T1, GHOST_T2, GhostQueue } from '../../src/engine/ghosts.js';
import { hashKey } from '../../src/engine/hash.js';
import { seededRandom } from './helpers.js';

describe('GhostQueue', () => {
  it('finds a ghost once, with the list it left, and counts each list', () => {
    const ghosts = new GhostQueue(10);
    ghosts.push(hashKey('a'), GHOST_T1);
    ghosts.push(hashKey('b'), GHOST_T2);
    ghosts.push(hashKey('c'), GHOST_T2);
    expect([ghosts.fromT1, ghosts.fromT2]).toEqual([1, 2]);
    expect(ghosts.take(hashKey('b'))).toBe(GHOST_T2);
    expect(ghosts.take(hashKey('b'))).toBe(0);
    expect(ghosts.take(hashKey('a'))).toBe(GHOST_T1);
    expect(ghosts.take(hashKey('zzz'))).toBe(0);
    expect([ghosts.fromT1, ghosts.fromT2]).toEqual([0, 1]);
    ghosts.clear();
    expect(ghosts.take(hashKey('c'))).toBe(0);
    expect([ghosts.fromT1, ghosts.fromT2]).toEqual([0, 0]);
  });

  it('forgets a ghost after `capacity` more evictions, whether or not others came back', () => {
    const ghosts = new GhostQueue(3);
    for (const key of ['a', 'b', 'c']) ghosts.push(hashKey(key), GHOST_T1);
    expect(ghosts.take(hashKey('b'))).toBe(GHOST_T1);
    ghosts.push(hashKey('d'), GHOST_T2);
    // 'a' was the oldest of the last three evictions ('b' taken, 'c', 'd' remain).
    expect(ghosts.take(hashKey('a'))).toBe(0);
    expect([ghosts.fromT1, ghosts.fromT2]).toEqual([1, 1]);
    expect(ghosts.take(hashKey('c'))).toBe(GHOST_T1);
    expect(ghosts.take(hashKey('d'))).toBe(GHOST_T2);
  });

  it('agrees with a plain model of the last `capacity` evictions under random pushes and takes', () => {
    const capacity = 64;
    const ghosts = new GhostQueue(capacity);
    // The model: every push in order, with whether it was taken since.
    const history: { key: number; list: number; taken: boolean }[] = [];
    const rand = seededRandom(5);
    for (let step = 0; step < 50_000; step++) {
      // Few enough keys that the table sees long probe runs, deletions inside them and keys coming back.
      const key = Math.floor(rand() * 200);
      const window = history.slice(-capacity);
      const live = window.filter((g) => !g.taken && g.key === key);
      if (rand() < 0.5 && live.length === 0) {
        const list = rand() < 0.5 ? GHOST_T1 : GHOST_T2;
        ghosts.push(hashKey(key), list);
        history.push({ key, list, taken: false });
      } else {
        const expected = live[0];
        expect(ghosts.take(hashKey(key))).toBe(expected === undefined ? 0 : expected.list);
        if (expected !== undefined) expected.taken = true;
      }
      const current = history.slice(-capacity).filter((g) => !g.taken);
      expect(ghosts.fromT1).toBe(current.filter((g) => g.list === GHOST_T1).length);
      expect(ghosts.fromT2).toBe(current.filter((g) => g.list === GHOST_T2).length);
    }
  });
});
