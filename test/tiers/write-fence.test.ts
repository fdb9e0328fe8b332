// The write fence's memory of recent stores: which keys a bulk invalidation reaches, and which store
// is forgotten first when the memory is full (the oldest, counting a key stored again as new).
import { describe, expect, it } from 'vitest';
import { STAMP_PER_MS } from '../../src/tiers/stamp.js';
import { WriteFence } from '../../src/tiers/write-fence.js';
import { manualClock } from '../helpers/clock.js';

const stampAt = (ms: number, seq = 0): number => ms * STAMP_PER_MS + seq;

describe('WriteFence', () => {
  it('reaches the stores of the cache and scope that are not newer than the fence, once', () => {
    const clock = manualClock(10_000);
    const fence = new WriteFence({ retentionMs: 60_000, clock: clock.now });
    fence.remember('a', 'user:1', stampAt(9_000));
    fence.remember('a', 'user:2', stampAt(9_500));
    fence.remember('a', 'plan:1', stampAt(9_000));
    fence.remember('b', 'user:1', stampAt(9_000));
    fence.remember('a', 'user:3', stampAt(11_000)); // newer than the fence: spared
    expect(fence.bulk('a', { kind: 'prefix', prefix: 'user:' }, 10_000).sort()).toEqual(['user:1', 'user:2']);
    // Reached stores are done with; the others are still there for a later fence.
    expect(fence.bulk('a', { kind: 'all' }, 12_000).sort()).toEqual(['plan:1', 'user:3']);
    expect(fence.bulk('a', { kind: 'all' }, 12_000)).toEqual([]);
    expect(fence.bulk('b', { kind: 'pattern', pattern: 'user:*' }, 10_000)).toEqual(['user:1']);
  });

  it('forgets stores older than the retention', () => {
    const clock = manualClock(10_000);
    const fence = new WriteFence({ retentionMs: 1_000, clock: clock.now });
    fence.remember('a', 'old', stampAt(10_000));
    clock.advance(600);
    fence.remember('a', 'recent', stampAt(10_600));
    clock.advance(500); // 'old' was stored 1,100 ms ago
    expect(fence.bulk('a', { kind: 'all' }, 11_100)).toEqual(['recent']);
  });

  it('when full, forgets the oldest store; a key stored again counts as new', () => {
    const clock = manualClock(10_000);
    const fence = new WriteFence({ retentionMs: 60_000, maxRecent: 3, clock: clock.now });
    fence.remember('a', 'k1', stampAt(10_000, 1));
    fence.remember('a', 'k2', stampAt(10_000, 2));
    fence.remember('b', 'k3', stampAt(10_000, 3));
    fence.remember('a', 'k1', stampAt(10_000, 4)); // k2 is now the oldest
    fence.remember('a', 'k4', stampAt(10_000, 5)); // over the bound: k2 goes
    expect(fence.bulk('a', { kind: 'all' }, 10_000).sort()).toEqual(['k1', 'k4']);
    expect(fence.bulk('b', { kind: 'all' }, 10_000)).toEqual(['k3']);
  });

  it('keeps every distinct key within the bound however often one key is rewritten', () => {
    const clock = manualClock(10_000);
    const fence = new WriteFence({ retentionMs: 60_000, maxRecent: 4, clock: clock.now });
    fence.remember('a', 'cold', stampAt(10_000));
    for (let i = 1; i <= 20_000; i++) fence.remember('a', 'hot', stampAt(10_000, i % 1000));
    fence.remember('a', 'other', stampAt(10_000));
    expect(fence.bulk('a', { kind: 'all' }, 10_000).sort()).toEqual(['cold', 'hot', 'other']);
    // After a burst over the bound, the newest four are the ones kept.
    for (let i = 0; i < 10; i++) fence.remember('a', `k${i}`, stampAt(10_000));
    expect(fence.bulk('a', { kind: 'all' }, 10_000).sort()).toEqual(['k6', 'k7', 'k8', 'k9']);
  });
});
