// The batcher: key invalidations of one turn become one message per cache and kind.
import { describe, expect, it } from 'vitest';
import { BUS_LIMITS } from '../../src/tiers/bus.js';
import type { BusMessage, InvalidationBus } from '../../src/tiers/bus.js';
import { PublishBatcher } from '../../src/tiers/publish-batcher.js';

function recordingBus(fail = false) {
  const sent: Array<Omit<BusMessage, 'source'>> = [];
  const bus = {
    instanceId: 'x',
    start: async () => {},
    publish: async (message: Omit<BusMessage, 'source'>) => {
      if (fail) throw new Error('down');
      sent.push(message);
    },
    health: () => ({ status: 'ok' as const, resyncs: 0 }),
    close: async () => {},
  } satisfies InvalidationBus;
  return { bus, sent };
}

describe('PublishBatcher', () => {
  it('merges set/delete keys published in one turn, per cache and kind', async () => {
    const { bus, sent } = recordingBus();
    const batcher = new PublishBatcher(bus);
    await Promise.all([
      batcher.publish({ cache: 'a', kind: 'set', keys: ['1'] }),
      batcher.publish({ cache: 'a', kind: 'set', keys: ['2', '3'] }),
      batcher.publish({ cache: 'a', kind: 'delete', keys: ['4'] }),
      batcher.publish({ cache: 'b', kind: 'set', keys: ['5'] }),
    ]);
    expect(sent).toEqual([
      { cache: 'a', kind: 'set', keys: ['1', '2', '3'] },
      { cache: 'a', kind: 'delete', keys: ['4'] },
      { cache: 'b', kind: 'set', keys: ['5'] },
    ]);
  });

  it('sends other kinds at once, unbatched', async () => {
    const { bus, sent } = recordingBus();
    const batcher = new PublishBatcher(bus);
    await batcher.publish({ cache: 'a', kind: 'clear' });
    expect(sent).toEqual([{ cache: 'a', kind: 'clear' }]);
  });

  it('splits batches past 500 keys', async () => {
    const { bus, sent } = recordingBus();
    const batcher = new PublishBatcher(bus);
    await Promise.all(
      Array.from({ length: 1200 }, (_, i) => batcher.publish({ cache: 'a', kind: 'set', keys: [`${i}`] })),
    );
    expect(sent.map((m) => m.keys?.length)).toEqual([500, 500, 200]);
  });

  it('publishKey joins the batch of its cache and kind, and resolves once it went out', async () => {
    const { bus, sent } = recordingBus();
    const batcher = new PublishBatcher(bus);
    const outcomes = await Promise.all([
      batcher.publishKey('a', 'set', '1'),
      batcher.publish({ cache: 'a', kind: 'set', keys: ['2'] }),
      batcher.publishKey('a', 'set', '3'),
      batcher.publishKey('a', 'delete', '4'),
    ]);
    expect(outcomes).toEqual([undefined, undefined, undefined, undefined]);
    expect(sent).toEqual([
      { cache: 'a', kind: 'set', keys: ['1', '2', '3'] },
      { cache: 'a', kind: 'delete', keys: ['4'] },
    ]);
  });

  it('publishKey resolves the error of a failed batch instead of rejecting', async () => {
    const { bus } = recordingBus(true);
    const batcher = new PublishBatcher(bus);
    const outcomes = await Promise.all([
      batcher.publishKey('a', 'set', '1'),
      batcher.publishKey('a', 'set', '2'),
    ]);
    expect(outcomes).toEqual([{ error: new Error('down') }, { error: new Error('down') }]);
  });

  it('publishKey widens a key beyond the bus bounds to a clear of its cache', async () => {
    const { bus, sent } = recordingBus();
    const batcher = new PublishBatcher(bus);
    expect(await batcher.publishKey('a', 'set', 'k'.repeat(BUS_LIMITS.maxItemLength + 1))).toBeUndefined();
    expect(sent).toEqual([{ cache: 'a', kind: 'clear' }]);
  });

  it('rejects every caller of a batch whose publish failed', async () => {
    const { bus } = recordingBus(true);
    const batcher = new PublishBatcher(bus);
    const results = await Promise.allSettled([
      batcher.publish({ cache: 'a', kind: 'set', keys: ['1'] }),
      batcher.publish({ cache: 'a', kind: 'set', keys: ['2'] }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});
