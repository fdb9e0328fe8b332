// The backlog of invalidations missed during an outage: replayed in full, kept on failure, bounded.
import { describe, expect, it } from 'vitest';
import { PendingInvalidations } from '../../src/tiers/pending.js';
import type { ReplayActions } from '../../src/tiers/pending.js';

function recorder(failOn?: string) {
  const log: string[] = [];
  const act =
    (name: string) =>
    async (...args: unknown[]): Promise<void> => {
      if (name === failOn) throw new Error('still down');
      log.push(`${name}(${args.map((a) => JSON.stringify(a)).join(',')})`);
    };
  const actions: ReplayActions = {
    clear: act('clear'),
    deleteKeys: act('deleteKeys'),
    tags: act('tags'),
    pattern: act('pattern'),
    prefix: act('prefix'),
  };
  return { log, actions };
}

describe('PendingInvalidations', () => {
  it('replays keys, tags (latest time), patterns and prefixes, then is empty', async () => {
    const pending = new PendingInvalidations();
    pending.keys('c', ['a', 'b', 'a']);
    pending.tags('c', ['t'], 5);
    pending.tags('c', ['t'], 9);
    pending.pattern('c', 'p:*');
    pending.prefix('c', 'ns:');
    expect(pending.size).toBe(5);
    const { log, actions } = recorder();
    expect(await pending.replay(actions)).toBe(true);
    expect(log).toEqual([
      'deleteKeys("c",["a","b"])',
      'tags("c",["t"],9)',
      'pattern("c","p:*")',
      'prefix("c","ns:")',
    ]);
    expect(pending.size).toBe(0);
  });

  it('keeps what failed for the next replay', async () => {
    const pending = new PendingInvalidations();
    pending.keys('c', ['a']);
    pending.pattern('c', 'p:*');
    expect(await pending.replay(recorder('pattern').actions)).toBe(false);
    expect(pending.size).toBe(1);
    const { log, actions } = recorder();
    expect(await pending.replay(actions)).toBe(true);
    expect(log).toEqual(['pattern("c","p:*")']);
  });

  it('settle drops a pending delete made obsolete by a later successful write', async () => {
    const pending = new PendingInvalidations();
    pending.keys('c', ['a', 'b']);
    pending.settle('c', 'a');
    pending.settle('c', 'nope');
    pending.settle('other', 'a');
    expect(pending.size).toBe(1);
    const { log, actions } = recorder();
    await pending.replay(actions);
    expect(log).toEqual(['deleteKeys("c",["b"])']);
  });

  it('a clear replaces the rest of that cache, and overflow collapses into a clear', async () => {
    const pending = new PendingInvalidations(3);
    pending.keys('c', ['a', 'b']);
    pending.keys('other', ['x']);
    pending.keys('c', ['d']); // 4 > 3: c collapses
    expect(pending.size).toBe(2);
    pending.keys('c', ['e']); // ignored: c is cleared anyway
    const { log, actions } = recorder();
    await pending.replay(actions);
    expect(log).toEqual(['clear("c")', 'deleteKeys("other",["x"])']);
  });
});
