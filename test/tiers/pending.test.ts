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

  it('goes on past an item that keeps failing, and widens it to a clear of its cache once others got through', async () => {
    const pending = new PendingInvalidations();
    pending.keys('c', ['good', 'poison', 'other']);
    pending.tags('c', ['t'], 5);
    pending.keys('d', ['x']);
    const log: string[] = [];
    const actions: ReplayActions = {
      clear: async (cache) => void log.push(`clear(${cache})`),
      deleteKeys: async (cache, keys) => {
        if (keys.includes('poison')) throw new RangeError('refused');
        log.push(`deleteKeys(${cache},${keys.join('+')})`);
      },
      tags: async (cache, tags) => void log.push(`tags(${cache},${tags.join('+')})`),
      pattern: async () => {},
      prefix: async () => {},
    };
    const widened: string[] = [];
    // The batch fails; its keys are retried one by one, and everything else is delivered.
    expect(await pending.replay(actions, (cache, item) => widened.push(`${cache}: ${item}`))).toBe(false);
    expect(log).toEqual(['deleteKeys(c,good)', 'deleteKeys(c,other)', 'tags(c,t)', 'deleteKeys(d,x)']);
    expect(pending.size).toBe(1);
    expect(pending.covers('c', 'poison', 0, [])).toBe(true);
    // Still refused in a pass where the store takes something else: widened after the third such pass.
    for (let pass = 2; pass <= 3; pass++) {
      pending.keys('d', [`x${pass}`]);
      await pending.replay(actions, (cache, item) => widened.push(`${cache}: ${item}`));
    }
    expect(widened).toEqual(['c: key poison']);
    expect(pending.export('c')).toEqual({ clear: true, keys: [], tags: [], patterns: [], prefixes: [] });
    expect(pending.covers('c', 'anything', 0, [])).toBe(true); // never dropped: the clear still covers it
    log.length = 0;
    expect(await pending.replay(actions)).toBe(true);
    expect(log).toEqual(['clear(c)']);
  });

  it('while the store itself fails, a failed batch costs at most three more attempts, and nothing is widened', async () => {
    const pending = new PendingInvalidations();
    pending.keys('c', ['a', 'b', 'c', 'd', 'e']);
    let calls = 0;
    const down = async (): Promise<void> => {
      calls++;
      throw new Error('down');
    };
    const actions: ReplayActions = { clear: down, deleteKeys: down, tags: down, pattern: down, prefix: down };
    for (let pass = 0; pass < 5; pass++) expect(await pending.replay(actions)).toBe(false);
    expect(calls).toBe(5 * 4);
    expect(pending.size).toBe(5);
    expect(pending.export('c')?.clear).toBe(false);
  });
});
