// Bus messages: what goes on the wire, what a receiver accepts, and the in-process hub.
import { describe, expect, it } from 'vitest';
import { MemoryBusHub, decodeBusMessage, encodeBusMessage } from '../../src/tiers/bus.js';
import type { BusMessage } from '../../src/tiers/bus.js';

describe('bus wire format', () => {
  it('round-trips every kind of message', () => {
    const messages: BusMessage[] = [
      { source: 'a', cache: 'c', kind: 'set', keys: ['k'] },
      { source: 'a', cache: 'c', kind: 'delete', keys: ['k1', 'k2'] },
      { source: 'a', cache: 'c', kind: 'tags', tags: ['t'], at: 5 },
      { source: 'a', cache: 'c', kind: 'pattern', pattern: 'p:*' },
      { source: 'a', cache: 'c', kind: 'namespace-clear', pattern: 'ns:' },
      { source: 'a', cache: 'c', kind: 'clear' },
    ];
    for (const message of messages) expect(decodeBusMessage(encodeBusMessage(message))).toEqual(message);
    expect(decodeBusMessage(Buffer.from(encodeBusMessage(messages[0]!)))).toEqual(messages[0]);
  });

  it('ignores malformed messages from strangers on the channel', () => {
    for (const raw of [
      'not json',
      'null',
      '[]',
      '{"source":"a","cache":"c","kind":"explode"}',
      '{"source":1,"cache":"c","kind":"clear"}',
      '{"source":"a","cache":"c","kind":"delete","keys":[1]}',
      '{"source":"a","cache":"c","kind":"tags","tags":["t"],"at":"x"}',
      '{"source":"a","cache":"c","kind":"pattern","pattern":5}',
    ]) {
      expect(decodeBusMessage(raw)).toBeUndefined();
    }
  });
});

describe('MemoryBusHub', () => {
  it('delivers to every other member, not to the sender, and not while disconnected', async () => {
    const hub = new MemoryBusHub();
    const heard: Record<string, string[]> = { a: [], b: [], c: [] };
    const buses = (['a', 'b', 'c'] as const).map((id) => hub.connect(id));
    for (const bus of buses) {
      await bus.start({ message: (m) => heard[bus.instanceId]!.push(m.kind), resync: () => {} });
    }
    buses[2]!.disconnect();
    await buses[0]!.publish({ cache: 'x', kind: 'clear' });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(heard).toEqual({ a: [], b: ['clear'], c: [] });
    await expect(buses[2]!.publish({ cache: 'x', kind: 'clear' })).rejects.toThrow(/disconnected/);
  });
});
